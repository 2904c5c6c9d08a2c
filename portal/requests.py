"""A citizen's request on the portal, from the draft to its submission (regulation 001, 004).

3-процесс: the citizen chooses a service, fills its form (:mod:`egovsim.catalog.forms`), attaches
documents and signs the request document with a SIGN key (in the browser through the
NCALayer-protocol signer, or with any tool of their own: the document is plain XML).
2-шарт: the signing component's condition-2 check of that signature (validity, chain, OCSP/CRL,
key usage SIGN, the request's IIN equal to the certificate's); a failure is 4-процесс with the
exact reason's code. 5-процесс: the signed request goes through ЭҮШ (AsyncChannel, the portal's
transport signature) to the provider's ЭҮАШ АЖО, and the personal cabinet takes it from there.

Every step is traced under the request's number, the same number the provider's workstation
traces its steps under, so one trace shows the whole chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import delete, func, insert, select, update

from egovsim import xmldsig
from egovsim.catalog.forms import APPLICATION_NS, DOCUMENT_TYPES, ApplicationForm, form_for
from egovsim.clock import from_us, to_us
from egovsim.condition2 import Verdict
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from gateway import soap
from portal.shep import SEND_ERRORS, SENDER_ID, PortalSender
from portal.tables import attachments, requests

MAX_ATTACHMENTS = 10
MAX_TOTAL_BYTES = 3_000_000  # the signed document carries them all; it must fit one request body
RSHEP_PREFIX = "RSHEP_"


@dataclass(frozen=True)
class Submission:
    number: str
    status: str  # submitted, refused, failed
    code: str | None = None
    detail: str | None = None
    message_id: str | None = None


def _strip_signatures(root: etree._Element) -> bytes:
    """The document as the portal compares it: no ds:Signature, canonical (C14N 1.0)."""
    copy = etree.fromstring(etree.tostring(root))
    for sig in copy.findall(f"{{{xmldsig.DS}}}Signature"):
        copy.remove(sig)
    return etree.tostring(copy, method="c14n")


class PortalRequests:
    def __init__(self, kernel: Kernel, sender: PortalSender) -> None:
        self.kernel = kernel
        self.sender = sender

    # -- drafts -------------------------------------------------------------------------------
    def form(self, service_id: str) -> ApplicationForm:
        form = form_for(self.kernel.services, service_id)
        if form is None:
            raise CodedError("PORTAL_SERVICE_NOT_ON_PORTAL", f"{service_id!r} has no portal route")
        return form

    async def create(self, iin: str, service_id: str, fields: dict[str, str], lang: str) -> dict[str, Any]:
        form = self.form(service_id)
        problems = form.problems(fields, complete=False)
        if problems:
            raise CodedError("PORTAL_FORM_INVALID", "; ".join(problems), problems="; ".join(problems))
        now = to_us(self.kernel.clock.now())
        async with self.kernel.db.engine.begin() as conn:
            result = await conn.execute(
                insert(requests).values(
                    number=f"d-{uuid.uuid4().hex[:24]}", iin=iin, service_id=service_id, status="draft", lang=lang,
                    fields_json=json.dumps(fields, ensure_ascii=False), created_us=now, updated_us=now, version=0,
                )
            )  # fmt: skip
            rid = int(result.inserted_primary_key[0])
            number = f"EG{from_us(now):%y%m%d}{rid:08d}"
            await conn.execute(update(requests).where(requests.c.id == rid).values(number=number))
        return await self.describe(iin, number)

    async def _row(self, iin: str, number: str):  # type: ignore[no-untyped-def]
        """The citizen's own request; another citizen's is "not found", exactly like a missing one."""
        async with self.kernel.db.engine.connect() as conn:
            row = (
                await conn.execute(select(requests).where((requests.c.number == number) & (requests.c.iin == iin)))
            ).first()
        if row is None:
            raise CodedError("PORTAL_REQUEST_NOT_FOUND", f"no request {number[:40]!r} of yours")
        return row

    async def _draft(self, iin: str, number: str):  # type: ignore[no-untyped-def]
        row = await self._row(iin, number)
        if row.status != "draft":
            raise CodedError("PORTAL_REQUEST_NOT_DRAFT", f"request {number} is {row.status}")
        return row

    async def update_fields(self, iin: str, number: str, fields: dict[str, str]) -> dict[str, Any]:
        row = await self._draft(iin, number)
        problems = self.form(row.service_id).problems(fields, complete=False)
        if problems:
            raise CodedError("PORTAL_FORM_INVALID", "; ".join(problems), problems="; ".join(problems))
        await self._change(row, fields_json=json.dumps(fields, ensure_ascii=False))
        return await self.describe(iin, number)

    async def _change(self, row, **values: Any) -> None:  # type: ignore[no-untyped-def]
        """Change a draft; any change voids the document issued for signing."""
        values = {
            "document_xml": None,
            "updated_us": to_us(self.kernel.clock.now()),
            "version": row.version + 1,
        } | values
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(
                update(requests).where((requests.c.id == row.id) & (requests.c.version == row.version)).values(**values)
            )
        if done.rowcount != 1:
            raise CodedError("PORTAL_REQUEST_NOT_DRAFT", "the request changed meanwhile; reload it")

    async def delete(self, iin: str, number: str) -> None:
        row = await self._draft(iin, number)
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(delete(attachments).where(attachments.c.request_id == row.id))
            await conn.execute(delete(requests).where(requests.c.id == row.id))

    async def list(self, iin: str) -> list[dict[str, Any]]:
        async with self.kernel.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(requests).where(requests.c.iin == iin).order_by(requests.c.id.desc()).limit(200)
                )
            ).all()
        return [self._summary(r) for r in rows]

    def _summary(self, row) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        service = self.kernel.services.get(row.service_id)
        return {
            "number": row.number,
            "serviceId": row.service_id,
            "title": service.titles.model_dump() if service else None,
            "status": row.status,
            "refusalCode": row.refusal_code,
            "createdAt": from_us(row.created_us).isoformat(),
            "updatedAt": from_us(row.updated_us).isoformat(),
            "submittedAt": from_us(row.submitted_us).isoformat() if row.submitted_us else None,
        }

    async def describe(self, iin: str, number: str) -> dict[str, Any]:
        row = await self._row(iin, number)
        async with self.kernel.db.engine.connect() as conn:
            docs = (
                await conn.execute(
                    select(
                        attachments.c.id, attachments.c.document_id, attachments.c.filename,
                        attachments.c.content_type, attachments.c.size, attachments.c.sha256,
                    ).where(attachments.c.request_id == row.id).order_by(attachments.c.id)
                )
            ).all()  # fmt: skip
        form = self.form(row.service_id)
        fields = json.loads(row.fields_json)
        return self._summary(row) | {
            "fields": fields,
            "missing": form.problems(fields, complete=True),
            "attachments": [
                {
                    "id": d.id,
                    "documentId": d.document_id,
                    "filename": d.filename,
                    "contentType": d.content_type,
                    "size": d.size,
                    "sha256": d.sha256,
                }
                for d in docs
            ],
            "documentIssued": row.document_xml is not None,
        }

    # -- attachments --------------------------------------------------------------------------
    async def attach(
        self, iin: str, number: str, document_id: str, filename: str, content_type: str, content: bytes
    ) -> dict[str, Any]:
        row = await self._draft(iin, number)
        spec = self.form(row.service_id).document(document_id)
        if spec is None:
            raise CodedError("PORTAL_ATTACHMENT_INVALID", f"no document {document_id!r}",
                             reason=f"this service takes no document {document_id[:64]!r}")  # fmt: skip
        if content_type not in DOCUMENT_TYPES:
            raise CodedError("PORTAL_ATTACHMENT_INVALID", content_type[:100], reason="PDF, JPEG or PNG only")
        if not content:
            raise CodedError("PORTAL_ATTACHMENT_INVALID", "empty file", reason="the file is empty")
        if len(content) > spec.max_bytes:
            raise CodedError("PORTAL_ATTACHMENT_INVALID", f"{len(content)} bytes",
                             reason=f"larger than {spec.max_bytes // 1_000_000} MB")  # fmt: skip
        safe_name = "".join(c for c in filename if c.isprintable() and c not in '/\\<>"')[:200] or "document"
        async with self.kernel.db.engine.begin() as conn:
            taken = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.sum(attachments.c.size), 0)).where(
                        attachments.c.request_id == row.id
                    )
                )
            ).one()
            if taken[0] >= MAX_ATTACHMENTS:
                raise CodedError("PORTAL_ATTACHMENT_INVALID", "too many", reason=f"at most {MAX_ATTACHMENTS} files")
            if taken[1] + len(content) > MAX_TOTAL_BYTES:
                raise CodedError("PORTAL_ATTACHMENT_INVALID", "too large in all",
                                 reason=f"at most {MAX_TOTAL_BYTES // 1_000_000} MB in all")  # fmt: skip
            done = await conn.execute(
                update(requests)
                .where((requests.c.id == row.id) & (requests.c.version == row.version))
                .values(document_xml=None, updated_us=to_us(self.kernel.clock.now()), version=row.version + 1)
            )
            if done.rowcount != 1:
                raise CodedError("PORTAL_REQUEST_NOT_DRAFT", "the request changed meanwhile; reload it")
            await conn.execute(
                insert(attachments).values(
                    request_id=row.id, document_id=document_id, filename=safe_name, content_type=content_type,
                    size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                )
            )  # fmt: skip
        return await self.describe(iin, number)

    async def detach(self, iin: str, number: str, attachment_id: int) -> dict[str, Any]:
        row = await self._draft(iin, number)
        async with self.kernel.db.engine.begin() as conn:
            gone = await conn.execute(
                delete(attachments).where((attachments.c.id == attachment_id) & (attachments.c.request_id == row.id))
            )
        if gone.rowcount != 1:
            raise CodedError("PORTAL_REQUEST_NOT_FOUND", f"no attachment {attachment_id} on request {number}")
        await self._change(row)
        return await self.describe(iin, number)

    # -- the document to sign -----------------------------------------------------------------
    async def document(self, iin: str, number: str) -> bytes:
        """The request document the citizen signs (issued once per version of the draft)."""
        row = await self._draft(iin, number)
        if row.document_xml is not None:
            return row.document_xml.encode("utf-8")  # type: ignore[no-any-return]
        fields = json.loads(row.fields_json)
        form = self.form(row.service_id)
        problems = form.problems(fields, complete=True)
        if problems:
            raise CodedError("PORTAL_FORM_INVALID", "; ".join(problems), problems="; ".join(problems))
        service = self.kernel.services.get(row.service_id)
        assert service is not None
        async with self.kernel.db.engine.connect() as conn:
            docs = (
                await conn.execute(
                    select(attachments).where(attachments.c.request_id == row.id).order_by(attachments.c.id)
                )
            ).all()
        ns = APPLICATION_NS
        root = etree.Element(f"{{{ns}}}application", nsmap={None: ns})
        etree.SubElement(root, f"{{{ns}}}requestNumber").text = row.number
        svc = etree.SubElement(root, f"{{{ns}}}service", id=service.id)
        svc.text = service.titles.get(row.lang)
        applicant = etree.SubElement(root, f"{{{ns}}}applicant")
        etree.SubElement(applicant, f"{{{ns}}}iin").text = iin
        values = etree.SubElement(root, f"{{{ns}}}fields")
        for f in form.fields:
            if fields.get(f.id):
                etree.SubElement(values, f"{{{ns}}}field", id=f.id).text = str(fields[f.id])
        documents = etree.SubElement(root, f"{{{ns}}}documents")
        for d in docs:
            element = etree.SubElement(documents, f"{{{ns}}}document", id=d.document_id, filename=d.filename,
                                       contentType=d.content_type, size=str(d.size), sha256=d.sha256)  # fmt: skip
            element.text = base64.b64encode(d.content).decode()
        etree.SubElement(root, f"{{{ns}}}lang").text = row.lang
        etree.SubElement(root, f"{{{ns}}}issuedAt").text = self.kernel.clock.now().isoformat()
        xml = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(
                update(requests)
                .where((requests.c.id == row.id) & (requests.c.version == row.version))
                .values(document_xml=xml.decode("utf-8"))
            )
        if done.rowcount != 1:
            raise CodedError("PORTAL_REQUEST_NOT_DRAFT", "the request changed meanwhile; reload it")
        return xml

    # -- 2-шарт, 4-процесс, 5-процесс ---------------------------------------------------------
    async def submit(self, iin: str, number: str, signed: bytes) -> Submission:
        row = await self._draft(iin, number)
        if row.document_xml is None:
            raise CodedError("PORTAL_DOCUMENT_NOT_ISSUED", f"GET /portal/api/requests/{number}/document first")
        trace = self.kernel.trace
        service_id = row.service_id
        # condition 2 (the signing component's check) on the signature as sent; what is not XML
        # at all (or is hostile XML) is bad input and changes nothing
        try:
            xmldsig.parse_xml(signed)
        except xmldsig.XmlSignatureError as exc:
            raise CodedError("EDS_DOCUMENT_MALFORMED", str(exc)[:300]) from None
        verdict, verified = await self.sender.verifier.check_xml(signed, iin=iin)
        if verdict.valid and verified is not None:
            issued = _strip_signatures(etree.fromstring(row.document_xml.encode("utf-8")))
            if _strip_signatures(verified.signed_element) != issued:
                await trace.record(number, "portal", "3-процесс", "refused", code="PORTAL_DOCUMENT_MISMATCH",
                                   service_id=service_id)  # fmt: skip
                raise CodedError("PORTAL_DOCUMENT_MISMATCH", "sign the document GET …/document returned, unchanged")
        signed_by = {"request_id": number, "component": "portal", "service_id": service_id,
                     "detail": _signer_detail(verdict)}  # fmt: skip
        if not verdict.valid:
            return await self._refuse(row, verdict, signed_by)
        await trace.record_many([signed_by | {"step": "3-процесс"}, signed_by | {"step": "2-шарт"}])
        assert verified is not None
        return await self._send(row, verified.signed_element)

    async def _refuse(self, row, verdict: Verdict, signed: dict[str, Any]) -> Submission:  # type: ignore[no-untyped-def]
        """4-процесс: the refusal with the exact reason's code; the cabinet keeps it too."""
        code = verdict.code or "EDS_NOT_CONFIRMED"
        refused = {"request_id": row.number, "component": "portal", "service_id": row.service_id,
                   "outcome": "refused", "code": code}  # fmt: skip
        await self.kernel.trace.record_many([
            signed | {"step": "3-процесс"},
            refused | {"step": "2-шарт", "detail": {"reason": verdict.detail or ""}},
            refused | {"step": "4-процесс"},
        ])  # fmt: skip
        await self._close(row, "refused", refusal_code=code)
        await self._hand_to_cabinet(row, "refused", None, code, verdict.detail)
        return Submission(row.number, "refused", code, verdict.detail)

    async def _close(self, row, status: str, **values: Any) -> None:  # type: ignore[no-untyped-def]
        now = to_us(self.kernel.clock.now())
        async with self.kernel.db.engine.begin() as conn:
            done = await conn.execute(
                update(requests)
                .where((requests.c.id == row.id) & (requests.c.version == row.version))
                .values(status=status, submitted_us=now, updated_us=now, version=row.version + 1, **values)
            )
        if done.rowcount != 1:
            raise CodedError("PORTAL_REQUEST_NOT_DRAFT", "the request was sent meanwhile")

    async def _send(self, row, document: etree._Element) -> Submission:  # type: ignore[no-untyped-def]
        """5-процесс: the signed request through ЭҮШ to ЭҮАШ АЖО (AsyncChannel REQUEST)."""
        data = etree.Element("data")
        for name, value in (("channel", "portal"), ("requestNumber", row.number), ("iin", row.iin),
                            ("lang", row.lang)):  # fmt: skip
            etree.SubElement(data, name).text = value
        data.append(document)
        info = soap.AsyncMessageInfo(
            service_id=f"{RSHEP_PREFIX}{row.service_id}",
            message_type=soap.MessageType.REQUEST,
            message_date=self.kernel.clock.now(),
            sender=soap.Sender(SENDER_ID, self.sender.password),
            properties=[soap.Property("requestNumber", row.number)],
        )
        fault: str | None = None
        message_id: str | None = None
        # the cabinet knows the request before it leaves: with a provider that answers at once,
        # the result can be back before the gateway's receipt is
        await self._hand_to_cabinet(row, "submitted", None, None, None)
        try:
            message_id = await self.sender.send(info, data)
        except SEND_ERRORS as exc:
            fault = f"{type(exc).__name__}: {exc}"[:300]
        if fault is not None:
            await self.kernel.trace.record(row.number, "portal", "5-процесс", "fault", code="PORTAL_GATEWAY_FAILED",
                                           service_id=row.service_id, detail={"fault": fault})  # fmt: skip
            await self._hand_to_cabinet(row, "failed", None, "PORTAL_GATEWAY_FAILED", fault)
            return Submission(row.number, "failed", "PORTAL_GATEWAY_FAILED", fault)
        await self._close(row, "submitted", message_id=message_id)
        await self.kernel.trace.record(row.number, "portal", "5-процесс", "ok", service_id=row.service_id,
                                       message_ref=f"shep:{message_id}")  # fmt: skip
        return Submission(row.number, "submitted", message_id=message_id)

    async def _hand_to_cabinet(
        self, row, status: str, message_id: str | None, code: str | None, detail: str | None
    ) -> None:  # type: ignore[no-untyped-def]
        body = {
            "number": row.number,
            "iin": row.iin,
            "serviceId": row.service_id,
            "channel": "portal",
            "lang": row.lang,
            "status": status,
            "messageId": message_id,
            "refusalCode": code,
            "detail": detail,
        }
        headers = {"Authorization": f"Bearer {self.kernel.admin_token}"}
        async with self.kernel.client_for("cabinet") as http:
            answer = await http.post("/cabinet/api/internal/requests", json=body, headers=headers)
        if answer.status_code != 201:
            raise CodedError("INTERNAL_ERROR", f"the cabinet did not take request {row.number}: {answer.status_code}")


def _signer_detail(verdict: Verdict) -> dict[str, str]:
    cert = verdict.certificate
    if cert is None:
        return {}
    return {"certificateSerial": format(cert.serial_number, "x"), "subject": cert.subject.rfc4514_string()[:300]}
