"""The ХҚО's paper relay through public interfaces: a request the Centre sends (AsyncChannel REQUEST,
``channel=hqo``) for a service whose ХҚО route is a paper one follows that route at the workstation,
its Centre steps done by the State Corporation's staff, its relay steps taking their catalogued
durations on the simulated clock (school-certificate duplicates: one working day each way)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
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
from egovsim.pki import Subject
from gateway import soap
from tests.conftest import ADMIN
from tests.nca_helpers import issue
from tests.test_gateway_async import PASSWORD, call, message
from tests.test_gateway_sync import Party, system
from tests.test_gateway_workstation import advance, freeze, until_closed

pytestmark = pytest.mark.asyncio(loop_scope="module")

DUPLICATE = "school_certificate_duplicate"
QUEUE = "preschool_queue_registration"
VISITATION = "visitation_permit_deprived_parents"
SENDER = "hqo-test"
RESULT = "{urn:egovsim:rshep:result}"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FIELDS = {
    DUPLICATE: {"school": "№ 12 мектеп-гимназия", "graduation_year": "2005", "reason": "lost", "consent": "yes"},
    QUEUE: {"child_name": "ТЕСТОВ БАЛА", "child_iin": "150301500029", "area": "Тереңөзек кенті", "consent": "yes"},
    VISITATION: {"placement_institution": "№ 2 балалар үйі", "child_name": "ТЕСТОВА АЙША",
                 "meeting_between": "сенбі 10:00-12:00", "consent": "yes"},
}  # fmt: skip
DOCUMENTS = {
    DUPLICATE: ["identity_document"],
    QUEUE: [],
    VISITATION: ["identity_document", "court_decision_deprivation", "police_character_reference"],
}
_numbers = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(nca: RunningSimulator) -> AsyncIterator[dict[str, Any]]:
    async with nca.client() as http:
        window = {"not_before": "2026-01-01T00:00:00+05:00", "not_after": "2029-12-31T00:00:00+05:00"}
        centre = await system(http, "051240007898", "HQOTEST", **window)
        # the operator who signs the packages: an employee of the State Corporation (2-шарт checks it)
        employee = {"profile": "employee", "kind": "sign", "bin": "051240007898", "iin": "910412407777",
                    "surname": "ОПЕРАТОРОВА", "name": "ТЕСТ", "organization": "НАО ГК (ТЕСТ)"}  # fmt: skip
        operator = Party(await issue(http, **employee, **window))
        body = {"senderId": SENDER, "password": PASSWORD, "certificate": centre.pem}
        assert (await http.post("/shep/api/senders", json=body, headers=ADMIN)).status_code == 201
        for _ in range(100):  # the gateway adds the catalogue's routes when it starts
            if (await http.get(f"/shep/api/routes/RSHEP_{DUPLICATE}", headers=ADMIN)).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield {"http": http, "centre": centre, "operator": operator}


def package(service: str, number: str, fields: dict[str, str], signer: Party | None) -> str:
    """The ``data`` the ХҚО sends: the application, signed by the operator (``None``: unsigned)."""
    ns = "urn:egovsim:portal:application"
    digest = hashlib.sha256(PDF).hexdigest()
    content = base64.b64encode(PDF).decode()
    values = "".join(f'<field id="{k}">{v}</field>' for k, v in fields.items())
    documents = "".join(f'<document id="{d}" sha256="{digest}">{content}</document>' for d in DOCUMENTS[service])
    application = (f'<application xmlns="{ns}"><requestNumber>{number}</requestNumber><fields>{values}</fields>'
                   f"<documents>{documents}</documents></application>").encode()  # fmt: skip
    if signer is not None:
        signed = xmldsig.sign_enveloped(application, signer.key, signer.cert)
        application = etree.tostring(etree.fromstring(signed))  # without its XML declaration
    return (
        f"<data><channel>hqo</channel><requestNumber>{number}</requestNumber><iin>880401303125</iin>"
        f"{application.decode()}</data>"
    )


async def from_the_centre(
    world: dict[str, Any], service: str, fields: dict[str, str] | None = None, *, signer: str | None = "operator"
) -> dict[str, Any]:
    """The ХҚО sends a package; the case once the workstation registered it."""
    http = world["http"]
    number = f"HQO-TEST-{next(_numbers):04d}"
    data = package(service, number, FIELDS[service] if fields is None else fields, world.get(signer or ""))
    body = message(world["centre"], SENDER, message_id=number, service_id=f"RSHEP_{service}", data=data)
    status, root = await call(http, body)
    assert status == 200, etree.tostring(root)
    for _ in range(200):
        for case in (await http.get("/rshep/api/cases", headers=ADMIN)).json()["cases"]:
            if case["messageId"] == number:
                return (await http.get(f"/rshep/api/cases/{case['id']}", headers=ADMIN)).json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} was never registered")


async def answer_to(world: dict[str, Any], service: str, number: str) -> etree._Element:
    centre = world["centre"]
    for _ in range(100):
        request = soap.AsyncGetMessagesRequest(f"RSHEP_{service}", sender=soap.Sender(SENDER, PASSWORD))
        _, root = await call(world["http"], xmldsig.sign_wsse(soap.build_get_messages_request(request), centre.key,
                                                              centre.cert))  # fmt: skip
        for m in soap.read_get_messages_response(root).messages:
            if m.info.correlation_id == number:
                return m.data[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to {number}")


async def labels(http: httpx.AsyncClient, request_number: str) -> list[tuple[str, str | None]]:
    events = (await http.get(f"/api/catalog/traces/{request_number}")).json()["events"]
    return [(e["step"], e["code"]) for e in events]


async def policy(http: httpx.AsyncClient, service: str, **body: object) -> None:
    assert (await http.put(f"/rshep/api/policies/{service}", json=body, headers=ADMIN)).status_code == 200


async def test_a_school_certificate_duplicate_goes_one_working_day_each_way_between_the_centre_and_the_provider(
    world: dict[str, Any],
) -> None:
    http = world["http"]
    await policy(http, DUPLICATE)
    await freeze(http, "2027-02-01T10:00:00+05:00")  # a Monday
    case = await from_the_centre(world, DUPLICATE)
    assert (case["channel"], case["routeId"]) == ("hqo", "hqo")
    assert [(s["n"], s["role"]) for s in case["steps"]] == [
        ("1", "recipient"), ("2", "hqo_employee"), ("3", "hqo_accumulation_dept"), ("4", "office_clerk"),
        ("5", "head"), ("6", "executor"), ("7", "head"), ("8", "office_clerk"), ("9", "hqo_employee"),
    ]  # fmt: skip
    await advance(http, "40d")
    case = await until_closed(http, case["id"])
    done = {s["n"]: datetime.fromisoformat(s["doneAt"]) for s in case["steps"]}
    assert done["2"] - done["1"] == timedelta(minutes=15)
    assert (done["2"].isoformat(), done["3"].isoformat()) == ("2027-02-01T10:15:00+05:00", "2027-02-02T10:15:00+05:00")
    assert done["6"] - done["5"] == timedelta(days=28)
    # the provider's clerk sends the duplicate back within one working day: Tuesday 2 March → Wednesday
    assert done["8"] - done["7"] == timedelta(days=1) and done["8"].weekday() == 2
    assert case["status"] == "approved" and {s["doneBy"] for s in case["steps"]} == {"autopilot"}
    number = case["requestNumber"]
    document = await answer_to(world, DUPLICATE, number)  # sent once the steps are traced
    steps = await labels(http, number)
    assert steps[0] == ("hqo:6-процесс", None)
    assert [s for s, _ in steps if s.split(":")[1].isdigit()] == [f"hqo:{n}" for n in "123456789"]
    assert steps[-1] == ("hqo:8-процесс", "HQO_RESULT_ISSUED")
    signer = Subject.of(xmldsig.verify_enveloped(document).certificate.subject)
    assert signer.bin == "050540003219" and document.findtext(f"{RESULT}channel") == "hqo"
    assert document.findtext(f"{RESULT}requestNumber") == number


async def test_the_centres_steps_are_the_state_corporations_staffs_and_the_providers_its_own(
    world: dict[str, Any],
) -> None:
    http = world["http"]
    await policy(http, DUPLICATE, mode="manual")
    try:
        await freeze(http, "2027-04-05T10:00:00+05:00")
        case = await from_the_centre(world, DUPLICATE)
        steps = f"/rshep/api/cases/{case['id']}/steps"
        assert (await http.post(f"{steps}/1", json={"employee": "kyzylorda_clerk"}, headers=ADMIN)).status_code == 200
        for n, wrong, right in (("2", "kyzylorda_clerk", "hqo_operator"), ("3", "hqo_operator", "hqo_accumulation"),
                                ("4", "hqo_accumulation", "kyzylorda_clerk")):  # fmt: skip
            refused = await http.post(f"{steps}/{n}", json={"employee": wrong}, headers=ADMIN)
            assert (refused.status_code, refused.json()["code"]) == (403, "CASE_WRONG_ROLE"), refused.text
            await advance(http, "1d")
            done = await http.post(f"{steps}/{n}", json={"employee": right}, headers=ADMIN)
            assert done.status_code == 200 and done.json()["steps"][int(n) - 1]["doneBy"] == right
        providers = (await http.get("/rshep/api/providers", headers=ADMIN)).json()["providers"]
        assert "051240007898" not in {p["bin"] for p in providers}  # the State Corporation provides no service
    finally:
        await policy(http, DUPLICATE)


async def test_a_kindergarten_place_registered_at_the_centre_comes_back_with_its_queue_number(
    world: dict[str, Any],
) -> None:
    http = world["http"]
    await policy(http, QUEUE, scale=0)
    case = await until_closed(http, (await from_the_centre(world, QUEUE))["id"])
    assert (case["routeId"], case["status"], case["queue"]["queueNumber"]) == ("hqo", "approved", 1)
    number = case["requestNumber"]
    document = await answer_to(world, QUEUE, number)
    assert ("hqo:2", "QUEUE_RECEIPT") in await labels(http, number)
    assert (document.findtext(f"{RESULT}queueNumber"), document.findtext(f"{RESULT}area")) == ("1", "Тереңөзек кенті")
    second = await until_closed(http, (await from_the_centre(world, QUEUE))["id"])
    assert second["queue"]["queueNumber"] == 2


async def test_a_centre_package_without_the_area_is_refused_at_2_shart_and_takes_no_place(
    world: dict[str, Any],
) -> None:
    http = world["http"]
    await policy(http, QUEUE, scale=0)
    fields = {k: v for k, v in FIELDS[QUEUE].items() if k != "area"}
    case = await until_closed(http, (await from_the_centre(world, QUEUE, fields))["id"])
    assert (case["status"], case["refusalGround"], case["queue"]) == ("refused", "missing: area", None)
    await answer_to(world, QUEUE, case["requestNumber"])
    steps = await labels(http, case["requestNumber"])
    assert steps[-2:] == [("hqo:2-шарт", "HQO_DOCS_DEFECTIVE"), ("hqo:7-процесс", "HQO_DOCS_DEFECTIVE")]


async def test_a_visitation_permit_from_the_state_corporation_ends_where_the_result_is_issued(
    world: dict[str, Any],
) -> None:
    http = world["http"]
    await policy(http, VISITATION, scale=0)
    case = await until_closed(http, (await from_the_centre(world, VISITATION))["id"])
    # steps 5-6 keep a result nobody collected: that is the State Corporation's, not the case's
    assert [(s["n"], s["role"]) for s in case["steps"]] == [
        ("1", "hqo_employee"), ("2", "provider"), ("3", "provider"), ("4", "hqo_employee"),
    ]  # fmt: skip
    assert case["status"] == "approved"
    issue = await http.post(f"/rshep/api/cases/{case['id']}/issue", headers=ADMIN)
    assert (issue.status_code, issue.json()["code"]) == (409, "CASE_NOT_AT_OFFICE")


@pytest.mark.parametrize("signer", [None, "centre"], ids=["unsigned", "signed-by-a-system-certificate"])
async def test_a_package_without_the_operators_eds_is_refused_at_2_shart(
    world: dict[str, Any], signer: str | None
) -> None:
    """ЭҮАШ АЖО takes a ХҚО package only signed by an employee of the State Corporation."""
    case = await from_the_centre(world, DUPLICATE, signer=signer)
    closed = await until_closed(world["http"], case["id"])
    assert closed["status"] == "refused", closed
    assert "the package's EDS is not confirmed" in closed["refusalGround"], closed
