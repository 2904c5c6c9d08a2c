"""ЭҮАШ АЖО / АРМ РШЭП through public interfaces: a request sent on the async channel is
registered in the provider's inbox, worked step by step on the simulated clock (autopilot or
employees), and its signed result or reasoned refusal is pulled by the requester."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from lxml import etree

from egovsim import xmldsig
from egovsim.app import RunningSimulator
from egovsim.calendar import KazakhstanCalendar
from egovsim.pki import Subject
from gateway import soap
from tests.conftest import ADMIN
from tests.test_gateway_async import PASSWORD, call, message
from tests.test_gateway_sync import system

pytestmark = pytest.mark.asyncio(loop_scope="module")

FOSTER = "foster_care_patronage_placement"  # seed 001: 30 min, then 1, 27, 1, 1 calendar days
WORKING_DAYS = "local_social_assistance_assignment"  # counted in working days


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(nca: RunningSimulator) -> AsyncIterator[dict[str, Any]]:
    # the tests freeze the clock in 2027 (its holidays are the point): the portal's certificate
    # must be valid then, whatever day the suite runs
    async with nca.client() as http:
        window = {"not_before": "2026-01-01T00:00:00+05:00", "not_after": "2029-12-31T00:00:00+05:00"}
        portal = await system(http, "200940004561", "PORTALTEST", **window)
        body = {"senderId": "portal-test", "password": PASSWORD, "certificate": portal.pem}
        assert (await http.post("/shep/api/senders", json=body, headers=ADMIN)).status_code == 201
        for _ in range(100):  # the gateway adds the catalogue's routes when it starts
            if (await http.get(f"/shep/api/routes/RSHEP_{FOSTER}", headers=ADMIN)).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield {"http": http, "portal": portal}


async def freeze(http: httpx.AsyncClient, at: str) -> None:
    assert (await http.post("/api/catalog/clock/freeze", json={"at": at}, headers=ADMIN)).status_code == 200


async def advance(http: httpx.AsyncClient, by: str) -> None:
    assert (await http.post("/api/catalog/clock/advance", json={"by": by}, headers=ADMIN)).status_code == 200


async def apply(world: dict[str, Any], service: str, message_id: str) -> dict[str, Any]:
    """The requester sends the application; returns the case once the provider registered it."""
    http, portal = world["http"], world["portal"]
    data = "<data><channel>portal</channel><applicant><iin>900115300013</iin></applicant></data>"
    body = message(portal, "portal-test", message_id=message_id, service_id=f"RSHEP_{service}", data=data)
    status, root = await call(http, body)
    assert status == 200, etree.tostring(root)
    for _ in range(200):
        for case in (await http.get("/rshep/api/cases", headers=ADMIN)).json()["cases"]:
            if case["messageId"] == message_id:
                return (await http.get(f"/rshep/api/cases/{case['id']}", headers=ADMIN)).json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message_id} was never registered")


async def until_closed(http: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    for _ in range(200):
        case = (await http.get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()
        if case["status"] in ("approved", "refused"):
            return case  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} never closed")


async def pulled_answer(world: dict[str, Any], service: str, correlation_id: str) -> soap.AsyncMessage:
    http, portal = world["http"], world["portal"]
    for _ in range(100):
        request = soap.AsyncGetMessagesRequest(f"RSHEP_{service}", sender=soap.Sender("portal-test", PASSWORD))
        body = xmldsig.sign_wsse(soap.build_get_messages_request(request), portal.key, portal.cert)
        _, root = await call(http, body)
        for m in soap.read_get_messages_response(root).messages:
            if m.info.correlation_id == correlation_id:
                return m
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to {correlation_id}")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_autopilot_runs_the_foster_care_steps_with_the_regulation_times_and_the_signed_result_comes_back(
    world,
) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    await freeze(http, "2027-02-01T10:00:00+05:00")
    case = await apply(world, FOSTER, "FOSTER-1")
    assert (
        case["status"] in ("registered", "in_progress") and case["steps"][0]["startedAt"] == "2027-02-01T10:00:00+05:00"
    )
    await advance(http, "31d")
    case = await until_closed(http, case["id"])
    assert case["status"] == "approved"
    marks = [at(case["receivedAt"])] + [at(s["doneAt"]) for s in case["steps"]]
    assert [b - a for a, b in itertools.pairwise(marks)] == [
        timedelta(minutes=30), timedelta(days=1), timedelta(days=27), timedelta(days=1), timedelta(days=1),
    ]  # fmt: skip
    assert [s["doneBy"] for s in case["steps"]] == ["autopilot"] * 5
    answer = await pulled_answer(world, FOSTER, "FOSTER-1")
    document = answer.data[0]
    verified = xmldsig.verify_enveloped(document)  # the result e-document, signed by the provider's head
    signer = Subject.of(verified.certificate.subject)
    assert signer.bin == "990340001111" and document.findtext("{urn:egovsim:rshep:result}kind") == "result"
    trace = (await http.get(f"/api/catalog/traces/{case['id']}")).json()["events"]
    labels = [e["step"] for e in trace]
    assert labels[0] == "portal:5-процесс" and labels[-1] == "portal:7-процесс"
    assert [lab for lab in labels if lab.startswith("provider:")] == [f"provider:{n}" for n in "12345"]


async def test_a_service_counted_in_working_days_skips_weekends_and_holidays(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    await freeze(http, "2027-03-05T10:00:00+05:00")  # a Friday; Monday 8 March is International Women's Day
    case = await apply(world, WORKING_DAYS, "WORKDAYS-1")
    await advance(http, "40d")
    case = await until_closed(http, case["id"])
    calendar = KazakhstanCalendar()
    done = [at(s["doneAt"]) for s in case["steps"]]
    assert all(calendar.is_working_day(d.date()) for d in done), done
    assert all(d.date() != datetime(2027, 3, 8).date() for d in done)
    assert done[1].date() == datetime(2027, 3, 9).date()  # the head's 1 working day: Friday → Tuesday


async def test_a_refusal_policy_gives_a_reasoned_refusal_with_its_ground(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    policy = {"decision": "refuse", "refusalGround": "құжаттар толық емес", "refuseAtStep": "3"}
    assert (await http.put(f"/rshep/api/policies/{FOSTER}", json=policy, headers=ADMIN)).status_code == 200
    try:
        await freeze(http, "2027-05-04T10:00:00+05:00")
        case = await apply(world, FOSTER, "FOSTER-REFUSE-1")
        await advance(http, "40d")
        case = await until_closed(http, case["id"])
        assert (case["status"], case["refusalGround"]) == ("refused", "құжаттар толық емес")
        assert [s["outcome"] for s in case["steps"]] == ["done", "done", "refused", "skipped", "skipped"]
        document = (await pulled_answer(world, FOSTER, "FOSTER-REFUSE-1")).data[0]
        xmldsig.verify_enveloped(document)
        assert document.findtext("{urn:egovsim:rshep:result}ground") == "құжаттар толық емес"
        trace = (await http.get(f"/api/catalog/traces/{case['id']}")).json()["events"]
        assert any(e["code"] == "REASONED_REFUSAL" and e["outcome"] == "refused" for e in trace)
    finally:
        await http.put(f"/rshep/api/policies/{FOSTER}", json={}, headers=ADMIN)


async def test_manual_mode_each_employee_does_their_step_and_late_requests_are_flagged(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    assert (await http.put(f"/rshep/api/policies/{FOSTER}", json={"mode": "manual"}, headers=ADMIN)).status_code == 200
    try:
        await freeze(http, "2027-06-01T09:00:00+05:00")
        case = await apply(world, FOSTER, "FOSTER-MANUAL-1")
        base = f"/rshep/api/cases/{case['id']}/steps"
        wrong = await http.post(f"{base}/1", json={"employee": "aktobe_head"}, headers=ADMIN)
        assert wrong.status_code == 403 and wrong.json()["code"] == "CASE_WRONG_ROLE"
        early = await http.post(f"{base}/2", json={"employee": "aktobe_head"}, headers=ADMIN)
        assert early.status_code == 409 and early.json()["code"] == "CASE_STEP_NOT_CURRENT"
        stranger = await http.post(f"{base}/1", json={"employee": "kyzylorda_clerk"}, headers=ADMIN)
        assert stranger.status_code == 403
        await advance(http, "10m")
        done = await http.post(f"{base}/1", json={"employee": "aktobe_clerk"}, headers=ADMIN)
        assert done.status_code == 200 and done.json()["currentStep"] == "2"
        assert done.json()["steps"][0]["doneAt"] == "2027-06-01T09:10:00+05:00"
        assert not done.json()["overdue"]
        await advance(http, "31d")  # nobody worked it: past the regulation's 30 calendar days
        late = (await http.get(f"/rshep/api/cases/{case['id']}", headers=ADMIN)).json()
        assert late["overdue"] and late["status"] == "in_progress"
        assert (await http.get("/rshep/api/cases/NOPE", headers=ADMIN)).json()["code"] == "CASE_NOT_FOUND"
    finally:
        await http.put(f"/rshep/api/policies/{FOSTER}", json={}, headers=ADMIN)


async def test_the_workstation_api_is_the_operators(world) -> None:  # type: ignore[no-untyped-def]
    http = world["http"]
    assert (await http.get("/rshep/api/cases")).status_code == 401
    providers = (await http.get("/rshep/api/providers", headers=ADMIN)).json()["providers"]
    assert {p["bin"] for p in providers} >= {"990340001111"}
    bad = await http.put(f"/rshep/api/policies/{FOSTER}", json={"decision": "refuse"}, headers=ADMIN)
    assert bad.status_code == 422 and bad.json()["code"] == "REQUEST_INVALID" and "ground" in bad.json()["detail"]
    assert (await http.put("/rshep/api/policies/nope", json={}, headers=ADMIN)).json()["code"] == "SERVICE_NOT_FOUND"


async def test_a_push_not_signed_by_the_gateway_is_refused_by_the_inbox(world) -> None:  # type: ignore[no-untyped-def]
    http, portal = world["http"], world["portal"]
    info = soap.AsyncMessageInfo(
        f"RSHEP_{FOSTER}", soap.MessageType.REQUEST, datetime.now().astimezone(), soap.Sender("portal-test"),
        message_id="FORGED-1", session_id=soap.new_session_id(),
    )  # fmt: skip
    forged = xmldsig.sign_wsse(
        soap.build_push_message_request(soap.AsyncMessage(info, etree.fromstring("<data/>"))), portal.key, portal.cert
    )
    r = await http.post("/rshep/shep/", content=forged, headers={"Content-Type": "text/xml"})
    error = soap.read_fault(xmldsig.parse_xml(r.content))
    assert r.status_code == 500 and error is not None and error.code == "SCE006"
