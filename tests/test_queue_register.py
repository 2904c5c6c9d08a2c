"""The kindergarten queue (seed 003, preschool_queue_registration) through public interfaces: a
request registered at the workstation, from the portal or at the office, enters the electronic
queue register and gets a real queue number counted per area in the order of registration; the
number is in the signed result, in the trace (QUEUE_RECEIPT) and in the personal cabinet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from lxml import etree

from egovsim.app import RunningSimulator
from gateway import soap
from gateway.service import Gateway
from tests.conftest import ADMIN
from tests.portal_chain import Citizen, document, new_citizen, submit, wait_closed

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUEUE = "preschool_queue_registration"
RESULT = "{urn:egovsim:rshep:result}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(nca: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with nca.client() as client:
        r = await client.put(f"/rshep/api/policies/{QUEUE}", json={"scale": 0}, headers=ADMIN)
        assert r.status_code == 200, r.text
        yield client


def fields(area: str, child_iin: str = "150301500029") -> dict[str, str]:
    return {"child_name": "ТЕСТОВ БАЛА", "child_iin": child_iin, "area": area, "consent": "yes"}


async def on_the_portal(http: httpx.AsyncClient, area: str) -> tuple[Citizen, dict[str, Any]]:
    """A citizen registers the child in the queue on the portal; the cabinet's view once answered."""
    citizen = await new_citizen(http)
    r = await http.post("/portal/api/requests", json={"serviceId": QUEUE, "fields": fields(area), "lang": "kk"},
                        headers=citizen.bearer)  # fmt: skip
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    signed = citizen.sign.sign(await document(http, citizen, number))
    assert (await submit(http, citizen, number, signed)).status_code == 202
    return citizen, await wait_closed(http, citizen, number)


async def at_the_office(http: httpx.AsyncClient, area: str) -> httpx.Response:
    body = {"serviceId": QUEUE, "applicantIin": "880401303125", "fields": fields(area), "documents": []}
    return await http.post("/rshep/api/office/applications", json=body, headers=ADMIN)


async def place_of(http: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    for _ in range(100):
        case = (await http.get(f"/rshep/api/cases/{case_id}", headers=ADMIN)).json()
        if case["queue"] is not None:
            return case["queue"]  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{case_id} has no place in the queue")


async def test_portal_registrations_get_the_next_number_of_their_area_and_the_cabinet_shows_it(
    http: httpx.AsyncClient,
) -> None:
    citizen, first = await on_the_portal(http, "Шиелі ауданы")
    _, second = await on_the_portal(http, "Шиелі ауданы")
    _, elsewhere = await on_the_portal(http, "Жаңақорған ауданы")
    assert [c["status"] for c in (first, second, elsewhere)] == ["approved"] * 3
    numbers = [(c["result"]["queueNumber"], c["result"]["area"]) for c in (first, second, elsewhere)]
    assert numbers == [("1", "Шиелі ауданы"), ("2", "Шиелі ауданы"), ("1", "Жаңақорған ауданы")]
    # the trace: the executor's step 2 prints the receipt with the number; the cabinet words it
    timeline = [(e["step"], e["code"], e["message"]) for e in first["timeline"]]
    assert ("provider:2", "QUEUE_RECEIPT", "Ребенок поставлен в очередь; выдана расписка с номером очереди. "
            "Номер в очереди — 1.") in timeline  # fmt: skip
    assert timeline[-2][0] == "portal:7-процесс"
    # the signed result carries it, as the cabinet serves it for download
    number = first["number"]
    xml = (await http.get(f"/cabinet/api/requests/{number}/result", headers=citizen.bearer)).content
    root = etree.fromstring(xml)
    assert (root.findtext(f"{RESULT}queueNumber"), root.findtext(f"{RESULT}area")) == ("1", "Шиелі ауданы")
    for lang, label in (("kk", "Кезектілік нөмірі"), ("ru", "Номер очереди"), ("en", "Queue number")):
        api = (await http.get(f"/cabinet/api/requests/{number}?lang={lang}", headers=citizen.bearer)).json()
        assert api["result"]["queueNumber"] == "1"
        page = await http.get(f"/cabinet/requests/{number}?lang={lang}", headers=citizen.bearer)
        assert page.status_code == 200 and label in page.text and '<strong id="queue-number">1</strong>' in page.text
    register = (await http.get(f"/rshep/api/queue?service={QUEUE}&area=шиелі  АУДАНЫ", headers=ADMIN)).json()
    assert [(e["queueNumber"], e["requestNumber"], e["channel"]) for e in register["entries"]] == [
        (1, first["number"], "portal"), (2, second["number"], "portal"),
    ]  # fmt: skip


async def test_at_the_office_the_same_area_however_written_counts_on(http: httpx.AsyncClient) -> None:
    first = await at_the_office(http, "Арал ауданы")
    second = await at_the_office(http, "  арал   АУДАНЫ ")
    assert first.status_code == second.status_code == 201, first.text
    places = [await place_of(http, r.json()["caseId"]) for r in (first, second)]
    assert [(p["queueNumber"], p["area"]) for p in places] == [(1, "Арал ауданы"), (2, "арал АУДАНЫ")]
    # the office's receipt says it was accepted; the result page prints the number
    page = await http.get(f"/rshep/cases/{first.json()['caseId']}/result?lang=ru", headers=ADMIN)
    for _ in range(100):
        if page.status_code == 200:
            break
        await asyncio.sleep(0.05)
        page = await http.get(f"/rshep/cases/{first.json()['caseId']}/result?lang=ru", headers=ADMIN)
    assert "Номер очереди" in page.text and '<strong id="queue-number">1</strong>' in page.text


async def test_registrations_at_once_take_distinct_numbers_in_order(http: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(at_the_office(http, "Қазалы ауданы") for _ in range(8)))
    assert all(r.status_code == 201 for r in answers)
    register = (await http.get(f"/rshep/api/queue?service={QUEUE}&area=Қазалы ауданы", headers=ADMIN)).json()
    entries = register["entries"]
    assert [e["queueNumber"] for e in entries] == list(range(1, 9))
    assert sorted(e["caseId"] for e in entries) == sorted(r.json()["caseId"] for r in answers)
    assert [e["registeredAt"] for e in entries] == sorted(e["registeredAt"] for e in entries)


async def test_the_same_message_delivered_again_keeps_one_place(nca: RunningSimulator, http: httpx.AsyncClient) -> None:
    station = Gateway.of(nca.kernel).workstation
    data = etree.fromstring(
        "<data><channel>portal</channel><requestNumber>EG-REDELIVERED-1</requestNumber><iin>880401303125</iin>"
        '<application xmlns="urn:egovsim:portal:application"><fields><field id="area">Сырдария ауданы</field>'
        "</fields><documents/></application></data>"
    )
    info = soap.AsyncMessageInfo(f"RSHEP_{QUEUE}", soap.MessageType.REQUEST, datetime.now().astimezone(),
                                 soap.Sender("portal-redelivery"), message_id="REDELIVERED-1")  # fmt: skip
    first = await station.register(soap.AsyncMessage(info, data))
    again = await station.register(soap.AsyncMessage(info, data))
    assert first == again
    register = (await http.get(f"/rshep/api/queue?service={QUEUE}&area=Сырдария ауданы", headers=ADMIN)).json()
    assert [(e["queueNumber"], e["caseId"]) for e in register["entries"]] == [(1, first)]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("service=no_such_service", 404, "SERVICE_NOT_FOUND"),
        ("service=externship_study_permit", 404, "QUEUE_NOT_KEPT"),
        ("area=x", 422, "REQUEST_INVALID"),
    ],
)
async def test_the_register_answers_clearly_about_what_it_does_not_keep(
    http: httpx.AsyncClient, query: str, status: int, code: str
) -> None:
    r = await http.get(f"/rshep/api/queue?{query}", headers=ADMIN)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert set(r.json()["messages"]) == {"kk", "ru", "en"}
    assert (await http.get(f"/rshep/api/queue?service={QUEUE}")).status_code == 401
