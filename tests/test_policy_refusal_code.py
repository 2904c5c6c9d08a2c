"""A provider's refusal code in the autopilot policy: the regulation names a particular refusal
(oralman status: the recipient is registered in another oblast, ORALMAN_REGISTERED_ELSEWHERE);
only a provider's refusal of the catalogue is accepted. The whole ХҚО path is the scenario
hqo-034-oralman-registered-elsewhere of the QA library."""

from __future__ import annotations

import httpx

from gateway.workflow import AutopilotPolicy
from tests.conftest import ADMIN


async def test_the_policy_keeps_a_providers_refusal_code(http: httpx.AsyncClient) -> None:
    body = {"decision": "refuse", "refusalGround": "басқа облыста тіркелген", "refuseAtStep": "1",
            "refusalCode": "ORALMAN_REGISTERED_ELSEWHERE", "scale": 0}  # fmt: skip
    r = await http.put("/rshep/api/policies/oralman_status", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    r = await http.get("/rshep/api/policies/oralman_status", headers=ADMIN)
    assert r.json()["refusal_code"] == "ORALMAN_REGISTERED_ELSEWHERE"


async def test_only_a_providers_refusal_of_the_catalogue_is_accepted(http: httpx.AsyncClient) -> None:
    base = {"decision": "refuse", "refusalGround": "негіз", "scale": 0}
    for code in ("NO_SUCH_CODE", "EDS_CERT_REVOKED", "RESULT_ISSUED"):
        r = await http.put("/rshep/api/policies/oralman_status", json=base | {"refusalCode": code}, headers=ADMIN)
        assert (r.status_code, r.json()["code"]) == (422, "REQUEST_INVALID"), code
    r = await http.put("/rshep/api/policies/oralman_status", json={"refusalCode": "REASONED_REFUSAL"}, headers=ADMIN)
    assert (r.status_code, r.json()["code"]) == (422, "REQUEST_INVALID"), "a code goes with a refusal only"
    assert (await http.get("/rshep/api/policies/oralman_status", headers=ADMIN)).json()["refusal_code"] is None


def test_a_refusal_code_needs_decision_refuse() -> None:
    assert AutopilotPolicy(decision="refuse", refusal_ground="g", refusal_code="ORALMAN_REGISTERED_ELSEWHERE")
    try:
        AutopilotPolicy(decision="approve", refusal_code="ORALMAN_REGISTERED_ELSEWHERE")
    except ValueError as exc:
        assert "decision 'refuse'" in str(exc)
    else:
        raise AssertionError("accepted a refusal code with an approval")
