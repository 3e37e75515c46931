"""``ingest.schedule``: the timetable forms, runs on time with an injected clock, one run
per slot among contending threads and processes, failures recorded."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from madoguchi.ingest.schedule import (
    ScheduleConfig,
    Scheduler,
    ScheduleState,
    load_schedule,
    parse_schedule,
    slot_key,
)
from madoguchi.ingest.sync import parse_config
from madoguchi.kit.config import WebSettings
from madoguchi.kit.errors import ConfigError

JST = timedelta(hours=9)


def jst(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> datetime:
    """A Japan time as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC) - JST


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("daily 02:30", jst(2026, 4, 1, 2, 29, 59), jst(2026, 4, 1, 2, 30)),
        ("daily 02:30", jst(2026, 4, 1, 2, 30), jst(2026, 4, 2, 2, 30)),
        ("毎日 23:05", jst(2026, 4, 1, 23, 6), jst(2026, 4, 2, 23, 5)),
        # 2026-04-01 is a Wednesday
        ("weekly mon 03:00", jst(2026, 4, 1, 12, 0), jst(2026, 4, 6, 3, 0)),
        ("weekly mon,thu 03:00", jst(2026, 4, 1, 12, 0), jst(2026, 4, 2, 3, 0)),
        ("毎週 金 18:00", jst(2026, 4, 1, 12, 0), jst(2026, 4, 3, 18, 0)),
        ("every 6h", jst(2026, 4, 1, 12, 0), jst(2026, 4, 1, 18, 0)),
        ("every 6h", jst(2026, 4, 1, 18, 30), jst(2026, 4, 2, 0, 0)),
        ("every 15m", jst(2026, 4, 1, 12, 14), jst(2026, 4, 1, 12, 15)),
        ("30 2 * * *", jst(2026, 4, 1, 3, 0), jst(2026, 4, 2, 2, 30)),
        ("0 */8 * * 1-5", jst(2026, 4, 3, 17, 0), jst(2026, 4, 6, 0, 0)),  # Fri -> Mon
        ("0 4 1 * *", jst(2026, 4, 1, 5, 0), jst(2026, 5, 1, 4, 0)),
        ("0 4 29 2 *", jst(2026, 4, 1, 5, 0), jst(2028, 2, 29, 4, 0)),
    ],
)
def test_next_slot(spec: str, after: datetime, expected: datetime) -> None:
    assert parse_schedule(spec).next_after(after) == expected


def test_timezone_is_honoured() -> None:
    s = parse_schedule("daily 02:30", tz="UTC")
    assert s.next_after(datetime(2026, 4, 1, 0, 0, tzinfo=UTC)) == datetime(
        2026, 4, 1, 2, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("daily 25:00", "not a time of day"),
        ("daily 2h", "HH:MM"),
        ("weekly someday 03:00", "days are"),
        ("every 7h", "divide 24"),
        ("every 7m", "divide 60"),
        ("61 * * * *", "within 0-59"),
        ("whenever", "daily 02:30"),
    ],
)
def test_bad_schedules_say_what_to_write(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_schedule(spec)


def test_systemd_calendars() -> None:
    assert parse_schedule("daily 02:30").systemd_calendars() == ["*-*-* 02:30:00"]
    assert parse_schedule("weekly mon,thu 03:00").systemd_calendars() == ["Mon,Thu *-*-* 03:00:00"]
    assert parse_schedule("every 6h").systemd_calendars() == ["*-*-* 00,06,12,18:00:00"]
    assert parse_schedule("0 4 1 * 0").systemd_calendars() == [
        "*-*-01 04:00:00",
        "Sun *-*-* 04:00:00",
    ]


def test_the_schedule_table_in_town_toml(tmp_path: Path) -> None:
    data = {"schedule": {"sync": "daily 02:30"}, "sources": [{"path": "faq.csv"}]}
    assert parse_config(data, WebSettings()).sources  # the sync file accepts it
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({**data, "schedule": {"sync": "daily 02:30", "when": 1}}, WebSettings())
    with pytest.raises(ConfigError, match="not a time"):
        parse_config({**data, "schedule": {"sync": "daily 99:99"}}, WebSettings())
    p = tmp_path / "town.toml"
    p.write_text('[schedule]\nsync = "every 6h"\ncatch_up_hours = 1\n\n[[sources]]\npath = "x"\n')
    conf = load_schedule(p)
    assert conf.schedule.spec == "every 6h" and conf.catch_up == timedelta(hours=1)
    p.write_text('[[sources]]\npath = "x"\n')
    with pytest.raises(ConfigError, match=r"no \[schedule\]"):
        load_schedule(p)


def make(tmp_path: Path, clock: Clock, job, catch_up_hours: float = 0, **kw) -> Scheduler:
    conf = ScheduleConfig(parse_schedule("daily 02:30"), timedelta(hours=catch_up_hours))
    return Scheduler(conf, ScheduleState(tmp_path), job, clock=clock, **kw)


def test_runs_on_time_and_once_per_slot(tmp_path: Path) -> None:
    clock = Clock(jst(2026, 4, 1, 1, 0))
    calls: list[datetime] = []
    s = make(tmp_path, clock, lambda: calls.append(clock()) or {"added": 1})
    assert s.tick() == jst(2026, 4, 1, 2, 30) and calls == []
    clock.t = jst(2026, 4, 1, 2, 29, 59)
    s.tick()
    assert calls == []
    clock.t = jst(2026, 4, 1, 2, 30, 1)
    assert s.tick() == jst(2026, 4, 2, 2, 30)
    assert calls == [jst(2026, 4, 1, 2, 30, 1)]
    clock.t = jst(2026, 4, 1, 9, 0)
    s.tick()
    assert len(calls) == 1  # not again until the next slot
    status = s.state.status()
    assert status["schedule"] == "daily 02:30"
    assert status["last_run"]["ok"] is True and status["last_run"]["report"] == {"added": 1}
    assert status["next_run"] == "2026-04-01T17:30:00+00:00"  # 02:30 the next day, JST
    assert status["failures_total"] == 0 and status["runs_total"] == 1


def test_a_second_process_does_not_rerun_a_slot_already_run(tmp_path: Path) -> None:
    clock = Clock(jst(2026, 4, 1, 2, 31))
    calls: list[str] = []
    a = make(tmp_path, clock, lambda: calls.append("a") or {}, catch_up_hours=1)
    b = make(tmp_path, clock, lambda: calls.append("b") or {}, catch_up_hours=1)
    a.tick()
    b.tick()  # b started later, sees the slot done
    assert calls == ["a"]


def test_a_missed_slot_is_caught_up_within_the_window_only(tmp_path: Path) -> None:
    calls: list[int] = []
    clock = Clock(jst(2026, 4, 1, 5, 0))  # the server was down at 02:30
    make(tmp_path / "a", clock, lambda: calls.append(1) or {}, catch_up_hours=6).tick()
    assert calls == [1]
    make(tmp_path / "b", clock, lambda: calls.append(2) or {}, catch_up_hours=2).tick()
    assert calls == [1]


def test_contending_threads_run_a_slot_once(tmp_path: Path) -> None:
    clock = Clock(jst(2026, 4, 1, 2, 30, 5))
    calls: list[int] = []
    lock = threading.Lock()

    def job() -> dict:
        with lock:
            calls.append(1)
        time.sleep(0.2)
        return {}

    schedulers = [make(tmp_path, clock, job) for _ in range(8)]
    barrier = threading.Barrier(len(schedulers))

    def contend(s: Scheduler) -> None:
        barrier.wait(10)
        s.run_slot(slot_key(jst(2026, 4, 1, 2, 30)))

    threads = [threading.Thread(target=contend, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(calls) == 1
    assert len(ScheduleState(tmp_path).runs()) == 1


CONTENDER = """
import sys, time
from datetime import timedelta
from madoguchi.ingest.schedule import ScheduleConfig, Scheduler, ScheduleState, parse_schedule
state_dir, marks, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
def job():
    with open(marks, "a") as f:
        f.write("ran\\n")
    time.sleep(0.5)
    return {}
conf = ScheduleConfig(parse_schedule("daily 02:30"), timedelta(0))
s = Scheduler(conf, ScheduleState(state_dir), job)
while time.time() < start:
    time.sleep(0.005)
print(s.run_slot("2026-03-31T17:30+00:00") is not None)
"""


def test_two_processes_contending_for_the_lease_run_the_slot_once(tmp_path: Path) -> None:
    import os

    ScheduleState(tmp_path)  # created before, as a running server would have it
    marks = tmp_path / "marks.txt"
    start = time.time() + 3.0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, str(tmp_path), str(marks), str(start)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(outs) == ["False", "True"]
    assert marks.read_text() == "ran\n"


def test_a_failure_is_recorded_and_counted(tmp_path: Path) -> None:
    clock = Clock(jst(2026, 4, 1, 2, 30, 5))

    def job() -> dict:
        raise OSError("the web server did not answer")

    s = make(tmp_path, clock, job)
    s.tick()
    status = s.state.status()
    assert status["last_run"]["ok"] is False
    assert "did not answer" in status["last_run"]["error"]
    assert status["failures_total"] == 1 and status["last_success"] is None
    assert status["running"] is None  # the lease was let go


def test_a_lease_held_by_a_live_holder_blocks_until_it_expires(tmp_path: Path) -> None:
    state = ScheduleState(tmp_path)
    assert state.try_lease("sync", "A", "slot", now=1000.0, ttl=300)
    assert not state.try_lease("sync", "B", "slot", now=1100.0, ttl=300)
    assert state.try_lease("sync", "A", "slot", now=1100.0, ttl=300)  # its holder renews
    assert state.renew("sync", "A", now=1200.0, ttl=300)
    assert not state.try_lease("sync", "B", "slot", now=1450.0, ttl=300)
    assert state.try_lease("sync", "B", "slot", now=1501.0, ttl=300)  # A died: expired
    assert not state.renew("sync", "A", now=1502.0, ttl=300)


def test_run_forever_stops_and_waits_with_the_injected_wait(tmp_path: Path) -> None:
    clock = Clock(jst(2026, 4, 1, 2, 0))
    waits: list[float] = []
    calls: list[int] = []

    def wait(seconds: float) -> bool:  # time passes only here
        waits.append(seconds)
        clock.t += timedelta(seconds=seconds)
        return clock.t > jst(2026, 4, 1, 3, 0)

    s = make(tmp_path, clock, lambda: calls.append(1) or {}, wait=wait)
    s.run_forever()
    assert calls == [1]
    assert max(waits) <= 60.0


def test_many_missed_slots_are_caught_up_by_one_run(tmp_path: Path) -> None:
    """Down from 01:00 to 05:00 with every 30m: one run (05:00's), not eight in a row."""
    conf = ScheduleConfig(parse_schedule("every 30m"), timedelta(hours=6))
    clock = Clock(jst(2026, 4, 1, 5, 0, 30))
    calls: list[datetime] = []
    s = Scheduler(conf, ScheduleState(tmp_path), lambda: calls.append(clock()) or {}, clock=clock)
    assert s.tick() == jst(2026, 4, 1, 5, 30)
    assert len(calls) == 1
    assert [r.slot for r in s.state.runs()] == [slot_key(jst(2026, 4, 1, 5, 0))]
    # another process starting a minute later does not run an earlier missed slot
    clock.t = jst(2026, 4, 1, 5, 1)
    other = Scheduler(
        conf, ScheduleState(tmp_path), lambda: calls.append(clock()) or {}, clock=clock
    )
    other.tick()
    assert len(calls) == 1
