"""Office hours: weekly hours, Japan's public holidays, 年末年始, departments' own hours,
the injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from madoguchi.kit.config import OfficeHoursSettings, Settings
from madoguchi.kit.errors import ConfigError
from madoguchi.kit.officehours import JST, OfficeHours, holiday_name, parse_ranges


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.fixture
def hours() -> OfficeHours:
    return OfficeHours(
        OfficeHoursSettings(
            departments={
                "住民課": {"thu": "08:30-19:00", "sun": "09:00-12:00"},
                "図書館": {"weekdays": "10:00-18:00", "sat": "10:00-17:00",
                           "public_holidays_closed": False},
            },
            closed_dates=["2026-08-14"],
        )
    )  # fmt: skip


def test_weekday_hours_edges(hours):
    # Wednesday 2 December 2026
    assert not hours.is_open(at("2026-12-02T08:29"))
    assert hours.is_open(at("2026-12-02T08:30"))
    assert hours.is_open(at("2026-12-02T17:14"))
    assert not hours.is_open(at("2026-12-02T17:15"))  # the end is excluded
    assert hours.next_opening(at("2026-12-02T07:00")) == at("2026-12-02T08:30")
    assert hours.next_opening(at("2026-12-02T18:00")) == at("2026-12-03T08:30")
    # open: next_opening is now, and the opening ends at 17:15
    assert hours.next_opening(at("2026-12-02T10:00")) == at("2026-12-02T10:00")
    assert hours.closes_at(at("2026-12-02T10:00")) == at("2026-12-02T17:15")


def test_weekend_is_closed_until_monday(hours):
    assert not hours.is_open(at("2026-12-05T10:00"))  # Saturday
    assert hours.closed_reason(date(2026, 12, 6)) == "定休日"
    assert hours.next_opening(at("2026-12-04T17:30")) == at("2026-12-07T08:30")


def test_public_holidays_from_the_holidays_package(hours):
    # 勤労感謝の日 (Monday 23 November 2026) and a substitute holiday (6 May 2026)
    assert holiday_name(date(2026, 11, 23)) == "勤労感謝の日"
    assert not hours.is_open(at("2026-11-23T10:00"))
    assert hours.closed_reason(date(2026, 11, 23)) == "勤労感謝の日"
    assert not hours.is_open(at("2026-05-06T10:00"))
    # golden week: closed from Sunday 3 May through Wednesday 6 May 2026
    assert hours.next_opening(at("2026-05-01T18:00")) == at("2026-05-07T08:30")
    # switched off: a holiday on a weekday is a working day
    plain = OfficeHours(OfficeHoursSettings(public_holidays_closed=False))
    assert plain.is_open(at("2026-11-23T10:00"))


def test_year_end_closure_and_configured(hours):
    for day in ("2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"):
        assert hours.closed_reason(date.fromisoformat(day)) == "年末年始"
    assert hours.is_open(at("2026-12-28T17:00"))  # Monday, the last working day
    # 1/3 is a Sunday and 1/4 the first day back
    assert hours.next_opening(at("2026-12-28T17:15")) == at("2027-01-04T08:30")
    # a town that closes 12/28 to 1/4 instead
    longer = OfficeHours(OfficeHoursSettings(year_end_start="12-28", year_end_end="01-04"))
    assert not longer.is_open(at("2026-12-28T10:00"))
    assert longer.next_opening(at("2026-12-25T18:00")) == at("2027-01-05T08:30")
    # and one with no year-end closure at all
    none = OfficeHours(OfficeHoursSettings(year_end_start="", year_end_end=""))
    assert none.is_open(at("2026-12-29T10:00"))


def test_closed_and_open_dates(hours):
    assert hours.closed_reason(date(2026, 8, 14)) == "休業日"
    assert not hours.is_open(at("2026-08-14T10:00"))
    opened = OfficeHours(OfficeHoursSettings(open_dates=["2026-11-23"]))
    assert opened.is_open(at("2026-11-23T10:00"))  # a holiday opened by the town


def test_departments_own_hours(hours):
    thursday_evening = at("2026-12-03T18:00")
    assert not hours.is_open(thursday_evening)
    assert hours.is_open(thursday_evening, "住民課")
    assert hours.closes_at(thursday_evening, "住民課") == at("2026-12-03T19:00")
    # the days it does not set are the town's
    assert not hours.is_open(at("2026-12-02T18:00"), "住民課")
    # its Sunday morning, but not on a holiday (the town's rule) nor at 年末年始
    assert hours.is_open(at("2026-12-06T10:00"), "住民課")
    assert hours.next_opening(at("2026-12-05T12:00"), "住民課") == at("2026-12-06T09:00")
    assert not hours.is_open(at("2027-01-03T10:00"), "住民課")
    # the library opens on holidays, and its name matches however it is spaced or wide
    assert hours.is_open(at("2026-11-23T11:00"), "図書館")
    assert hours.is_open(at("2026-12-05T16:00"), " 図書館 ")
    assert not hours.is_open(at("2026-12-02T09:00"), "図書館")
    # an unknown department has the town's hours
    assert hours.status(at("2026-12-03T18:00"), "税務課")["open"] is False
    assert hours.has_own_hours("住民課") and not hours.has_own_hours("税務課")


def test_the_clock_is_injected():
    now = [at("2026-12-02T10:00")]
    hours = OfficeHours(OfficeHoursSettings(), clock=lambda: now[0])
    assert hours.is_open()
    now[0] = at("2026-12-02T20:00")
    assert not hours.is_open()
    assert hours.next_opening() == at("2026-12-03T08:30")
    # an aware time in another zone is read in Japan time: 01:00 UTC is 10:00 JST
    utc = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert hours.is_open(utc)
    # a naive time is Japan time
    assert hours.is_open(datetime(2026, 12, 2, 10, 0))
    status = hours.status(at("2026-12-02T20:00"))
    assert status == {
        "open": False,
        "next_open": "2026-12-03T08:30+09:00",
        "closes_at": None,
        "today": "08:30-17:15",
        "closed_reason": None,
    }


def test_lunch_break_and_never_open():
    split = OfficeHours(OfficeHoursSettings(weekdays="08:30-12:00, 13:00-17:15"))
    assert not split.is_open(at("2026-12-02T12:30"))
    assert split.next_opening(at("2026-12-02T12:30")) == at("2026-12-02T13:00")
    never = OfficeHours(OfficeHoursSettings(weekdays="", sat="", sun=""))
    assert never.next_opening(at("2026-12-02T12:30")) is None
    late = OfficeHours(OfficeHoursSettings(weekdays="20:00-24:00"))
    assert late.is_open(at("2026-12-02T23:59"))
    assert late.closes_at(at("2026-12-02T23:00")) == at("2026-12-02T00:00") + timedelta(days=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8:30-5:15", "ends before it starts"),
        ("08:30", "not a range"),
        ("08:30-25:00", "not a time of day"),
        ("08:00-12:00, 11:00-13:00", "overlap"),
    ],
)
def test_bad_hours_are_config_errors(value, message):
    with pytest.raises(ConfigError, match=message):
        parse_ranges(value)
    with pytest.raises(ValidationError, match=message):
        Settings(office_hours={"weekdays": value})


def test_bad_settings_are_refused_at_load():
    with pytest.raises(ValidationError, match="not a date"):
        OfficeHoursSettings(closed_dates=["14 Aug"])
    with pytest.raises(ValidationError, match="not a day of the year"):
        OfficeHoursSettings(year_end_start="13-01")
    with pytest.raises(ValidationError, match="unknown time zone"):
        OfficeHoursSettings(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="extra"):
        OfficeHoursSettings(monday="08:30-17:15")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="ends before"):
        OfficeHoursSettings(departments={"住民課": {"thu": "19:00-08:30"}})
