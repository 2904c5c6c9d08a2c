"""Admin authentication: a bearer token, from settings or generated once per data folder."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import Request

from egovsim.errors import CodedError
from egovsim.settings import Settings

TOKEN_FILE = "admin-token"


def resolve_admin_token(settings: Settings) -> str:
    """EGOVSIM_ADMIN_TOKEN if set; else the token kept in DATA_DIR/admin-token (made on first use)."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = Path(settings.data_dir) / TOKEN_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def check_admin(request: Request, expected: str) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise CodedError("ADMIN_AUTH_REQUIRED", "send 'Authorization: Bearer <admin token>'")


def csrf_token(secret: str, session_id: str) -> str:
    """The anti-CSRF token of a session: an HMAC of its id, so nothing is stored and a token of
    one session is worthless in another. Pages put it in a hidden field or an X-CSRF-Token header."""
    return hmac.new(secret.encode(), f"csrf:{session_id}".encode(), "sha256").hexdigest()


def csrf_ok(secret: str, session_id: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret, session_id).encode(), presented.encode())  # type: ignore[union-attr]


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def session_token(request: Request, cookie: str) -> tuple[str, bool]:
    """The session token of a request and whether it came from the cookie: a bearer token wins."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    return request.cookies.get(cookie, "").strip(), True


async def require_csrf(request: Request, secret: str, session_id: str) -> None:
    """A change (an unsafe method) made with the session cookie must carry the session's CSRF
    token: the ``X-CSRF-Token`` header, or the ``csrf`` field of a form. ``PORTAL_CSRF_REFUSED``."""
    if request.method in SAFE_METHODS:
        return
    presented = request.headers.get("x-csrf-token")
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        presented = str((await request.form()).get("csrf") or "")
    if not csrf_ok(secret, session_id, presented):
        raise CodedError("PORTAL_CSRF_REFUSED", "send the X-CSRF-Token header (csrfToken of /portal/api/me)")
