"""Portal sessions: signed tokens (JWT, RFC 7519) naming the citizen, and the keys they are
signed with, published as a JWKS (RFC 7517) for the components that check them.

Security choices, none of them configurable:

- The algorithm is pinned to RS256. A token's header must say ``alg: RS256`` and name a
  ``kid`` the portal issued; ``none``, HS256 (the classic confusion attack: the public key used
  as an HMAC secret) and anything else is refused before any key is used.
- Keys rotate every ``SESSION_KEY_DAYS`` on the simulated clock: tokens are signed by the newest
  key; an older key keeps verifying until the last token it could have signed expires
  (``SESSION_LIFETIME`` after its successor appeared), then it leaves the JWKS.
- ``exp`` and ``iat`` are judged on the simulated clock, not the wall clock PyJWT would use.
- The session id (``sid``) is stored: logging out revokes it, and a token whose session is
  revoked, unknown or not its subject's is refused.

The private keys are simulator TEST keys, kept in the portal's own table in clear PEM.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Table, insert, select, update

from egovsim.clock import from_us, to_us
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from portal.tables import session_keys, sessions

ALGORITHM = "RS256"
SESSION_LIFETIME = timedelta(minutes=30)
SESSION_KEY_DAYS = 7
KEY_ROTATION = timedelta(days=SESSION_KEY_DAYS)
KEY_REFRESH_SECONDS = 1.0  # how often another process's new key is looked for


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    created_us: int

    def jwk(self) -> dict[str, str]:
        """The public half as RFC 7517/7518 §6.3.1 describe an RSA key."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": ALGORITHM,
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    iin: str
    kid: str
    issued_at: datetime
    expires_at: datetime


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _new_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def _invalid(detail: str) -> CodedError:
    return CodedError("PORTAL_SESSION_INVALID", detail)


class SessionKeys:
    """The portal's signing keys, newest last; read from the table, a new one made when due."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._keys: list[SigningKey] = []
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _load(self) -> None:
        async with self.kernel.db.engine.connect() as conn:
            rows = (await conn.execute(select(session_keys))).all()
        known = {k.kid: k for k in self._keys}  # parsing a private key costs milliseconds: once per kid
        keys = []
        for row in rows:
            if row.kid in known:
                keys.append(known[row.kid])
                continue
            # our own key from our own table: skip the slow RSA key validation (~20 ms a load)
            private = serialization.load_pem_private_key(
                row.private_key_pem.encode(), None, unsafe_skip_rsa_key_validation=True
            )
            assert isinstance(private, rsa.RSAPrivateKey)
            keys.append(SigningKey(row.kid, private, row.created_us))
        self._keys = sorted(keys, key=lambda k: (k.created_us, k.kid))
        self._read_at = time.monotonic()

    async def _fresh(self) -> None:
        if time.monotonic() - self._read_at >= KEY_REFRESH_SECONDS:
            await self._load()

    def _due(self, now: datetime) -> bool:
        return not self._keys or from_us(self._keys[-1].created_us) + KEY_ROTATION <= now

    async def current(self) -> SigningKey:
        """The key new tokens are signed with, made first if the newest is a rotation period old."""
        now = self.kernel.clock.now()
        await self._fresh()
        if self._due(now):
            async with self._lock:
                await self._load()  # another process may have made it
                if self._due(now):
                    pem = await asyncio.to_thread(_new_private_key_pem)
                    async with self.kernel.db.engine.begin() as conn:
                        await conn.execute(
                            insert(session_keys).values(
                                kid=secrets.token_hex(8), private_key_pem=pem, created_us=to_us(now)
                            )
                        )
                    await self._load()
        return self._keys[-1]

    async def published(self) -> list[SigningKey]:
        """The keys a token may still be signed with: the current one, and each older one until
        SESSION_LIFETIME after its successor appeared (its last token's expiry)."""
        current = await self.current()
        now = self.kernel.clock.now()
        live = [
            key
            for key, successor in zip(self._keys, self._keys[1:], strict=False)
            if from_us(successor.created_us) + SESSION_LIFETIME > now
        ]
        return [*live, current]

    async def by_kid(self, kid: str) -> SigningKey | None:
        match = next((k for k in await self.published() if k.kid == kid), None)
        if match is None and all(k.kid != kid for k in self._keys):
            await self._load()  # perhaps another process's key, newer than our last read
            match = next((k for k in await self.published() if k.kid == kid), None)
        return match


class Sessions:
    """Signed sessions of one audience: the citizens' on the portal (``/portal``, table
    ``portal_sessions``) or the ХҚО operators' (``/hqo``, ``hqo_sessions``). Both are signed with
    the same published keys; the issuer and the session table keep one from passing for the other."""

    def __init__(self, kernel: Kernel, table: Table = sessions, path: str = "portal",
                 keys: SessionKeys | None = None) -> None:  # fmt: skip
        self.kernel = kernel
        self.keys = keys or SessionKeys(kernel)
        self.table = table
        self.path = path

    @property
    def issuer(self) -> str:
        settings = self.kernel.settings
        base = settings.component_url("portal") or settings.effective_public_url
        return f"{str(base).rstrip('/')}/{self.path}"

    async def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.jwk() for key in await self.keys.published()]}

    async def open(self, iin: str) -> tuple[str, Session]:
        """A new session of ``iin`` and its signed token."""
        key = await self.keys.current()
        now = self.kernel.clock.now().replace(microsecond=0)  # JWT times are whole seconds
        session = Session(secrets.token_hex(16), iin, key.kid, now, now + SESSION_LIFETIME)
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(
                insert(self.table).values(
                    sid=session.sid,
                    iin=iin,
                    kid=key.kid,
                    issued_us=to_us(session.issued_at),
                    expires_us=to_us(session.expires_at),
                )
            )
        claims = {
            "iss": self.issuer,
            "sub": iin,
            "sid": session.sid,
            "iat": int(session.issued_at.timestamp()),
            "exp": int(session.expires_at.timestamp()),
        }
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return token, session

    async def verify(self, token: str) -> Session:
        """The session a token stands for, or PORTAL_SESSION_INVALID / _EXPIRED / _REVOKED."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise _invalid(f"not a JWT: {exc}") from exc
        if header.get("alg") != ALGORITHM:  # pinned: never none, never HS256 with the public key
            raise _invalid(f"the algorithm must be {ALGORITHM}, not {header.get('alg')!r}")
        kid = header.get("kid")
        key = await self.keys.by_kid(kid) if isinstance(kid, str) else None
        if key is None:
            raise _invalid(f"no current portal key has kid {kid!r}")
        try:
            claims = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                # times are judged below on the simulated clock, not the wall clock
                options={"require": ["iss", "sub", "sid", "iat", "exp"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as exc:
            raise _invalid(f"the token does not verify: {exc}") from exc
        now = self.kernel.clock.now()
        if not isinstance(claims["exp"], int) or claims["exp"] <= now.timestamp():
            raise CodedError("PORTAL_SESSION_EXPIRED", "the session token has expired")
        async with self.kernel.db.engine.connect() as conn:
            query = select(self.table).where(self.table.c.sid == str(claims["sid"]))
            row = (await conn.execute(query)).first()
        if row is None or row.iin != claims["sub"] or row.kid != key.kid:
            raise _invalid(f"the token names no session of {self.path}")
        if row.revoked_us is not None:
            raise CodedError("PORTAL_SESSION_REVOKED", "the session has been closed (logged out)")
        return Session(row.sid, row.iin, row.kid, from_us(row.issued_us), from_us(row.expires_us))

    async def close(self, session: Session) -> None:
        """Logout: the session's tokens are refused from now on."""
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(
                update(self.table)
                .where(self.table.c.sid == session.sid, self.table.c.revoked_us.is_(None))
                .values(revoked_us=to_us(self.kernel.clock.now()))
            )
