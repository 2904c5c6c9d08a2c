"""ЭҮШ / ШЭП AsyncChannel through its public interface: a request pushed to the provider's
IAsyncChannelClient endpoint with retries, its answer routed back and pulled, statuses,
durability across a restart, and exactly one delivery per messageId."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from lxml import etree

from egovsim import xmldsig
from egovsim.app import RunningSimulator, running
from egovsim.settings import Settings
from gateway import soap
from tests.conftest import ADMIN, ADMIN_TOKEN, database_for
from tests.test_gateway_sync import Party, system

pytestmark = pytest.mark.asyncio(loop_scope="module")

ASYNC = "/shep/bip-async/"
PUSH_URL = "https://provider.integrator.test/async-client"
PASSWORD = "async-password-1"


async def setup_parties(http: httpx.AsyncClient) -> dict[str, Any]:
    requester = await system(http, "180440001235", "REQUESTER")
    provider = await system(http, "990340001111", "PROVIDERSYS")
    for sender_id, party in (("requester", requester), ("providersys", provider)):
        body = {"senderId": sender_id, "password": PASSWORD, "certificate": party.pem}
        assert (await http.post("/shep/api/senders", json=body, headers=ADMIN)).status_code == 201
    route = {"serviceId": "ASYNC_SERVICE", "target": PUSH_URL, "mode": "async", "title": "PROVIDERSYS"}
    assert (await http.post("/shep/api/routes", json=route, headers=ADMIN)).status_code == 201
    sync_route = {"serviceId": "SYNC_SERVICE", "target": PUSH_URL}
    assert (await http.post("/shep/api/routes", json=sync_route, headers=ADMIN)).status_code == 201
    return {"http": http, "requester": requester, "provider": provider}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(nca: RunningSimulator) -> AsyncIterator[dict[str, Any]]:
    async with nca.client() as http:
        yield await setup_parties(http)


def message(
    party: Party, sender_id: str, *, message_id: str | None = None, kind: soap.MessageType = soap.MessageType.REQUEST,
    correlation_id: str | None = None, service_id: str = "ASYNC_SERVICE", password: str = PASSWORD,
    data: str = "<data><iin>900115300013</iin></data>",
) -> bytes:  # fmt: skip
    info = soap.AsyncMessageInfo(
        service_id=service_id,
        message_type=kind,
        message_date=datetime.now().astimezone(),
        sender=soap.Sender(sender_id, password),
        message_id=message_id,
        correlation_id=correlation_id,
    )
    envelope = soap.build_send_message_request(soap.AsyncMessage(info, etree.fromstring(data)))
    return xmldsig.sign_wsse(envelope, party.key, party.cert)


async def call(http: httpx.AsyncClient, body: bytes) -> tuple[int, etree._Element]:
    r = await http.post(ASYNC, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})
    return r.status_code, xmldsig.parse_xml(r.content)


def status_request(party: Party, message_id: str, sender_id: str = "requester", password: str = PASSWORD) -> bytes:
    request = soap.AsyncGetMessageStatusRequest(
        message_id, datetime.now().astimezone(), soap.Sender(sender_id, password)
    )
    return xmldsig.sign_wsse(soap.build_get_message_status_request(request), party.key, party.cert)


async def state_of(http: httpx.AsyncClient, party: Party, message_id: str) -> soap.AsyncGetMessageStatusResponse:
    status, root = await call(http, status_request(party, message_id))
    assert status == 200, etree.tostring(root)
    return soap.read_get_message_status_response(root)


async def until_state(http: httpx.AsyncClient, party: Party, message_id: str, state: soap.MessageState) -> None:
    for _ in range(200):
        if (await state_of(http, party, message_id)).message_state is state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message_id} never reached {state}")


def accepting(calls: list[soap.AsyncMessage]) -> Any:
    """The provider's IAsyncChannelClient endpoint: records and acknowledges each push."""

    def answer(request: httpx.Request) -> httpx.Response:
        pushed = soap.read_push_message_request(xmldsig.parse_xml(request.content))
        xmldsig.verify_wsse(request.content)  # the gateway signs what it pushes
        calls.append(pushed)
        pushed_id = pushed.info.message_id or ""
        receipt = soap.AsyncSendMessageResponse(pushed_id, pushed_id, datetime.now().astimezone())
        return httpx.Response(200, content=soap.to_bytes(soap.build_push_message_response(receipt)))

    return answer


async def test_a_request_is_pushed_once_and_a_resend_of_its_message_id_is_not_delivered_again(world) -> None:  # type: ignore[no-untyped-def]
    http, requester = world["http"], world["requester"]
    pushed: list[soap.AsyncMessage] = []
    with respx.mock(assert_all_called=True) as mock:
        mock.post(PUSH_URL).mock(side_effect=accepting(pushed))
        status, root = await call(http, message(requester, "requester", message_id="ASYNC-ONCE-1"))
        assert status == 200, etree.tostring(root)
        receipt = soap.read_send_message_response(root)
        assert receipt.message_id == "ASYNC-ONCE-1" and soap.SESSION_ID.fullmatch(receipt.session_id or "")
        await until_state(http, requester, "ASYNC-ONCE-1", soap.MessageState.DELIVERED)
        _, again = await call(http, message(requester, "requester", message_id="ASYNC-ONCE-1"))
        assert soap.read_send_message_response(again).session_id == receipt.session_id
        await asyncio.sleep(0.7)  # a delivery pass would have run by now
    assert [m.info.message_id for m in pushed] == ["ASYNC-ONCE-1"]
    info = pushed[0].info
    assert info.sender.sender_id == "requester" and info.sender.password is None  # never passed on
    assert info.session_id == receipt.session_id and pushed[0].data.findtext("iin") == "900115300013"


async def test_a_failed_push_is_retried_with_back_off_until_it_is_delivered(world) -> None:  # type: ignore[no-untyped-def]
    http, requester = world["http"], world["requester"]
    pushed: list[soap.AsyncMessage] = []
    ok = accepting(pushed)
    attempts: list[float] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(asyncio.get_event_loop().time())
        return httpx.Response(503) if len(attempts) == 1 else ok(request)

    with respx.mock() as mock:
        mock.post(PUSH_URL).mock(side_effect=flaky)
        await call(http, message(requester, "requester", message_id="ASYNC-RETRY-1"))
        await until_state(http, requester, "ASYNC-RETRY-1", soap.MessageState.DELIVERED)
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.9  # the first back-off is a second
    journal = (await http.get("/shep/api/journal", params={"messageId": "ASYNC-RETRY-1"}, headers=ADMIN)).json()
    pushes = [e for e in journal["entries"] if e["channel"] == "push"]
    assert sorted((e["outcome"], e["code"]) for e in pushes) == [("fault", "SCE909"), ("ok", "SCSS001")]


async def test_an_answer_goes_back_to_the_requester_who_pulls_it_once(world) -> None:  # type: ignore[no-untyped-def]
    http, requester, provider = world["http"], world["requester"], world["provider"]
    with respx.mock() as mock:
        mock.post(PUSH_URL).mock(side_effect=accepting([]))
        await call(http, message(requester, "requester", message_id="ASYNC-ASK-1"))
        await until_state(http, requester, "ASYNC-ASK-1", soap.MessageState.DELIVERED)
    answer = message(provider, "providersys", kind=soap.MessageType.RESPONSE, correlation_id="ASYNC-ASK-1",
                     data="<data><result>approved</result></data>")  # fmt: skip
    status, root = await call(http, answer)
    assert status == 200, etree.tostring(root)

    async def pull() -> list[soap.AsyncMessage]:
        request = soap.AsyncGetMessagesRequest("ASYNC_SERVICE", sender=soap.Sender("requester", PASSWORD))
        body = xmldsig.sign_wsse(soap.build_get_messages_request(request), requester.key, requester.cert)
        status, root = await call(http, body)
        assert status == 200, etree.tostring(root)
        return soap.read_get_messages_response(root).messages

    got = await pull()
    assert len(got) == 1 and got[0].info.correlation_id == "ASYNC-ASK-1"
    assert got[0].info.message_type is soap.MessageType.RESPONSE and got[0].data.findtext("result") == "approved"
    assert await pull() == []


async def test_async_faults(world) -> None:  # type: ignore[no-untyped-def]
    http, requester, provider = world["http"], world["requester"], world["provider"]
    cases = [
        (message(requester, "requester", password="wrong"), "SCE003"),
        (message(requester, "requester", service_id="NO_SUCH"), "SCE004"),
        (message(requester, "requester", service_id="SYNC_SERVICE"), "SCE004"),
        (message(provider, "requester"), "SCE006"),  # another system's signature
        (message(provider, "providersys", kind=soap.MessageType.RESPONSE, correlation_id="NEVER-SENT"), "SCE001"),
        (status_request(requester, "NEVER-SENT"), "SCE001"),
        (status_request(requester, "ASYNC-ONCE-1", sender_id="providersys"), "SCE001"),  # not its message
        (b"<nonsense/>", "SCE001"),
    ]
    for body, code in cases:
        status, root = await call(http, body)
        error = soap.read_fault(root)
        assert status == 500 and error is not None and error.code == code, (code, etree.tostring(root)[:400])


async def test_the_recipient_can_stop_a_delivery(world) -> None:  # type: ignore[no-untyped-def]
    http, requester, provider = world["http"], world["requester"], world["provider"]
    with respx.mock() as mock:
        mock.post(PUSH_URL).mock(return_value=httpx.Response(503))
        await call(http, message(requester, "requester", message_id="ASYNC-STOP-1"))
        now = datetime.now().astimezone()
        notification = soap.DeliveryNotification(
            "ASYNC-STOP-1", "ASYNC_SERVICE", now,
            soap.DeliveryStatusInfo(soap.ReceiveStatus.MESSAGE_NOT_ACCEPTED, now, soap.ResendMessage.NOT_RESEND),
        )  # fmt: skip
        request = soap.AsyncSendDeliveryNotificationRequest(notification, now, soap.Sender("providersys", PASSWORD))
        body = xmldsig.sign_wsse(soap.build_send_delivery_notification_request(request), provider.key, provider.cert)
        status, root = await call(http, body)
        assert status == 200, etree.tostring(root)
        await until_state(http, requester, "ASYNC-STOP-1", soap.MessageState.DELIVERY_STOPPED)


async def test_an_accepted_message_survives_a_restart_and_is_delivered_exactly_once(tmp_path: Path) -> None:
    with database_for(tmp_path) as url:
        quiet = Settings(data_dir=tmp_path / "data", database_url=url, admin_token=ADMIN_TOKEN, background_tasks=False)
        async with running(quiet) as sim, sim.client() as http:  # accepts, but delivers nothing
            parties = await setup_parties(http)
            status, _ = await call(http, message(parties["requester"], "requester", message_id="DURABLE-1"))
            assert status == 200
            assert (
                await state_of(http, parties["requester"], "DURABLE-1")
            ).message_state is soap.MessageState.ON_DELIVERY
        pushed: list[soap.AsyncMessage] = []
        with respx.mock(assert_all_called=True) as mock:
            mock.post(PUSH_URL).mock(side_effect=accepting(pushed))
            async with running(quiet.model_copy(update={"background_tasks": True})) as again, again.client() as http:
                await until_state(http, parties["requester"], "DURABLE-1", soap.MessageState.DELIVERED)
                _, root = await call(http, message(parties["requester"], "requester", message_id="DURABLE-1"))
                assert soap.read_send_message_response(root).message_id == "DURABLE-1"
                await asyncio.sleep(0.7)
        assert [m.info.message_id for m in pushed] == ["DURABLE-1"]
