"""HTTP routes of portal/: citizens' accounts and sessions under ``/portal/api/`` (JSON), the
session keys at ``/portal/.well-known/jwks.json``. Health routes (``<mount>/healthz``) come from
the kernel.

A session is carried as a bearer token (``Authorization: Bearer …``) or in the
``egovsim_portal`` cookie (HttpOnly, SameSite=Lax, so a cross-site form cannot post with it);
a bearer token wins when both are sent."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from egovsim.clock import from_us
from egovsim.iin import parse_iin
from egovsim.kernel import Kernel
from egovsim.security import csrf_token
from portal.api_requests import requests_router
from portal.auth import COOKIE, CurrentSession, LoginOut, start_session
from portal.eds_login import eds_login_router
from portal.hqo_api import hqo_router
from portal.pages import portal_pages
from portal.service import Portal


class Credentials(BaseModel):
    """An IIN and a password (1-процесс). The password rules are the portal's own
    (``PORTAL_PASSWORD_POLICY``); the bound here only keeps absurd bodies out."""

    model_config = ConfigDict(extra="forbid")

    iin: str = Field(max_length=64, description="the citizen's IIN")
    password: str = Field(max_length=4096, description="8–128 characters, letters and digits, not the IIN")


class AccountOut(BaseModel):
    iin: str
    created_at: datetime = Field(serialization_alias="createdAt")


class MeOut(BaseModel):
    iin: str
    birth_date: str = Field(serialization_alias="birthDate")
    sex: str
    session_id: str = Field(serialization_alias="sessionId")
    csrf_token: str = Field(serialization_alias="csrfToken")
    issued_at: datetime = Field(serialization_alias="issuedAt")
    expires_at: datetime = Field(serialization_alias="expiresAt")


def routers(kernel: Kernel) -> list[APIRouter]:
    portal = Portal.of(kernel)
    api = APIRouter(prefix="/portal/api", tags=["portal"])
    wellknown = APIRouter(prefix="/portal/.well-known", tags=["portal"])

    @api.post("/accounts", status_code=201, response_model=AccountOut, response_model_by_alias=True,
              summary="register an account (IIN and password)")  # fmt: skip
    async def register(body: Credentials) -> AccountOut:
        """Checks the IIN, the password rules and the person in ГБД ФЛ (alive, present). A refusal
        carries the ``traceId`` of the attempt (step ``portal:registration``)."""
        account = await portal.accounts.register(body.iin, body.password)
        return AccountOut(iin=account.iin, created_at=from_us(account.created_us))

    @api.post("/login", response_model=LoginOut, response_model_by_alias=True,
              summary="log in with IIN and password: a session token (also set as a cookie)")  # fmt: skip
    async def login(body: Credentials, request: Request, response: Response) -> LoginOut:
        """1-процесс / 1-шарт; a refusal is PORTAL_AUTH_REFUSED (2-процесс), or
        PORTAL_ACCOUNT_LOCKED for 30 minutes after five failures in a row."""
        account = await portal.accounts.authenticate(body.iin, body.password)
        return await start_session(request, response, account.iin)

    @api.post("/logout", status_code=204, summary="log out: the session's token is refused from now on")
    async def logout(session: CurrentSession) -> Response:
        await portal.sessions.close(session)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        return response

    @api.get("/me", response_model=MeOut, response_model_by_alias=True, summary="who the session is")
    async def me(session: CurrentSession) -> MeOut:
        facts = parse_iin(session.iin)
        return MeOut(
            iin=session.iin,
            birth_date=facts.birth_date.isoformat(),
            sex=facts.sex.name.lower(),
            session_id=session.sid,
            csrf_token=csrf_token(kernel.admin_token, session.sid),
            issued_at=session.issued_at,
            expires_at=session.expires_at,
        )

    @wellknown.get("/jwks.json", summary="the public keys portal session tokens are signed with (RFC 7517)")
    async def jwks() -> dict[str, list[dict[str, str]]]:
        return await portal.sessions.jwks()

    return [
        api,
        requests_router(kernel),
        wellknown,
        *hqo_router(kernel),
        eds_login_router(kernel),
        portal_pages(kernel),
    ]
