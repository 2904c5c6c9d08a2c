"""Who a portal request comes from: the session of a bearer token or of the session cookie.

A session is carried as a bearer token (``Authorization: Bearer …``) or in the ``egovsim_portal``
cookie (HttpOnly, SameSite=Lax); a bearer token wins when both are sent. A cookie alone does not
authorise a change: an unsafe method with the cookie must also carry the session's CSRF token (the
``X-CSRF-Token`` header, or the ``csrf`` field of a form).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel, Field

from egovsim.errors import CodedError
from egovsim.kernel import get_kernel
from egovsim.security import csrf_token, require_csrf, session_token
from portal.service import Portal
from portal.sessions import SESSION_LIFETIME, Session

COOKIE = "egovsim_portal"


class LoginOut(BaseModel):
    token: str
    token_type: str = Field("Bearer", serialization_alias="tokenType")
    session_id: str = Field(serialization_alias="sessionId")
    csrf_token: str = Field(serialization_alias="csrfToken")
    expires_at: datetime = Field(serialization_alias="expiresAt")


async def start_session(request: Request, response: Response, iin: str) -> LoginOut:
    """What every login ends with (password, EDS, the login page): a session for ``iin``, its
    cookie on ``response`` (HttpOnly, SameSite=Lax) and the answer with its token and CSRF token."""
    kernel = get_kernel(request)
    token, session = await Portal.of(kernel).sessions.open(iin)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return LoginOut(
        token=token,
        session_id=session.sid,
        csrf_token=csrf_token(kernel.admin_token, session.sid),
        expires_at=session.expires_at,
    )


async def current_session(request: Request) -> Session:
    """The session of a bearer token, or else of the cookie (with its CSRF token for a change)."""
    token, by_cookie = session_token(request, COOKIE)
    if not token:
        raise CodedError("PORTAL_SESSION_REQUIRED", "send the session token as a bearer token or cookie")
    kernel = get_kernel(request)
    session = await Portal.of(kernel).sessions.verify(token)
    if by_cookie:
        await require_csrf(request, kernel.admin_token, session.sid)
    return session


CurrentSession = Annotated[Session, Depends(current_session)]
