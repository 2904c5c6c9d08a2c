"""The trace journal: an append-only record of every step a request takes (principle 4).

An event names the request, the component, the regulation step label (``portal:2-шарт``),
the outcome, the stable code of a refusal or fault, simulated and wall time, and a reference
to the exact message (a journal id of the gateway, a document id). There is no update or
delete: events are only appended, and only the retention setting ever removes old ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import delete, func, insert, select

from egovsim.calendar import ALMATY
from egovsim.clock import SimulatedClock, from_us, to_us, wall_now
from egovsim.storage import Database
from egovsim.tables import trace_events

Outcome = Literal["ok", "refused", "fault", "pending", "info"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


@dataclass(frozen=True)
class TraceEvent:
    request_id: str
    component: str
    step: str
    outcome: Outcome
    code: str | None
    service_id: str | None
    sim_time: datetime
    wall_time: datetime
    message_ref: str | None
    detail: dict[str, Any] | None
    seq: int = 0

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["sim_time"] = self.sim_time.astimezone(ALMATY).isoformat()
        out["wall_time"] = self.wall_time.astimezone(ALMATY).isoformat()
        return out


class TraceJournal:
    def __init__(self, db: Database, clock: SimulatedClock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        request_id: str,
        component: str,
        step: str,
        outcome: Outcome = "ok",
        *,
        code: str | None = None,
        service_id: str | None = None,
        message_ref: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> TraceEvent:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        if not (0 < len(request_id) <= 64):
            raise ValueError("request_id is 1 to 64 characters")
        label = step if ":" in step else f"{component}:{step}"
        event = TraceEvent(
            request_id, component, label, outcome, code, service_id, self._clock.now(), wall_now(), message_ref, detail
        )
        async with self._db.engine.begin() as conn:
            result = await conn.execute(
                insert(trace_events).values(
                    request_id=request_id,
                    component=component,
                    step=label,
                    outcome=outcome,
                    code=code,
                    service_id=service_id,
                    sim_time_us=to_us(event.sim_time),
                    wall_time_us=to_us(event.wall_time),
                    message_ref=message_ref,
                    detail=json.dumps(detail, ensure_ascii=False) if detail else None,
                )
            )
        return TraceEvent(**{**asdict(event), "seq": int(result.inserted_primary_key[0])})

    async def record_many(self, events: list[dict[str, Any]]) -> None:
        """Several events in one transaction (each a dict of :meth:`record`'s arguments), in order."""
        if not events:
            return
        now_sim, now_wall = to_us(self._clock.now()), to_us(wall_now())
        rows = []
        for e in events:
            outcome = e.get("outcome", "ok")
            if outcome not in OUTCOMES:
                raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
            step, component = e["step"], e["component"]
            detail = e.get("detail")
            rows.append(
                {
                    "request_id": e["request_id"],
                    "component": component,
                    "step": step if ":" in step else f"{component}:{step}",
                    "outcome": outcome,
                    "code": e.get("code"),
                    "service_id": e.get("service_id"),
                    "sim_time_us": now_sim,
                    "wall_time_us": now_wall,
                    "message_ref": e.get("message_ref"),
                    "detail": json.dumps(detail, ensure_ascii=False) if detail else None,
                }
            )
        async with self._db.engine.begin() as conn:
            await conn.execute(insert(trace_events), rows)

    async def events(self, request_id: str) -> list[TraceEvent]:
        async with self._db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(trace_events).where(trace_events.c.request_id == request_id).order_by(trace_events.c.id)
                )
            ).all()
        return [
            TraceEvent(
                r.request_id,
                r.component,
                r.step,
                r.outcome,
                r.code,
                r.service_id,
                from_us(r.sim_time_us),
                from_us(r.wall_time_us),
                r.message_ref,
                json.loads(r.detail) if r.detail else None,
                r.id,
            )
            for r in rows
        ]

    async def recent_requests(self, limit: int = 50) -> list[dict[str, Any]]:
        last = func.max(trace_events.c.id).label("last")
        async with self._db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(trace_events.c.request_id, func.count().label("events"), last)
                    .group_by(trace_events.c.request_id)
                    .order_by(last.desc())
                    .limit(limit)
                )
            ).all()
        return [{"request_id": r.request_id, "events": r.events} for r in rows]

    async def purge_older_than(self, days: int) -> int:
        """Retention: drop events whose wall time is older than ``days`` (0 keeps everything)."""
        if days <= 0:
            return 0
        cutoff = to_us(wall_now()) - days * 86_400_000_000
        async with self._db.engine.begin() as conn:
            result = await conn.execute(delete(trace_events).where(trace_events.c.wall_time_us < cutoff))
        return int(result.rowcount or 0)
