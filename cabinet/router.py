"""HTTP routes of cabinet/: the personal cabinet's JSON API under ``/cabinet/api/`` and its
IAsyncChannelClient endpoint ``/cabinet/shep/`` (the gateway pushes the providers' answers there).
Health routes (``<mount>/healthz``) come from the kernel.

The citizen is whoever the portal says the session token is: the cabinet asks the portal
(``/portal/api/me``) with the bearer token or the ``egovsim_portal`` cookie, so a logged-out or
forged session is refused exactly as the portal refuses it. A change made with the cookie alone
must carry the session's CSRF token (``X-CSRF-Token`` or a form's ``csrf`` field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cabinet.pages import cabinet_pages
from cabinet.service import Cabinet
from egovsim.errors import CodedError
from egovsim.fastlane import FastRequest, FastResponse
from egovsim.kernel import Kernel, get_kernel
from egovsim.problems import request_lang
from egovsim.security import require_csrf, session_token

INBOX_PATH = "/cabinet/shep/"
COOKIE = "egovsim_portal"
SOAP_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Citizen:
    iin: str
    session_id: str


async def current_citizen(request: Request) -> Citizen:
    kernel = get_kernel(request)
    token, by_cookie = session_token(request, COOKIE)
    if not token:
        raise CodedError("PORTAL_SESSION_REQUIRED", "log in on the portal first")
    async with kernel.client_for("portal") as http:
        me = await http.get("/portal/api/me", headers={"Authorization": f"Bearer {token}"})
    if me.status_code != 200:
        try:
            code = me.json().get("code") or "PORTAL_SESSION_INVALID"
        except ValueError:
            code = "PORTAL_SESSION_INVALID"
        raise CodedError(code, "the portal does not accept this session")
    facts = me.json()
    citizen = Citizen(facts["iin"], facts["sessionId"])
    if by_cookie:
        await require_csrf(request, kernel.admin_token, citizen.session_id)
    return citizen


CurrentCitizen = Annotated[Citizen, Depends(current_citizen)]


class HandOver(BaseModel):
    """What the portal hands the cabinet about a request it sent or refused."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=32)
    iin: str = Field(pattern=r"^\d{12}$")
    service_id: str = Field(alias="serviceId", max_length=64)
    channel: str = Field("portal", pattern="^(portal|hqo|office)$")
    lang: str = Field("kk", pattern="^(kk|ru|en)$")
    status: str = Field(pattern="^(submitted|refused|failed)$")
    message_id: str | None = Field(None, alias="messageId", max_length=64)
    refusal_code: str | None = Field(None, alias="refusalCode", max_length=64)
    detail: str | None = Field(None, max_length=2000)


class ContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=200, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    phone: str | None = Field(None, pattern=r"^\+7\d{10}$")


def routers(kernel: Kernel) -> list[APIRouter]:
    cabinet = Cabinet.of(kernel)
    api = APIRouter(prefix="/cabinet/api", tags=["cabinet"])
    internal = APIRouter(prefix="/cabinet/api/internal", tags=["cabinet"], dependencies=[Depends(kernel.require_admin)])

    async def inbox(request: FastRequest) -> FastResponse:
        status, envelope = await cabinet.receive(request.body)
        return FastResponse(status, envelope, SOAP_TYPE)

    kernel.fast.add("POST", INBOX_PATH, inbox)
    shep = APIRouter(prefix="/cabinet", tags=["cabinet"])

    @shep.post("/shep/", summary="IAsyncChannelClient: the gateway pushes the providers' answers here",
               response_class=Response)  # fmt: skip
    async def push(request: Request) -> Response:
        status, envelope = await cabinet.receive(await request.body())
        return Response(envelope, status_code=status, media_type=SOAP_TYPE)

    @internal.post("/requests", status_code=201, summary="the portal hands over a request it sent or refused")
    async def take(body: HandOver) -> dict[str, str]:
        await cabinet.take(body.model_dump(by_alias=True))
        return {"number": body.number}

    @api.get("/requests", summary="the citizen's requests (history), newest first")
    async def history(request: Request, citizen: CurrentCitizen) -> dict[str, Any]:
        return {"requests": await cabinet.history(citizen.iin, request_lang(request))}

    @api.get("/requests/{number}", summary="one request: status, timeline, refusal or result")
    async def one(number: str, request: Request, citizen: CurrentCitizen) -> dict[str, Any]:
        return await cabinet.request(citizen.iin, number[:40], request_lang(request))

    @api.get("/requests/{number}/result", summary="the signed result e-document (XML, download)",
             response_class=Response)  # fmt: skip
    async def result(number: str, citizen: CurrentCitizen) -> Response:
        xml = await cabinet.result_xml(citizen.iin, number[:40])
        headers = {"Content-Disposition": f'attachment; filename="{number[:40]}-result.xml"'}
        return Response(xml.encode("utf-8"), media_type="application/xml", headers=headers)

    @api.get("/notifications", summary="the citizen's notifications, newest first")
    async def notes(request: Request, citizen: CurrentCitizen) -> dict[str, Any]:
        return {"notifications": await cabinet.notifications(citizen.iin, request_lang(request))}

    @api.post("/notifications/{notification_id}/read", status_code=204, summary="mark a notification read")
    async def read(notification_id: int, citizen: CurrentCitizen) -> Response:
        await cabinet.mark_read(citizen.iin, notification_id)
        return Response(status_code=204)

    @api.get("/outbox", summary="the e-mail and SMS messages sent to the citizen (kept, never sent)")
    async def sent(citizen: CurrentCitizen) -> dict[str, Any]:
        return {"messages": await cabinet.outbox(citizen.iin)}

    @api.get("/contacts", summary="where notifications also go (e-mail, phone)")
    async def get_contacts(citizen: CurrentCitizen) -> dict[str, Any]:
        return await cabinet.contacts(citizen.iin)

    @api.put("/contacts", summary="set the e-mail address and phone number for notifications")
    async def put_contacts(body: ContactsIn, citizen: CurrentCitizen) -> dict[str, Any]:
        return await cabinet.set_contacts(citizen.iin, body.email, body.phone)

    @api.post("/verify", summary="check a signed document's signature (anyone; no session)")
    async def verify(request: Request) -> dict[str, Any]:
        body = await request.body()
        if len(body) > 5_000_000:
            raise CodedError("BODY_TOO_LARGE", "at most 5 MB")
        return await cabinet.verify(body)

    return [api, internal, shep, cabinet_pages(kernel)]
