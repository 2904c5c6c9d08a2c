"""Fault injection for the registries: a named catalogue of ways ГБД ФЛ or ЕНИС misbehave, each
one small change to an otherwise valid answer, switched per registry through the admin API.

* ``unavailable``: the registry answers a SOAP fault (SCE909 «Внутренняя ошибка ИС …»); the
  gateway's caller gets SCE909 with the registry's fault as ``subError``.
* ``slow``: it answers normally after ``delaySeconds`` (default 2).
* ``timeout``: it waits ``delaySeconds`` (default 630: longer than any route timeout the gateway
  accepts) before answering; the caller gets SCE909 once the route's timeout has passed.
* ``not_found``: it answers "not found" (messageResult 00001) whatever was asked.
* ``malformed``: it answers HTTP 200 with half an envelope, not a SendMessageResponse; the caller
  gets SCE909.

``remaining`` is how many answers the switch still spoils (counted down per answer, the switch
clears itself at zero); none = until cleared. The switches live in the registries' table, so
every process of the component sees the same ones. Setting one is a single upsert (concurrent
setters replace each other, the last wins); each switch set gets a new ``created_wall_us``, its
identity, so a countdown that read a switch since replaced leaves the new one alone.

A call may force ``unavailable``, ``not_found`` or ``malformed`` on itself alone with the header
``X-Egovsim-Fault: gbdfl.unavailable`` (:mod:`egovsim.call_faults`): for that call it wins over
the switch, which is neither consulted nor counted down.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from egovsim import call_faults
from egovsim.clock import to_us, wall_now
from egovsim.kernel import Kernel
from mock_registries.tables import faults

REGISTRIES = ("gbdfl", "enis")


class FaultKind(enum.StrEnum):
    UNAVAILABLE = "unavailable"
    SLOW = "slow"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"
    MALFORMED = "malformed"


# the gateway accepts route timeouts up to 600 s (gateway.router.RouteBody): wait longer than any
DEFAULT_DELAY = {FaultKind.SLOW: 2.0, FaultKind.TIMEOUT: 630.0}


@dataclass(frozen=True, slots=True)
class Fault:
    registry: str
    kind: FaultKind
    delay_seconds: float = 0.0
    remaining: int | None = None  # None: until cleared

    def describe(self) -> dict[str, object]:
        return {
            "registry": self.registry,
            "kind": self.kind.value,
            "delaySeconds": self.delay_seconds,
            "remaining": self.remaining,
        }


def fault(registry: str, kind: FaultKind, delay_seconds: float | None, remaining: int | None) -> Fault:
    """A switch with its kind's default delay when none is given."""
    delay = DEFAULT_DELAY.get(kind, 0.0) if delay_seconds is None else delay_seconds
    return Fault(registry, kind, delay, remaining)


class FaultSwitches:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def put(self, switch: Fault) -> Fault:
        """Set (or replace) the registry's switch: one upsert, no window for a concurrent one."""
        insert = postgresql.insert if self.kernel.db.backend == "postgresql" else sqlite.insert
        new = insert(faults).values(
            registry=switch.registry,
            kind=switch.kind.value,
            delay_seconds=switch.delay_seconds,
            remaining=switch.remaining,
            created_wall_us=to_us(wall_now()),
        )
        # a replacement's identity differs from the one it replaces, even within a microsecond
        old_us, new_us = faults.c.created_wall_us, new.excluded.created_wall_us
        upsert = new.on_conflict_do_update(
            index_elements=[faults.c.registry],
            set_={
                "kind": new.excluded.kind,
                "delay_seconds": new.excluded.delay_seconds,
                "remaining": new.excluded.remaining,
                "created_wall_us": case((new_us > old_us, new_us), else_=old_us + 1),
            },
        )
        async with self.kernel.db.engine.begin() as conn:
            await conn.execute(upsert)
        return switch

    async def clear(self, registry: str) -> bool:
        """Clear the registry's switch; False if none was set."""
        async with self.kernel.db.engine.begin() as conn:
            gone = (await conn.execute(delete(faults).where(faults.c.registry == registry))).rowcount
        return bool(gone)

    async def all(self) -> list[Fault]:
        async with self.kernel.db.engine.connect() as conn:
            rows = (await conn.execute(select(faults).order_by(faults.c.registry))).all()
        return [_fault(r) for r in rows]

    async def for_answer(self, registry: str) -> Fault | None:
        """What spoils the answer being made: the fault the call forces on ``registry``, if it
        forces one (nothing stored, no switch counted down), else the switch (:meth:`take`)."""
        forced = call_faults.chosen(registry)
        if forced is not None:
            return fault(registry, FaultKind(forced), None, None)
        return await self.take(registry)

    async def take(self, registry: str) -> Fault | None:
        """The switch that spoils this answer, if one is set, counting it down: the last of
        ``remaining`` answers clears it. Concurrent answers each take one (the count is changed
        only if no one changed it meanwhile)."""
        while True:
            async with self.kernel.db.engine.begin() as conn:
                row = (await conn.execute(select(faults).where(faults.c.registry == registry))).first()
                if row is None:
                    return None
                if row.remaining is None or await self._count_down(conn, row):
                    return _fault(row)

    @staticmethod
    async def _count_down(conn: AsyncConnection, row: Any) -> bool:
        """Take one of ``row``'s remaining answers, if that very switch (its ``created_wall_us``)
        is still set with that count; False if it was counted down, cleared or replaced meanwhile."""
        same = (
            (faults.c.registry == row.registry)
            & (faults.c.created_wall_us == row.created_wall_us)
            & (faults.c.remaining == row.remaining)
        )
        if row.remaining <= 1:
            done = await conn.execute(delete(faults).where(same))
        else:
            done = await conn.execute(update(faults).where(same).values(remaining=row.remaining - 1))
        return bool(done.rowcount)


def _fault(row) -> Fault:  # type: ignore[no-untyped-def]
    return Fault(row.registry, FaultKind(row.kind), row.delay_seconds, row.remaining)
