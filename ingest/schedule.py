"""Scheduled sync without cron: the town's ``town.toml`` says when, madoguchi runs it.

```toml
[schedule]
sync = "daily 02:30"          # when to run ``madoguchi sync`` of this file
timezone = "Asia/Tokyo"       # optional (default Asia/Tokyo)
catch_up_hours = 6            # optional: a run missed by less than this (the server was
                              # down at 02:30) runs as soon as madoguchi starts again
                              # (once, however many slots were missed)
```

When (``sync``), one of:

| written | means |
|---|---|
| ``daily 02:30`` (``毎日 02:30``) | every day at 02:30 |
| ``weekly mon 03:00`` (``毎週 月 03:00``; ``mon,thu``) | those days of the week |
| ``every 6h`` / ``every 30m`` | every 6 hours from midnight (00:00, 06:00, ...) / every 30 minutes from the hour; the number must divide 24 (hours) or 60 (minutes) |
| ``30 2 * * *`` | a cron expression (minute hour day month weekday; ``*``, ``*/n``, ``a-b``, lists; weekday 0 or 7 = Sunday) for anything else |

Who runs it: ``madoguchi serve --schedule town.toml`` (a thread of the server, started
and stopped with it), ``madoguchi schedule run town.toml`` (in the foreground), or a
systemd timer that ``madoguchi schedule systemd town.toml --out DIR`` writes (it calls
``madoguchi schedule run --once town.toml``: the slots due now, then exit). Several may
run at once (two servers, a server and a timer): each run takes a lease, a row in
``<data_dir>/schedule.sqlite`` held for ``LEASE_SECONDS`` and renewed while the sync
runs, and a time slot that has a run recorded is never run again, so a slot runs once
whoever sees it first. A holder that died loses its lease when it expires.

Every run's report (start, duration, counts, errors) is stored in the same file:
the admin screen's 定期更新 tab (``ui/admin_schedule.py``), ``GET /api/v1/admin/schedule``,
``madoguchi schedule status``, ``madoguchi doctor`` and ``/metrics``
(``madoguchi_schedule_last_success_timestamp_seconds``,
``madoguchi_schedule_failures_total``, ...) read it. A failed run is not retried before
the next slot (``madoguchi schedule run --now town.toml`` runs one at once).

Clocks are injected (``clock``: an aware ``datetime``; ``wait``: a stop-aware sleep),
so tests move time without waiting.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from madoguchi.kit.errors import ConfigError, StoreError

JOB = "sync"
STATE_FILE = "schedule.sqlite"
LEASE_SECONDS = 300.0
#: a slot seen this late still runs, whatever catch_up_hours says (a busy machine, a
#: wait that woke up late)
GRACE = timedelta(minutes=5)
DEFAULT_TZ = "Asia/Tokyo"

_DAYS = {
    "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
    "日": 0, "月": 1, "火": 2, "水": 3, "木": 4, "金": 5, "土": 6,
}  # fmt: skip
_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


# ---- when --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """Sets of minutes, hours, days of the month, months and weekdays (0 = Sunday), as
    cron has them; ``dom_any``/``dow_any``: that field was ``*`` (cron's rule: when both
    are restricted, a day matching either runs)."""

    spec: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    dom_any: bool
    dow_any: bool
    tz: str = DEFAULT_TZ

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def _day_matches(self, d: datetime) -> bool:
        if d.month not in self.months:
            return False
        dom = d.day in self.days
        dow = (d.weekday() + 1) % 7 in self.weekdays
        if self.dom_any and self.dow_any:
            return True
        if self.dom_any:
            return dow
        if self.dow_any:
            return dom
        return dom or dow

    def next_after(self, t: datetime) -> datetime:
        """The first slot strictly after ``t`` (aware), as an aware time in UTC."""
        local = t.astimezone(self.zone).replace(second=0, microsecond=0, tzinfo=None)
        day = local.replace(hour=0, minute=0)
        for _ in range(366 * 8):  # a date like Feb 29 on a Monday can be years away
            if self._day_matches(day):
                for h in self.hours:
                    for m in self.minutes:
                        cand = day.replace(hour=h, minute=m)
                        if cand > local:  # t itself is past that minute's slot
                            return cand.replace(tzinfo=self.zone).astimezone(UTC)
            day += timedelta(days=1)
        raise ConfigError(f"schedule {self.spec!r} never runs")

    def systemd_calendars(self) -> list[str]:
        """``OnCalendar=`` values for the same times (two when cron's day rule is an "or")."""
        hm = f"{_list(self.hours, 2)}:{_list(self.minutes, 2)}:00"
        months = "*" if len(self.months) == 12 else _list(sorted(self.months), 2)
        days = "*" if self.dom_any else _list(sorted(self.days), 2)
        dows = ",".join(_SYSTEMD_DAYS[d] for d in sorted(self.weekdays))
        if self.dow_any:
            return [f"*-{months}-{days} {hm}"]
        if self.dom_any:
            return [f"{dows} *-{months}-* {hm}"]
        return [f"*-{months}-{days} {hm}", f"{dows} *-{months}-* {hm}"]


def _list(values: tuple[int, ...] | list[int], width: int) -> str:
    return ",".join(f"{v:0{width}d}" for v in values)


def _hhmm(text: str, spec: str) -> tuple[int, int]:
    try:
        h, m = text.replace("：", ":").split(":")
        hour, minute = int(h), int(m)
    except ValueError:
        raise ConfigError(
            f"schedule {spec!r}: the time must be written HH:MM, e.g. 02:30"
        ) from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigError(f"schedule {spec!r}: {text} is not a time of day")
    return hour, minute


def _cron_field(text: str, lo: int, hi: int, spec: str, what: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            if not s.isdigit() or int(s) < 1:
                raise ConfigError(f"schedule {spec!r}: bad step in the {what} field")
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            x, y = part.split("-", 1)
            if not (x.isdigit() and y.isdigit()):
                raise ConfigError(f"schedule {spec!r}: bad range in the {what} field")
            a, b = int(x), int(y)
        elif part.isdigit():
            a = b = int(part)
            if step != 1:
                b = hi
        else:
            raise ConfigError(f"schedule {spec!r}: {part!r} is not a number ({what})")
        if a < lo or b > hi or a > b:
            raise ConfigError(f"schedule {spec!r}: the {what} field must be within {lo}-{hi}")
        out.update(range(a, b + 1, step))
    return out


def parse_schedule(text: str, tz: str = DEFAULT_TZ) -> Schedule:
    """A ``Schedule`` from the forms of the module docstring; a ``ConfigError`` says why not."""
    spec = " ".join(str(text).split())
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"schedule: unknown timezone {tz!r} (e.g. Asia/Tokyo)") from None
    words = spec.lower().split()
    all_days, all_months = frozenset(range(1, 32)), frozenset(range(1, 13))
    every_day = {"days": all_days, "months": all_months, "weekdays": frozenset(range(7))}
    if len(words) == 2 and words[0] in ("daily", "毎日"):
        h, m = _hhmm(words[1], spec)
        return Schedule(spec, (m,), (h,), **every_day, dom_any=True, dow_any=True, tz=tz)
    if len(words) == 3 and words[0] in ("weekly", "毎週"):
        names = [w for w in words[1].replace("、", ",").split(",") if w]
        bad = [w for w in names if w[:3] not in _DAYS and w not in _DAYS]
        if bad or not names:
            raise ConfigError(
                f"schedule {spec!r}: days are mon tue wed thu fri sat sun (or 月 火 水 木 金 土 日)"
            )
        dows = frozenset(_DAYS.get(w, _DAYS.get(w[:3], 0)) for w in names)
        h, m = _hhmm(words[2], spec)
        return Schedule(
            spec, (m,), (h,), all_days, all_months, dows, dom_any=True, dow_any=False, tz=tz
        )
    if len(words) == 2 and words[0] in ("every", "毎"):
        amount, unit = words[1][:-1], words[1][-1]
        if not amount.isdigit() or unit not in "hm" or int(amount) < 1:
            raise ConfigError(f"schedule {spec!r}: write every 6h or every 30m")
        n = int(amount)
        if unit == "h":
            if 24 % n:
                raise ConfigError(
                    f"schedule {spec!r}: the hours must divide 24 (1, 2, 3, 4, 6, 8, 12)"
                )
            return Schedule(
                spec, (0,), tuple(range(0, 24, n)), **every_day, dom_any=True, dow_any=True, tz=tz
            )
        if 60 % n or n < 5:
            raise ConfigError(f"schedule {spec!r}: the minutes must divide 60 and be 5 or more")
        return Schedule(
            spec,
            tuple(range(0, 60, n)),
            tuple(range(24)),
            **every_day,
            dom_any=True,
            dow_any=True,
            tz=tz,
        )
    fields = spec.split()
    if len(fields) == 5:
        mi, ho, dom, mon, dow = fields
        weekdays = {d % 7 for d in _cron_field(dow, 0, 7, spec, "weekday")}
        return Schedule(
            spec,
            tuple(sorted(_cron_field(mi, 0, 59, spec, "minute"))),
            tuple(sorted(_cron_field(ho, 0, 23, spec, "hour"))),
            frozenset(_cron_field(dom, 1, 31, spec, "day")),
            frozenset(_cron_field(mon, 1, 12, spec, "month")),
            frozenset(weekdays),
            dom_any=dom == "*",
            dow_any=dow == "*",
            tz=tz,
        )
    raise ConfigError(
        f'schedule {spec!r}: write e.g. "daily 02:30", "weekly mon 03:00", "every 6h" '
        'or a cron expression "30 2 * * *"'
    )


@dataclass(frozen=True)
class ScheduleConfig:
    schedule: Schedule
    catch_up: timedelta


def schedule_of(data: dict[str, Any], name: str = "town.toml") -> ScheduleConfig | None:
    """The ``[schedule]`` table of a parsed sync file, or None when it has none."""
    table = data.get("schedule")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: [schedule] must be a table")
    unknown = set(table) - {"sync", "timezone", "catch_up_hours"}
    if unknown:
        raise ConfigError(f"{name}: [schedule] has unknown key(s) {sorted(unknown)}")
    when = table.get("sync")
    if not isinstance(when, str) or not when.strip():
        raise ConfigError(f'{name}: [schedule] needs sync = "daily 02:30" (or another time)')
    tz = table.get("timezone", DEFAULT_TZ)
    hours = table.get("catch_up_hours", 6)
    if not isinstance(tz, str):
        raise ConfigError(f"{name}: [schedule] timezone must be a name like Asia/Tokyo")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
        raise ConfigError(f"{name}: [schedule] catch_up_hours must be a number >= 0")
    try:
        sched = parse_schedule(when, tz)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return ScheduleConfig(sched, timedelta(hours=float(hours)))


def load_schedule(path: Path | str) -> ScheduleConfig:
    """The ``[schedule]`` of a sync file; a ``ConfigError`` when it has none."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: sync configuration not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    conf = schedule_of(data, str(path))
    if conf is None:
        raise ConfigError(f'{path}: no [schedule] table; add e.g. [schedule] sync = "daily 02:30"')
    return conf


# ---- state: leases and runs ---------------------------------------------------------------


@dataclass
class Run:
    id: int
    job: str
    slot: str
    started: float
    finished: float | None
    ok: bool | None
    seconds: float | None
    report: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    holder: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "slot": self.slot,
            "started": _iso(self.started),
            "finished": _iso(self.finished) if self.finished else None,
            "ok": self.ok,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "report": self.report,
            "error": self.error,
            "holder": self.holder,
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class ScheduleState:
    """``<data_dir>/schedule.sqlite``: the lease of each job, its runs and its counters.

    Each method opens its own short connection, so any thread or process may call it;
    the lease is taken in an ``IMMEDIATE`` transaction, so of two contenders one wins."""

    KEEP_RUNS = 500

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / STATE_FILE
        with self._db() as db:
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS lease (job TEXT PRIMARY KEY, holder TEXT NOT NULL,
                    expires REAL NOT NULL, slot TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job TEXT NOT NULL, slot TEXT NOT NULL, started REAL NOT NULL,
                    finished REAL, ok INTEGER, seconds REAL, report TEXT, error TEXT,
                    holder TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS runs_by_slot ON runs (job, slot);
                CREATE TABLE IF NOT EXISTS counters (job TEXT PRIMARY KEY,
                    runs INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
                    last_success REAL, last_failure REAL);
                CREATE TABLE IF NOT EXISTS jobs (job TEXT PRIMARY KEY, spec TEXT NOT NULL,
                    tz TEXT NOT NULL, config TEXT NOT NULL, next_slot REAL, updated REAL);
                """
            )

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        finally:
            db.close()

    # leases
    def try_lease(self, job: str, holder: str, slot: str, now: float, ttl: float) -> bool:
        """Take (or renew, for its holder) the job's lease; False while another holds it."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT holder, expires FROM lease WHERE job=?", (job,)).fetchone()
            if row is not None and row[0] != holder and row[1] > now:
                db.execute("ROLLBACK")
                return False
            db.execute(
                "INSERT OR REPLACE INTO lease VALUES (?, ?, ?, ?)", (job, holder, now + ttl, slot)
            )
            db.execute("COMMIT")
            return True

    def renew(self, job: str, holder: str, now: float, ttl: float) -> bool:
        with self._db() as db:
            cur = db.execute(
                "UPDATE lease SET expires=? WHERE job=? AND holder=?", (now + ttl, job, holder)
            )
            return cur.rowcount == 1

    def release(self, job: str, holder: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM lease WHERE job=? AND holder=?", (job, holder))

    def lease(self, job: str, now: float) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute(
                "SELECT holder, expires, slot FROM lease WHERE job=? AND expires>?", (job, now)
            ).fetchone()
        return None if row is None else {"holder": row[0], "expires": row[1], "slot": row[2]}

    # runs
    def slot_done(self, job: str, slot: str) -> bool:
        with self._db() as db:
            return (
                db.execute("SELECT 1 FROM runs WHERE job=? AND slot=?", (job, slot)).fetchone()
                is not None
            )

    def start_run(self, job: str, slot: str, holder: str, now: float) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO runs (job, slot, started, holder) VALUES (?, ?, ?, ?)",
                (job, slot, now, holder),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        job: str,
        *,
        ok: bool,
        now: float,
        seconds: float,
        report: dict[str, Any],
        error: str | None,
    ) -> None:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "UPDATE runs SET finished=?, ok=?, seconds=?, report=?, error=? WHERE id=?",
                (now, int(ok), seconds, json.dumps(report, ensure_ascii=False), error, run_id),
            )
            db.execute("INSERT OR IGNORE INTO counters (job) VALUES (?)", (job,))
            if ok:
                db.execute(
                    "UPDATE counters SET runs=runs+1, last_success=? WHERE job=?", (now, job)
                )
            else:
                db.execute(
                    "UPDATE counters SET runs=runs+1, failures=failures+1, last_failure=? "
                    "WHERE job=?",
                    (now, job),
                )
            db.execute("DELETE FROM runs WHERE job=? AND id <= ?", (job, run_id - self.KEEP_RUNS))
            db.execute("COMMIT")

    def runs(self, job: str = JOB, limit: int = 20) -> list[Run]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, job, slot, started, finished, ok, seconds, report, error, holder "
                "FROM runs WHERE job=? ORDER BY id DESC LIMIT ?",
                (job, limit),
            ).fetchall()
        return [
            Run(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                None if r[5] is None else bool(r[5]),
                r[6],
                json.loads(r[7]) if r[7] else {},
                r[8],
                r[9],
            )
            for r in rows
        ]

    def counters(self, job: str = JOB) -> dict[str, Any]:
        with self._db() as db:
            row = db.execute(
                "SELECT runs, failures, last_success, last_failure FROM counters WHERE job=?",
                (job,),
            ).fetchone()
        if row is None:
            return {"runs": 0, "failures": 0, "last_success": None, "last_failure": None}
        return {"runs": row[0], "failures": row[1], "last_success": row[2], "last_failure": row[3]}

    # what the screens show
    def register(self, job: str, conf: ScheduleConfig, config: Path, next_slot: datetime) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    job,
                    conf.schedule.spec,
                    conf.schedule.tz,
                    str(Path(config).resolve()),
                    next_slot.timestamp(),
                    time.time(),
                ),
            )

    def job(self, job: str = JOB) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute(
                "SELECT spec, tz, config, next_slot, updated FROM jobs WHERE job=?", (job,)
            ).fetchone()
        if row is None:
            return None
        return {
            "spec": row[0],
            "tz": row[1],
            "config": row[2],
            "next_slot": row[3],
            "updated": row[4],
        }

    def status(self, job: str = JOB, now: float | None = None) -> dict[str, Any]:
        """Everything the admin endpoint and panel show about a job."""
        now = time.time() if now is None else now
        runs = self.runs(job, limit=10)
        last = next((r for r in runs if r.finished is not None), None)
        c = self.counters(job)
        info = self.job(job)
        return {
            "job": job,
            "schedule": info["spec"] if info else None,
            "timezone": info["tz"] if info else None,
            "config": info["config"] if info else None,
            "next_run": _iso(info["next_slot"]) if info and info["next_slot"] else None,
            "running": self.lease(job, now),
            "last_run": last.to_json() if last else None,
            "last_success": _iso(c["last_success"]) if c["last_success"] else None,
            "last_failure": _iso(c["last_failure"]) if c["last_failure"] else None,
            "runs_total": c["runs"],
            "failures_total": c["failures"],
            "recent": [r.to_json() for r in runs],
        }


def existing_state(data_dir: Path | str) -> ScheduleState | None:
    """The state of a data directory that has one (None: no scheduled run ever)."""
    return ScheduleState(data_dir) if (Path(data_dir) / STATE_FILE).is_file() else None


# ---- running ------------------------------------------------------------------------------

Clock = Callable[[], datetime]
#: waits up to the given seconds; returns True when asked to stop
Wait = Callable[[float], bool]


def utc_now() -> datetime:
    return datetime.now(UTC)


def slot_key(slot: datetime) -> str:
    return slot.astimezone(UTC).isoformat(timespec="minutes")


class Scheduler:
    """Runs ``job()`` at each slot of ``conf.schedule``, once per slot across processes.

    ``job`` returns the run's report (a JSON-able dict: counts, notes); an exception is
    the run's failure. ``tick()`` does what is due now and returns the next slot;
    ``run_forever`` ticks until ``stop()``."""

    def __init__(
        self,
        conf: ScheduleConfig,
        state: ScheduleState,
        job: Callable[[], dict[str, Any]],
        *,
        config_path: Path | str = "town.toml",
        clock: Clock = utc_now,
        wait: Wait | None = None,
        holder: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        name: str = JOB,
    ) -> None:
        self.conf = conf
        self.state = state
        self.job = job
        self.config_path = Path(config_path)
        self.clock = clock
        self._stop = threading.Event()
        self.wait: Wait = wait or self._stop.wait
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        self.name = name
        # slots up to here are settled; a slot missed by less than ``window`` still runs
        self.window = max(conf.catch_up, GRACE)
        self.cursor = self.clock() - self.window - timedelta(seconds=1)

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def tick(self) -> datetime:
        """Run what is due (once, and only if no one ran it); the next slot.

        Of several slots missed inside the catch-up window (the server was down for a
        day of ``every 30m``) only the latest runs: one sync brings the index up to date,
        and a dozen in a row would only repeat it. A run that outlasts the next slot is
        followed by one more run (the latest slot that passed meanwhile), never a queue."""
        while True:
            now = self.clock()
            due: datetime | None = None
            while (slot := self.conf.schedule.next_after(self.cursor)) <= now:
                if slot >= now - self.window:
                    due = slot
                self.cursor = slot
            if due is None:
                self.state.register(self.name, self.conf, self.config_path, slot)
                return slot
            self.run_slot(slot_key(due))

    def run_now(self) -> Run | None:
        """One run at once, outside the timetable (``--now``, a systemd timer)."""
        return self.run_slot("manual:" + self.clock().isoformat(timespec="seconds"))

    def run_slot(self, slot: str) -> Run | None:
        """Run the job for ``slot`` unless another holder has the lease or the slot ran;
        the finished run, or None when it was not this process's to run."""
        now = self.clock().timestamp()
        if not self.state.try_lease(self.name, self.holder, slot, now, self.lease_seconds):
            return None
        try:
            if self.state.slot_done(self.name, slot):
                return None
            run_id = self.state.start_run(self.name, slot, self.holder, now)
            renewing = threading.Event()
            beat = threading.Thread(
                target=self._heartbeat, args=(renewing,), name="madoguchi-lease", daemon=True
            )
            beat.start()
            t0 = time.perf_counter()
            ok, report, error = True, {}, None
            try:
                report = self.job()
            except Exception as exc:  # any failure of the sync is the run's result
                ok, error = False, f"{type(exc).__name__}: {exc}"
            finally:
                renewing.set()
                beat.join(5)
            self.state.finish_run(
                run_id,
                self.name,
                ok=ok,
                now=self.clock().timestamp(),
                seconds=time.perf_counter() - t0,
                report=report,
                error=error,
            )
            return self.state.runs(self.name, limit=1)[0]
        finally:
            self.state.release(self.name, self.holder)

    def _heartbeat(self, done: threading.Event) -> None:
        while not done.wait(self.lease_seconds / 3):
            with contextlib.suppress(StoreError):
                self.state.renew(
                    self.name, self.holder, self.clock().timestamp(), self.lease_seconds
                )

    def run_forever(self) -> None:
        while not self._stop.is_set():
            nxt = self.tick()
            left = (nxt - self.clock()).total_seconds()
            if self.wait(max(1.0, min(left, 60.0))):
                return


def sync_job(index: Any, config_path: Path | str, web: Any) -> Callable[[], dict[str, Any]]:
    """The job of a sync file: ``run_sync`` of it on ``index``; the file is read again at
    each run, so staff's edits count from the next run. A bad file or an index that
    cannot be written is the run's failure; pages that could not be fetched are in its
    report (skipped, with the reason), as ``madoguchi sync`` reports them."""

    def job() -> dict[str, Any]:
        from madoguchi.ingest.sync import load_config, run_sync

        config = load_config(config_path, web)
        return run_sync(index, config).to_json()

    return job


def lazy_sync_job(
    build: Callable[[], Any], config_path: Path | str, web: Any
) -> Callable[[], dict[str, Any]]:
    """``sync_job`` on services made by ``build()`` for the run and closed after it: a
    process that loses the slot to another never opens the index at all."""

    def job() -> dict[str, Any]:
        svc = build()
        try:
            return sync_job(svc.index, config_path, web)()
        finally:
            svc.close()

    return job


class BackgroundScheduler:
    """A ``Scheduler`` on a daemon thread (``madoguchi serve --schedule``)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.thread = threading.Thread(target=self._run, name="madoguchi-schedule", daemon=True)
        self.error: str | None = None

    def _run(self) -> None:
        import logging

        log = logging.getLogger(__name__)
        while not self.scheduler.stopped:
            try:
                self.scheduler.run_forever()
            except Exception as exc:  # the state file unreadable: try again in a minute
                self.error = str(exc)
                log.warning("scheduled sync: %s", exc)
                if self.scheduler.wait(60):
                    return

    def start(self) -> BackgroundScheduler:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.scheduler.stop()
        self.thread.join(timeout)


# ---- systemd ------------------------------------------------------------------------------

UNIT_NAME = "madoguchi-sync"


def _quote(arg: str) -> str:
    """An argument of ExecStart= (systemd's own quoting: double quotes, backslash escapes)."""
    if arg and all(c.isalnum() or c in "/._-+:=@," for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def madoguchi_command() -> list[str]:
    """How this installation's ``madoguchi`` is started, as absolute paths."""
    import sys

    exe = Path(sys.executable)
    script = exe.parent / "madoguchi"
    if script.is_file():
        return [str(script)]
    return [str(exe), "-m", "madoguchi.ui.cli"]


def systemd_units(
    config_path: Path | str,
    conf: ScheduleConfig,
    *,
    data_dir: Path | str,
    workdir: Path | str | None = None,
    user: str | None = None,
    command: list[str] | None = None,
    env_file: Path | str | None = None,
) -> dict[str, str]:
    """``madoguchi-sync.service`` and ``madoguchi-sync.timer``: the timer fires at the
    schedule's times (in its timezone) and starts the service, a one-shot
    ``madoguchi schedule run --once`` of the sync file. ``Persistent=true`` fires a missed
    time at the next boot; ``--once`` then runs it if it is still inside the catch-up
    window. The lease makes the timer safe beside a ``serve --schedule`` server."""
    config = Path(config_path).resolve()
    work = Path(workdir).resolve() if workdir else Path.cwd()
    cmd = [*(command or madoguchi_command()), "schedule", "run", "--once", str(config)]
    sched = conf.schedule
    calendars = [f"{c} {sched.tz}" for c in sched.systemd_calendars()]
    env = [f"Environment={_quote('MADOGUCHI_DATA_DIR=' + str(Path(data_dir).resolve()))}"]
    env += ["Environment=HF_HUB_OFFLINE=1", "Environment=ANONYMIZED_TELEMETRY=False"]
    if env_file:
        env.append(f"EnvironmentFile=-{Path(env_file).resolve()}")
    lines_user = [f"User={user}"] if user else []
    service = "\n".join(
        [
            f"# {UNIT_NAME}.service: one scheduled sync of {config}",
            f"# (written by `madoguchi schedule systemd`; started by {UNIT_NAME}.timer).",
            "#",
            f"# Install:  sudo cp {UNIT_NAME}.service {UNIT_NAME}.timer /etc/systemd/system/",
            "#           sudo systemctl daemon-reload",
            f"#           sudo systemctl enable --now {UNIT_NAME}.timer",
            f"# Check:    systemctl list-timers {UNIT_NAME}.timer",
            f"#           journalctl -u {UNIT_NAME}.service   (each run's report)",
            "#           madoguchi schedule status           (the runs, as /metrics shows them)",
            f"# Run now:  sudo systemctl start {UNIT_NAME}.service",
            "#",
            "# Source paths in the sync file are read from WorkingDirectory (as when",
            "# `madoguchi sync` is run there by hand). A run that fails exits 1, so",
            "# `systemctl --failed` lists it; the next time slot runs as usual.",
            "",
            "[Unit]",
            f"Description=madoguchi scheduled sync ({config.name})",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            *lines_user,
            f"WorkingDirectory={work}",
            *env,
            "ExecStart=" + " ".join(_quote(a) for a in cmd),
            # a sync must not slow the answers residents are waiting for
            "Nice=10",
            "IOSchedulingClass=best-effort",
            "IOSchedulingPriority=7",
            "TimeoutStartSec=6h",
            "",
        ]
    )
    timer = "\n".join(
        [
            f"# {UNIT_NAME}.timer: when {UNIT_NAME}.service runs: [schedule] sync =",
            f"# {sched.spec!r} ({sched.tz}) of {config}.",
            "# Written by `madoguchi schedule systemd`: write it again after changing [schedule].",
            "",
            "[Unit]",
            f"Description=madoguchi scheduled sync timer ({sched.spec}, {sched.tz})",
            "",
            "[Timer]",
            *[f"OnCalendar={c}" for c in calendars],
            "Persistent=true",
            "AccuracySec=1min",
            f"Unit={UNIT_NAME}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
    return {f"{UNIT_NAME}.service": service, f"{UNIT_NAME}.timer": timer}
