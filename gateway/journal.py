"""The gateway's message journal: every request and response that crossed the gateway, with
its ids, sender, service, route, timings, status or fault, and the raw XML (cut at
``journal_max_xml_bytes``, kept ``journal_retention_days``). Integrators read it to see exactly
what the gateway received and answered; the inspector lists it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from egovsim.clock import from_us, to_us, wall_now
from egovsim.errors import CodedError
from egovsim.kernel import Kernel
from gateway.tables import journal

CUT_MARK = "\n<!-- egovsim: cut, the message was longer -->"
# a sender's password travels in requestInfo/sender/password; the journal never keeps it
_PASSWORD = re.compile(r"(<(?:[\w.-]+:)?password(?:\s[^>]*)?>)[^<]*(</(?:[\w.-]+:)?password\s*>)")


@dataclass(slots=True)
class Entry:
    """One exchange, filled in as the gateway handles it and written once at the end."""

    channel: str
    operation: str
    request: bytes
    received: datetime = field(default_factory=wall_now)
    message_id: str | None = None
    correlation_id: str | None = None
    session_id: str | None = None
    sender_id: str | None = None
    service_id: str | None = None
    target: str | None = None
    outcome: str = "ok"
    code: str | None = None
    detail: str | None = None
    response: bytes = b""


class Journal:
    """Writes are group-committed: one writer task per event loop inserts every entry that is
    waiting in one transaction, and each ``write`` returns once its own entry is committed. Under
    load the exchanges of the moment share one commit instead of queueing on SQLite's write lock
    one by one (whose busy handler sleeps up to 100 ms between tries); an answer still leaves the
    gateway only after its journal entry is stored."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def _cut(self, xml: bytes) -> str:
        limit = self.kernel.settings.journal_max_xml_bytes
        text = _PASSWORD.sub(r"\1***\2", xml[:limit].decode("utf-8", "replace"))
        return text + CUT_MARK if len(xml) > limit else text

    def _row(self, entry: Entry) -> dict[str, Any]:
        return {
            "channel": entry.channel,
            "operation": entry.operation,
            "message_id": entry.message_id,
            "correlation_id": entry.correlation_id,
            "session_id": entry.session_id,
            "sender_id": entry.sender_id,
            "service_id": entry.service_id,
            "target": entry.target,
            "outcome": entry.outcome,
            "code": entry.code,
            "detail": entry.detail,
            "received_wall_us": to_us(entry.received),
            "sim_time_us": to_us(self.kernel.clock.now()),
            "duration_us": to_us(wall_now()) - to_us(entry.received),
            "request_bytes": len(entry.request),
            "response_bytes": len(entry.response),
            "request_xml": self._cut(entry.request),
            "response_xml": self._cut(entry.response),
        }

    async def write(self, entry: Entry) -> None:
        """Store one exchange; returns when it is committed (raises if the commit failed)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((self._row(entry), done))
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_waiting())
        # shielded: a caller that goes away (a dropped connection) does not cancel the commit
        await asyncio.shield(done)

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.kernel.db.engine.begin() as conn:
                    await conn.execute(insert(journal), [row for row, _ in batch])
            except Exception as exc:  # every writer of the batch learns it failed
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def query(
        self,
        *,
        message_id: str | None = None,
        service_id: str | None = None,
        sender_id: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first, without the XML (``get`` gives one entry whole)."""
        q = select(*[c for c in journal.c if c.name not in ("request_xml", "response_xml")])
        for column, value in (
            (journal.c.message_id, message_id),
            (journal.c.service_id, service_id),
            (journal.c.sender_id, sender_id),
            (journal.c.outcome, outcome),
        ):
            if value is not None:
                q = q.where(column == value)
        if before_id is not None:
            q = q.where(journal.c.id < before_id)
        q = q.order_by(journal.c.id.desc()).limit(max(1, min(limit, 1000)))
        async with self.kernel.db.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [_describe(r._mapping) for r in rows]

    async def get(self, entry_id: int) -> dict[str, Any]:
        async with self.kernel.db.engine.connect() as conn:
            row = (await conn.execute(select(journal).where(journal.c.id == entry_id))).first()
        if row is None:
            raise CodedError("JOURNAL_ENTRY_NOT_FOUND", f"no journal entry {entry_id}")
        return _describe(row._mapping) | {"requestXml": row.request_xml, "responseXml": row.response_xml}

    async def count(self) -> int:
        async with self.kernel.db.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(journal))).scalar_one())

    async def purge(self) -> int:
        days = self.kernel.settings.journal_retention_days
        if days <= 0:
            return 0
        cutoff = to_us(wall_now() - timedelta(days=days))
        async with self.kernel.db.engine.begin() as conn:
            return int((await conn.execute(delete(journal).where(journal.c.received_wall_us < cutoff))).rowcount)


def _describe(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "channel": row["channel"],
        "operation": row["operation"],
        "messageId": row["message_id"],
        "correlationId": row["correlation_id"],
        "sessionId": row["session_id"],
        "senderId": row["sender_id"],
        "serviceId": row["service_id"],
        "target": row["target"],
        "outcome": row["outcome"],
        "code": row["code"],
        "detail": row["detail"],
        "received": from_us(row["received_wall_us"]).isoformat(),
        "simTime": from_us(row["sim_time_us"]).isoformat(),
        "durationMs": round(row["duration_us"] / 1000, 3),
        "requestBytes": row["request_bytes"],
        "responseBytes": row["response_bytes"],
    }
