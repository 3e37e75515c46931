"""When the town office is open: weekly hours, Japan's public holidays, 年末年始, and the
departments whose hours differ.

The rules come from ``settings.office_hours`` (``[office_hours]`` in the settings file or
in a town's ``town.toml``)::

    [office_hours]
    weekdays = "08:30-17:15"          # Monday to Friday
    sat = ""                          # closed (the default)
    public_holidays_closed = true     # 祝日・振替休日 (the PyPI ``holidays`` package)
    year_end_start = "12-29"          # 年末年始: 12/29 to 1/3 closed ("" = not)
    year_end_end = "01-03"
    closed_dates = ["2026-08-14"]
    open_dates = []

    [office_hours.departments."住民課"]
    thu = "08:30-19:00"               # this department only; other days as the town
    sun = "09:00-12:00"

A day holds one or more ranges, ``"08:30-12:00, 13:00-17:15"``; ``""`` is closed. A
department's day replaces the town's day; what it leaves out is the town's. A date in
``open_dates`` is open by the week's hours for that weekday even when a holiday or
年末年始 would close it (a Sunday opening needs hours for ``sun`` too).

The clock is injected: ``OfficeHours(settings, clock)`` with ``clock()`` returning the
current time (an aware ``datetime``; a naive one is read in the office's time zone,
Asia/Tokyo by default), so tests fix the time and nothing here reads the system clock
except the default clock.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from madoguchi.kit.config import DepartmentHours, OfficeHoursSettings
from madoguchi.kit.errors import ConfigError

__all__ = ["DAYS", "Clock", "OfficeHours", "Span", "check_hours", "parse_ranges", "system_clock"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Clock = Callable[[], datetime]
JST = ZoneInfo("Asia/Tokyo")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–〜~]\s*(\d{1,2}):(\d{2})\s*$")
_MMDD = re.compile(r"^(\d{2})-(\d{2})$")
# how far ahead next_opening looks (a year and a bit: every rule repeats within it)
HORIZON_DAYS = 400


def system_clock() -> datetime:
    """The current time in Japan (the default clock)."""
    return datetime.now(JST)


@dataclass(frozen=True)
class Span:
    """One opening of a day, ``start`` to ``end`` (``end`` excluded)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_ranges(text: str, where: str = "office_hours") -> tuple[Span, ...]:
    """``"08:30-12:00, 13:00-17:15"`` as spans in order; ``""`` is none (closed).
    A range that cannot be read, runs backwards or overlaps another is a ``ConfigError``."""
    spans: list[Span] = []
    for part in re.split(r"[,、，]", text or ""):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if m is None:
            raise ConfigError(f"{where}: {part.strip()!r} is not a range like 08:30-17:15")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ConfigError(f"{where}: {part.strip()!r} is not a time of day")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ConfigError(f"{where}: {part.strip()!r} ends before it starts")
        spans.append(Span(start, end))
    spans.sort(key=lambda s: s.start)
    for a, b in itertools.pairwise(spans):
        if b.start < a.end:
            raise ConfigError(f"{where}: {a} and {b} overlap")
    return tuple(spans)


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a date like 2026-08-14") from None


def _mmdd(text: str, where: str) -> tuple[int, int]:
    m = _MMDD.match(text.strip())
    if m is None:
        raise ConfigError(f"{where}: {text!r} is not a day like 12-29")
    month, day = int(m.group(1)), int(m.group(2))
    try:
        date(2024, month, day)  # a leap year: 02-29 is a day
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a day of the year") from None
    return month, day


def check_hours(conf: OfficeHoursSettings | DepartmentHours) -> None:
    """Every range, date and day of ``conf`` can be read (a ``ConfigError`` says which not);
    the settings models call it, so bad hours stop the service at start, not at a question."""
    for key in ("weekdays", *DAYS):
        value = getattr(conf, key)
        if value is not None:
            parse_ranges(value, f"office_hours.{key}")
    for d in (*conf.closed_dates, *conf.open_dates):
        _date(d, "office_hours dates")
    if isinstance(conf, OfficeHoursSettings):
        try:
            ZoneInfo(conf.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"office_hours.timezone: unknown time zone {conf.timezone!r}"
            ) from None
        if bool(conf.year_end_start) != bool(conf.year_end_end):
            raise ConfigError("office_hours: give both year_end_start and year_end_end, or neither")
        if conf.year_end_start:
            _mmdd(conf.year_end_start, "office_hours.year_end_start")
            _mmdd(conf.year_end_end, "office_hours.year_end_end")


@lru_cache(maxsize=64)
def _japan_holidays(year: int) -> dict[date, str]:
    import holidays

    return dict(holidays.country_holidays("JP", years=year, language="ja").items())


def holiday_name(day: date) -> str | None:
    """The Japanese public holiday on ``day`` (元日, 振替休日 …), or None."""
    return _japan_holidays(day.year).get(day)


@dataclass(frozen=True)
class _Rules:
    week: tuple[tuple[Span, ...], ...]  # Monday first
    holidays_closed: bool
    closed: frozenset[date]
    opened: frozenset[date]


def _week(
    conf: OfficeHoursSettings | DepartmentHours, base: _Rules | None
) -> list[tuple[Span, ...]]:
    empty: tuple[Span, ...] = ()
    week: list[tuple[Span, ...]] = list(base.week) if base is not None else [empty] * 7
    if conf.weekdays is not None:
        spans = parse_ranges(conf.weekdays, "office_hours.weekdays")
        for i in range(5):
            week[i] = spans
    for i, key in enumerate(DAYS):
        value = getattr(conf, key)
        if value is not None:
            week[i] = parse_ranges(value, f"office_hours.{key}")
    return week


def _key(name: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


class OfficeHours:
    """``is_open(now)``, ``next_opening(now)`` and the day's hours, for the town office
    or one of its departments."""

    def __init__(self, settings: OfficeHoursSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or system_clock
        self.tz = ZoneInfo(settings.timezone)
        town = _Rules(
            week=tuple(_week(settings, None)),
            holidays_closed=settings.public_holidays_closed,
            closed=frozenset(_date(d, "office_hours.closed_dates") for d in settings.closed_dates),
            opened=frozenset(_date(d, "office_hours.open_dates") for d in settings.open_dates),
        )
        self._town = town
        self._departments: dict[str, _Rules] = {}
        for name, dept in settings.departments.items():
            self._departments[_key(name)] = _Rules(
                week=tuple(_week(dept, town)),
                holidays_closed=(
                    town.holidays_closed
                    if dept.public_holidays_closed is None
                    else dept.public_holidays_closed
                ),
                closed=town.closed | {_date(d, "closed_dates") for d in dept.closed_dates},
                opened=(town.opened | {_date(d, "open_dates") for d in dept.open_dates})
                - {_date(d, "closed_dates") for d in dept.closed_dates},
            )
        if settings.year_end_start:
            self._year_end: tuple[tuple[int, int], tuple[int, int]] | None = (
                _mmdd(settings.year_end_start, "year_end_start"),
                _mmdd(settings.year_end_end, "year_end_end"),
            )
        else:
            self._year_end = None

    # ------------------------------------------------------------------ the rules
    def _rules(self, department: str | None) -> _Rules:
        if department:
            found = self._departments.get(_key(department))
            if found is not None:
                return found
        return self._town

    def has_own_hours(self, department: str | None) -> bool:
        return bool(department) and _key(department or "") in self._departments

    def _in_year_end(self, day: date) -> bool:
        if self._year_end is None:
            return False
        start, end = self._year_end
        md = (day.month, day.day)
        if start <= end:  # e.g. 08-13 .. 08-16
            return start <= md <= end
        return md >= start or md <= end  # 12-29 .. 01-03 runs over the new year

    def closed_reason(self, day: date, department: str | None = None) -> str | None:
        """Why ``day`` is closed as a whole: ``"年末年始"``, the holiday's name, ``"休業日"``
        (a closed date), ``"定休日"`` (no hours that weekday); None when it has hours."""
        rules = self._rules(department)
        if day in rules.closed:
            return "休業日"
        if day not in rules.opened:
            if self._in_year_end(day):
                return "年末年始"
            if rules.holidays_closed:
                name = holiday_name(day)
                if name:
                    return name
        if not rules.week[day.weekday()]:
            return "定休日"
        return None

    def day_spans(self, day: date, department: str | None = None) -> tuple[Span, ...]:
        """The openings of ``day`` (none when it is closed)."""
        if self.closed_reason(day, department) is not None:
            return ()
        return self._rules(department).week[day.weekday()]

    # ------------------------------------------------------------------ now
    def _local(self, now: datetime | None) -> datetime:
        now = now if now is not None else self.clock()
        if now.tzinfo is None:
            return now.replace(tzinfo=self.tz)
        return now.astimezone(self.tz)

    def _current(self, now: datetime, department: str | None) -> Span | None:
        t = now.timetz().replace(tzinfo=None)
        for span in self.day_spans(now.date(), department):
            if span.start <= t < span.end or (span.end == time.max and t >= span.start):
                return span
        return None

    def is_open(self, now: datetime | None = None, department: str | None = None) -> bool:
        """Open at ``now`` (default: the clock's time)."""
        return self._current(self._local(now), department) is not None

    def closes_at(
        self, now: datetime | None = None, department: str | None = None
    ) -> datetime | None:
        """When the current opening ends; None when closed now."""
        local = self._local(now)
        span = self._current(local, department)
        if span is None:
            return None
        if span.end == time.max:
            return datetime.combine(local.date() + timedelta(days=1), time(0), self.tz)
        return datetime.combine(local.date(), span.end, self.tz)

    def next_opening(
        self, now: datetime | None = None, department: str | None = None
    ) -> datetime | None:
        """The next time the office opens after ``now`` (``now`` itself when it is open);
        None when it never opens within ``HORIZON_DAYS``."""
        local = self._local(now)
        if self._current(local, department) is not None:
            return local
        t = local.timetz().replace(tzinfo=None)
        for offset in range(HORIZON_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            for span in self.day_spans(day, department):
                if offset or span.start > t:
                    return datetime.combine(day, span.start, self.tz)
        return None

    def status(self, now: datetime | None = None, department: str | None = None) -> dict[str, Any]:
        """``{open, next_open, closes_at, today}`` (ISO 8601 times with their offset;
        ``today``: the day's ranges as text, ``""`` when closed all day)."""
        local = self._local(now)
        opening = self.next_opening(local, department)
        closes = self.closes_at(local, department)
        return {
            "open": closes is not None,
            "next_open": opening.isoformat(timespec="minutes") if opening else None,
            "closes_at": closes.isoformat(timespec="minutes") if closes else None,
            "today": ", ".join(str(s) for s in self.day_spans(local.date(), department)),
            "closed_reason": self.closed_reason(local.date(), department),
        }
