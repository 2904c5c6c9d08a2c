"""The ХҚО chain of regulation 004 through the public API of the operator workstation (``/hqo/api``):
the operator's login (1-процесс), intake, ГБД ФЛ and ЕНИС through the gateway (3-процесс), every
reason condition 1 fails with (4-процесс), the incomplete package (refusal receipt), the package
signed with the operator's EDS (5-процесс), the provider's answer (6-, 7-, 8-процесс) and the
hand-over, and the State Corporation's keeping of uncollected results.

The registries hold the demo personas of ``personas.yaml`` (seeded through their admin API, as an
integrator would): bolat grants aigul a valid power of attorney for the compensations; erlan's has
expired, saule's is revoked, timur's is zhanar's, madina's covers oralman status only; kairat is
deceased and ghost unknown to ГБД ФЛ.
"""

from __future__ import annotations

import asyncio
import base64
from copy import deepcopy
from typing import Any

import httpx
import pytest
from lxml import etree

from egovsim import xmldsig
from egovsim.catalog.loader import ServiceCatalog
from egovsim.catalog.refusals import RefusalCatalog
from egovsim.personas import ensure_registry_records, load_personas
from tests.conftest import ADMIN
from tests.portal_chain import assert_texts

REFUSALS = RefusalCatalog.load()
SERVICES = ServiceCatalog.load()
PEOPLE = {p["id"]: p["iin"] for p in load_personas()["citizens"]}
SEMEY = "semipalatinsk_victim_registration_compensation"
HOME_EDUCATION = "disabled_child_home_education_compensation"
ORALMAN = "oralman_status"
FORMS: dict[str, dict[str, str]] = {
    SEMEY: {"zone": "maximum", "lived_from": "1955-01-01", "lived_to": "1965-12-31",
            "bank_account": "KZ12345678901234567890", "consent": "yes"},
    HOME_EDUCATION: {"child_name": "ТЕСТОВ АЛИ", "child_iin": "150301500029", "school": "№ 12 мектеп-гимназия",
                     "period_from": "2026-09-01", "bank_account": "KZ12345678901234567890", "consent": "yes"},
    ORALMAN: {"previous_country": "Моңғолия", "arrival_date": "2026-06-01", "family_members": "3", "consent": "yes"},
}  # fmt: skip
DOCUMENTS = {
    SEMEY: ["identity_document", "residence_certificate", "bank_details"],
    HOME_EDUCATION: ["pmpk_conclusion", "home_education_certificate"],
    ORALMAN: ["identity_document", "nationality_document"],
}


class Operator:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def apply(self, service: str, applicant: str, representative: str | None = None, *,
                    documents: list[str] | None = None, **extra: Any) -> httpx.Response:  # fmt: skip
        r = await self.http.post("/hqo/api/tickets", headers=self.headers)
        assert r.status_code == 201, r.text
        body = {"ticket": r.json()["number"], "serviceId": service, "applicantIin": applicant,
                "representativeIin": representative, "fields": FORMS[service],
                "documents": DOCUMENTS[service] if documents is None else documents} | extra  # fmt: skip
        return await self.http.post("/hqo/api/applications", json=body, headers=self.headers)

    async def get(self, number: str) -> dict[str, Any]:
        r = await self.http.get(f"/hqo/api/applications/{number}", headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def wait_answer(self, number: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            body = await self.get(number)
            if body["status"] in ("result_ready", "refused_by_provider"):
                return body
            assert asyncio.get_running_loop().time() < deadline, body
            await asyncio.sleep(0.05)


async def login(http: httpx.AsyncClient, login: str = "op.semey", password: str = "Qwerty12") -> httpx.Response:
    return await http.post("/hqo/api/login", json={"login": login, "password": password})


@pytest.fixture
async def op(http: httpx.AsyncClient) -> Operator:
    await ensure_registry_records(http, ADMIN)
    for service in (SEMEY, HOME_EDUCATION, ORALMAN):
        r = await http.put(f"/rshep/api/policies/{service}", json={"scale": 0}, headers=ADMIN)
        assert r.status_code == 200, r.text
    r = await login(http)
    assert r.status_code == 200, r.text
    http.cookies.clear()  # the API calls below go with the bearer token only
    return Operator(http, r.json()["token"])


async def steps(http: httpx.AsyncClient, trace_id: str) -> list[tuple[str, str, str | None]]:
    r = await http.get(f"/api/catalog/traces/{trace_id}")
    assert r.status_code == 200, r.text
    return [(e["step"], e["outcome"], e["code"]) for e in r.json()["events"]]


def chain_order(service: str) -> list[str]:
    chain = SERVICES.get(service).hqo_chain  # type: ignore[union-attr]
    return [f"hqo:{s.label}" for s in chain.steps]


def assert_in_regulation_order(service: str, trace: list[tuple[str, str, str | None]]) -> None:
    """The chain's labels, where each first appears in the trace, follow the regulation's numbering
    (5-процесс and 8-процесс repeat: the package sent then its receipt; the answer formed at ЭҮАШ
    АЖО, then received through the operator)."""
    order = chain_order(service)
    first = list(dict.fromkeys(step for step, _, _ in trace))  # 5-процесс: pending, then the receipt
    seen = [order.index(step) for step in first if step in order]
    assert seen == sorted(seen), trace


# -- 1-процесс ---------------------------------------------------------------------------------------
async def test_operator_login_refusal_and_lockout(http: httpx.AsyncClient) -> None:
    r = await login(http, password="wrong-password")
    assert r.status_code == 401
    assert_texts(r.json(), "HQO_AUTH_REFUSED")
    trace = await steps(http, r.json()["traceId"])
    assert trace == [("hqo:1-процесс", "refused", "HQO_AUTH_REFUSED")]
    r = await login(http, login="op.nobody")
    assert r.status_code == 401 and r.json()["code"] == "HQO_AUTH_REFUSED"
    for _ in range(4):
        r = await login(http, password="wrong-password")
    r = await login(http)  # the right password, but locked now
    assert r.status_code == 423
    assert_texts(r.json(), "HQO_ACCOUNT_LOCKED")
    assert (await login(http, login="op.astana")).status_code == 200  # another operator is not locked


async def test_operator_session_is_required_and_a_portal_token_is_not_one(http: httpx.AsyncClient) -> None:
    r = await http.get("/hqo/api/applications")
    assert r.status_code == 401 and r.json()["code"] == "HQO_SESSION_REQUIRED"
    r = await http.get("/hqo/api/applications", headers={"Authorization": "Bearer not.a.token"})
    assert r.status_code == 401 and r.json()["code"] == "HQO_SESSION_INVALID"
    token = (await login(http)).json()["token"]
    r = await http.get("/portal/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401  # an operator's token is no citizen's session either
    r = await http.post("/hqo/api/tickets")  # the cookie alone, without the CSRF token
    assert r.status_code == 403 and r.json()["code"] == "PORTAL_CSRF_REFUSED"


# -- 1-шарт → 4-процесс ------------------------------------------------------------------------------
REFUSED_AT_CONDITION_1 = [
    ("person not found", "ghost", None, "HQO_PERSON_NOT_FOUND"),
    ("person deceased", "kairat", None, "HQO_PERSON_DECEASED"),
    ("power of attorney not found", "bolat", "aset", "HQO_POA_NOT_FOUND"),
    ("power of attorney expired", "bolat", "erlan", "HQO_POA_EXPIRED"),
    ("power of attorney revoked", "bolat", "saule", "HQO_POA_REVOKED"),
    ("granted by another person", "bolat", "timur", "HQO_POA_OTHER_GRANTOR"),
    ("scope does not cover the service", "zhanar", "madina", "HQO_POA_SCOPE"),
]


@pytest.mark.parametrize(("case", "applicant", "representative", "code"), REFUSED_AT_CONDITION_1,
                         ids=[c[0] for c in REFUSED_AT_CONDITION_1])  # fmt: skip
async def test_condition_1_refusals(
    op: Operator, case: str, applicant: str, representative: str | None, code: str
) -> None:
    r = await op.apply(SEMEY, PEOPLE[applicant], PEOPLE[representative] if representative else None)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert_texts(problem, code)
    assert problem["step"] == "hqo:4-процесс"
    assert problem["messages"]["kk"].startswith("Деректерді алу мүмкін емес")
    trace = await steps(op.http, problem["number"])
    assert trace[-2:] == [("hqo:1-шарт", "refused", code), ("hqo:4-процесс", "refused", code)]
    assert [s for s, _, _ in trace[:4]] == ["hqo:pre", "hqo:1-процесс", "hqo:2-процесс", "hqo:3-процесс"]
    kept = await op.get(problem["number"])
    assert kept["status"] == "refused" and kept["refusal"]["code"] == code
    assert kept["refusal"]["messages"] == problem["messages"]
    assert "notice" in kept["papers"] and "receipt" not in kept["papers"]
    r = await op.http.post(f"/hqo/api/applications/{problem['number']}/send", headers=op.headers)
    assert r.status_code == 409 and r.json()["code"] == "HQO_APPLICATION_STATE"


async def test_registry_unavailable_is_refused_with_the_registry_named(op: Operator) -> None:
    r = await op.http.put("/registries/api/faults/enis", json={"kind": "unavailable"}, headers=ADMIN)
    assert r.status_code in (200, 201), r.text
    r = await op.apply(SEMEY, PEOPLE["bolat"], PEOPLE["aigul"])
    assert r.status_code == 422, r.text
    assert_texts(r.json(), "HQO_REGISTRY_UNAVAILABLE", registry="ЕНИС (БНАЖ)")
    trace = await steps(op.http, r.json()["number"])
    assert trace[-3:] == [("hqo:3-процесс", "fault", None), ("hqo:1-шарт", "refused", "HQO_REGISTRY_UNAVAILABLE"),
                          ("hqo:4-процесс", "refused", "HQO_REGISTRY_UNAVAILABLE")]  # fmt: skip
    await op.http.delete("/registries/api/faults/enis", headers=ADMIN)
    r = await op.apply(SEMEY, PEOPLE["bolat"], PEOPLE["aigul"])
    assert r.status_code == 201, r.text  # back: the same applicant passes


# -- intake --------------------------------------------------------------------------------------------
async def test_incomplete_package_is_refused_with_the_missing_documents(op: Operator) -> None:
    r = await op.apply(SEMEY, PEOPLE["bolat"], PEOPLE["aigul"], documents=["identity_document"])
    assert r.status_code == 422, r.text
    problem = r.json()
    missing = {"kk": "Аймақта тұрғанын растайтын құжат, Банк шотының деректемелері",
               "ru": "Документ, подтверждающий проживание в зоне, Реквизиты банковского счёта",
               "en": "Document confirming residence in the zone, Bank account details"}  # fmt: skip
    assert_texts(problem, "PACKAGE_INCOMPLETE", missing=missing)  # the names, each in its language
    trace = await steps(op.http, problem["number"])
    assert trace[-1] == ("intake:pre", "refused", "PACKAGE_INCOMPLETE")
    assert all(step != "hqo:3-процесс" for step, _, _ in trace)  # no registry was asked
    kept = await op.get(problem["number"])
    assert kept["status"] == "not_accepted"
    assert kept["missing"] == ["residence_certificate", "bank_details"]
    assert "refusalReceipt" in kept["papers"]


async def test_bad_input_is_refused_and_stores_nothing(op: Operator) -> None:
    before = (await op.http.get("/hqo/api/applications", headers=op.headers)).json()
    cases = [
        ({"serviceId": "foster_care_patronage_placement"}, "HQO_SERVICE_NOT_AT_HQO"),  # portal and office only
        ({"applicantIin": "123456789012"}, "HQO_FORM_INVALID"),
        ({"fields": FORMS[SEMEY] | {"consent": "no"}}, "HQO_FORM_INVALID"),
        ({"documents": ["identity_document", "passport_of_mars"]}, "HQO_FORM_INVALID"),
        ({"scans": {"identity_document": base64.b64encode(b"MZ\x90\x00 not a scan").decode()}}, "HQO_FORM_INVALID"),
        ({"ticket": "000000-000-999"}, "HQO_TICKET_INVALID"),
    ]
    for extra, code in cases:
        r = await op.apply(SEMEY, PEOPLE["bolat"], **extra)
        assert r.status_code == 422, (extra, r.text)
        assert r.json()["code"] == code, (extra, r.json())
    r = await op.http.post("/hqo/api/applications", content=b"{not json", headers=op.headers)
    assert r.status_code == 422 and r.json()["code"] == "REQUEST_INVALID"
    r = await op.http.get("/hqo/api/applications/HQO-NO-SUCH", headers=op.headers)
    assert r.status_code == 404 and r.json()["code"] == "HQO_APPLICATION_NOT_FOUND"
    assert (await op.http.get("/hqo/api/applications", headers=op.headers)).json() == before


async def test_a_ticket_serves_one_application_and_another_centre_sees_nothing(op: Operator) -> None:
    r = await op.apply(ORALMAN, PEOPLE["aset"])
    assert r.status_code == 201, r.text
    number, ticket = r.json()["number"], r.json()["ticket"]
    body = {"ticket": ticket, "serviceId": ORALMAN, "applicantIin": PEOPLE["aset"], "fields": FORMS[ORALMAN],
            "documents": DOCUMENTS[ORALMAN]}  # fmt: skip
    r = await op.http.post("/hqo/api/applications", json=body, headers=op.headers)
    assert r.status_code == 422 and r.json()["code"] == "HQO_TICKET_INVALID"
    other = (await login(op.http, "op.astana")).json()["token"]
    op.http.cookies.clear()
    r = await op.http.get(f"/hqo/api/applications/{number}", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 404


# -- the happy paths, 5-процесс … 8-процесс -----------------------------------------------------------------
async def run_to_answer(op: Operator, service: str, applicant: str, representative: str | None = None) -> dict:
    r = await op.apply(service, PEOPLE[applicant], PEOPLE[representative] if representative else None)
    assert r.status_code == 201, r.text
    accepted = r.json()
    assert accepted["status"] == "checked"
    r = await op.http.post(f"/hqo/api/applications/{accepted['number']}/send", headers=op.headers)
    assert r.status_code == 200, r.text
    assert "receipt" in r.json()["papers"]
    return await op.wait_answer(accepted["number"])


@pytest.mark.parametrize(("service", "applicant", "representative"), [
    (SEMEY, "bolat", "aigul"), (HOME_EDUCATION, "bolat", "aigul"), (HOME_EDUCATION, "aset", None),
    (ORALMAN, "aset", None), (ORALMAN, "zhanar", "madina"),
], ids=["semipalatinsk-representative", "home-education-representative", "home-education", "oralman",
        "oralman-representative"])  # fmt: skip
async def test_happy_path_to_the_hand_over(op: Operator, service: str, applicant: str, representative: str | None,
                                           sim: Any) -> None:  # fmt: skip
    answered = await run_to_answer(op, service, applicant, representative)
    number = answered["number"]
    assert answered["status"] == "result_ready", answered
    assert answered["keeping"] == "held"
    check = answered["check"]
    assert check["person"]["iin"] == PEOPLE[applicant]
    service_def = SERVICES.get(service)
    assert check["enisQueried"] == bool(representative and service_def.checks_enis)  # type: ignore[union-attr]
    if check["enisQueried"]:
        assert check["powerOfAttorney"]["registryNumber"] == "N2025-000101"
    r = await op.http.post(f"/hqo/api/applications/{number}/handover", json={"to": "representative" if representative
                           else "applicant"}, headers=op.headers)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "handed"
    trace = await steps(op.http, number)
    labels = [s for s, _, _ in trace]
    for label in chain_order(service):
        if label not in ("hqo:4-процесс", "hqo:7-процесс"):
            assert label in labels, (label, labels)
    assert ("hqo:4-процесс" not in labels) and ("hqo:7-процесс" not in labels)
    assert trace[-1] == ("hqo:8-процесс", "ok", "HQO_RESULT_ISSUED")
    assert_in_regulation_order(service, trace)
    provider_steps = [s for s in labels if s.startswith("provider:")]
    assert provider_steps == [f"provider:{st.n}" for st in service_def.route("provider").steps  # type: ignore[union-attr]
                              if st.variant_of is None][: len(provider_steps)] and provider_steps  # fmt: skip
    r = await op.http.post(f"/hqo/api/applications/{number}/handover", json={}, headers=op.headers)
    assert r.status_code == 409  # handed once


async def test_the_package_is_signed_with_the_operators_eds(op: Operator) -> None:
    answered = await run_to_answer(op, SEMEY, "bolat", "aigul")
    r = await op.http.get(f"/shep/api/journal?serviceId=RSHEP_{SEMEY}", headers=ADMIN)
    assert r.status_code == 200, r.text
    entries = [e for e in r.json()["entries"] if e.get("messageType", "REQUEST") == "REQUEST"] or r.json()["entries"]
    full = (await op.http.get(f"/shep/api/journal/{entries[-1]['id']}", headers=ADMIN)).json()
    root = etree.fromstring(full["requestXml"].encode())
    application = root.find(".//{urn:egovsim:portal:application}application")
    assert application is not None
    assert application.findtext("{urn:egovsim:portal:application}requestNumber") == answered["number"]
    standalone = deepcopy(application)  # as the operator signed it: a document of its own
    etree.cleanup_namespaces(standalone)
    verified = xmldsig.verify_enveloped(standalone)
    subject = verified.certificate.subject.rfc4514_string()
    assert "910412407777" in subject  # op.semey's IIN: the operator's own EDS
    assert "051240007898" in subject  # an employee of the State Corporation


async def test_provider_refusal_is_7_process_and_handed_over(op: Operator) -> None:
    r = await op.http.put(f"/rshep/api/policies/{ORALMAN}", json={"scale": 0, "decision": "refuse",
                          "refusalGround": "registered as an oralman in another region"}, headers=ADMIN)  # fmt: skip
    assert r.status_code == 200, r.text
    answered = await run_to_answer(op, ORALMAN, "aset")
    assert answered["status"] == "refused_by_provider"
    assert answered["refusal"]["code"] == "REASONED_REFUSAL"
    trace = await steps(op.http, answered["number"])
    assert ("hqo:2-шарт", "refused", "REASONED_REFUSAL") in trace
    assert ("hqo:7-процесс", "refused", "REASONED_REFUSAL") in trace
    assert_in_regulation_order(ORALMAN, trace)
    r = await op.http.post(f"/hqo/api/applications/{answered['number']}/handover", json={}, headers=op.headers)
    assert r.status_code == 200 and r.json()["status"] == "handed"


async def test_an_uncollected_result_goes_back_after_a_month_and_is_recalled(op: Operator, sim: Any) -> None:
    answered = await run_to_answer(op, ORALMAN, "aset")
    number = answered["number"]
    r = await op.http.post(f"/hqo/api/applications/{number}/recall", headers=op.headers)
    assert r.status_code == 409  # held: nothing to recall
    r = await op.http.post("/api/catalog/clock/advance", json={"by": "32d"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    op = Operator(op.http, (await login(op.http)).json()["token"])  # a new shift, a new session
    op.http.cookies.clear()
    assert (await op.get(number))["keeping"] == "returned"
    r = await op.http.post(f"/hqo/api/applications/{number}/handover", json={}, headers=op.headers)
    assert r.status_code == 409
    assert_texts(r.json(), "HQO_RESULT_RETURNED")
    r = await op.http.post(f"/hqo/api/applications/{number}/recall", headers=op.headers)
    assert r.status_code == 202, r.text
    assert r.json()["keeping"] == "recalled"
    r = await op.http.post("/api/catalog/clock/advance", json={"by": "4d"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    op = Operator(op.http, (await login(op.http)).json()["token"])
    op.http.cookies.clear()
    assert (await op.get(number))["keeping"] == "held"
    r = await op.http.post(f"/hqo/api/applications/{number}/handover", json={}, headers=op.headers)
    assert r.status_code == 200, r.text
