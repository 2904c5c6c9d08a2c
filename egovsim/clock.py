"""The simulated clock every component reads time from (principle 3: one clock for all).

The clock is a line through (anchor_wall, anchor_sim) with a rate: 0 when frozen, 1 in real
time or at an offset, any factor when sped up. Its state lives in the kernel's table, so the
processes of a compose deployment agree: each re-reads it every ``clock_sync_seconds``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from egovsim.calendar import ALMATY, KazakhstanCalendar, to_almaty
from egovsim.errors import CodedError
from egovsim.settings import ClockMode, Settings
from egovsim.storage import Database
from egovsim.tables import clock_state


def wall_now() -> datetime:
    return datetime.now(UTC)


def to_us(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


@dataclass(frozen=True)
class ClockState:
    mode: ClockMode
    anchor_sim: datetime
    anchor_wall: datetime
    rate: float
    version: int = 0

    def at(self, wall: datetime) -> datetime:
        return self.anchor_sim + (wall - self.anchor_wall) * self.rate

    def as_json(self, wall: datetime) -> dict[str, object]:
        now = to_almaty(self.at(wall))
        return {
            "now": now.isoformat(),
            "mode": self.mode,
            "rate": self.rate,
            "offset_seconds": round((self.at(wall) - wall).total_seconds(), 6) if self.rate == 1 else None,
            "timezone": "Asia/Almaty",
            "utc_offset": now.strftime("%z")[:3] + ":" + now.strftime("%z")[3:],
            "version": self.version,
        }


_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_COMPACT = re.compile(r"^(?:(\d+(?:\.\d+)?)(w|d|h|m|s))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


@dataclass(frozen=True)
class Advance:
    """How far to move the clock: a span of time, or a number of working days."""

    delta: timedelta | None = None
    working_days: int | None = None


def parse_advance(text: str) -> Advance:
    """Read ``90m``, ``2h``, ``1h30m``, ``3d``, ``1w``, ``45s``, ISO 8601 ``PT1H30M``/``P2D``, or ``3wd``."""
    raw = text.strip()
    if m := re.fullmatch(r"(\d+)\s*wd", raw):
        return Advance(working_days=int(m.group(1)))
    if _COMPACT.match(raw):
        return Advance(delta=timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(raw))))
    m = _ISO.match(raw.upper())
    if m and raw.upper() not in ("P", "PT") and any(m.groups()):
        w, d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
        return Advance(delta=timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s))
    raise ValueError(
        f"cannot read {text!r} as a duration: use e.g. 90m, 2h, 1h30m, 3d, 1w, 45s, 3wd (working days) or PT1H30M"
    )


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; one without an offset is Kazakhstan local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"cannot read {text!r} as an instant: use ISO 8601, e.g. 2026-03-20T10:00:00+05:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ALMATY)


def _bad(detail: str) -> CodedError:
    return CodedError("CLOCK_BAD_COMMAND", detail)


class SimulatedClock:
    """The simulated clock of this process, backed by the shared state in the database."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        calendar: KazakhstanCalendar,
        wall: Callable[[], datetime] = wall_now,
    ) -> None:
        self._db = db
        self._settings = settings
        self._calendar = calendar
        self._wall = wall
        start = settings.clock_start or wall()
        rate = {"real": 1.0, "offset": 1.0, "frozen": 0.0, "speed": settings.clock_speed}[settings.clock_mode]
        mode = settings.clock_mode
        now = wall()
        self._state = ClockState(mode, now if mode == "real" else start.astimezone(UTC), now, rate)
        self._synced_at = now

    # -- reading ---------------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulated present, in Asia/Almaty local time."""
        return self._state.at(self._wall()).astimezone(ALMATY)

    @property
    def state(self) -> ClockState:
        return self._state

    def describe(self) -> dict[str, object]:
        return self._state.as_json(self._wall())

    async def load(self) -> None:
        """Adopt the stored state, or store this process's initial state if there is none.

        Processes starting together (compose) may both find no state: the second insert fails
        on the primary key, and that process adopts the state the first one stored.
        """
        for _ in range(2):
            async with self._db.engine.connect() as conn:
                row = (await conn.execute(select(clock_state).where(clock_state.c.id == 1))).first()
            if row is not None:
                self._state = ClockState(
                    row.mode, from_us(row.anchor_sim_us), from_us(row.anchor_wall_us), row.rate, row.version
                )
                self._synced_at = self._wall()
                return
            s = self._state
            try:
                async with self._db.engine.begin() as conn:
                    await conn.execute(
                        insert(clock_state).values(
                            id=1,
                            mode=s.mode,
                            anchor_sim_us=to_us(s.anchor_sim),
                            anchor_wall_us=to_us(s.anchor_wall),
                            rate=s.rate,
                            version=0,
                        )
                    )
                return
            except IntegrityError:
                continue  # another process stored it first: read it back

    async def refresh_if_stale(self) -> None:
        """Re-read the shared state when it is older than the sync interval (compose)."""
        if (self._wall() - self._synced_at).total_seconds() >= self._settings.clock_sync_seconds:
            await self.load()

    # -- changing ------------------------------------------------------------------------------
    async def _store(self, state: ClockState) -> dict[str, object]:
        state = replace(state, version=self._state.version + 1)
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(clock_state)
                .where(clock_state.c.id == 1)
                .values(
                    mode=state.mode,
                    anchor_sim_us=to_us(state.anchor_sim),
                    anchor_wall_us=to_us(state.anchor_wall),
                    rate=state.rate,
                    version=state.version,
                )
            )
        self._state = state
        self._synced_at = self._wall()
        return self.describe()

    def _moving_mode(self, sim: datetime, wall: datetime) -> ClockMode:
        if self._state.rate == 0:
            return "frozen"
        if self._state.rate != 1:
            return "speed"
        return "real" if abs((sim - wall).total_seconds()) < 1e-6 else "offset"

    async def freeze(self, at: datetime | None = None) -> dict[str, object]:
        wall = self._wall()
        sim = at.astimezone(UTC) if at else self._state.at(wall)
        return await self._store(ClockState("frozen", sim, wall, 0.0))

    async def set(self, at: datetime) -> dict[str, object]:
        wall = self._wall()
        sim = at.astimezone(UTC)
        return await self._store(ClockState(self._moving_mode(sim, wall), sim, wall, self._state.rate))

    async def advance(self, how: Advance) -> dict[str, object]:
        wall = self._wall()
        current = self._state.at(wall)
        if how.working_days is not None:
            target = self._calendar.add_working_days(current, how.working_days).astimezone(UTC)
        else:
            assert how.delta is not None
            if how.delta <= timedelta(0):
                raise _bad("advance moves the clock forward by a positive amount; use set to go back")
            target = current + how.delta
        return await self._store(ClockState(self._moving_mode(target, wall), target, wall, self._state.rate))

    async def resume(self) -> dict[str, object]:
        wall = self._wall()
        return await self._store(ClockState("real", wall, wall, 1.0))

    async def offset(self, delta: timedelta) -> dict[str, object]:
        wall = self._wall()
        return await self._store(ClockState("offset" if delta else "real", wall + delta, wall, 1.0))

    async def speed(self, factor: float) -> dict[str, object]:
        if not (0 < factor <= 1_000_000):
            raise _bad("a speed factor is a number above 0 and at most 1000000")
        wall = self._wall()
        return await self._store(ClockState("speed" if factor != 1 else "offset", self._state.at(wall), wall, factor))
