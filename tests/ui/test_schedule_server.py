"""The scheduled sync as the server and the command run it: ``serve --schedule`` (a thread
of the app's lifespan, clock injected), ``madoguchi schedule run --once`` in two processes
at once, what ``/metrics``, the admin API and the admin tab's data show, and the systemd
units ``madoguchi schedule systemd`` writes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from madoguchi.ingest.doctor import check_schedule
from madoguchi.ingest.schedule import (
    JOB,
    Scheduler,
    ScheduleState,
    load_schedule,
    parse_schedule,
    slot_key,
    sync_job,
)
from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings
from madoguchi.kit.errors import ConfigError
from madoguchi.ui.admin_schedule import schedule_view
from madoguchi.ui.api import create_app
from madoguchi.ui.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
KEY = "k" * 24
DOG_Q = "犬の登録はどこでしますか？"
FAQ = (
    "ID,質問,回答,所管部署\n"
    f"1,{DOG_Q},生まれて90日を過ぎた犬は役場の環境衛生課で登録してください。,環境衛生課\n"
)


def jst(h: int, mi: int, s: int = 0) -> datetime:
    return datetime(2026, 4, 1, h, mi, s, tzinfo=UTC) - timedelta(hours=9)


class FakeTime:
    """The scheduler's clock and wait: each wait moves the clock on by what was asked,
    until ``end``; from there the wait blocks (really) until the scheduler is stopped."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.t = start
        self.end = end
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.t

    def wait(self, seconds: float) -> bool:
        with self.lock:
            if self.t < self.end:
                self.t += timedelta(seconds=seconds)
                return False
        return self.stop.wait(30)


def town(tmp_path: Path, spec: str = "daily 02:30", catch_up: float = 0) -> Path:
    (tmp_path / "faq.csv").write_text(FAQ, encoding="utf-8")
    toml = tmp_path / "town.toml"
    toml.write_text(
        f'[schedule]\nsync = "{spec}"\ncatch_up_hours = {catch_up}\n\n'
        f'[[sources]]\npath = "{(tmp_path / "faq.csv").as_posix()}"\n',
        encoding="utf-8",
    )
    return toml


def served(tmp_path: Path, toml: Path, fake: FakeTime):
    settings = Settings(
        data_dir=tmp_path / "data",
        embedder={"kind": "fake", "dim": 64},
        store={"kind": "memory"},
        server={"admin_key": KEY, "rate_limit_per_minute": 0, "daily_cap": 0},
    ).with_overrides(**{"answer.answer_threshold": 0.0})
    svc = build_services(settings)
    conf = load_schedule(toml)

    def make(app_services):
        sched = Scheduler(
            conf,
            ScheduleState(settings.data_dir),
            sync_job(app_services.index, toml, settings.web),
            config_path=toml,
            clock=fake,
            wait=fake.wait,
            holder="server",
        )
        fake.stop = sched._stop  # stop() wakes the blocked wait
        return sched

    return settings, create_app(settings, svc, admin=False, schedule=make)


def wait_for_runs(data_dir: Path, n: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (data_dir / "schedule.sqlite").is_file():
            runs = [r for r in ScheduleState(data_dir).runs(JOB) if r.finished is not None]
            if len(runs) >= n:
                return runs
        time.sleep(0.05)
    raise AssertionError(f"no {n} finished run(s) within {timeout} s")


def metric(text: str, name: str) -> float | None:
    m = re.search(rf'^{name}{{job="sync"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------------- serve --schedule


def test_the_server_runs_the_slot_on_time_once_and_shows_it(tmp_path):
    toml = town(tmp_path)
    fake = FakeTime(jst(2, 0), end=jst(2, 40))
    settings, app = served(tmp_path, toml, fake)
    with TestClient(app) as client:
        # nothing yet at 02:00: the question is refused, metrics have no schedule figures
        assert client.post("/api/v1/ask", json={"question": DOG_Q}).json()["refused"]
        (run,) = wait_for_runs(settings.data_dir, 1)
        assert run.ok and run.slot == slot_key(jst(2, 30)) and run.holder == "server"
        assert jst(2, 30).timestamp() <= run.started < jst(2, 31).timestamp()  # on time
        assert run.report["added"] == 1
        # the server answers from what its scheduled sync indexed
        data = client.post("/api/v1/ask", json={"question": DOG_Q}).json()
        assert not data["refused"] and data["citations"][0]["source"].endswith("faq.csv#1")
        text = client.get("/metrics").text
        assert metric(text, "madoguchi_schedule_runs_total") == 1
        assert metric(text, "madoguchi_schedule_failures_total") == 0
        assert metric(text, "madoguchi_schedule_last_run_ok") == 1
        last = metric(text, "madoguchi_schedule_last_success_timestamp_seconds")
        assert last is not None and abs(last - run.finished) < 1e-3
        nxt = metric(text, "madoguchi_schedule_next_run_timestamp_seconds")
        assert nxt == jst(2, 30).timestamp() + 86400  # tomorrow's 02:30
        # another process sharing the data directory, at the same moment, does not rerun it
        other_calls: list[int] = []
        other = Scheduler(
            load_schedule(toml),
            ScheduleState(settings.data_dir),
            lambda: other_calls.append(1) or {},
            clock=lambda: jst(2, 31),
            holder="timer",
        )
        other.tick()
        assert other_calls == []
        status = client.get("/api/v1/admin/schedule", headers={"X-API-Key": KEY}).json()
        assert status["runs_total"] == 1 and status["failures_total"] == 0
        assert status["last_run"]["slot"] == run.slot
        view = schedule_view(settings.data_dir)
        assert not view.failed and len(view.rows) == 1 and view.rows[0][2] == "成功"
        assert "追加 1" in view.rows[0][4] and "daily 02:30" in view.summary
        assert view.rows[0][0] == "2026-04-01 02:30"  # the slot in the town's time (JST)
        thread = app.state.scheduler.thread
    assert not thread.is_alive() and app.state.scheduler is None  # stopped with the app
    assert len(ScheduleState(settings.data_dir).runs(JOB)) == 1


def test_a_failed_scheduled_sync_shows_in_metrics_admin_and_doctor(tmp_path):
    toml = town(tmp_path)
    fake = FakeTime(jst(2, 29), end=jst(2, 35))
    settings, app = served(tmp_path, toml, fake)
    # the file is read again at each run: staff broke it after the server started
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[[sources]\n", encoding="utf-8")
    with TestClient(app) as client:
        (run,) = wait_for_runs(settings.data_dir, 1)
        assert run.ok is False and "not valid TOML" in run.error
        text = client.get("/metrics").text
        assert metric(text, "madoguchi_schedule_failures_total") == 1
        assert metric(text, "madoguchi_schedule_last_run_ok") == 0
        assert metric(text, "madoguchi_schedule_last_success_timestamp_seconds") is None
        status = client.get("/api/v1/admin/schedule", headers={"X-API-Key": KEY}).json()
        assert status["failures_total"] == 1 and "not valid TOML" in status["last_run"]["error"]
        assert client.get("/api/v1/admin/schedule").status_code == 401
    view = schedule_view(settings.data_dir)
    assert view.failed and "失敗" in view.summary and "not valid TOML" in view.summary
    assert view.rows[0][2] == "失敗" and "not valid TOML" in view.rows[0][4]
    assert check_schedule(settings).status == "warning"


def test_a_bad_schedule_stops_the_server_before_it_starts(tmp_path):
    toml = town(tmp_path, spec="daily 25:00")
    with pytest.raises(ConfigError, match="not a time of day"):
        create_app(Settings(data_dir=tmp_path / "d"), admin=False, schedule=toml)


def test_the_admin_tab_says_how_to_start_when_nothing_ran(tmp_path):
    view = schedule_view(tmp_path / "nothing")
    assert view.rows == [] and not view.failed and "serve --schedule" in view.summary


# ---------------------------------------------------------------- the command


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        MADOGUCHI_DATA_DIR=str(tmp_path / "data"),
        MADOGUCHI_EMBEDDER__KIND="fake",
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


def test_two_processes_running_once_together_run_a_slot_once(tmp_path):
    toml = town(tmp_path, spec="every 5m", catch_up=1)  # the last 5-minute slot is due now
    cmd = [sys.executable, "-m", "madoguchi.ui.cli", "schedule", "run", "--once", "--json"]
    procs = [
        subprocess.Popen(
            [*cmd, str(toml)],
            cwd=tmp_path,
            env=cli_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    ran = [json.loads(o) for o, _ in outs]
    runs = ScheduleState(tmp_path / "data").runs(JOB)
    slots = [r.slot for r in runs]
    assert runs and len(slots) == len(set(slots))  # no slot twice
    assert sum(len(r) for r in ran) == len(runs)  # each run reported by the one that ran it
    assert all(r.ok for r in runs)


def test_run_now_fails_with_exit_1_and_status_shows_it(tmp_path, monkeypatch):
    toml = town(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    runner = CliRunner()
    r = runner.invoke(cli_app, ["schedule", "run", "--now", str(toml)])
    assert r.exit_code == 0, r.output
    assert "成功" in r.output and "added 1" in r.output
    # nothing is due at this moment for "daily 02:30" with no catch-up (unless it is 02:30)
    if abs(
        datetime.now(UTC)
        - parse_schedule("daily 02:30").next_after(datetime.now(UTC) - timedelta(minutes=6))
    ) > timedelta(minutes=6):
        r = runner.invoke(cli_app, ["schedule", "run", "--once", str(toml)])
        assert r.exit_code == 0 and "nothing due" in r.output
    # the [schedule] still reads, but a source entry is wrong: the run fails
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[[sources]]\nbogus = 1\n")
    r = runner.invoke(cli_app, ["schedule", "run", "--now", str(toml)])
    assert r.exit_code == 1 and "失敗" in r.output and "bogus" in r.output
    r = runner.invoke(cli_app, ["schedule", "status"])
    assert r.exit_code == 0
    assert "実行 2 回, 失敗 1 回" in r.output and "daily 02:30" in r.output
    data = json.loads(runner.invoke(cli_app, ["schedule", "status", "--json"]).output)
    assert data["failures_total"] == 1 and data["last_run"]["ok"] is False


# ---------------------------------------------------------------- systemd


@pytest.mark.parametrize(
    ("spec", "after"),
    [
        ("daily 02:30", "2026-04-01 03:00:00 UTC"),
        ("weekly mon,thu 03:00", "2026-04-01 03:00:00 UTC"),
        ("every 6h", "2026-04-01 07:10:00 UTC"),
        ("0 4 1 * *", "2026-04-02 00:00:00 UTC"),
    ],
)
def test_systemd_units_fire_when_the_scheduler_would(tmp_path, monkeypatch, spec, after):
    toml = town(tmp_path, spec=spec)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "units"
    r = CliRunner().invoke(
        cli_app, ["schedule", "systemd", str(toml), "--out", str(out), "--user", "madoguchi"]
    )
    assert r.exit_code == 0, r.output
    service = (out / "madoguchi-sync.service").read_text(encoding="utf-8")
    timer = (out / "madoguchi-sync.timer").read_text(encoding="utf-8")
    assert "Type=oneshot" in service and "User=madoguchi" in service
    assert f"WorkingDirectory={tmp_path}" in service
    assert f"Environment=MADOGUCHI_DATA_DIR={tmp_path / 'data'}" in service
    exec_line = next(ln for ln in service.splitlines() if ln.startswith("ExecStart="))
    assert exec_line.endswith(f"schedule run --once {toml}") and exec_line[10:11] == "/"
    assert "sudo systemctl enable --now madoguchi-sync.timer" in service  # documented
    assert "Persistent=true" in timer and "WantedBy=timers.target" in timer
    calendars = [ln[11:] for ln in timer.splitlines() if ln.startswith("OnCalendar=")]
    assert calendars and all(c.endswith(" Asia/Tokyo") for c in calendars)
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units' syntax is not checked")
    check = subprocess.run(
        [analyze, "verify", str(out / "madoguchi-sync.timer"), str(out / "madoguchi-sync.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "madoguchi-sync" not in check.stderr, check.stderr  # no complaint about our units
    # systemd's next elapse of the timer's calendars is the scheduler's next slot
    base = datetime.strptime(after, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    expected = load_schedule(toml).schedule.next_after(base)
    elapses = []
    for cal in calendars:
        res = subprocess.run(
            [analyze, "calendar", f"--base-time={after}", cal],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "TZ": "UTC"},
        )
        m = re.search(r"Next elapse: \w+ (\S+ \S+) UTC", res.stdout)
        assert m, res.stdout + res.stderr
        elapses.append(datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC))
    assert min(elapses) == expected
