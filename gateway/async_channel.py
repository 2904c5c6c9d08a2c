"""ЭҮШ / ШЭП AsyncChannel v10: ``sendMessage``, ``getMessageStatus``, ``getMessages`` and
``sendDeliveryNotification``, with durable delivery.

A message the gateway acknowledged is in its table before the acknowledgement leaves, so a
restart loses nothing; the (sender, messageId) pair is unique, so a resend of the same
messageId is acknowledged again and never delivered twice. A REQUEST goes to the target of its
``serviceId``'s route; a RESPONSE, UPDATE or NOTIFICATION goes back to the sender of the
request its ``correlationId`` names. Delivery is a push to the recipient's IAsyncChannelClient
endpoint (``sendMessage``), retried with exponential back-off, or, for a participant with no push
URL, a pull with ``getMessages``. Messages are ON_DELIVERY until delivered (DELIVERED), given
up after ``MAX_ATTEMPTS`` (NOT_DELIVERED), or refused by the recipient for good
(DELIVERY_STOPPED). A ``sendMessage`` whose call forces ``gateway.unavailable``
(:mod:`egovsim.call_faults`) is answered SCE909 and never stored.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import timedelta

import httpx
from lxml import etree
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from egovsim import xmldsig
from egovsim.clock import to_us, wall_now
from gateway import soap
from gateway.channel import ChannelBase, GatewayFault, refuse_if_unavailable
from gateway.journal import Entry
from gateway.registry import Sender
from gateway.tables import async_messages as messages

log = logging.getLogger("egovsim.gateway")

MAX_ATTEMPTS = 8
CLAIM_US = 60_000_000  # a delivery in progress in one process; another may take it over after a minute
PUSH_TIMEOUT = 30.0
DEFAULT_AMOUNT = 10  # getMessages without an amount
STATUS_TEXT = {
    soap.MessageState.ON_DELIVERY: "The message is being delivered",
    soap.MessageState.DELIVERED: "The message has been delivered",
    soap.MessageState.NOT_DELIVERED: "The message could not be delivered",
    soap.MessageState.DELIVERY_STOPPED: "Delivery was stopped by the recipient",
}


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … at most a minute between attempts."""
    return timedelta(seconds=min(60, 2 ** max(0, attempts - 1)))


MAX_CONCURRENT_DELIVERIES = 32


class AsyncChannel(ChannelBase):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.wake = asyncio.Event()
        self._deliveries: set[asyncio.Task[None]] = set()
        self._delivering = asyncio.Semaphore(MAX_CONCURRENT_DELIVERIES)

    # -- the edge -----------------------------------------------------------------------------
    async def handle(self, body: bytes) -> tuple[int, bytes]:
        entry = Entry("async", "unknown", body)
        session = soap.new_session_id()
        operation = "sendMessage"
        try:
            try:
                root = xmldsig.parse_xml(body)
                name, request = soap.read_operation(root)
            except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
                raise GatewayFault("SCE001", str(exc)) from None
            interface, operation = name.split(".", 1)
            entry.operation = operation
            if interface != "IAsyncChannel":
                raise GatewayFault("SCE001", f"{name} is an operation of the participants' side, not of ШЭП")
            if isinstance(request, soap.AsyncMessage):
                answer = await self._send(root, request, entry, session)
            elif isinstance(request, soap.AsyncGetMessageStatusRequest):
                answer = await self._status(request, entry)
            elif isinstance(request, soap.AsyncGetMessagesRequest):
                answer = await self._get(request, entry, session)
            else:
                assert isinstance(request, soap.AsyncSendDeliveryNotificationRequest)
                answer = await self._notified(request, entry, session)
            status = 200
        except GatewayFault as fault:
            answer = self._fault(operation, "async", fault, entry, session)
            status = 500
        entry.response = answer
        await self.journal.write(entry)
        return status, answer

    async def _authenticated(self, sender: soap.Sender | None) -> Sender:
        record = await self.registry.authenticate(sender.sender_id, sender.password) if sender else None
        if record is None:
            who = sender.sender_id if sender else "(none given)"
            raise GatewayFault("SCE003", f"sender {who!r}: unknown, or the password is wrong")
        return record

    # -- sendMessage --------------------------------------------------------------------------
    async def _send(self, root: etree._Element, message: soap.AsyncMessage, entry: Entry, session: str) -> bytes:
        info = message.info
        entry.message_id, entry.correlation_id = info.message_id, info.correlation_id
        entry.sender_id, entry.service_id = info.sender.sender_id, info.service_id
        refuse_if_unavailable()
        sender = await self._authenticated(info.sender)
        if info.message_type is soap.MessageType.REQUEST:
            route = await self.registry.route(info.service_id)
            if route is None or route.mode != "async":
                why = "is not registered" if route is None else "is served on the sync channel only"
                raise GatewayFault("SCE004", f"serviceId {info.service_id!r} {why}")
            recipient = route.target
        else:  # an answer travels back to whoever sent the request it answers
            original = await self._row(info.correlation_id)
            if original is None:
                raise GatewayFault("SCE001", f"correlationId {info.correlation_id!r} names no message of this gateway")
            route = await self.registry.route(original.service_id)
            recipient = await self.requester_of(original.sender_id)
        if route is None or route.transport_signature:
            await self._check_transport(root, sender)
        if route is not None and route.business_signature:
            await self._check_business(message.data)
        message_id = info.message_id or str(uuid.uuid4())
        stored = soap.AsyncMessage(
            replace(info, message_id=message_id, session_id=session, sender=soap.Sender(sender.sender_id)), message.data
        )
        session, duplicate = await self.enqueue(stored, recipient)
        if duplicate:
            entry.detail = "a resend of an accepted message: acknowledged again, not delivered again"
        entry.message_id, entry.session_id, entry.target = message_id, session, recipient
        receipt = soap.AsyncSendMessageResponse(
            message_id, info.correlation_id or message_id, self.kernel.clock.now(), session
        )
        return await self.keys.sign(soap.build_send_message_response(receipt))

    async def enqueue(self, message: soap.AsyncMessage, recipient: str) -> tuple[str, bool]:
        """Store ``message`` (its info complete: messageId, sessionId, sender) for delivery to
        ``recipient``; returns its sessionId and whether it was a resend (then nothing is stored)."""
        info = message.info
        assert info.message_id and info.session_id
        now = wall_now()
        values = {
            "message_id": info.message_id,
            "sender_id": info.sender.sender_id,
            "correlation_id": info.correlation_id,
            "service_id": info.service_id,
            "message_type": info.message_type.value,
            "session_id": info.session_id,
            "recipient": recipient,
            "state": soap.MessageState.ON_DELIVERY.value,
            "attempts": 0,
            "next_attempt_wall_us": to_us(now),
            "claimed_until_wall_us": 0,
            "message_xml": soap.to_bytes(soap.build_push_message_request(message)).decode("utf-8"),
            "created_wall_us": to_us(now),
        }
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(messages.insert().values(**values))
        except IntegrityError:  # the same messageId again: acknowledged, not delivered twice
            existing = await self._row(info.message_id, info.sender.sender_id)
            assert existing is not None
            return existing.session_id, True
        self.wake.set()
        return info.session_id, False

    async def requester_of(self, sender_id: str) -> str:
        """Where an answer to ``sender_id``'s request goes: its push URL, or its pull queue."""
        requester = await self.registry.sender(sender_id)
        return requester.push_url if requester and requester.push_url else f"pull:{sender_id}"

    async def _row(self, message_id: str | None, sender_id: str | None = None):  # type: ignore[no-untyped-def]
        query = select(messages).where(messages.c.message_id == message_id)
        if sender_id is not None:
            query = query.where(messages.c.sender_id == sender_id)
        async with self.kernel.db.engine.connect() as conn:
            return (await conn.execute(query.order_by(messages.c.id).limit(1))).first()

    # -- getMessageStatus ---------------------------------------------------------------------
    async def _status(self, request: soap.AsyncGetMessageStatusRequest, entry: Entry) -> bytes:
        entry.message_id, entry.sender_id = request.message_id, request.sender.sender_id
        sender = await self._authenticated(request.sender)
        row = await self._row(request.message_id, sender.sender_id)
        if row is None:  # another sender's message is as unknown as a missing one
            raise GatewayFault("SCE001", f"sender {sender.sender_id!r} sent no message {request.message_id!r}")
        entry.service_id, entry.session_id = row.service_id, row.session_id
        state = soap.MessageState(row.state)
        now = self.kernel.clock.now()
        text = STATUS_TEXT[state] + (
            f": {row.last_error}" if row.last_error and state is not soap.MessageState.DELIVERED else ""
        )
        answer = soap.AsyncGetMessageStatusResponse(
            state, soap.MessageStatusInfo(state.value, text[:250], now), now, row.session_id
        )
        return await self.keys.sign(soap.build_get_message_status_response(answer))

    # -- getMessages (pull) -------------------------------------------------------------------
    async def _get(self, request: soap.AsyncGetMessagesRequest, entry: Entry, session: str) -> bytes:
        entry.service_id = request.service_id
        entry.sender_id = request.sender.sender_id if request.sender else None
        sender = await self._authenticated(request.sender)
        amount = request.amount or DEFAULT_AMOUNT
        query = (
            select(messages)
            .where(
                and_(
                    messages.c.recipient == f"pull:{sender.sender_id}",
                    messages.c.service_id == request.service_id,
                    messages.c.state == soap.MessageState.ON_DELIVERY.value,
                )
            )
            .order_by(messages.c.id)
            .limit(amount)
        )
        delivered: list[soap.AsyncMessage] = []
        async with self.kernel.db.engine.begin() as conn:
            for row in (await conn.execute(query)).all():
                taken = await conn.execute(
                    update(messages)
                    .where(and_(messages.c.id == row.id, messages.c.state == soap.MessageState.ON_DELIVERY.value))
                    .values(state=soap.MessageState.DELIVERED.value, delivered_wall_us=to_us(wall_now()))
                )
                if taken.rowcount == 1:  # not taken by a concurrent getMessages
                    delivered.append(soap.read_push_message_request(xmldsig.parse_xml(row.message_xml.encode())))
        entry.detail = f"{len(delivered)} message(s) handed over"
        answer = soap.AsyncGetMessagesResponse(self.kernel.clock.now(), session, delivered)
        return await self.keys.sign(soap.build_get_messages_response(answer))

    # -- sendDeliveryNotification -------------------------------------------------------------
    async def _notified(self, request: soap.AsyncSendDeliveryNotificationRequest, entry: Entry, session: str) -> bytes:
        notification = request.notification
        entry.message_id, entry.service_id = notification.message_id, notification.service_id
        entry.sender_id = request.sender.sender_id if request.sender else None
        await self._authenticated(request.sender)
        row = await self._row(notification.message_id)
        if row is None:
            raise GatewayFault("SCE001", f"no message {notification.message_id!r} to report on")
        status = notification.delivery_status
        if status.receive_status is soap.ReceiveStatus.MESSAGE_NOT_ACCEPTED:
            again = status.resend_message is soap.ResendMessage.RESEND
            state = soap.MessageState.ON_DELIVERY if again else soap.MessageState.DELIVERY_STOPPED
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(
                    update(messages)
                    .where(messages.c.id == row.id)
                    .values(state=state.value, next_attempt_wall_us=to_us(wall_now()), claimed_until_wall_us=0)
                )
            self.wake.set()
        answer = soap.AsyncSendDeliveryNotificationResponse(str(uuid.uuid4()), self.kernel.clock.now(), session)
        return await self.keys.sign(soap.build_send_delivery_notification_response(answer))

    # -- delivery (background) ----------------------------------------------------------------
    async def run(self) -> None:
        """Deliver what is due, for as long as the process runs; survive any one failure."""
        while not self.kernel.stopping.is_set():
            self.wake.clear()  # before the pass: a message enqueued during it wakes the next one
            try:
                busy = await self.deliver_due()
            except Exception:
                log.exception("async delivery pass failed; retrying")
                busy = 0
            if not busy:
                await self.kernel.idle(0.5, self.wake)
        if self._deliveries:  # the deliveries under way end (or fail and are retried after a restart)
            await asyncio.wait(list(self._deliveries), timeout=5)

    async def deliver_due(self) -> int:
        """One pass: claim the due push deliveries and make them; returns how many were tried."""
        now = to_us(wall_now())
        due = (
            select(messages)
            .where(
                and_(
                    messages.c.state == soap.MessageState.ON_DELIVERY.value,
                    messages.c.next_attempt_wall_us <= now,
                    messages.c.claimed_until_wall_us <= now,
                    messages.c.recipient.not_like("pull:%"),
                )
            )
            .order_by(messages.c.id)
            .limit(20)
        )
        claimed = []
        async with self.kernel.db.engine.begin() as conn:
            for row in (await conn.execute(due)).all():
                taken = await conn.execute(
                    update(messages)
                    .where(and_(messages.c.id == row.id, messages.c.claimed_until_wall_us == row.claimed_until_wall_us))
                    .values(claimed_until_wall_us=now + CLAIM_US)
                )
                if taken.rowcount == 1:  # another process did not take it first
                    claimed.append(row)
        # each delivery runs on its own: a slow recipient does not hold up the next message
        for row in claimed:
            task = asyncio.create_task(self._deliver_within_limit(row))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return len(claimed)

    async def _deliver_within_limit(self, row) -> None:  # type: ignore[no-untyped-def]
        async with self._delivering:
            try:
                await self._deliver(row)
            except Exception:  # the claim runs out and the next pass retries it
                log.exception("delivering %s failed", row.message_id)

    async def _deliver(self, row) -> None:  # type: ignore[no-untyped-def]
        entry = Entry("push", "sendMessage", b"", message_id=row.message_id, correlation_id=row.correlation_id)
        entry.session_id, entry.sender_id, entry.service_id, entry.target = (
            row.session_id, row.sender_id, row.service_id, row.recipient
        )  # fmt: skip
        error: str | None = None
        try:
            body = await self.keys.sign(row.message_xml.encode("utf-8"))
            entry.request = body
            status, content = await self._post(row.recipient, body, PUSH_TIMEOUT)
            entry.response = content
            root = xmldsig.parse_xml(content)
            fault = soap.read_fault(root)
            if fault is not None:
                error = f"the recipient answered fault {fault.code}: {fault.message}"
            elif status != 200:
                error = f"the recipient answered HTTP {status}"
            else:
                soap.read_push_message_response(root)
        except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
            error = f"the recipient's answer is not a sendMessage response: {exc}"
        except (httpx.HTTPError, TimeoutError) as exc:  # unreachable, timeout, refused: a failed attempt
            error = f"the recipient cannot be reached: {type(exc).__name__}"
        now = wall_now()
        attempts = row.attempts + 1
        if error is None:
            values = {"state": soap.MessageState.DELIVERED.value, "delivered_wall_us": to_us(now), "last_error": None}
            entry.code = "SCSS001"
        else:
            final = attempts >= MAX_ATTEMPTS
            state = soap.MessageState.NOT_DELIVERED if final else soap.MessageState.ON_DELIVERY
            values = {"state": state.value, "last_error": error, "next_attempt_wall_us": to_us(now + backoff(attempts))}
            entry.outcome, entry.code, entry.detail = "fault", "SCE909", f"attempt {attempts}: {error}"
        still_due = and_(messages.c.id == row.id, messages.c.state == soap.MessageState.ON_DELIVERY.value)
        async with self.kernel.db.engine.begin() as conn:  # unless the recipient stopped it meanwhile
            await conn.execute(update(messages).where(still_due).values(attempts=attempts, **values))
            await conn.execute(update(messages).where(messages.c.id == row.id).values(claimed_until_wall_us=0))
        await self.journal.write(entry)
