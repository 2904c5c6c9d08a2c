"""The personal cabinet (жеке кабинет / личный кабинет): the citizen's requests, statuses,
notifications and results (regulation 001, 7-процесс: "the result, an e-document certified with the
provider's EDS, is sent to the personal cabinet").

- The portal hands every request it sends (or refuses at condition 2) to the cabinet
  (``/cabinet/api/internal/requests``, admin token), so the history holds refusals too.
- The provider's answer comes back through ЭҮШ: the gateway pushes the RESPONSE to the cabinet's
  IAsyncChannelClient endpoint ``/cabinet/shep/`` (the push URL of the portal's sender). It is
  taken only with the gateway's transport signature, and the result e-document only with a valid
  signature of an employee of the provider named in it (condition 2 on that certificate).
- The timeline is read from the trace journal under the request's number, where the portal and
  the provider's workstation record every step; each entry is worded from the catalogue (the
  chain step's text, the internal step's action, the refusal's text) in the citizen's language.
- Each change of status is a notification in the cabinet and, where the citizen left an e-mail
  address or a phone number, a message in the outbox (egovsim sends nothing; it keeps them).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cabinet.tables import contacts, notifications, outbox, requests, system_keys
from egovsim import xmldsig
from egovsim.catalog.forms import read_result, result_decision
from egovsim.catalog.models import Service
from egovsim.clock import from_us, to_us
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.pki import Subject
from egovsim.system_keys import SystemIdentity, SystemKeys
from egovsim.trace import TraceEvent
from gateway import soap
from gateway.channel import relying_party
from gateway.participant import Participant, answer_document, provider_answer, take_push

log = logging.getLogger("egovsim.cabinet")

IDENTITY = SystemIdentity("system", "200940004561", "EGOV CABINET", 'АО "НИТ (ТЕСТ)"', "cabinet:system")
CLOSED = ("approved", "refused", "failed")
FINAL = ("approved", "refused")  # a request that failed to leave the portal can be sent again
STATUS_TEXTS: dict[str, dict[str, str]] = {
    "submitted": {"kk": "Жіберілді", "ru": "Отправлен", "en": "Submitted"},
    "registered": {
        "kk": "Көрсетілетін қызметті берушіде тіркелді",
        "ru": "Зарегистрирован у услугодателя",
        "en": "Registered by the provider",
    },
    "in_progress": {"kk": "Қаралуда", "ru": "На рассмотрении", "en": "In progress"},
    "approved": {"kk": "Нәтиже дайын", "ru": "Результат готов", "en": "Result ready"},
    "refused": {"kk": "Бас тартылды", "ru": "Отказано", "en": "Refused"},
    "failed": {"kk": "Жіберілмеді", "ru": "Не отправлен", "en": "Not sent"},
}


class Cabinet:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.keys = SystemKeys(kernel, system_keys, IDENTITY)
        self.verifier = relying_party(kernel)
        self.participant = Participant(kernel, self.verifier, self.keys, "жеке кабинет", "CAB")

    @classmethod
    def of(cls, kernel: Kernel) -> Cabinet:
        cabinet = kernel.shared.get("cabinet")
        if not isinstance(cabinet, Cabinet):
            cabinet = kernel.shared["cabinet"] = cls(kernel)
        return cabinet

    # -- from the portal ----------------------------------------------------------------------
    async def take(self, body: dict[str, Any]) -> None:
        """A request the portal sent or refused; repeated hand-overs of a number change its state."""
        now = to_us(self.kernel.clock.now())
        status = body["status"]
        values = {
            "status": status,
            "message_id": body.get("messageId"),
            "refusal_code": body.get("refusalCode"),
            "detail": (body.get("detail") or None),
            "closed_us": now if status in CLOSED else None,
        }
        async with self.kernel.db.engine.begin() as conn:
            row = (await conn.execute(select(requests).where(requests.c.number == body["number"]))).first()
            if row is None:
                await conn.execute(
                    insert(requests).values(
                        number=body["number"], iin=body["iin"], service_id=body["serviceId"],
                        channel=body.get("channel", "portal"), lang=body.get("lang", "kk"), submitted_us=now, **values,
                    )
                )  # fmt: skip
            elif row.iin != body["iin"]:
                raise CodedError("REQUEST_INVALID", "that number belongs to another citizen")
            elif row.status not in FINAL:
                await conn.execute(update(requests).where(requests.c.number == row.number).values(**values))
            else:
                return  # the provider's answer came first: it stands
            if status == "submitted":  # the portal accepted the request (004: "сұрау салудың қабылданғаны")
                await self._notify(conn, body["iin"], body["number"], "FLP_REQUEST_ACCEPTED", {})
            else:
                code = body.get("refusalCode") or "EDS_NOT_CONFIRMED"
                await self._notify(conn, body["iin"], body["number"], code, {"fault": body.get("detail") or ""})

    # -- from the gateway (IAsyncChannelClient.sendMessage) -----------------------------------
    async def receive(self, body: bytes) -> tuple[int, bytes]:
        """A push from the gateway: the provider's answer to one of the portal's requests."""
        return await take_push(self.participant, body, self._answer)

    async def _answer(self, message: soap.AsyncMessage) -> None:
        document, number = answer_document(message)
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(requests).where(requests.c.number == number))).first()
        if row is None:
            raise CodedError("SCE001", f"no request {number[:40]!r} in the cabinet")
        answer = await provider_answer(self.verifier, document, row.iin)
        if row.status in FINAL:
            return  # delivered again: the first delivery counts
        approved = answer.approved
        code = answer.code or "RESULT_IN_CABINET"
        ground = answer.ground
        now = to_us(self.kernel.clock.now())
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(
                update(requests)
                .where((requests.c.number == number) & (requests.c.result_xml.is_(None)))
                .values(status="approved" if approved else "refused", result_xml=answer.xml, closed_us=now,
                        refusal_code=None if approved else code, detail=None if approved else ground)
            )  # fmt: skip
            if done.rowcount != 1:
                return
            await self._notify(conn, row.iin, number, code, {"ground": ground})
        await self.kernel.trace.record(number, "cabinet", "result-received", "ok" if approved else "refused",
                                       code=code, service_id=row.service_id,
                                       message_ref=f"shep:{message.info.message_id}")  # fmt: skip

    # -- notifications and the outbox ---------------------------------------------------------
    async def notify(self, iin: str, number: str, code: str, params: dict[str, str]) -> None:
        async with self.kernel.db.engine.begin() as conn:
            await self._notify(conn, iin, number, code, params)

    async def _notify(self, conn: AsyncConnection, iin: str, number: str, code: str, params: dict[str, str]) -> None:
        """A notification in the cabinet, and a message in the outbox for each contact the citizen
        left, in the caller's transaction (with the change it tells of)."""
        now = to_us(self.kernel.clock.now())
        entry = self.kernel.refusals.get(code)
        await conn.execute(
            insert(notifications).values(iin=iin, number=number, code=code, created_us=now,
                                         params_json=json.dumps(params, ensure_ascii=False))
        )  # fmt: skip
        contact = (await conn.execute(select(contacts).where(contacts.c.iin == iin))).first()
        if contact is None or entry is None:
            return
        lang = (await conn.execute(select(requests.c.lang).where(requests.c.number == number))).scalar() or "kk"
        text = entry.message(lang, params)
        subject = {"kk": f"egov.kz: № {number} сұраныс", "ru": f"egov.kz: запрос № {number}",
                   "en": f"egov.kz: request No. {number}"}[lang]  # fmt: skip
        for channel, address in (("email", contact.email), ("sms", contact.phone)):
            if address:
                body = text if channel == "email" else f"egov.kz {number}: {text}"[:480]
                await conn.execute(
                    insert(outbox).values(iin=iin, number=number, channel=channel, address=address,
                                          subject=subject, body=body, created_us=now)
                )  # fmt: skip

    async def notifications(self, iin: str, lang: str) -> list[dict[str, Any]]:
        async with self.kernel.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(notifications)
                    .where(notifications.c.iin == iin)
                    .order_by(notifications.c.id.desc())
                    .limit(200)
                )
            ).all()
        out = []
        for r in rows:
            entry = self.kernel.refusals.get(r.code)
            params = json.loads(r.params_json or "{}")
            out.append(
                {
                    "id": r.id,
                    "number": r.number,
                    "code": r.code,
                    "kind": entry.kind if entry else None,
                    "step": entry.step if entry else None,
                    "message": entry.message(lang, params) if entry else r.code,
                    "messages": entry.messages(params) if entry else {},
                    "createdAt": from_us(r.created_us).isoformat(),
                    "read": r.read_us is not None,
                }
            )
        return out

    async def mark_read(self, iin: str, notification_id: int) -> None:
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(
                update(notifications)
                .where((notifications.c.id == notification_id) & (notifications.c.iin == iin))
                .values(read_us=to_us(self.kernel.clock.now()))
            )
        if done.rowcount != 1:
            raise CodedError("CABINET_REQUEST_NOT_FOUND", f"no notification {notification_id}")

    async def outbox(self, iin: str) -> list[dict[str, Any]]:
        async with self.kernel.db.engine.connect() as conn:
            rows = (
                await conn.execute(select(outbox).where(outbox.c.iin == iin).order_by(outbox.c.id.desc()).limit(200))
            ).all()
        return [
            {"id": r.id, "number": r.number, "channel": r.channel, "address": r.address, "subject": r.subject,
             "body": r.body, "createdAt": from_us(r.created_us).isoformat()}
            for r in rows
        ]  # fmt: skip

    async def contacts(self, iin: str) -> dict[str, str | None]:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(contacts).where(contacts.c.iin == iin))).first()
        return {"email": row.email if row else None, "phone": row.phone if row else None}

    async def set_contacts(self, iin: str, email: str | None, phone: str | None) -> dict[str, str | None]:
        try:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(insert(contacts).values(iin=iin, email=email, phone=phone))
        except IntegrityError:  # the citizen has contacts already: change them
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(update(contacts).where(contacts.c.iin == iin).values(email=email, phone=phone))
        return await self.contacts(iin)

    # -- the history --------------------------------------------------------------------------
    async def _row(self, iin: str, number: str):  # type: ignore[no-untyped-def]
        """The citizen's own request; another citizen's is "not found", exactly like a missing one."""
        async with self.kernel.db.engine.connect() as conn:
            row = (
                await conn.execute(select(requests).where((requests.c.number == number) & (requests.c.iin == iin)))
            ).first()
        if row is None:
            raise CodedError("CABINET_REQUEST_NOT_FOUND", f"no request {number[:40]!r} in your cabinet")
        return row

    async def history(self, iin: str, lang: str) -> list[dict[str, Any]]:
        async with self.kernel.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(requests).where(requests.c.iin == iin).order_by(requests.c.submitted_us.desc()).limit(200)
                )
            ).all()
        out = []
        for r in rows:
            events = await self.kernel.trace.events(r.number) if r.status not in CLOSED else []
            out.append(self._summary(r, lang, _status(r, events)))
        return out

    def _summary(self, row, lang: str, status: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        service = self.kernel.services.get(row.service_id)
        refusal = self.kernel.refusals.get(row.refusal_code) if row.refusal_code else None
        params = {"ground": row.detail or "", "fault": row.detail or ""}
        return {
            "number": row.number,
            "serviceId": row.service_id,
            "title": service.titles.get(lang) if service else row.service_id,
            "channel": row.channel,
            "status": status,
            "statusText": STATUS_TEXTS[status][lang],
            "submittedAt": from_us(row.submitted_us).isoformat(),
            "closedAt": from_us(row.closed_us).isoformat() if row.closed_us else None,
            "refusal": None
            if refusal is None
            else {
                "code": refusal.code,
                "step": refusal.step,
                "message": refusal.message(lang, params),
                "messages": refusal.messages(params),
                "detail": row.detail,
            },
            "resultReady": row.result_xml is not None,
        }

    async def request(self, iin: str, number: str, lang: str) -> dict[str, Any]:
        row = await self._row(iin, number)
        events = await self.kernel.trace.events(number)
        service = self.kernel.services.get(row.service_id)
        out = self._summary(row, lang, _status(row, events))
        out["timeline"] = [self._entry(e, service, lang) for e in events]
        if row.result_xml is not None:
            out["result"] = self._result_facts(row.result_xml, service, lang)
        return out

    def _entry(self, event: TraceEvent, service: Service | None, lang: str) -> dict[str, Any]:
        chain, _, label = event.step.partition(":")
        text = None
        if service is not None:
            steps = {"portal": service.portal_chain, "hqo": service.hqo_chain}.get(chain)
            if steps is not None:
                text = next((s.text.get(lang) for s in steps.steps if s.label == label), None)
            if text is None:
                route = next((r for r in service.routes if r.id == chain), None)
                step = next((s for s in route.steps if s.n == label), None) if route else None
                if step is not None:
                    text = step.action.get(lang)
        entry = self.kernel.refusals.get(event.code) if event.code else None
        params = {k: str(v) for k, v in (event.detail or {}).items()}
        return {
            "step": event.step,
            "component": event.component,
            "outcome": event.outcome,
            "code": event.code,
            "text": text,
            "message": entry.message(lang, params) if entry else None,
            "at": event.as_json()["sim_time"],
        }

    def _result_facts(self, xml: str, service: Service | None, lang: str) -> dict[str, Any]:
        facts = read_result(xml)
        doc = {k: v or None for k, v in facts.items()}
        return {
            "kind": doc["kind"],
            "registrationNumber": doc["registrationNumber"],
            "provider": {"name": doc["provider/name"], "bin": doc["provider/bin"]},
            "decision": result_decision(service, facts, lang) or None,
            "ground": doc["ground"],
            # the kindergarten queue: the place the queue register gave the request (seed 003, 7-процесс)
            "queueNumber": doc["queueNumber"],
            "area": doc["area"],
            "date": doc["date"],
            "signedBy": {"name": doc["signedBy/name"], "iin": doc["signedBy/iin"]},
        }

    async def result_xml(self, iin: str, number: str) -> str:
        row = await self._row(iin, number)
        if row.result_xml is None:
            raise CodedError("CABINET_RESULT_NOT_READY", f"request {number} has no result yet")
        return row.result_xml  # type: ignore[no-any-return]

    # -- the signature check anyone can run ---------------------------------------------------
    async def verify(self, xml: bytes) -> dict[str, Any]:
        try:
            xmldsig.parse_xml(xml)
        except xmldsig.XmlSignatureError as exc:
            raise CodedError("CABINET_DOCUMENT_INVALID", str(exc)[:300], reason="not well-formed XML") from None
        verdict, _ = await self.verifier.check_xml(xml)
        cert = verdict.certificate
        subject = Subject.of(cert.subject) if cert is not None else None
        return {
            "valid": verdict.valid,
            "code": verdict.code,
            "detail": verdict.detail,
            "signer": None
            if subject is None
            else {
                "commonName": subject.common_name,
                "iin": subject.iin,
                "bin": subject.bin,
                "organization": subject.organization,
                "serialNumber": format(cert.serial_number, "x") if cert else None,
                "notAfter": cert.not_valid_after_utc.isoformat() if cert else None,
            },
            "revocation": [{"by": str(r.by), "status": str(r.status)} for r in verdict.revocations],
            "trustAnchor": "НУЦ РК (egovsim test root)",
        }


def _status(row, events: list[TraceEvent]) -> str:  # type: ignore[no-untyped-def]
    if row.status in CLOSED:
        return row.status  # type: ignore[no-any-return]
    provider = [e for e in events if e.component == "gateway"]
    if any(":" in e.step and e.step.split(":", 1)[1][:1].isdigit() and not e.step.startswith(("portal:", "hqo:"))
           for e in provider):  # fmt: skip
        return "in_progress"
    return "registered" if provider else "submitted"
