"""HTTP routes of the ХҚО operator workstation: ``/hqo/api/…`` (JSON, described in the OpenAPI
document) and its IAsyncChannelClient endpoint ``/hqo/shep/``, where the gateway pushes the
providers' answers to the centre's packages.

An operator's session is a bearer token or the ``egovsim_hqo`` cookie (HttpOnly, SameSite=Lax; a
change made with the cookie carries the session's CSRF token). A portal session is no operator
session: the issuer and the session table differ.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from egovsim.errors import CodedError
from egovsim.kernel import Kernel, get_kernel
from egovsim.security import csrf_token, require_csrf, session_token
from portal.hqo import HqoDesk, Operator
from portal.sessions import SESSION_LIFETIME

COOKIE = "egovsim_hqo"
SOAP_TYPE = "text/xml; charset=utf-8"


class OperatorLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(max_length=64)
    password: str = Field(max_length=4096)


class Application(BaseModel):
    """2-процесс: what the operator enters for one applicant (with a ticket of the hall's queue)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    ticket: str = Field(max_length=32, description="the electronic queue ticket's number")
    service_id: str = Field(alias="serviceId", max_length=64)
    applicant_iin: str = Field(alias="applicantIin", max_length=12)
    representative_iin: str | None = Field(None, alias="representativeIin", max_length=12)
    power_of_attorney_number: str | None = Field(None, alias="powerOfAttorneyNumber", max_length=64,
                                                 description="as on the paper; ЕНИС is asked in any case")  # fmt: skip
    fields: dict[str, str] = Field(default_factory=dict, description="the form's fields (with consent: yes)")
    documents: list[str] = Field(default_factory=list, max_length=30, description="ids of the papers handed in")
    scans: dict[str, str] = Field(default_factory=dict, description="optional base64 scans by document id")
    lang: str = Field("ru", pattern="^(kk|ru|en)$", description="the applicant's language")


class HandOver(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field("applicant", pattern="^(applicant|representative)$")


async def current_operator(request: Request) -> Operator:
    token, by_cookie = session_token(request, COOKIE)
    if not token:
        raise CodedError("HQO_SESSION_REQUIRED", "send the operator's token as a bearer token or cookie")
    kernel = get_kernel(request)
    desk = HqoDesk.of(kernel)
    try:
        session = await desk.sessions.verify(token)
    except CodedError as exc:
        raise CodedError("HQO_SESSION_INVALID", exc.detail or exc.code) from exc
    if by_cookie:
        await require_csrf(request, kernel.admin_token, session.sid)
    request.state.hqo_session = session
    return await desk.operator(session)


CurrentOperator = Annotated[Operator, Depends(current_operator)]


def hqo_router(kernel: Kernel) -> list[APIRouter]:
    desk = HqoDesk.of(kernel)
    api = APIRouter(prefix="/hqo/api", tags=["hqo"])
    shep = APIRouter(prefix="/hqo", tags=["hqo"])

    @api.post("/login", summary="1-процесс: the operator logs in (login and password)")
    async def login(body: OperatorLogin, request: Request, response: Response) -> dict[str, Any]:
        token, session, operator = await desk.login(body.login, body.password)
        response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/hqo",
                            httponly=True, samesite="lax", secure=request.url.scheme == "https")  # fmt: skip
        return {"token": token, "tokenType": "Bearer", "sessionId": session.sid,
                "csrfToken": csrf_token(kernel.admin_token, session.sid),
                "expiresAt": session.expires_at.isoformat(), "operator": operator.as_json()}  # fmt: skip

    @api.post("/logout", status_code=204, summary="log out: the token is refused from now on")
    async def logout(request: Request, operator: CurrentOperator) -> Response:
        await desk.sessions.close(request.state.hqo_session)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/hqo")
        return response

    @api.get("/me", summary="the logged-in operator and the session's CSRF token")
    async def me(request: Request, operator: CurrentOperator) -> dict[str, Any]:
        return operator.as_json() | {"csrfToken": csrf_token(kernel.admin_token, request.state.hqo_session.sid)}

    @api.get("/services", summary="services received at the ХҚО, with their forms and documents")
    async def services(operator: CurrentOperator) -> list[dict[str, Any]]:
        return desk.services()

    @api.post("/tickets", status_code=201, summary="pre: a ticket of the operating hall's electronic queue")
    async def ticket(operator: CurrentOperator) -> dict[str, Any]:
        return await desk.ticket(operator)

    @api.get("/applications", summary="the centre's applications, newest first")
    async def applications(operator: CurrentOperator) -> list[dict[str, Any]]:
        return await desk.list(operator)

    @api.post("/applications", status_code=201,
              summary="2-процесс … 1-шарт: take an application (intake, ГБД ФЛ and ЕНИС through ЭҮШ)")  # fmt: skip
    async def accept(body: Application, operator: CurrentOperator) -> dict[str, Any]:
        return await desk.accept(operator, body.model_dump(by_alias=True))

    @api.get("/applications/{number}", summary="one application: status, checks, refusal, papers")
    async def application(number: str, operator: CurrentOperator) -> dict[str, Any]:
        return await desk.describe(operator, number)

    @api.post("/applications/{number}/send", summary="5-процесс: sign with the operator's EDS and send to ЭҮАШ АЖО")
    async def send(number: str, operator: CurrentOperator) -> dict[str, Any]:
        return await desk.send(operator, number)

    @api.post("/applications/{number}/handover", summary="8-процесс: hand the answer to the applicant")
    async def hand_over(number: str, body: HandOver, operator: CurrentOperator) -> dict[str, Any]:
        return await desk.hand_over(operator, number, body.to)

    @api.post("/applications/{number}/recall", status_code=202,
              summary="ask back a result the centre returned to the provider (due within one working day)")  # fmt: skip
    async def recall(number: str, operator: CurrentOperator) -> dict[str, Any]:
        return await desk.recall(operator, number)

    @shep.post("/shep/", summary="IAsyncChannelClient: the gateway pushes the providers' answers here",
               response_class=Response)  # fmt: skip
    async def push(request: Request) -> Response:
        status, envelope = await desk.receive(await request.body())
        return Response(envelope, status_code=status, media_type=SOAP_TYPE)

    from portal.hqo_pages import hqo_pages  # here: that module imports this one

    return [api, shep, hqo_pages(kernel)]
