"""``madoguchi stats``: 利用状況 (usage statistics) from the conversation log.

``stats show`` prints a table per day, week or month; ``stats report`` writes the
monthly report (HTML with plots, and CSV files) into a folder. Both read
``<data_dir>/conversations.sqlite`` and the improvement actions taken on the admin
screen (``<data_dir>/improvements.jsonl``); neither needs the index or a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from madoguchi.ui.cli.options import ConfigOpt, SetOpt, out

if TYPE_CHECKING:
    from madoguchi.kit.config import Settings
    from madoguchi.kit.convlog import ConversationLog

stats_app = typer.Typer(
    help="利用状況 (usage statistics) from the conversation log: tables and the monthly report.",
    no_args_is_help=True,
)

DEFAULT_SPAN = {"day": 14, "week": 8, "month": 6}


def register(app: typer.Typer) -> None:
    app.add_typer(stats_app, name="stats")


def _open_log(settings: Settings) -> ConversationLog:
    from madoguchi.kit.convlog import FILENAME, ConversationLog
    from madoguchi.kit.errors import InputError

    path = Path(settings.data_dir) / FILENAME
    if not path.exists():
        raise InputError(
            f"会話ログがまだありません ({path}): 'madoguchi serve' が記録します"
            " (no conversation log yet)"
        )
    return ConversationLog(path, settings.server.retention_days)


@stats_app.command("show")
def stats_show(
    period: Annotated[
        str, typer.Option("--period", help="day, week or month: one row per period.")
    ] = "day",
    month: Annotated[
        str | None,
        typer.Option("--month", help="Only this month (YYYY-MM); default: the latest periods."),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option(help="How many periods up to today (default 14 days, 8 weeks, 6 months)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """A table of questions, answered / 聞き返し / refused shares, messages to staff, 👍 👎
    and response times.

    利用状況の表: 期間ごとの質問数、回答・聞き返し・回答できずの割合、👍 👎、応答時間。
    """
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.errors import InputError
    from madoguchi.kit.usage import KINDS, Period, load_turns, now_period, stats

    if period not in KINDS:
        raise InputError(f"--period は day / week / month のどれかです (got {period!r})")
    if last is not None and not 1 <= last <= 400:
        raise InputError(f"--last は 1〜400 です (got {last})")
    settings = load_settings(set_, config)
    if month:
        span = Period.month(month)
        periods = [span] if period == "month" else span.split(period)
    else:
        p = now_period(period)
        periods = [p]
        for _ in range((last or DEFAULT_SPAN[period]) - 1):
            periods.insert(0, periods[0].previous())
    log = _open_log(settings)
    try:
        turns = load_turns(log, periods[0].start_ts, periods[-1].end_ts)
    finally:
        log.close()
    rows = [stats(turns, p, topics=0, groups=0).row() for p in periods]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    # messages to staff (hand-off) get a column only where there are some: a town
    # without hand-off keeps a table that fits an 80-column terminal
    handoff = any(r["handoff"] for r in rows)
    t = Table(title=f"利用状況 (usage) — {period}; 応答時間 ms", box=box.SIMPLE_HEAD)
    heads = ["期間", "質問", "回答", "聞き返し", "回答できず", *(["職員へ"] if handoff else []),
             "👍", "👎", "p50", "p95"]  # fmt: skip
    for i, h in enumerate(heads):
        t.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)
    for r in rows:
        n = r["questions"]
        t.add_row(
            r["period"],
            f"{n:,}",
            *(
                f"{100 * r[k]:.1f}%" if n else "—"
                for k in ("answered_share", "clarify_share", "refused_share")
            ),
            *([str(r["handoff"])] if handoff else []),
            str(r["thumbs_up"]),
            str(r["thumbs_down"]),
            f"{r['latency_p50_ms']:,.0f}" if n else "—",
            f"{r['latency_p95_ms']:,.0f}" if n else "—",
        )
    out.print(t)


@stats_app.command("report")
def stats_report(
    month: Annotated[str, typer.Option("--month", help="The month to report (YYYY-MM).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="The folder to write report.html and the CSV files to.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the month's figures as JSON.")
    ] = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Write the monthly report: report.html (Japanese, plots inline) and CSV files.

    月次の利用状況レポート: report.html（グラフ入り）と CSV を書き出します。
    """
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.improvements import Improvements, ImprovementStore
    from madoguchi.kit.usage import Period
    from madoguchi.kit.usagereport import build_report, write_report

    period = Period.month(month)
    settings = load_settings(set_, config)
    log = _open_log(settings)
    try:
        improvements = Improvements(ImprovementStore.in_data_dir(settings.data_dir))
        report = build_report(log, period, improvements=improvements, town=settings.widget.town)
    finally:
        log.close()
    paths = write_report(report, out_dir)
    if as_json:
        print(json.dumps(report.month.to_json(), ensure_ascii=False, indent=2))
        return
    s = report.month
    out.print(
        f"{period.label_ja}: 質問 {s.questions:,} 件、回答 {100 * s.share('answered'):.1f}%、"
        f"聞き返し {100 * s.share('clarify'):.1f}%、回答できず {100 * s.share('refused'):.1f}%"
    )
    for p in paths:
        out.print(f"  {p}")
