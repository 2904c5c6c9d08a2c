"""HTTP routes of the portal's services and requests under ``/portal/api/`` (JSON; the web pages
use the same operations, :mod:`portal.pages`).

- ``GET /services``, ``GET /services/{id}/form``: the portal's catalogue and each service's form
  (no session needed);
- ``/requests``: the citizen's drafts: create, change, delete, attach documents;
- ``GET /requests/{number}/document``: the request document to sign (XML);
- ``POST /requests/{number}/submit``: the signed document (``application/xml``, or JSON
  ``{"signedXml": …}``): condition 2, then 5-процесс through the gateway. A refusal answers with
  the refusal's problem (its code, step label and kk/ru/en texts) and the request's number.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from egovsim.catalog.forms import form_for
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from egovsim.problems import problem, request_lang
from portal.auth import CurrentSession
from portal.service import Portal

MAX_SIGNED_BYTES = 5_000_000


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    service_id: str = Field(alias="serviceId", max_length=64)
    fields: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=50
    )
    lang: str = Field("kk", pattern="^(kk|ru|en)$")


class FieldsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=2000)]] = Field(max_length=50)


def portal_services(kernel: Kernel, lang: str) -> list[dict[str, Any]]:
    out = []
    for s in kernel.services:
        if form_for(kernel.services, s.id) is None:
            continue
        out.append(
            {
                "id": s.id,
                "number": s.number,
                "title": s.titles.get(lang),
                "titles": s.titles.model_dump(),
                "provider": s.provider.get(lang),
                "deadline": s.overall_deadline.text.get(lang),
                "result": s.result.get(lang),
            }
        )
    return out


def requests_router(kernel: Kernel) -> APIRouter:
    portal = Portal.of(kernel)
    requests = portal.requests
    api = APIRouter(prefix="/portal/api", tags=["portal"])

    @api.get("/services", summary="services received through the portal")
    async def services(request: Request) -> dict[str, Any]:
        return {"services": portal_services(kernel, request_lang(request))}

    @api.get("/services/{service_id}/form", summary="a service's application form: fields and documents")
    async def service_form(service_id: str) -> dict[str, Any]:
        form = requests.form(service_id[:64])
        return form.model_dump(mode="json")

    @api.get("/requests", summary="the citizen's requests on the portal (drafts and sent ones)")
    async def list_requests(session: CurrentSession) -> dict[str, Any]:
        return {"requests": await requests.list(session.iin)}

    @api.post("/requests", status_code=201, summary="start a request (a draft)")
    async def create(body: DraftIn, session: CurrentSession) -> dict[str, Any]:
        return await requests.create(session.iin, body.service_id, body.fields, body.lang)

    @api.get("/requests/{number}", summary="one request")
    async def get(number: str, session: CurrentSession) -> dict[str, Any]:
        return await requests.describe(session.iin, number[:40])

    @api.put("/requests/{number}", summary="change a draft's fields (voids an issued document)")
    async def put(number: str, body: FieldsIn, session: CurrentSession) -> dict[str, Any]:
        return await requests.update_fields(session.iin, number[:40], body.fields)

    @api.delete("/requests/{number}", status_code=204, summary="delete a draft")
    async def remove(number: str, session: CurrentSession) -> Response:
        await requests.delete(session.iin, number[:40])
        return Response(status_code=204)

    @api.post("/requests/{number}/attachments", status_code=201, summary="attach a document (multipart)")
    async def attach(
        number: str,
        session: CurrentSession,
        file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 2 MB")],
        document_id: Annotated[str, Form(alias="documentId", max_length=64)],
    ) -> dict[str, Any]:
        content = await file.read(3_000_001)
        return await requests.attach(
            session.iin, number[:40], document_id, file.filename or "document", file.content_type or "", content
        )

    @api.delete("/requests/{number}/attachments/{attachment_id}", summary="remove an attachment")
    async def detach(number: str, attachment_id: int, session: CurrentSession) -> dict[str, Any]:
        return await requests.detach(session.iin, number[:40], attachment_id)

    @api.get("/requests/{number}/document", summary="the request document to sign (XML)",
             response_class=Response)  # fmt: skip
    async def document(number: str, session: CurrentSession) -> Response:
        xml = await requests.document(session.iin, number[:40])
        return Response(xml, media_type="application/xml")

    @api.post("/requests/{number}/submit", summary="submit the signed document: 2-шарт, then 5-процесс")
    async def submit(number: str, request: Request, session: CurrentSession) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_SIGNED_BYTES:
            raise CodedError("BODY_TOO_LARGE", f"at most {MAX_SIGNED_BYTES} bytes")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                signed = json.loads(body)["signedXml"]
                if not isinstance(signed, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise CodedError(
                    "REQUEST_INVALID", 'send the signed XML as the body, or JSON {"signedXml": "…"}'
                ) from None
            body = signed.encode("utf-8")
        result = await requests.submit(session.iin, number[:40], body)
        lang = request_lang(request)
        if result.status == "submitted":
            return JSONResponse(
                {"number": result.number, "status": "submitted", "messageId": result.message_id}, status_code=202
            )
        assert result.code is not None
        return problem(kernel.refusals, result.code, lang, result.detail, number=result.number, status_of=result.status,
                       params={"fault": result.detail or ""})  # fmt: skip

    return api
