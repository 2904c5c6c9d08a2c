"""ЭҮАШ АЖО / АРМ РШЭП: the providers' regional gateway workstation.

It is a participant of the gateway like any provider system: the catalogue's services are
routed (``RSHEP_<service id>``, async) to its IAsyncChannelClient endpoint, ``/rshep/shep/``.
A pushed request is registered in the provider's inbox (6-процесс of the ХҚО chain, 5-процесс
of the portal's), then runs the service's internal steps (:mod:`gateway.workflow`), by
autopilot or by employees in manual mode; the result e-document, signed with the SIGN
certificate of the provider's authorised employee, or the reasoned refusal goes back through
the async channel as a RESPONSE to the requester (7-процесс).

A case's state is (its request, the moment it was received, the employees' completions): the
workflow is deterministic, so the case is rebuilt from that on every read and the autopilot
replays it against the simulated clock; nothing derived is stored that could disagree.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from egovsim import xmldsig
from egovsim.catalog.forms import APPLICATION_NS, RESULT_NS, document_defects, document_names, intake_form
from egovsim.catalog.models import Service
from egovsim.clock import from_us, to_us
from egovsim.condition2 import EdsVerifier
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.pki import Subject
from egovsim.system_keys import SystemIdentity, SystemKeys
from gateway import office, soap, workflow
from gateway.async_channel import AsyncChannel
from gateway.channel import fault_envelope, relying_party
from gateway.keys import GatewayKeys
from gateway.providers import Employee, Provider, Providers, load_providers
from gateway.queue import AREA_FIELD, CHILD_FIELD, QueueEntry, QueueRegister, area_defects, keeps_queue, receipt_step
from gateway.registry import Registry, Route
from gateway.tables import cases, keys, policies, receipts

log = logging.getLogger("egovsim.rshep")

INBOX_PATH = "/rshep/shep/"
SERVICE_PREFIX = "RSHEP_"
OFFICE_SENDER = "office"  # the sender of a case registered at the provider's office: no one to answer
STORE_ATTEMPTS = 20  # registrations of one area at once: each conflict lets one of them in
A = f"{{{APPLICATION_NS}}}"
APPLICATION = f"{A}application"
Mode = Literal["autopilot", "manual"]


def service_id_for(catalogue_id: str) -> str:
    return f"{SERVICE_PREFIX}{catalogue_id}"


def new_case_id(kernel: Kernel, provider: Provider) -> str:
    """A registration number in the provider's inbox (drawn from the seed when there is one)."""
    return f"{provider.id.upper()[:12]}-{kernel.new_id(5).upper()}"


def application_fields(data: etree._Element) -> dict[str, str]:
    """The form's fields of the application a request carries (``application/fields/field``)."""
    fields = data.iterfind(f"{APPLICATION}/{A}fields/{A}field")
    return {f.get("id") or "": (f.text or "").strip() for f in fields}


@dataclass(frozen=True)
class Arrival:
    """A request as it reaches the inbox: pushed by the gateway, or handed in at the office.

    ``first`` are trace records of what came before registration (the office's receipt)."""

    service: Service
    channel: workflow.Channel
    data: etree._Element
    sender_id: str
    message_id: str | None
    request_xml: str
    route_id: str | None = None
    case_id: str | None = None
    receipt: dict[str, Any] | None = None
    first: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Policy:
    mode: Mode = "autopilot"
    autopilot: workflow.AutopilotPolicy = field(default_factory=workflow.AutopilotPolicy)

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode} | self.autopilot.model_dump()


class RegionalWorkstation:
    def __init__(self, kernel: Kernel, registry: Registry, keys: GatewayKeys, channel: AsyncChannel) -> None:
        self.kernel = kernel
        self.registry = registry
        self.keys = keys
        self.channel = channel
        self.providers: Providers = load_providers(kernel.services)
        self._signers: dict[str, SystemKeys] = {}
        self._soon: set[asyncio.Task[None]] = set()
        self._verifier: EdsVerifier | None = None

    # -- routes of the catalogue --------------------------------------------------------------
    def routes(self) -> list[Route]:
        """One async route per service received through the portal or ХҚО."""
        return [
            Route(
                service_id_for(s.id),
                f"component:gateway:{INBOX_PATH}",
                mode="async",
                title=self.providers.provider_for(s.id).names.ru,
            )
            for s in self.kernel.services
            if s.channels.portal.available or s.channels.hqo.available
        ]

    # -- the inbox (IAsyncChannelClient.sendMessage) ------------------------------------------
    async def receive(self, body: bytes) -> tuple[int, bytes]:
        """A push from the gateway: register the request, or say why it cannot be."""
        try:
            root = xmldsig.parse_xml(body)
            verified = xmldsig.verify_wsse(root)
            if verified.certificate != await self.keys.certificate():
                raise CodedError("SCE006", "the workstation takes pushes from its own gateway only")
            message = soap.read_push_message_request(root)
            case_id = await self.register(message)
        except (xmldsig.XmlSignatureError, soap.SoapFormatError) as exc:
            return 500, self._fault("SCE001", str(exc))
        except CodedError as exc:
            return 500, self._fault(exc.code if exc.code.startswith("SCE") else "SCE001", exc.detail or exc.code)
        receipt = soap.AsyncSendMessageResponse(case_id, message.info.message_id or case_id, self.kernel.clock.now())
        return 200, await self.keys.sign(soap.build_push_message_response(receipt))

    def _fault(self, code: str, detail: str) -> bytes:
        return fault_envelope(self.kernel, "sendMessage", code, detail, "АРМ РШЭП", channel="async-client")

    def _service(self, shep_service_id: str) -> Service:
        catalogue_id = shep_service_id.removeprefix(SERVICE_PREFIX)
        service = self.kernel.services.get(catalogue_id) if shep_service_id.startswith(SERVICE_PREFIX) else None
        if service is None:
            raise CodedError("SCE004", f"the workstation serves no {shep_service_id!r}")
        return service

    async def register(self, message: soap.AsyncMessage) -> str:
        """6-процесс: the request enters the provider's inbox; the first step starts now."""
        info = message.info
        service = self._service(info.service_id)
        channel = message.data.findtext("channel") or "portal"
        if channel not in ("portal", "hqo", "office"):
            raise CodedError("SCE001", f"channel {channel!r} is not portal, hqo or office")
        request_xml = soap.to_bytes(soap.build_push_message_request(message)).decode()
        return await self._open(
            Arrival(service, channel, message.data, info.sender.sender_id, info.message_id, request_xml)  # type: ignore[arg-type]
        )

    async def _open(self, arrival: Arrival) -> str:
        """Register a request as a case: its row, its place in the queue register where the service
        keeps one, and the office's receipt, in one transaction; then its trace. Returns the case's
        id, or the id already given to the same message when it comes again."""
        service, channel, data = arrival.service, arrival.channel, arrival.data
        provider = self.providers.provider_for(service.id)
        policy = await self.policy(service.id)
        received = self.kernel.clock.now()
        route_id = arrival.route_id or workflow.route_for(service, channel)
        case = workflow.open_case(service, route_id, received, self.kernel.calendar,
                                  channel=channel, scale=policy.autopilot.scale)  # fmt: skip
        case_id = arrival.case_id or new_case_id(self.kernel, provider)
        # the requester's number for this request (the portal's, the ХҚО's): the case's trace
        # goes under it, so the whole chain reads as one trace
        trace_id = (data.findtext("requestNumber") or "").strip()[:64] or case_id
        fields = application_fields(data)
        queued = keeps_queue(service)
        defects = (await self._package_defects(channel, data) + self._document_defects(service, channel, data)
                   + (area_defects(fields) if queued else []))  # fmt: skip
        if defects:
            workflow.refuse_documents(case, received, defects)
        # the events of the registration are traced below, once the row is stored: counted here, so
        # that no pass of the autopilot traces them again meanwhile
        state = {"channel": channel, "scale": policy.autopilot.scale, "completions": [],
                 "traced": len(case.events), "trace_id": trace_id, "defects": defects}  # fmt: skip
        row = dict(
            id=case_id, service_id=service.id, provider_id=provider.id, route_id=case.route_id,
            message_id=arrival.message_id or case_id, sender_id=arrival.sender_id,
            applicant_iin=data.findtext(".//iin"), mode=policy.mode, status=case.status,
            received_sim_us=to_us(received), state_json=json.dumps(state), request_xml=arrival.request_xml, version=0,
        )  # fmt: skip
        entry = None
        if queued and not defects:
            entry = QueueEntry(case_id, service.id, fields.get(AREA_FIELD, ""), channel, trace_id,
                               row["applicant_iin"], fields.get(CHILD_FIELD))  # fmt: skip
        existing = await self._store(row, entry, arrival.receipt)
        if existing is not None:  # the gateway delivered it again: it is registered already
            return existing
        await self.kernel.trace.record_many(
            [{"request_id": trace_id, "service_id": service.id} | r for r in arrival.first]
        )
        await self._trace(trace_id, case_id, service.id, case.events)
        # a zero-delay autopilot or a documents refusal can close it at once: answer now, not at
        # the next pass of the loop
        self._soon.add(asyncio.create_task(self._advance_quietly(case_id)))
        return case_id

    async def _store(self, row: dict[str, Any], entry: QueueEntry | None, receipt: dict[str, Any] | None) -> str | None:
        """Insert the case with its queue place and receipt; None once stored, or the id of the case
        that the same message (sender, messageId) registered before."""
        for _ in range(STORE_ATTEMPTS):
            try:
                async with self.kernel.db.engine.begin() as conn:
                    await conn.execute(insert(cases).values(**row))
                    if entry is not None:  # the register's time is this attempt's: numbers follow it
                        await QueueRegister.enter(conn, entry, to_us(self.kernel.clock.now()))
                    if receipt is not None:
                        await conn.execute(insert(receipts).values(**receipt))
                return None
            except IntegrityError:
                # the same message again, or another registration took the same queue number: retry
                async with self.kernel.db.engine.connect() as conn:
                    query = select(cases.c.id).where(
                        (cases.c.sender_id == row["sender_id"]) & (cases.c.message_id == row["message_id"])
                    )
                    existing = (await conn.execute(query)).scalar()
                if existing is not None:
                    return str(existing)
                await asyncio.sleep(random.uniform(0, 0.01))  # let the one that got in commit its place
        raise CodedError("SCE909", "the queue register was busy on every attempt; send the request again")

    async def finish_pending(self) -> None:
        """At shutdown: let the cases advanced right after registration finish their pass."""
        if self._soon:
            await asyncio.wait(list(self._soon), timeout=5)
        if self._verifier is not None:
            await self._verifier.aclose()

    async def _advance_quietly(self, case_id: str) -> None:
        try:
            await self.advance(case_id)
        except Exception:
            log.exception("advancing %s right after registration failed; the loop retries", case_id)
        finally:
            self._soon.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _package_defects(self, channel: str, data: etree._Element) -> list[str]:
        """2-шарт of the ХҚО chain on the package's EDS: the application signed by an employee of the
        State Corporation (its BIN in the certificate), valid on the simulated clock, not revoked."""
        if channel != "hqo":
            return []
        application = data.find(APPLICATION)
        if application is None:
            return ["the package carries no application"]
        standalone = deepcopy(application)  # as the operator signed it: a document of its own
        etree.cleanup_namespaces(standalone)
        if self._verifier is None:
            self._verifier = relying_party(self.kernel)
        centre = self.providers.state_corporation.bin
        verdict, _ = await self._verifier.check_xml(etree.tostring(standalone), bin=centre)
        if not verdict.valid:
            return [f"the package's EDS is not confirmed: {verdict.code} {verdict.detail or ''}"]
        if verdict.certificate is None or Subject.of(verdict.certificate.subject).iin is None:
            return ["the package's EDS is not confirmed: signed by a system certificate, not by an operator"]
        return []

    def _document_defects(self, service: Service, channel: str, data: etree._Element) -> list[str]:
        """3-шарт (2-шарт of the ХҚО chain) on the attached documents of a portal request or of a
        ХҚО package: those the service's form requires, each whole (its content matches its
        declared SHA-256)."""
        if channel not in ("portal", "hqo"):
            return []
        form = intake_form(self.kernel.services, service.id)
        application = data.find(APPLICATION)
        if form is None or application is None:
            return []
        documents = [
            (d.get("id") or "", d.get("sha256") or "", (d.text or "").strip())
            for d in application.iterfind(f"{A}documents/{A}document")
        ]
        return document_defects(form, documents)

    # -- reading a case -----------------------------------------------------------------------
    async def _row(self, case_id: str):  # type: ignore[no-untyped-def]
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(cases).where(cases.c.id == case_id))).first()
        if row is None:
            raise CodedError("CASE_NOT_FOUND", f"no request {case_id!r} at the workstation")
        return row

    def _rebuild(self, row, policy: Policy | None = None) -> workflow.Case:  # type: ignore[no-untyped-def]
        """The case as the workflow makes it from its request and its employees' completions."""
        state = json.loads(row.state_json)
        service = self.kernel.services.get(row.service_id)
        assert service is not None
        case = workflow.open_case(service, row.route_id, from_us(row.received_sim_us), self.kernel.calendar,
                                  channel=state["channel"], scale=state["scale"])  # fmt: skip
        if state.get("defects"):
            workflow.refuse_documents(case, case.received_at, state["defects"])
        for done in state["completions"]:
            employee = self.providers.employee(done["by"])
            workflow.complete_step(case, done["n"], employee, datetime.fromisoformat(done["at"]), self.kernel.calendar,
                                   done["outcome"], done.get("ground"))  # fmt: skip
        if row.mode == "autopilot" and policy is not None and not case.closed:
            workflow.autopilot_advance(case, self.kernel.clock.now(), self.kernel.calendar,
                                       policy.autopilot.model_copy(update={"scale": state["scale"]}))  # fmt: skip
        return case

    async def case(self, case_id: str) -> dict[str, Any]:
        row = await self._row(case_id)
        case = self._rebuild(row, await self.policy(row.service_id))
        return self._describe(row, case) | {"queue": await self.queue_place(case_id)}

    async def queue_place(self, case_id: str) -> dict[str, Any] | None:
        async with self.kernel.db.engine.connect() as conn:
            return await QueueRegister.place(conn, case_id)

    async def queue(self, service_id: str, area: str | None) -> dict[str, Any]:
        """The queue register of a service (one area, or all), in the order of the numbers."""
        service = self.kernel.services.get(service_id)
        if service is None:
            raise CodedError("SERVICE_NOT_FOUND", f"no service {service_id!r}", service_id=service_id)
        if not keeps_queue(service):
            raise CodedError("QUEUE_NOT_KEPT", f"{service_id} keeps no queue", service_id=service_id)
        async with self.kernel.db.engine.connect() as conn:
            entries = await QueueRegister.entries(conn, service_id, area)
        return {"serviceId": service_id, "area": area, "entries": entries}

    async def list(self, provider_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query = select(cases).order_by(cases.c.received_sim_us.desc()).limit(500)
        if provider_id:
            query = query.where(cases.c.provider_id == provider_id)
        if status:
            query = query.where(cases.c.status == status)
        async with self.kernel.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        out = []
        for row in rows:
            case = self._rebuild(row, await self.policy(row.service_id))
            out.append({k: v for k, v in self._describe(row, case).items() if k not in ("steps", "events")})
        return out

    def _describe(self, row, case: workflow.Case) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        now = self.kernel.clock.now()
        current = case.current_step()
        state = json.loads(row.state_json)
        return {
            "id": row.id,
            "requestNumber": state.get("trace_id") or row.id,
            "channel": case.channel,
            "routeId": case.route_id,
            "serviceId": row.service_id,
            "providerId": row.provider_id,
            "messageId": row.message_id,
            "senderId": row.sender_id,
            "applicantIin": row.applicant_iin,
            "mode": row.mode,
            "status": case.status,
            "receivedAt": case.received_at.isoformat(),
            "closedAt": case.closed_at.isoformat() if case.closed_at else None,
            "deadline": workflow.regulation_deadline(case, self.kernel.calendar).isoformat(),
            "overdue": workflow.overdue(case, now, self.kernel.calendar),
            "refusalGround": case.refusal_ground,
            "issued": state.get("issued"),
            "currentStep": current.n if current else None,
            "steps": [
                {
                    "n": s.n,
                    "role": s.role,
                    "action": s.plan.action.en,
                    "duration": s.plan.duration_text,
                    "startedAt": s.started_at.isoformat() if s.started_at else None,
                    "dueAt": s.due_at.isoformat() if s.due_at else None,
                    "doneAt": s.done_at.isoformat() if s.done_at else None,
                    "doneBy": s.done_by,
                    "outcome": s.outcome,
                    "ground": s.ground,
                }
                for s in case.steps
            ],
            "events": [
                {"label": e.label, "outcome": e.outcome, "at": e.at.isoformat(), "code": e.code} for e in case.events
            ],
        }

    async def result_xml(self, case_id: str) -> str | None:
        """The signed result e-document (or reasoned refusal) of a closed case; None while open."""
        return (await self._row(case_id)).result_xml  # type: ignore[no-any-return]

    # -- manual mode --------------------------------------------------------------------------
    async def complete(
        self, case_id: str, n: str, employee_id: str, outcome: Literal["done", "refused"], ground: str | None
    ) -> dict[str, Any]:
        row = await self._row(case_id)
        if row.mode != "manual":
            raise CodedError("CASE_STEP_NOT_CURRENT", "the autopilot works this request; switch the service to manual")
        try:
            employee = self.providers.employee(employee_id)
        except KeyError:
            raise CodedError("PROVIDER_NOT_FOUND", f"no employee {employee_id!r}") from None
        case = self._rebuild(row)
        role = case.step(n).role
        if employee not in self.providers.performers(row.provider_id, role):
            raise CodedError("CASE_WRONG_ROLE", f"{employee_id} does not do {role} steps of {row.provider_id}'s cases")
        now = self.kernel.clock.now()
        workflow.complete_step(case, n, employee, now, self.kernel.calendar, outcome, ground)
        state = json.loads(row.state_json)
        state["completions"].append(
            {"n": n, "by": employee_id, "at": now.isoformat(), "outcome": outcome, "ground": ground}
        )
        async with self.kernel.db.engine.begin() as conn:
            changed = await conn.execute(
                update(cases)
                .where((cases.c.id == case_id) & (cases.c.version == row.version))
                .values(state_json=json.dumps(state), version=row.version + 1, status=case.status)
            )
        if changed.rowcount != 1:
            raise CodedError("CASE_STEP_NOT_CURRENT", "another employee changed this request meanwhile; reload it")
        await self.advance(case_id)
        return await self.case(case_id)

    # -- the provider's office ----------------------------------------------------------------
    async def accept_paper(self, paper: office.PaperApplication) -> dict[str, Any]:
        """The office clerk registers a paper application: refused at intake with a receipt when the
        package is incomplete (nothing else changes), else a case of channel ``office`` and the
        receipt of acceptance (or the tear-off coupon)."""
        intake = office.check_paper(self.kernel.services, paper)
        service = intake.service
        provider = self.providers.provider_for(service.id)
        clerk = self._clerk(provider, paper.employee)
        if intake.missing:
            await self._refuse_paper(intake, paper, provider, clerk)
        case_id = new_case_id(self.kernel, provider)
        code = office.receipt_code(service)
        facts = self._paper_facts(intake, paper, provider, clerk) | {"route": paper.route}
        receipt = self._receipt_row(case_id, "acceptance", code, intake, paper, provider, facts) | {"case_id": case_id}
        entry = self.kernel.refusals.get(code)
        step = office.notice_step(service, code, entry.step if entry else code)
        given = {"component": "office", "step": step, "outcome": "ok", "code": code,
                 "message_ref": f"rshep:{case_id}", "detail": {"by": clerk.id}}  # fmt: skip
        data = office.request_data(case_id, service, paper)
        arrival = Arrival(service, "office", data, OFFICE_SENDER, case_id, etree.tostring(data, encoding="unicode"),
                          route_id=paper.route, case_id=case_id, receipt=receipt, first=(given,))  # fmt: skip
        await self._open(arrival)
        return {"caseId": case_id, "receipt": await self.receipt(case_id)}

    async def _refuse_paper(
        self, intake: office.Intake, paper: office.PaperApplication, provider: Provider, clerk: Employee
    ) -> None:
        """Standard 002 item 9: the clerk refuses to accept an incomplete package and gives a receipt
        of refusal (appendix 3) naming the missing documents; the refusal is the whole story."""
        number = f"{provider.id.upper()[:10]}-R{self.kernel.new_id(5).upper()}"
        facts = self._paper_facts(intake, paper, provider, clerk)
        facts["missing"] = office.document_names(intake.form, intake.missing)
        row = self._receipt_row(number, "refusal", office.INCOMPLETE, intake, paper, provider, facts)
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(insert(receipts).values(**row))
        missing = ", ".join(intake.missing)
        await self.kernel.trace.record(number, "office", office.INTAKE_STEP, "refused", code=office.INCOMPLETE,
                                       service_id=intake.service.id, message_ref=f"rshep:receipt:{number}",
                                       detail={"missing": missing, "by": clerk.id})  # fmt: skip
        error = CodedError(office.INCOMPLETE, f"missing documents: {missing}",
                           missing=document_names(intake.form, intake.missing))  # fmt: skip
        error.extra = {"receipt": await self.receipt(number), "missingDocuments": facts["missing"]}
        raise error

    def _clerk(self, provider: Provider, employee_id: str | None) -> Employee:
        """The clerk who takes or hands over papers: the one named, who must work for the provider,
        else the provider's first office clerk."""
        staff = provider.employees
        if employee_id is None:
            return next((e for e in staff if "office_clerk" in e.roles), staff[0])
        clerk = next((e for e in staff if e.id == employee_id), None)
        if clerk is None:
            raise CodedError("CASE_WRONG_ROLE", f"{employee_id!r} is no employee of {provider.id}")
        return clerk

    def _paper_facts(
        self, intake: office.Intake, paper: office.PaperApplication, provider: Provider, clerk: Employee
    ) -> dict[str, Any]:
        """What a receipt of the office states (standard 002 appendix 3; regulation 003 item 11.2)."""
        service = intake.service
        return {
            "service": {"id": service.id, "title": office.texts(service.titles)},
            "provider": {
                "id": provider.id,
                "name": office.texts(provider.names),
                "bin": provider.bin,
                "region": office.texts(provider.region),
            },
            "fields": paper.fields,
            "documents": office.document_names(intake.form, paper.documents),
            "employee": {"id": clerk.id, "name": clerk.full_name},
            "at": self.kernel.clock.now().isoformat(),
        }

    def _receipt_row(
        self, number: str, kind: str, code: str, intake: office.Intake, paper: office.PaperApplication,
        provider: Provider, facts: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "number": number, "kind": kind, "code": code, "service_id": intake.service.id, "provider_id": provider.id,
            "applicant_iin": paper.applicant_iin, "representative_iin": paper.representative_iin,
            "facts_json": json.dumps(facts, ensure_ascii=False), "issued_sim_us": to_us(self.kernel.clock.now()),
        }  # fmt: skip

    async def receipt(self, number: str) -> dict[str, Any]:
        """A receipt the office gave: of acceptance (its number is the case's) or of refusal."""
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(receipts).where(receipts.c.number == number))).first()
        if row is None:
            raise CodedError("RECEIPT_NOT_FOUND", f"the office gave no receipt {number[:40]!r}")
        entry = self.kernel.refusals.get(row.code)
        facts = json.loads(row.facts_json)
        missing = facts.get("missing", [])
        params = {"missing": {lang: ", ".join(m["name"][lang] for m in missing) for lang in ("kk", "ru", "en")}}
        return {
            "number": row.number, "kind": row.kind, "code": row.code, "caseId": row.case_id,
            "serviceId": row.service_id, "providerId": row.provider_id, "applicantIin": row.applicant_iin,
            "representativeIin": row.representative_iin, "issuedAt": from_us(row.issued_sim_us).isoformat(),
            "messages": entry.messages(params) if entry else {}, "facts": facts,
            "url": f"/rshep/office/receipts/{quote(row.number, safe='')}",
        }  # fmt: skip

    async def issue(self, case_id: str, employee_id: str | None) -> dict[str, Any]:
        """The clerk hands the signed result (or the reasoned refusal) to the applicant at the office."""
        row = await self._row(case_id)
        state = json.loads(row.state_json)
        if state["channel"] != "office":
            raise CodedError("CASE_NOT_AT_OFFICE", f"{case_id} came through the {state['channel']} channel: "
                             "its answer went back to the requester")  # fmt: skip
        if row.result_xml is None:
            raise CodedError("CASE_RESULT_NOT_READY", f"{case_id} is {row.status}: its result is not signed yet")
        if state.get("issued"):
            raise CodedError("CASE_ALREADY_ISSUED", f"{case_id} was issued at {state['issued']['at']}")
        clerk = self._clerk(self.providers.provider(row.provider_id), employee_id)
        now = self.kernel.clock.now()
        state["issued"] = {"at": now.isoformat(), "by": clerk.id}
        async with self.kernel.db.engine.begin() as conn:
            changed = await conn.execute(
                update(cases)
                .where((cases.c.id == case_id) & (cases.c.version == row.version))
                .values(state_json=json.dumps(state), version=row.version + 1)
            )
        if changed.rowcount != 1:
            raise CodedError("CASE_ALREADY_ISSUED", f"{case_id} was issued meanwhile")
        issued = {"by": clerk.id, "status": row.status}
        await self.kernel.trace.record(state.get("trace_id") or case_id, "office", self._issue_label(row), "ok",
                                       code=workflow.RESULT_ISSUED, service_id=row.service_id,
                                       message_ref=f"rshep:{case_id}", detail=issued)  # fmt: skip
        return await self.case(case_id)

    def _issue_label(self, row) -> str:  # type: ignore[no-untyped-def]
        """The route step of the catalogue's ``RESULT_ISSUED`` notice among the case's steps (the
        clerk issuing the result, ``provider:5``), else ``office:issued``."""
        service = self.kernel.services.get(row.service_id)
        assert service is not None
        planned = {s.n for s in self._rebuild(row).steps}
        issuing = [n for n in workflow.issuing_steps(service, row.route_id) if n in planned]
        return f"{row.route_id}:{issuing[-1]}" if issuing else "office:issued"

    # -- policies -----------------------------------------------------------------------------
    async def policy(self, service_id: str) -> Policy:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(policies).where(policies.c.service_id == service_id))).first()
        if row is None:
            return Policy()
        autopilot = workflow.AutopilotPolicy(
            decision=row.decision, refusal_ground=row.refusal_ground, refuse_at_step=row.refuse_at_step,
            scale=row.scale, refusal_code=row.refusal_code,
        )  # fmt: skip
        return Policy(row.mode, autopilot)

    async def set_policy(self, service_id: str, policy: Policy) -> Policy:
        if self.kernel.services.get(service_id) is None:
            raise CodedError("SERVICE_NOT_FOUND", f"no service {service_id!r} in the catalogue")
        code = policy.autopilot.refusal_code
        entry = self.kernel.refusals.get(code) if code else None
        if code and (entry is None or entry.kind != "refusal" or not entry.step.startswith("provider:")):
            raise CodedError(
                "REQUEST_INVALID", f"refusalCode {code} is not a provider's refusal of the refusal catalogue"
            )
        values = {
            "mode": policy.mode,
            "decision": policy.autopilot.decision,
            "refusal_ground": policy.autopilot.refusal_ground,
            "refuse_at_step": policy.autopilot.refuse_at_step,
            "scale": policy.autopilot.scale,
            "refusal_code": policy.autopilot.refusal_code,
        }
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(update(policies).where(policies.c.service_id == service_id).values(**values))
            if done.rowcount == 0:
                await conn.execute(insert(policies).values(service_id=service_id, **values))
        return policy

    # -- the autopilot and the answer ---------------------------------------------------------
    async def run(self) -> None:
        while not self.kernel.stopping.is_set():
            try:
                await self.advance_all()
            except Exception:
                log.exception("workstation pass failed; retrying")
            await self.kernel.idle(0.2)

    async def advance_all(self) -> None:
        open_ids = await self._open_case_ids()
        for case_id in open_ids:
            await self.advance(case_id)

    async def _open_case_ids(self) -> list[str]:
        async with self.kernel.db.engine.connect() as conn:
            query = select(cases.c.id).where(cases.c.status.in_(("registered", "in_progress")))
            return list((await conn.execute(query)).scalars().all())

    async def advance(self, case_id: str) -> None:
        """Trace what happened since the last pass; a closed case sends its answer (once)."""
        row = await self._row(case_id)
        case = self._rebuild(row, await self.policy(row.service_id))
        state = json.loads(row.state_json)
        new_events = case.events[state["traced"] :]
        if not new_events and not (case.closed and row.result_xml is None):
            return
        state["traced"] = len(case.events)
        values: dict[str, Any] = {"state_json": json.dumps(state), "status": case.status, "version": row.version + 1}
        result: bytes | None = None
        if case.closed and row.result_xml is None:
            result = await self._result(row, case)
            values |= {"result_xml": result.decode(), "closed_sim_us": to_us(case.closed_at or self.kernel.clock.now())}
        async with self.kernel.db.engine.begin() as conn:
            changed = await conn.execute(
                update(cases).where((cases.c.id == case_id) & (cases.c.version == row.version)).values(**values)
            )
            if changed.rowcount == 1 and result is not None and case.status == "refused":
                await QueueRegister.withdraw(conn, case_id)
        if changed.rowcount != 1:  # another process advanced it first
            return
        new_events = await self._with_queue_receipts(row, new_events)
        await self._trace(state.get("trace_id") or case_id, case_id, row.service_id, new_events)
        # a case of the office has no requester to answer: its result waits there (:meth:`issue`)
        if result is not None and state["channel"] != "office":
            await self._answer(row, case, result)

    async def _with_queue_receipts(self, row, events: list[workflow.Event]) -> list[workflow.Event]:  # type: ignore[no-untyped-def]
        """The queue receipt (``QUEUE_RECEIPT``, with the number) after the route step that prints it."""
        service = self.kernel.services.get(row.service_id)
        step = receipt_step(service, row.route_id) if service is not None else None
        done = [e for e in events if e.label == step and e.outcome == "ok" and e.code is None]
        place = await self.queue_place(row.id) if done else None
        if place is None:
            return events
        out = []
        for e in events:
            out.append(e)
            if e in done:
                detail = {"queue_number": str(place["queueNumber"]), "area": place["area"]}
                out.append(workflow.Event(e.label, "ok", e.at, e.step_n, "QUEUE_RECEIPT", detail))
        return out

    async def _trace(self, trace_id: str, case_id: str, service_id: str, events: list[workflow.Event]) -> None:
        await self.kernel.trace.record_many(
            [
                {"request_id": trace_id, "component": "gateway", "step": e.label, "outcome": e.outcome,
                 "code": e.code, "service_id": service_id, "message_ref": f"rshep:{case_id}",
                 "detail": e.detail | ({"step": e.step_n} if e.step_n else {}) or None}
                for e in events
            ]
        )  # fmt: skip

    async def _result(self, row, case: workflow.Case) -> bytes:  # type: ignore[no-untyped-def]
        """The result e-document (or the reasoned refusal), signed by the authorised employee."""
        service = self.kernel.services.get(row.service_id)
        assert service is not None
        provider = self.providers.provider(row.provider_id)
        signer = self.providers.signers(provider.id)[0]
        approved = case.status == "approved"
        state = json.loads(row.state_json)
        E = ElementMaker(namespace=RESULT_NS, nsmap={None: RESULT_NS})
        refusal_code = case.events[-1].code if not approved else None
        place = await self.queue_place(row.id) if approved else None
        queue = [] if place is None else [E.queueNumber(str(place["queueNumber"])), E.area(place["area"])]
        document = E.document(
            E.kind("result" if approved else "refusal"),
            E.registrationNumber(row.id),
            E.requestNumber(state.get("trace_id") or row.id),
            E.channel(state["channel"]),
            E.service(E.id(service.id), E.title(service.titles.kk), E.titleRu(service.titles.ru)),
            E.provider(E.name(provider.names.kk), E.bin(provider.bin)),
            E.applicant(E.iin(row.applicant_iin or "")),
            E.decision(
                service.result.kk if approved else f"{service.refusal_result.kk if service.refusal_result else ''}"
            ),
            *queue,
            *(
                []
                if approved
                else [E.refusalCode(refusal_code or workflow.REFUSAL_CODE), E.ground(case.refusal_ground or "")]
            ),
            E.date((case.closed_at or self.kernel.clock.now()).isoformat()),
            E.signedBy(E.name(signer.full_name), E.iin(signer.iin)),
        )
        key, cert = await self.signer(provider, signer)
        return xmldsig.sign_enveloped(document, key, cert)

    async def signer(self, provider: Provider, employee: Employee) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """The employee's SIGN key, issued once by the НУЦ (profile employee of the provider's BIN)."""
        role = f"employee:{employee.id}"
        keys_of = self._signers.get(role)
        if keys_of is None:
            person = (employee.iin, employee.surname, employee.name, employee.patronymic)
            identity = SystemIdentity(role, provider.bin, "", provider.names.ru, f"rshep:{employee.id}", person)
            keys_of = self._signers[role] = SystemKeys(self.kernel, keys, identity)
        return await keys_of.pair()

    async def _answer(self, row, case: workflow.Case, result: bytes) -> None:  # type: ignore[no-untyped-def]
        """7-процесс: the signed result goes back to the requester as an async RESPONSE."""
        data = etree.Element("data")
        data.append(etree.fromstring(result))
        info = soap.AsyncMessageInfo(
            service_id=service_id_for(row.service_id),
            message_type=soap.MessageType.RESPONSE,
            message_date=self.kernel.clock.now(),
            sender=soap.Sender(f"rshep:{row.provider_id}"),
            message_id=f"{row.id}-RESULT",
            correlation_id=row.message_id,
            session_id=soap.new_session_id(),
        )
        await self.channel.enqueue(soap.AsyncMessage(info, data), await self.channel.requester_of(row.sender_id))
