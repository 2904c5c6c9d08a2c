"""The ХҚО / ЦОН operator workstation (ХҚО ЫАЖ АЖО): the chain of regulation 004 at the front door.

pre        the applicant (or a representative) hands in the documents in the operating hall, with a
           ticket of the electronic queue;
1-процесс  the operator is logged in (login and password, :meth:`HqoDesk.login`);
2-процесс  the service is chosen and the applicant's or the representative's data are entered;
           the package is checked for completeness at intake (standard 002 item 9): an incomplete
           one is refused with the refusal receipt of appendix 3 (``PACKAGE_INCOMPLETE``);
3-процесс  ЖТ МДҚ and (where the service's chain has it) БНАЖ are asked through ЭҮШ;
1-шарт     the data exist → else 4-процесс, "the data cannot be obtained", with the reason;
5-процесс  the package, signed with the operator's EDS, goes through ЭҮШ to ЭҮАШ АЖО (AsyncChannel
           REQUEST from the ХҚО's own sender ``hqo_ais``); the receipt of acceptance is issued;
6-процесс, 2-шарт, 7-процесс  at the provider's workstation (gateway/);
8-процесс  the answer comes back to the centre (:meth:`HqoDesk.receive`) and the operator hands it
           to the applicant (:meth:`HqoDesk.hand_over`).

The State Corporation keeps a result it holds for one month; uncollected, it goes back to the
provider, and on request it is brought back within one working day (:func:`keeping`). Both are
read off the simulated clock, so advancing the clock shows them.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import hashlib
import json
import logging
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from egovsim import passwords
from egovsim.calendar import STATE_CORPORATION_HOURS, to_almaty
from egovsim.catalog.forms import (
    APPLICATION_NS,
    RESULT_NS,
    ApplicationForm,
    document_names,
    intake_form,
    missing_documents,
)
from egovsim.catalog.models import Service
from egovsim.clock import from_us, to_us
from egovsim.errors import CodedError
from egovsim.iin import is_valid_number
from egovsim.kernel import Kernel
from egovsim.personas import DEFAULT_PASSWORD, load_personas
from egovsim.system_keys import SystemIdentity, SystemKeys
from gateway import soap
from gateway.participant import Participant, answer_document, provider_answer, take_push
from portal.hqo_registries import DataCheck, RegistryChecks
from portal.sessions import Session, Sessions
from portal.shep import HQO_IDENTITY, HQO_INBOX, HQO_SENDER_ID, SEND_ERRORS, PortalSender
from portal.tables import hqo_applications, hqo_operators, hqo_sessions, hqo_tickets, system_keys

log = logging.getLogger("egovsim.hqo")

RSHEP_PREFIX = "RSHEP_"
MAX_FAILURES = 5
LOCKOUT_MINUTES = 30
MAX_SCAN_BYTES = 2_000_000
MAX_SCANS_BYTES = 3_000_000
_SCAN_MAGIC = (b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
# statuses a stored application can have; "returned" and "recalled" are read off the clock
ANSWERED = ("result_ready", "refused_by_provider")
CLOSED = ("not_accepted", "refused", "handed")


@dataclass(frozen=True)
class Operator:
    login: str
    iin: str
    full_name: str
    centre: str

    def as_json(self) -> dict[str, str]:
        return {"login": self.login, "iin": self.iin, "fullName": self.full_name, "centre": self.centre}


def _operator(row: Any) -> Operator:
    return Operator(row.login, row.iin, row.full_name, row.centre)


def keeping(kernel: Kernel, row: Any) -> tuple[str, datetime | None]:
    """Where an answered application's result is on the simulated clock: ``held`` at the centre,
    ``returned`` to the provider (uncollected for one month), or ``recalled`` (asked back, due within
    one working day; ``held`` again once due). Also the instant the state ends, if it does."""
    now = kernel.clock.now()
    if row.recalled_us is not None:
        due = kernel.calendar.add_working_days(from_us(row.recalled_us), 1, STATE_CORPORATION_HOURS)
        if now < due:
            return "recalled", due
        since = due
    else:
        since = from_us(row.result_us)
    until = _month_later(since)
    return ("held", until) if now < until else ("returned", None)


def _month_later(moment: datetime) -> datetime:
    """The same day of the next month (the month's last day when it has no such day)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _scan(title: str, number: str, centre: str, at: datetime) -> bytes:
    """The ХҚО's scan of a paper document handed in: a one-page PDF that says what it stands for."""
    text = f"egovsim scan: {title} / application {number} / {centre} / {at.isoformat()}"
    safe = text.encode("ascii", "replace").decode().replace("(", "[").replace(")", "]")
    stream = f"BT /F1 10 Tf 40 800 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class HqoDesk:
    """The ХҚО workstation of one process (:meth:`of`)."""

    def __init__(self, kernel: Kernel, sessions: Sessions) -> None:
        self.kernel = kernel
        self.sender = PortalSender(kernel, HQO_SENDER_ID, HQO_IDENTITY, HQO_INBOX, "ХҚО ЫАЖ АЖО (egovsim)")
        self.registries = RegistryChecks(self.sender)
        self.participant = Participant(kernel, self.sender.verifier, self.sender.keys, "ХҚО ЫАЖ АЖО", "HQO")
        self.sessions = sessions
        self._signers: dict[str, SystemKeys] = {}
        self._seeded = False
        self._seed_lock = asyncio.Lock()

    @classmethod
    def of(cls, kernel: Kernel) -> HqoDesk:
        desk = kernel.shared.get("hqo")
        if not isinstance(desk, HqoDesk):
            from portal.service import Portal  # the operators' sessions share the portal's keys

            keys = Portal.of(kernel).sessions.keys
            desk = kernel.shared["hqo"] = cls(kernel, Sessions(kernel, hqo_sessions, "hqo", keys))
        return desk

    # -- operators and 1-процесс ----------------------------------------------------------------
    async def ensure_operators(self) -> None:
        """The demo operators of personas.yaml, created once (a changed password is kept)."""
        if self._seeded:
            return
        async with self._seed_lock:
            if self._seeded:
                return
            async with self.kernel.db.engine.connect() as conn:
                known = set((await conn.execute(select(hqo_operators.c.login))).scalars())
            for p in load_personas().get("operators", []):
                if p["login"] in known:
                    continue
                name = " ".join(x for x in (p["surname"], p["name"], p.get("patronymic")) if x)
                hashing = passwords.hasher(self.kernel.settings.password_hashing)
                password_hash = await asyncio.to_thread(hashing.hash, DEFAULT_PASSWORD)
                try:
                    async with self.kernel.db.engine.begin() as conn:
                        await conn.execute(insert(hqo_operators).values(
                            login=p["login"], iin=p["iin"], full_name=name, centre=p["centre"]["ru"],
                            password_hash=password_hash, failures=0))  # fmt: skip
                except IntegrityError:  # another process seeded it first
                    pass
            self._seeded = True

    async def login(self, login: str, password: str) -> tuple[str, Session, Operator]:
        """1-процесс: the operator's session, or HQO_AUTH_REFUSED / HQO_ACCOUNT_LOCKED (traced)."""
        await self.ensure_operators()
        trace_id = f"HQO-LOGIN-{uuid.uuid4().hex[:16].upper()}"
        try:
            operator = await self._authenticate(login[:32], password[:256])
        except CodedError as exc:
            await self.kernel.trace.record(trace_id, "hqo", "1-процесс", "refused", code=exc.code,
                                           detail={"login": login[:32]})  # fmt: skip
            exc.extra["traceId"] = trace_id
            raise
        await self.kernel.trace.record(trace_id, "hqo", "1-процесс", "ok", detail={"operator": operator.login})
        token, session = await self.sessions.open(operator.iin)
        return token, session, operator

    async def _authenticate(self, login: str, password: str) -> Operator:
        now = to_us(self.kernel.clock.now())
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(hqo_operators).where(hqo_operators.c.login == login))).first()
        if row is not None and row.locked_until_us is not None and row.locked_until_us > now:
            raise CodedError(
                "HQO_ACCOUNT_LOCKED", f"locked for {LOCKOUT_MINUTES} minutes after {MAX_FAILURES} failures"
            )
        profile = self.kernel.settings.password_hashing
        stored = row.password_hash if row else passwords.dummy_hash(profile)
        ok = await asyncio.to_thread(passwords.verify, profile, stored, password)
        if row is None:
            raise CodedError("HQO_AUTH_REFUSED", "wrong login or password")
        if not ok:
            failures = 1 if row.locked_until_us is not None else row.failures + 1
            locked = now + LOCKOUT_MINUTES * 60_000_000 if failures >= MAX_FAILURES else None
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(update(hqo_operators).where(hqo_operators.c.login == login)
                                   .values(failures=0 if locked else failures, locked_until_us=locked))  # fmt: skip
            raise CodedError("HQO_AUTH_REFUSED", "wrong login or password")
        if row.failures or row.locked_until_us is not None:
            async with self.kernel.db.engine.begin() as conn:
                await conn.execute(update(hqo_operators).where(hqo_operators.c.login == login)
                                   .values(failures=0, locked_until_us=None))  # fmt: skip
        return _operator(row)

    async def operator(self, session: Session) -> Operator:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(hqo_operators).where(hqo_operators.c.iin == session.iin))).first()
        if row is None:
            raise CodedError("HQO_SESSION_INVALID", "the session names no operator")
        return _operator(row)

    def _signer(self, operator: Operator) -> SystemKeys:
        """The operator's EDS (an employee SIGN key of the State Corporation), issued on first use."""
        keys = self._signers.get(operator.login)
        if keys is None:
            surname, _, rest = operator.full_name.partition(" ")
            name, _, patronymic = rest.partition(" ")
            person = (operator.iin, surname, name, patronymic or None)
            identity = SystemIdentity(f"hqo:{operator.login}"[:32], HQO_IDENTITY.bin, "", HQO_IDENTITY.organization,
                                      f"hqo:{operator.login}", person)  # fmt: skip
            keys = self._signers[operator.login] = SystemKeys(self.kernel, system_keys, identity)
        return keys

    # -- the operating hall's queue ---------------------------------------------------------
    async def ticket(self, operator: Operator) -> dict[str, Any]:
        """pre: a ticket of the electronic queue, numbered per centre and day (A001, A002…)."""
        now = self.kernel.clock.now()
        day = to_almaty(now).date().isoformat()
        centre_code = zlib.crc32(operator.centre.encode()) % 1000
        for _ in range(5):
            async with self.kernel.db.engine.connect() as conn:
                rows = await conn.execute(select(hqo_tickets.c.seq).where(
                    (hqo_tickets.c.centre == operator.centre) & (hqo_tickets.c.day == day)))  # fmt: skip
                seq = max(rows.scalars(), default=0) + 1
            number = f"{day.replace('-', '')[2:]}-{centre_code:03d}-{seq:03d}"
            try:
                async with self.kernel.db.engine.begin() as conn:
                    await conn.execute(insert(hqo_tickets).values(number=number, centre=operator.centre, day=day,
                                                                  seq=seq, issued_us=to_us(now)))  # fmt: skip
            except IntegrityError:  # another operator took the number: take the next
                continue
            return {"number": number, "display": f"A{seq:03d}", "centre": operator.centre, "issuedAt": now.isoformat()}
        raise CodedError("HQO_TICKET_INVALID", "no ticket could be numbered; try again")

    # -- 2-процесс … 1-шарт -------------------------------------------------------------------
    def service(self, service_id: str) -> tuple[Service, ApplicationForm]:
        service = self.kernel.services.get(service_id[:64])
        form = intake_form(self.kernel.services, service_id[:64]) if service else None
        if service is None or form is None or not service.channels.hqo.available:
            raise CodedError("HQO_SERVICE_NOT_AT_HQO", f"{service_id[:64]!r} is not received at the ХҚО")
        return service, form

    def services(self) -> list[dict[str, Any]]:
        out = []
        for s in self.kernel.services:
            form = intake_form(self.kernel.services, s.id)
            if s.channels.hqo.available and form is not None:
                out.append({"id": s.id, "number": s.number, "titles": s.titles.model_dump(),
                            "chain": s.hqo_chain is not None, "checksEnis": s.checks_enis,
                            "fields": [f.model_dump() for f in form.fields],
                            "documents": [d.model_dump() for d in form.documents]})  # fmt: skip
        return out

    async def accept(self, operator: Operator, body: dict[str, Any]) -> dict[str, Any]:
        """pre … 1-шарт for one applicant. Bad input changes nothing; a refusal of the regulation
        (incomplete package, data that cannot be obtained) is kept with its papers and traced."""
        service, form = self.service(str(body.get("serviceId") or ""))
        applicant = str(body.get("applicantIin") or "")
        representative = str(body.get("representativeIin") or "") or None
        poa_number = (str(body.get("powerOfAttorneyNumber") or "").strip() or None) if representative else None
        fields = body.get("fields") or {}
        handed = body.get("documents") or []
        scans = body.get("scans") or {}
        problems = self._problems(form, applicant, representative, fields, handed, scans, poa_number)
        if problems:
            raise CodedError("HQO_FORM_INVALID", "; ".join(problems), problems="; ".join(problems))
        ticket = await self._ticket(str(body.get("ticket") or ""), operator)
        number = f"HQO-{to_almaty(self.kernel.clock.now()):%y%m%d}-{secrets.token_hex(4).upper()}"
        data: dict[str, Any] = {"centre": operator.centre, "serviceId": service.id,
                                "fields": {k: str(v) for k, v in fields.items()},
                                "documents": list(dict.fromkeys(handed)), "lang": str(body.get("lang") or "ru")[:2],
                                "consent": True}  # fmt: skip
        data["scans"] = self._scans(form, data["documents"], scans, number, operator)
        trace = [("pre", "ok", None, {"ticket": ticket, "documents": data["documents"]}),
                 ("1-процесс", "ok", None, {"operator": operator.login}),
                 ("2-процесс", "ok", None, {"service": service.id,
                                            "representative": bool(representative)})]  # fmt: skip
        missing = missing_documents(form, set(data["documents"]))
        status, code, detail = "checked", None, None
        if missing:
            status, code = "not_accepted", "PACKAGE_INCOMPLETE"
            data["missing"] = missing
            trace.append(("intake:pre", "refused", code, {"missing": missing}))
        else:
            try:
                check = await self._check(service, applicant, representative, poa_number)
                data["check"] = check.as_json()
                registries = ["ГБД ФЛ"] + (["ЕНИС"] if check.enis_queried else [])
                trace += [("3-процесс", "ok", None, {"registries": registries}), ("1-шарт", "ok", None, {})]
            except CodedError as exc:
                status, code, detail = "refused", exc.code, exc.detail
                data["refusal"] = {"code": code, "detail": detail, "params": exc.params}
                trace += [("3-процесс", "ok" if code != "HQO_REGISTRY_UNAVAILABLE" else "fault", None, {}),
                          ("1-шарт", "refused", code, {"reason": (detail or "")[:200]}),
                          ("4-процесс", "refused", code, {})]  # fmt: skip
        now = to_us(self.kernel.clock.now())
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(insert(hqo_applications).values(
                number=number, ticket=ticket, operator=operator.login, service_id=service.id, status=status,
                applicant_iin=applicant, representative_iin=representative, poa_number=poa_number,
                data_json=json.dumps(data, ensure_ascii=False), refusal_code=code, created_us=now, updated_us=now,
                version=0))  # fmt: skip
            await conn.execute(update(hqo_tickets).where(hqo_tickets.c.number == ticket).values(application=number))
        await self.kernel.trace.record_many([
            {"request_id": number, "component": "hqo", "step": step if ":" in step else f"hqo:{step}",
             "outcome": outcome, "code": c, "service_id": service.id, "detail": d or None}
            for step, outcome, c, d in trace])  # fmt: skip
        if code is not None:
            exc = CodedError(code, detail or f"missing: {', '.join(missing)}", **self._params(code, data))
            exc.extra.update(number=number, status=status, traceId=number)
            raise exc
        return await self.describe(operator, number)

    def _params(self, code: str, data: dict[str, Any], result_xml: str | None = None) -> dict[str, Any]:
        """What fills the refusal's texts: the missing documents by name in each language, the
        registry's name, the provider's ground."""
        if code == "PACKAGE_INCOMPLETE":
            _, form = self.service(data["serviceId"])
            return {"missing": document_names(form, data["missing"])}
        if result_xml is not None:
            return {"ground": etree.fromstring(result_xml.encode()).findtext(f"{{{RESULT_NS}}}ground") or ""}
        return dict((data.get("refusal") or {}).get("params") or {})

    def _problems(self, form: ApplicationForm, applicant: str, representative: str | None, fields: Any,
                  handed: Any, scans: Any, poa_number: str | None) -> list[str]:  # fmt: skip
        if not isinstance(fields, dict) or not isinstance(handed, list) or not isinstance(scans, dict):
            return ["fields is an object, documents a list of document ids, scans an object"]
        out = form.problems({str(k): str(v) for k, v in fields.items()}, complete=True)
        if not is_valid_number(applicant):
            out.append("applicantIin: not a valid IIN")
        if representative is not None and (not is_valid_number(representative) or representative == applicant):
            out.append("representativeIin: a valid IIN, not the applicant's")
        if poa_number is not None and len(poa_number) > 32:
            out.append("powerOfAttorneyNumber: at most 32 characters")
        out += [f"documents: {d!r} is not a document of this service" for d in handed if form.document(str(d)) is None]
        out += [f"scans: {d!r} was not handed in" for d in scans if d not in handed]
        total = 0
        for doc_id, content in scans.items():
            try:
                raw = base64.b64decode(str(content), validate=True)
            except ValueError:
                out.append(f"scans: {doc_id!r} is not base64")
                continue
            total += len(raw)
            if len(raw) > MAX_SCAN_BYTES or not raw.startswith(_SCAN_MAGIC):
                out.append(f"scans: {doc_id!r} must be a PDF, JPEG or PNG of at most {MAX_SCAN_BYTES} bytes")
        if total > MAX_SCANS_BYTES:  # the package must fit the gateway's body limit
            out.append(f"scans: at most {MAX_SCANS_BYTES} bytes in all")
        return out

    def _scans(self, form: ApplicationForm, handed: list[str], scans: dict[str, str], number: str,
               operator: Operator) -> dict[str, str]:  # fmt: skip
        """base64 of each document's scan: the operator's own, or the centre scanner's page."""
        now = self.kernel.clock.now()
        out = {}
        for doc_id in handed:
            spec = form.document(doc_id)
            assert spec is not None
            out[doc_id] = (
                scans.get(doc_id) or base64.b64encode(_scan(spec.name.en, number, operator.login, now)).decode()
            )
        return out

    async def _ticket(self, number: str, operator: Operator) -> str:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(hqo_tickets).where(hqo_tickets.c.number == number[:16]))).first()
        if row is None or row.application is not None or row.centre != operator.centre:
            raise CodedError("HQO_TICKET_INVALID", f"ticket {number[:16]!r} is unknown, used, or of another centre")
        return str(row.number)

    async def _check(self, service: Service, applicant: str, representative: str | None,
                     poa_number: str | None) -> DataCheck:  # fmt: skip
        """3-процесс and 1-шарт. Services without the information-system chain (the paper routes)
        ask nothing; the others ask ГБД ФЛ, and ЕНИС for a representative where the chain has БНАЖ."""
        check = DataCheck()
        if service.hqo_chain is None:
            return check
        check.person = await self.registries.person(applicant)
        if representative is not None and service.checks_enis:
            check.enis_queried = True
            check.power = await self.registries.power_of_attorney(applicant, representative, service.id, poa_number)
        return check

    # -- 5-процесс ------------------------------------------------------------------------------
    async def send(self, operator: Operator, number: str) -> dict[str, Any]:
        """The package signed with the operator's EDS, through ЭҮШ to ЭҮАШ АЖО; the receipt."""
        row = await self._row(operator, number)
        if row.status not in ("checked", "failed"):
            raise CodedError("HQO_APPLICATION_STATE", f"{row.status}", status=row.status)
        package = await self._signer(operator).sign_enveloped(self._package(row, operator))
        data = etree.Element("data")
        for name, value in (("channel", "hqo"), ("requestNumber", row.number), ("iin", row.applicant_iin),
                            ("lang", json.loads(row.data_json).get("lang", "ru"))):  # fmt: skip
            etree.SubElement(data, name).text = value
        if row.representative_iin:
            rep = etree.SubElement(data, "representative")
            etree.SubElement(rep, "iin").text = row.representative_iin
            if row.poa_number:
                etree.SubElement(rep, "powerOfAttorney").text = row.poa_number
        data.append(etree.fromstring(package))
        info = soap.AsyncMessageInfo(service_id=f"{RSHEP_PREFIX}{row.service_id}",
                                     message_type=soap.MessageType.REQUEST, message_date=self.kernel.clock.now(),
                                     sender=soap.Sender(HQO_SENDER_ID, self.sender.password),
                                     properties=[soap.Property("requestNumber", row.number)])  # fmt: skip
        # traced before it leaves: the provider's workstation registers it (6-процесс) before the
        # gateway's receipt is back here; the receipt's messageId is traced when it is
        await self.kernel.trace.record(row.number, "hqo", "5-процесс", "pending", service_id=row.service_id,
                                       detail={"operator": operator.login, "signed": "operator EDS"})  # fmt: skip
        try:
            message_id = await self.sender.send(info, data)
        except SEND_ERRORS as exc:
            fault = f"{type(exc).__name__}: {exc}"[:300]
            await self._set(row, status="failed")
            await self.kernel.trace.record(row.number, "hqo", "5-процесс", "fault", code="HQO_GATEWAY_FAILED",
                                           service_id=row.service_id, detail={"fault": fault})  # fmt: skip
            raise CodedError("HQO_GATEWAY_FAILED", fault) from exc
        # the answer may already be in (a provider on a zero-delay autopilot): never step back
        await self._set(row, message_id=message_id, status="sent", only_if=("checked", "failed"))
        await self.kernel.trace.record(row.number, "hqo", "5-процесс", "ok", service_id=row.service_id,
                                       message_ref=f"shep:{message_id}",
                                       detail={"operator": operator.login})  # fmt: skip
        return await self.describe(operator, number)

    def _package(self, row: Any, operator: Operator) -> etree._Element:
        """The application as the provider's workstation reads it (APPLICATION_NS, as the portal's)."""
        data = json.loads(row.data_json)
        _, form = self.service(row.service_id)
        ns = APPLICATION_NS
        root = etree.Element(f"{{{ns}}}application", nsmap={None: ns})
        etree.SubElement(root, f"{{{ns}}}requestNumber").text = row.number
        service = self.kernel.services.get(row.service_id)
        assert service is not None
        etree.SubElement(root, f"{{{ns}}}service", id=service.id).text = service.titles.get(data.get("lang", "ru"))
        applicant = etree.SubElement(root, f"{{{ns}}}applicant")
        etree.SubElement(applicant, f"{{{ns}}}iin").text = row.applicant_iin
        if row.representative_iin:
            rep = etree.SubElement(root, f"{{{ns}}}representative")
            etree.SubElement(rep, f"{{{ns}}}iin").text = row.representative_iin
            if row.poa_number or (data.get("check") or {}).get("powerOfAttorney"):
                power = (data.get("check") or {}).get("powerOfAttorney") or {}
                etree.SubElement(rep, f"{{{ns}}}powerOfAttorney").text = power.get("registryNumber") or row.poa_number
        values = etree.SubElement(root, f"{{{ns}}}fields")
        for f in form.fields:
            if data["fields"].get(f.id):
                etree.SubElement(values, f"{{{ns}}}field", id=f.id).text = data["fields"][f.id]
        documents = etree.SubElement(root, f"{{{ns}}}documents")
        for doc_id, content in data["scans"].items():
            raw = base64.b64decode(content)
            element = etree.SubElement(documents, f"{{{ns}}}document", id=doc_id, filename=f"{doc_id}.pdf",
                                       size=str(len(raw)), sha256=hashlib.sha256(raw).hexdigest())  # fmt: skip
            element.text = content
        received = etree.SubElement(root, f"{{{ns}}}receivedBy")
        etree.SubElement(received, f"{{{ns}}}operator").text = operator.full_name
        etree.SubElement(received, f"{{{ns}}}centre").text = operator.centre
        etree.SubElement(root, f"{{{ns}}}lang").text = data.get("lang", "ru")
        etree.SubElement(root, f"{{{ns}}}issuedAt").text = self.kernel.clock.now().isoformat()
        return root

    # -- the answer (IAsyncChannelClient) and 8-процесс ----------------------------------------
    async def receive(self, body: bytes) -> tuple[int, bytes]:
        """A push from the gateway: the provider's answer to one of the centre's packages."""
        return await take_push(self.participant, body, self._answer)

    async def _answer(self, message: soap.AsyncMessage) -> None:
        document, number = answer_document(message)
        number = number[:32]
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(hqo_applications).where(hqo_applications.c.number == number))).first()
        if row is None:
            raise CodedError("SCE001", f"no application {number!r} at the centre")
        answer = await provider_answer(self.sender.verifier, document, row.applicant_iin)
        if row.result_xml is not None:
            return  # delivered again: the first delivery counts
        approved = answer.approved
        code = answer.code or "HQO_RESULT_ISSUED"
        xml = answer.xml
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(
                update(hqo_applications)
                .where((hqo_applications.c.number == number) & hqo_applications.c.result_xml.is_(None))
                .values(status="result_ready" if approved else "refused_by_provider", result_xml=xml,
                        refusal_code=None if approved else code, result_us=to_us(self.kernel.clock.now()),
                        updated_us=to_us(self.kernel.clock.now()), version=row.version + 1))  # fmt: skip
        if done.rowcount == 1:
            await self.kernel.trace.record(number, "hqo", "result-received", "ok" if approved else "refused",
                                           code=code, service_id=row.service_id,
                                           message_ref=f"shep:{message.info.message_id}")  # fmt: skip

    async def hand_over(self, operator: Operator, number: str, to: str) -> dict[str, Any]:
        """8-процесс: the applicant (or the representative) receives the answer from the operator."""
        row = await self._row(operator, number)
        if row.status not in ANSWERED:
            raise CodedError("HQO_APPLICATION_STATE", row.status, status=row.status)
        state, _ = keeping(self.kernel, row)
        if state != "held":
            raise CodedError("HQO_RESULT_RETURNED" if state == "returned" else "HQO_APPLICATION_STATE",
                             f"the result is {state}", status=state)  # fmt: skip
        if to not in ("applicant", "representative") or (to == "representative" and not row.representative_iin):
            raise CodedError("HQO_FORM_INVALID", "to: applicant, or representative when there is one",
                             problems="to")  # fmt: skip
        await self._set(row, status="handed", handed_us=to_us(self.kernel.clock.now()), only_if=ANSWERED)
        await self.kernel.trace.record(number, "hqo", "8-процесс", "ok", code="HQO_RESULT_ISSUED",
                                       service_id=row.service_id,
                                       detail={"to": to, "operator": operator.login,
                                               "outcome": row.refusal_code or "result"})  # fmt: skip
        return await self.describe(operator, number)

    async def recall(self, operator: Operator, number: str) -> dict[str, Any]:
        """A result returned to the provider is asked back; it is at the centre within a working day."""
        row = await self._row(operator, number)
        state, _ = keeping(self.kernel, row) if row.status in ANSWERED else ("", None)
        if state != "returned":
            raise CodedError("HQO_APPLICATION_STATE", f"the result is not returned ({state or row.status})",
                             status=state or row.status)  # fmt: skip
        await self._set(row, recalled_us=to_us(self.kernel.clock.now()), only_if=ANSWERED)
        await self.kernel.trace.record(number, "hqo", "state_corporation:storage", "ok", code="HQO_RESULT_RECALLED",
                                       service_id=row.service_id)  # fmt: skip
        return await self.describe(operator, number)

    # -- reading ------------------------------------------------------------------------------
    async def _row(self, operator: Operator, number: str) -> Any:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(hqo_applications).where(hqo_applications.c.number == number[:32]))).first()
        # another centre's application is as unknown as one that does not exist
        if row is None or json.loads(row.data_json).get("centre") != operator.centre:
            raise CodedError("HQO_APPLICATION_NOT_FOUND", f"no application {number[:32]!r} at this centre")
        return row

    async def _set(self, row: Any, only_if: tuple[str, ...] | None = None, **values: Any) -> None:
        query = update(hqo_applications).where(hqo_applications.c.number == row.number)
        if only_if is not None:
            query = query.where(hqo_applications.c.status.in_(only_if))
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(query.values(updated_us=to_us(self.kernel.clock.now()),
                                            version=hqo_applications.c.version + 1, **values))  # fmt: skip

    async def row(self, operator: Operator, number: str) -> Any:
        return await self._row(operator, number)

    async def list(self, operator: Operator) -> list[dict[str, Any]]:
        async with self.kernel.db.engine.connect() as conn:
            rows = (await conn.execute(select(hqo_applications).order_by(hqo_applications.c.created_us.desc())
                                       .limit(200))).all()  # fmt: skip
        return [self._summary(r) for r in rows if json.loads(r.data_json).get("centre") == operator.centre]

    def _summary(self, row: Any) -> dict[str, Any]:
        status = row.status
        keep: dict[str, Any] = {}
        if status in ANSWERED:
            state, until = keeping(self.kernel, row)
            keep = {"keeping": state, "keepingUntil": until.isoformat() if until else None}
        return {"number": row.number, "serviceId": row.service_id, "status": status, "ticket": row.ticket,
                "applicantIin": row.applicant_iin, "representativeIin": row.representative_iin,
                "refusalCode": row.refusal_code, "createdAt": from_us(row.created_us).isoformat(), **keep}  # fmt: skip

    async def describe(self, operator: Operator, number: str) -> dict[str, Any]:
        row = await self._row(operator, number)
        data = json.loads(row.data_json)
        out = self._summary(row)
        refusal = None
        if row.refusal_code:
            entry = self.kernel.refusals.get(row.refusal_code)
            params = self._params(row.refusal_code, data | {"serviceId": row.service_id}, row.result_xml)
            refusal = {"code": row.refusal_code, "step": entry.step if entry else None,
                       "messages": entry.messages(params) if entry else {},
                       "detail": (data.get("refusal") or {}).get("detail")}  # fmt: skip
        base = f"/hqo/applications/{row.number}"
        papers = {"consent": f"{base}/consent"}
        if row.status == "not_accepted":
            papers["refusalReceipt"] = f"{base}/refusal-receipt"
        elif row.status == "refused":
            papers["notice"] = f"{base}/notice"
        elif row.message_id is not None:
            papers["receipt"] = f"{base}/receipt"
        if row.result_xml is not None:
            papers["result"] = f"{base}/result"
        return out | {"fields": data["fields"], "documents": data["documents"], "missing": data.get("missing", []),
                      "check": data.get("check"), "refusal": refusal, "messageId": row.message_id,
                      "centre": data["centre"], "operator": row.operator, "papers": papers,
                      "resultAt": from_us(row.result_us).isoformat() if row.result_us else None,
                      "handedAt": from_us(row.handed_us).isoformat() if row.handed_us else None,
                      "trace": f"/api/catalog/traces/{row.number}"}  # fmt: skip
