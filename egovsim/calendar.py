"""The Kazakhstan working calendar: weekends, public holidays, opening hours and deadlines.

Public holidays and their carry-overs (a holiday on a weekend moves the day off to the next
working day, as for Nauryz 2026: 21–23 March plus 24–25 March) come from the ``holidays``
package. Opening hours are those of standard 002 item 8: providers 09:00–18:30 Monday to Friday
with lunch 13:00–14:30 (item 8.1); the State Corporation 09:00–20:00 Monday to Saturday without
lunch (item 8.2). Local time is Asia/Almaty from the tz database (UTC+5 since 2024-03-01).
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as _holidays

ALMATY = ZoneInfo("Asia/Almaty")


@dataclass(frozen=True)
class WorkingHours:
    """Opening hours of an office: the weekdays it works (0 = Monday), opening, closing, lunch."""

    name: str
    weekdays: frozenset[int]
    opens: time
    closes: time
    lunch: tuple[time, time] | None = None

    def intervals(self, day: date) -> list[tuple[time, time]]:
        if self.lunch is None:
            return [(self.opens, self.closes)]
        return [(self.opens, self.lunch[0]), (self.lunch[1], self.closes)]


# Standard 002 item 8.1: 09:00–18:30, lunch 13:00–14:30, except weekends and holidays.
PROVIDER_HOURS = WorkingHours("provider", frozenset(range(5)), time(9, 0), time(18, 30), (time(13, 0), time(14, 30)))
# Standard 002 item 8.2: Monday to Saturday 09:00–20:00 without lunch, except Sunday and holidays.
STATE_CORPORATION_HOURS = WorkingHours("state_corporation", frozenset(range(6)), time(9, 0), time(20, 0))
SCHEDULES = {h.name: h for h in (PROVIDER_HOURS, STATE_CORPORATION_HOURS)}

UNITS = ("minutes", "hours", "working_days", "calendar_days", "days_24h", "months")


def to_almaty(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place on the simulated clock: give it an offset")
    return moment.astimezone(ALMATY)


@dataclass
class KazakhstanCalendar:
    """Working days and opening hours on the Kazakhstan calendar.

    ``extra_holidays`` and ``extra_working_days`` let a deployment follow a government decree
    that moves days off (a transferred Saturday) before the ``holidays`` package knows of it.
    """

    extra_holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    _public: _holidays.HolidayBase = field(default_factory=lambda: _holidays.country_holidays("KZ"), repr=False)

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_working_days:
            return None
        if day in self.extra_holidays:
            return "day off by decree"
        name = self._public.get(day)
        return str(name) if name else None

    def holidays_in(self, year: int) -> list[tuple[date, str]]:
        self._public.get(date(year, 1, 1))  # loads the year
        days = {d: str(n) for d, n in self._public.items() if d.year == year}
        days.update({d: "day off by decree" for d in self.extra_holidays if d.year == year})
        return sorted((d, n) for d, n in days.items() if d not in self.extra_working_days)

    def is_working_day(self, day: date, hours: WorkingHours = PROVIDER_HOURS) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() in hours.weekdays and self.holiday_name(day) is None

    def open_intervals(self, day: date, hours: WorkingHours = PROVIDER_HOURS) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day, hours):
            return []
        return [(datetime.combine(day, a, ALMATY), datetime.combine(day, b, ALMATY)) for a, b in hours.intervals(day)]

    def is_open(self, moment: datetime, hours: WorkingHours = PROVIDER_HOURS) -> bool:
        local = to_almaty(moment)
        return any(a <= local < b for a, b in self.open_intervals(local.date(), hours))

    def next_open(self, moment: datetime, hours: WorkingHours = PROVIDER_HOURS) -> datetime:
        """The moment itself if the office is open, else its next opening."""
        local = to_almaty(moment)
        day = local.date()
        for _ in range(400):
            for a, b in self.open_intervals(day, hours):
                if local < b:
                    return max(a, local)
            day += timedelta(days=1)
        raise ValueError(f"{hours.name} never opens in the year after {moment:%Y-%m-%d}")

    def add_open_time(self, start: datetime, amount: timedelta, hours: WorkingHours = PROVIDER_HOURS) -> datetime:
        """Count ``amount`` of opening time from ``start``: a 30-minute step begun at 12:45 ends at 14:45."""
        if amount < timedelta(0):
            raise ValueError("a duration on the calendar cannot be negative")
        cursor = self.next_open(start, hours)
        remaining = amount
        while True:
            interval_end = next(b for a, b in self.open_intervals(cursor.date(), hours) if a <= cursor < b)
            available = interval_end - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor = self.next_open(interval_end, hours)

    def add_working_days(self, start: datetime, days: int, hours: WorkingHours = PROVIDER_HOURS) -> datetime:
        """The same time of day on the ``days``-th working day after the start's working day.

        A start outside opening time counts from the next opening: a request handed in on
        Friday at 19:00 is taken as handed in on Monday at 09:00.
        """
        if days < 0:
            raise ValueError("a number of working days cannot be negative")
        cursor = self.next_open(start, hours)
        day = cursor.date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day, hours):
                counted += 1
        return datetime.combine(day, cursor.timetz().replace(tzinfo=None), ALMATY)

    def working_days_between(self, start: date, end: date, hours: WorkingHours = PROVIDER_HOURS) -> int:
        """Working days after ``start`` up to and including ``end``."""
        days = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            days += self.is_working_day(day, hours)
        return days

    def deadline(self, start: datetime, value: int, unit: str, hours: WorkingHours | None = PROVIDER_HOURS) -> datetime:
        """When a step of ``value`` ``unit`` begun at ``start`` is due.

        * minutes, hours: counted in the opening time of ``hours`` (plain elapsed time when
          ``hours`` is None);
        * working_days: :meth:`add_working_days`;
        * calendar_days: the same local time ``value`` days later, weekends and holidays included;
        * days_24h (тәулік): ``value`` × 24 hours;
        * months: the same day of the month ``value`` months later (the last day if shorter).
        """
        if value < 0:
            raise ValueError("a duration on the calendar cannot be negative")
        local = to_almaty(start)
        if unit in ("minutes", "hours"):
            amount = timedelta(minutes=value) if unit == "minutes" else timedelta(hours=value)
            return local + amount if hours is None else self.add_open_time(local, amount, hours)
        if unit == "working_days":
            return self.add_working_days(local, value, hours or PROVIDER_HOURS)
        if unit == "calendar_days":
            return datetime.combine(local.date() + timedelta(days=value), local.timetz().replace(tzinfo=None), ALMATY)
        if unit == "days_24h":
            return local + timedelta(hours=24 * value)
        if unit == "months":
            month_index = local.month - 1 + value
            year, month = local.year + month_index // 12, month_index % 12 + 1
            day = min(local.day, _stdcal.monthrange(year, month)[1])
            return local.replace(year=year, month=month, day=day)
        raise ValueError(f"unknown unit {unit!r}: use one of {', '.join(UNITS)}")


def calendar_from(extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = ()) -> KazakhstanCalendar:
    return KazakhstanCalendar(frozenset(extra_holidays), frozenset(extra_working_days))
