"""The gateway's route and sender registries (ЭҮШ / ШЭП service passport data).

A route maps a ``serviceId`` to the system that serves it, an internal component
(``component:<name>:<path>``) or an integrator's URL, with its policy: sync or async,
whether the transport (WS-Security) and the business (enveloped) signatures are required,
and a timeout. A sender is a participant: ``senderId``, an argon2 hash of its password, the
system certificate its transport signature must use (optional), and the IAsyncChannelClient
URL the gateway pushes its messages to (none: it pulls them with ``getMessages``).

Both registries are read on every message, so they are kept in memory and re-read when another
process may have changed them (at most ``REFRESH_SECONDS`` old), like the НУЦ's status table.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from egovsim import passwords
from egovsim.clock import to_us, wall_now
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from gateway.tables import routes, senders

REFRESH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Route:
    service_id: str
    target: str
    mode: Literal["sync", "async"] = "sync"
    transport_signature: bool = True
    business_signature: bool = False
    timeout_seconds: float = 30.0
    title: str | None = None

    @property
    def component(self) -> tuple[str, str] | None:
        """(component, path) of an internal target, None for an external URL."""
        if not self.target.startswith("component:"):
            return None
        _, name, path = self.target.split(":", 2)
        return name, path

    def describe(self) -> dict[str, object]:
        return {
            "serviceId": self.service_id,
            "target": self.target,
            "mode": self.mode,
            "transportSignature": self.transport_signature,
            "businessSignature": self.business_signature,
            "timeoutSeconds": self.timeout_seconds,
            "title": self.title,
        }


@dataclass(frozen=True, slots=True)
class Sender:
    sender_id: str
    password_hash: str
    certificate: x509.Certificate | None = None
    push_url: str | None = None
    title: str | None = None

    def describe(self) -> dict[str, object]:
        cert = self.certificate
        return {
            "senderId": self.sender_id,
            "certificateSubject": cert.subject.rfc4514_string() if cert else None,
            "certificateSerial": format(cert.serial_number, "x") if cert else None,
            "pushUrl": self.push_url,
            "title": self.title,
        }


def valid_target(target: str) -> bool:
    if target.startswith("component:"):
        parts = target.split(":", 2)
        return len(parts) == 3 and bool(parts[1]) and parts[2].startswith("/")
    return target.startswith(("http://", "https://"))


class Registry:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._routes: dict[str, Route] = {}
        self._senders: dict[str, Sender] = {}
        self._read_at = float("-inf")
        # sender authentications already verified against the hash: argon2 costs ~50 ms by
        # design, a gateway authenticates every message; keyed by a digest, never the password
        self._verified: dict[tuple[str, bytes], str] = {}

    async def _fresh(self) -> None:
        if time.monotonic() - self._read_at < REFRESH_SECONDS:
            return
        async with self.kernel.db.engine.connect() as conn:
            route_rows = (await conn.execute(select(routes))).all()
            sender_rows = (await conn.execute(select(senders))).all()
        self._routes = {r.service_id: _route(r) for r in route_rows}
        self._senders = {s.sender_id: _sender(s) for s in sender_rows}
        self._read_at = time.monotonic()

    def _changed(self) -> None:
        self._read_at = float("-inf")

    # -- routes -------------------------------------------------------------------------------
    async def route(self, service_id: str) -> Route | None:
        await self._fresh()
        return self._routes.get(service_id)

    async def routes(self) -> list[Route]:
        await self._fresh()
        return sorted(self._routes.values(), key=lambda r: r.service_id)

    async def put_route(self, route: Route) -> Route:
        """Add or replace the route of ``route.service_id``."""
        if not valid_target(route.target):
            raise CodedError("REQUEST_INVALID", "target is component:<name>:/<path> or an http(s) URL")
        values = {
            "target": route.target,
            "mode": route.mode,
            "transport_signature": route.transport_signature,
            "business_signature": route.business_signature,
            "timeout_seconds": route.timeout_seconds,
            "title": route.title,
        }
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(delete(routes).where(routes.c.service_id == route.service_id))
            await conn.execute(
                routes.insert().values(service_id=route.service_id, created_wall_us=to_us(wall_now()), **values)
            )
        self._changed()
        return route

    async def remove_route(self, service_id: str) -> None:
        async with self.kernel.db.engine.begin() as conn:
            gone = (await conn.execute(delete(routes).where(routes.c.service_id == service_id))).rowcount
        if not gone:
            raise CodedError("ROUTE_NOT_FOUND", f"no route for serviceId {service_id!r}")
        self._changed()

    async def ensure_routes(self, wanted: list[Route]) -> None:
        """Add the built-in routes that are missing; an operator's changes are kept."""
        await self._fresh()
        for route in wanted:
            if route.service_id not in self._routes:
                await self.put_route(route)  # replaces what another process may have added meanwhile
        self._changed()

    # -- senders ------------------------------------------------------------------------------
    async def sender(self, sender_id: str) -> Sender | None:
        await self._fresh()
        return self._senders.get(sender_id)

    async def senders(self) -> list[Sender]:
        await self._fresh()
        return sorted(self._senders.values(), key=lambda s: s.sender_id)

    async def put_sender(
        self,
        sender_id: str,
        password: str,
        certificate: x509.Certificate | None = None,
        push_url: str | None = None,
        title: str | None = None,
    ) -> Sender:
        if push_url is not None and not valid_target(push_url):
            raise CodedError("REQUEST_INVALID", "pushUrl is an http(s) URL or component:<name>:/<path>")
        hashed = passwords.hasher(self.kernel.settings.password_hashing).hash(password)
        record = Sender(sender_id, hashed, certificate, push_url, title)
        values = {
            "password_hash": record.password_hash,
            "certificate_der": certificate.public_bytes(Encoding.DER) if certificate else None,
            "push_url": push_url,
            "title": title,
            "created_wall_us": to_us(wall_now()),
        }
        # one upsert: two processes (or two first calls of one) putting the same sender at the
        # same moment each replace it, where a delete then insert would collide on the key
        insert = postgresql.insert if self.kernel.db.backend == "postgresql" else sqlite.insert
        upsert = insert(senders).values(sender_id=sender_id, **values)
        upsert = upsert.on_conflict_do_update(index_elements=[senders.c.sender_id], set_=values)
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(upsert)
        self._verified = {k: v for k, v in self._verified.items() if k[0] != sender_id}
        self._changed()
        return record

    async def remove_sender(self, sender_id: str) -> None:
        async with self.kernel.db.engine.begin() as conn:
            gone = (await conn.execute(delete(senders).where(senders.c.sender_id == sender_id))).rowcount
        if not gone:
            raise CodedError("SENDER_NOT_FOUND", f"no sender {sender_id!r}")
        self._changed()

    async def authenticate(self, sender_id: str, password: str | None) -> Sender | None:
        """The sender if ``password`` is its password, else None (never says which was wrong)."""
        record = await self.sender(sender_id)
        if record is None or password is None:
            return None
        key = (sender_id, hashlib.sha256(password.encode()).digest())
        known = self._verified.get(key)
        if known is not None and hmac.compare_digest(known, record.password_hash):
            return record
        if not passwords.verify(self.kernel.settings.password_hashing, record.password_hash, password):
            return None
        if len(self._verified) > 1000:
            self._verified.clear()
        self._verified[key] = record.password_hash
        return record


def _route(row) -> Route:  # type: ignore[no-untyped-def]
    return Route(
        row.service_id,
        row.target,
        row.mode,
        row.transport_signature,
        row.business_signature,
        row.timeout_seconds,
        row.title,
    )


def _sender(row) -> Sender:  # type: ignore[no-untyped-def]
    cert = x509.load_der_x509_certificate(row.certificate_der) if row.certificate_der else None
    return Sender(row.sender_id, row.password_hash, cert, row.push_url, row.title)
