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
