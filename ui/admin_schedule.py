"""The admin screen's 定期更新 (scheduled sync) tab: when the town's sync runs next, how
its last runs went, and how many failed, read from ``<data_dir>/schedule.sqlite``
(``ingest/schedule.py``) whoever ran them (``serve --schedule``, a systemd timer).

``schedule_status`` and ``schedule_view`` are plain Python, tested directly;
``schedule_tab`` only wires them to Gradio widgets, and refreshes on opening the screen
and on its button.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.kit.config import Settings

#: times are shown in the schedule's timezone (Asia/Tokyo unless town.toml says otherwise)
COLUMNS = ["時刻枠", "開始", "結果", "秒", "内容"]


def schedule_status(data_dir: Path | str, now: float | None = None) -> dict[str, Any]:
    """``ScheduleState.status`` of the data directory, or the same keys, empty, when no
    scheduled sync has run there."""
    from madoguchi.ingest.schedule import JOB, existing_state

    state = existing_state(data_dir)
    if state is not None:
        return state.status(JOB, now)
    return {
        "job": JOB,
        "schedule": None,
        "timezone": None,
        "config": None,
        "next_run": None,
        "running": None,
        "last_run": None,
        "last_success": None,
        "last_failure": None,
        "runs_total": 0,
        "failures_total": 0,
        "recent": [],
    }


@dataclass(frozen=True)
class ScheduleView:
    summary: str  # Markdown
    rows: list[list[Any]]  # COLUMNS
    failed: bool  # the last run failed


def _local(iso: str | None, tz: str | None) -> str:
    """An ISO time of the state file as staff read it: in the schedule's timezone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not iso:
        return "—"
    manual = iso.startswith("manual:")
    try:
        t = datetime.fromisoformat(iso.removeprefix("manual:"))
        shown = t.astimezone(ZoneInfo(tz or "Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso
    return f"手動 (manual) {shown}" if manual else shown


def _report_text(run: dict[str, Any]) -> str:
    if run.get("error"):
        return str(run["error"])
    rep = run.get("report") or {}
    parts = [
        f"{label} {rep[k]}"
        for k, label in (
            ("added", "追加"),
            ("updated", "更新"),
            ("removed", "削除"),
            ("skipped", "スキップ"),
        )
        if k in rep
    ]
    return "、".join(parts)


def schedule_view(data_dir: Path | str, now: float | None = None) -> ScheduleView:
    """What the tab shows: a summary, and the last runs newest first."""
    st = schedule_status(data_dir, time.time() if now is None else now)
    if st["schedule"] is None and not st["recent"]:
        return ScheduleView(
            "定期更新はまだ動いていません (no scheduled sync has run).\n\n"
            'town.toml に `[schedule]` と `sync = "daily 02:30"` を書き、'
            "`madoguchi serve --schedule town.toml` で起動するか、"
            "`madoguchi schedule systemd town.toml --out DIR` で systemd タイマーを作ってください。"
            " (docs/OPERATIONS.md)",
            [],
            False,
        )
    last = st["last_run"]
    failed = bool(last and last["ok"] is False)
    tz = st["timezone"]
    lines = [
        f"**予定 (schedule):** `{st['schedule']}` ({tz}) — {st['config']}",
        f"**次回 (next run):** {_local(st['next_run'], tz)}",
        f"**最後の成功 (last success):** "
        f"{_local(st['last_success'], tz) if st['last_success'] else 'なし (none)'}",
        f"**実行 (runs):** {st['runs_total']} 回、**失敗 (failures):** {st['failures_total']} 回",
    ]
    if st["running"]:
        lines.append(f"**実行中 (running):** {st['running']['holder']}")
    if failed:
        lines.append(
            f"\n⚠️ **前回の定期更新は失敗しました (the last run failed):** {last['error']}"
            "\n\n対処: town.toml と取得先を確かめ、`madoguchi schedule run --now town.toml`"
            " で試してください (check the sync file and its sites, then run one by hand)."
        )
    rows = [
        [
            _local(r["slot"], tz),
            _local(r["started"], tz),
            "成功" if r["ok"] else "失敗" if r["ok"] is False else "実行中",
            r["seconds"],
            _report_text(r),
        ]
        for r in st["recent"]
    ]
    return ScheduleView("\n\n".join(lines), rows, failed)


def schedule_tab(settings: Settings, blocks: Any) -> None:
    """The 定期更新 tab inside ``blocks`` (call it within its ``with``), refreshed on load."""
    import gradio as gr

    def refresh() -> tuple[str, Any]:
        view = schedule_view(settings.data_dir)
        return view.summary, gr.update(value=view.rows)

    with gr.Tab("定期更新"):
        summary = gr.Markdown()
        runs = gr.Dataframe(headers=COLUMNS, label="直近の実行", interactive=False, wrap=True)
        button = gr.Button("再読み込み")
        button.click(refresh, None, [summary, runs])
    blocks.load(refresh, None, [summary, runs])
