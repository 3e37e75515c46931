"""``madoguchi doctor``: each check finds what it is for, says what to do, and an error
makes the exit code 1; ``--repair`` mends missing vectors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from madoguchi.ingest.backup import LAST_BACKUP, backup
from madoguchi.ingest.doctor import (
    GB,
    check_backup,
    check_disk,
    check_embedder,
    check_index_health,
    check_log,
    check_schedule,
    check_settings,
    diagnose,
)
from madoguchi.ingest.schedule import JOB, ScheduleState
from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.ui.cli import app

FAQ = (
    "ID,質問,回答,所管部署,電話番号\n"
    "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課,0120-000-111\n"
    "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。手数料は300円です。,住民課,0120-000-222\n"
)
DAY = 86400.0


def town(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", embedder={"kind": "fake", "dim": 64})
    faq = tmp_path / "faq.csv"
    faq.write_text(FAQ, encoding="utf-8")
    svc = build_services(settings)
    svc.ingest([str(faq)])
    svc.close()
    return settings


def by_name(diagnosis) -> dict[str, object]:
    return {c.name: c for c in diagnosis.checks}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__DIM", "64")
    monkeypatch.setenv("MADOGUCHI_INGEST__OCR", "false")
    return town(tmp_path)


def test_a_healthy_town_is_all_ok_and_exits_0(env, tmp_path):
    backup(env, tmp_path / "bk")
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    for title in (
        "設定",
        "ディスクの空き",
        "索引の整合性",
        "埋め込みモデル",
        "会話ログ",
        "定期更新",
    ):
        assert any(ln.strip().startswith(f"OK {title}") for ln in lines), (title, r.output)
    assert "問題ありません" in r.output
    data = json.loads(CliRunner().invoke(app, ["doctor", "--json"]).output)
    assert data["status"] == "ok"
    assert {c["check"] for c in data["checks"]} == {
        "settings", "disk", "index", "embedder", "log", "schedule", "backup"
    }  # fmt: skip


def test_missing_vectors_are_an_error_and_repair_mends_them(env):
    from madoguchi.ingest.vectors import ChromaVectorIndex

    vectors = ChromaVectorIndex(env, "fake")
    ids = sorted(vectors.ids())
    vectors.delete(ids[:1])
    vectors.close()
    c = check_index_health(env)
    assert c.status == "error" and "passages 1" in c.detail and "--repair" in c.fix
    r = CliRunner().invoke(app, ["doctor", "--no-model"])
    assert r.exit_code == 1, r.output
    assert "エラー 索引の整合性" in r.output and "エラーがあります" in r.output
    r = CliRunner().invoke(app, ["doctor", "--repair", "--no-model"])
    assert r.exit_code == 0, r.output
    assert "修復しました (repaired): ベクトル 1 件を埋め込み" in r.output
    assert check_index_health(env).status == "ok"


def test_no_index_yet_is_a_warning(tmp_path):
    settings = Settings(data_dir=tmp_path / "none", embedder={"kind": "fake"})
    c = check_index_health(settings)
    assert c.status == "warning" and "madoguchi ingest" in c.fix


def test_disk_space_thresholds(env):
    def usage(free: float, total: float = 100 * GB):
        return lambda _path: SimpleNamespace(free=int(free), total=int(total), used=0)

    assert check_disk(env, usage(50 * GB)).status == "ok"
    low = check_disk(env, usage(3 * GB))
    assert low.status == "warning" and "バックアップ" in low.fix
    assert check_disk(env, usage(8 * GB, 1000 * GB)).status == "warning"  # under 10%
    full = check_disk(env, usage(0.5 * GB))
    assert full.status == "error" and "0.5 GB" not in full.detail and "空き 500 MB" in full.detail


def test_the_model_must_load_and_match_the_index(env, tmp_path):
    stored = check_index_health(env).data
    assert check_embedder(env, stored["embedder"], stored["dim"]).status == "ok"
    other = env.with_overrides(**{"embedder.dim": 32})
    c = check_embedder(other, stored["embedder"], stored["dim"])
    assert c.status == "error" and "64" in c.detail and "32" in c.detail
    broken = env.with_overrides(
        **{"embedder.kind": "sentence-transformers", "embedder.model_path": str(tmp_path / "x")}
    )
    c = check_embedder(broken, stored["embedder"], stored["dim"])
    assert c.status == "error" and "読み込めません" in c.detail


def test_invalid_settings_are_an_error_with_exit_1(env, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_SERVER__RETENTION_DAYS", "0")
    r = CliRunner().invoke(app, ["doctor"])
    assert r.exit_code == 1
    assert "エラー 設定" in r.output and "retention_days" in r.output


def test_a_short_admin_key_is_a_warning(env):
    c = check_settings(env.with_overrides(**{"server.admin_key": "short"}))
    assert c.status == "warning" and "16" in c.fix


def test_log_rows_past_retention_and_size(env):
    log = ConversationLog.in_data_dir(env.data_dir, retention_days=90)
    log.record(
        question="質問", lang="ja", answer="回答", citations=[], refused=False, mode="faq",
        confidence=0.9, latency_ms=1.0,
    )  # fmt: skip
    log.close()
    now = time.time()
    ok = check_log(env, now)
    assert ok.status == "ok" and ok.data["rows"] == 1
    # the same log read 100 days on: purging has not run
    late = check_log(env, now + 100 * DAY)
    assert late.status == "warning" and "保存期間を過ぎた" in late.detail
    assert "再起動" in late.fix


def test_schedule_failures_warn_then_error(env):
    state = ScheduleState(env.data_dir)
    now = time.time()

    def run(ok: bool, i: int) -> None:
        rid = state.start_run(JOB, f"slot{i}", "test", now + i)
        state.finish_run(
            rid, JOB, ok=ok, now=now + i, seconds=0.1, report={}, error=None if ok else "boom"
        )

    run(True, 0)
    assert check_schedule(env).status == "ok"
    run(False, 1)
    c = check_schedule(env)
    assert c.status == "warning" and "boom" in c.detail and "schedule run --once" in c.fix
    run(False, 2)
    run(False, 3)
    c = check_schedule(env)
    assert c.status == "error" and "3" in c.detail
    assert diagnose(env, embedder=False).exit_code == 1


def test_backup_age(env, tmp_path):
    c = check_backup(env)
    assert c.status == "warning" and "madoguchi backup" in c.fix
    backup(env, tmp_path / "bk")
    assert check_backup(env).status == "ok"
    assert check_backup(env, time.time() + 8 * DAY).status == "warning"
    (env.data_dir / LAST_BACKUP).write_text("{not json", encoding="utf-8")
    assert check_backup(env).status == "warning"


def test_each_town_of_a_shared_service_is_checked(tmp_path):
    from madoguchi.ingest.towns import Town, TownRegistry, add_town, town_settings
    from madoguchi.ingest.vectors import ChromaVectorIndex

    base = Settings(data_dir=tmp_path / "root", embedder={"kind": "fake", "dim": 64})
    reg = TownRegistry(base.data_dir)
    faq = tmp_path / "faq.csv"
    faq.write_text(FAQ, encoding="utf-8")
    for tid in ("kawabe", "yamanoue"):
        town, _ = add_town(reg, Town(id=tid, name=tid))
        svc = build_services(town_settings(base, town))
        svc.ingest([str(faq)])
        svc.close()
    d = diagnose(base, embedder=False)
    checks = by_name(d)
    assert checks["index"].status == "ok" and "町ごと" in checks["index"].detail
    assert checks["town:kawabe"].status == "ok" and "資料 2 件" in checks["town:kawabe"].detail
    # one town's vectors damaged: that town is the error, the other stays OK
    vectors = ChromaVectorIndex(town_settings(base, reg.get("yamanoue")), "fake")
    vectors.delete(sorted(vectors.ids())[:1])
    vectors.close()
    checks = by_name(diagnose(base, embedder=False))
    assert checks["town:yamanoue"].status == "error" and "--repair" in checks["town:yamanoue"].fix
    assert checks["town:kawabe"].status == "ok"
    mended = diagnose(base, embedder=False, fix=True)
    assert mended.repaired == {"orphans_removed": 0, "missing_embedded": 1}
    assert by_name(mended)["town:yamanoue"].status == "ok"
    (reg.path("kawabe") / "town.toml").write_text("id = 1\n", encoding="utf-8")
    checks = by_name(diagnose(base, embedder=False))
    assert checks["town:kawabe"].status == "error" and "town.toml" in checks["town:kawabe"].fix
