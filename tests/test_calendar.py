"""The Kazakhstan calendar: holidays with carry-overs, opening hours, deadlines in each unit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from egovsim.calendar import ALMATY, PROVIDER_HOURS, STATE_CORPORATION_HOURS, KazakhstanCalendar

cal = KazakhstanCalendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ALMATY)


def test_local_time_is_utc_plus_5_from_the_tz_database() -> None:
    assert at("2026-03-20T10:00").utcoffset() == timedelta(hours=5)
    # before the 2024-03-01 switch Almaty was UTC+6: the offset comes from the tz data, not a constant
    assert at("2023-03-01T10:00").utcoffset() == timedelta(hours=6)


def test_nauryz_2026_days_off_include_the_carried_over_weekdays() -> None:
    for d in ("2026-03-21", "2026-03-22", "2026-03-23", "2026-03-24", "2026-03-25"):
        assert not cal.is_working_day(date.fromisoformat(d)), d
    assert cal.holiday_name(date(2026, 3, 24)) is not None
    assert cal.is_working_day(date(2026, 3, 20)) and cal.is_working_day(date(2026, 3, 26))


def test_one_working_day_from_the_friday_before_nauryz_is_the_thursday_after() -> None:
    assert cal.deadline(at("2026-03-20T10:00"), 1, "working_days") == at("2026-03-26T10:00")


def test_five_working_days_across_nauryz_2026() -> None:
    # 20 Mar (Fri) + 5 wd: 26, 27, 30, 31 Mar, 1 Apr
    assert cal.deadline(at("2026-03-20T11:15"), 5, "working_days") == at("2026-04-01T11:15")
    assert cal.working_days_between(date(2026, 3, 20), date(2026, 4, 1)) == 5


def test_working_days_skip_weekends_and_victory_day_carry_over() -> None:
    # 9 May 2026 is a Saturday: the day off moves to Monday 11 May
    assert cal.deadline(at("2026-05-08T09:30"), 1, "working_days") == at("2026-05-12T09:30")


def test_a_start_after_closing_counts_from_the_next_opening() -> None:
    assert cal.deadline(at("2026-03-06T19:00"), 1, "working_days") == at("2026-03-11T09:00")  # 9 Mar is a holiday


def test_calendar_days_include_weekends_and_holidays() -> None:
    assert cal.deadline(at("2026-03-20T10:00"), 1, "calendar_days") == at("2026-03-21T10:00")
    assert cal.deadline(at("2026-03-02T10:00"), 27, "calendar_days") == at("2026-03-29T10:00")


def test_provider_hours_have_a_lunch_break_and_close_at_18_30() -> None:
    monday = "2026-03-02"
    assert cal.is_open(at(f"{monday}T09:00"))
    assert not cal.is_open(at(f"{monday}T08:59"))
    assert cal.is_open(at(f"{monday}T12:59"))
    assert not cal.is_open(at(f"{monday}T13:00"))
    assert not cal.is_open(at(f"{monday}T14:29"))
    assert cal.is_open(at(f"{monday}T14:30"))
    assert cal.is_open(at(f"{monday}T18:29"))
    assert not cal.is_open(at(f"{monday}T18:30"))


def test_state_corporation_works_saturdays_until_20_00_without_lunch() -> None:
    saturday = "2026-03-07"
    assert not cal.is_open(at(f"{saturday}T10:00"), PROVIDER_HOURS)
    assert cal.is_open(at(f"{saturday}T10:00"), STATE_CORPORATION_HOURS)
    assert cal.is_open(at("2026-03-02T13:30"), STATE_CORPORATION_HOURS)
    assert cal.is_open(at("2026-03-02T19:59"), STATE_CORPORATION_HOURS)
    assert not cal.is_open(at("2026-03-08T10:00"), STATE_CORPORATION_HOURS)  # Sunday and 8 March


def test_minutes_count_in_opening_time_across_lunch_and_overnight() -> None:
    assert cal.deadline(at("2026-03-02T12:45"), 30, "minutes") == at("2026-03-02T14:45")
    assert cal.deadline(at("2026-03-02T18:15"), 30, "minutes") == at("2026-03-03T09:15")
    assert cal.deadline(at("2026-03-02T17:00"), 2, "hours") == at("2026-03-03T09:30")
    assert cal.deadline(at("2026-03-02T18:15"), 30, "minutes", hours=None) == at("2026-03-02T18:45")


def test_24_hour_days_and_months() -> None:
    assert cal.deadline(at("2026-03-02T18:15"), 1, "days_24h") == at("2026-03-03T18:15")
    assert cal.deadline(at("2026-01-31T10:00"), 1, "months") == at("2026-02-28T10:00")


def test_naive_times_and_unknown_units_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        cal.deadline(datetime(2026, 3, 2, 10), 1, "working_days")
    with pytest.raises(ValueError, match="unknown unit"):
        cal.deadline(at("2026-03-02T10:00"), 1, "fortnights")
    with pytest.raises(ValueError):
        cal.deadline(at("2026-03-02T10:00"), -1, "minutes")


def test_a_decree_can_move_a_day_off() -> None:
    decree = KazakhstanCalendar(
        extra_holidays=frozenset({date(2026, 3, 27)}), extra_working_days=frozenset({date(2026, 3, 28)})
    )
    assert not decree.is_working_day(date(2026, 3, 27))
    assert decree.is_working_day(date(2026, 3, 28))
