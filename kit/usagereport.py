"""The monthly 利用状況 report: one HTML page (Japanese, plots as inline SVG) and CSV files.

The page is opened from a shared folder or a USB stick on an office PC without a
network, so nothing is fetched: the plots are SVG drawn here (text as ``<text>``, so
the reader's own Japanese font shows it; no plotting library, no font needed when the
report is made) and the CSS is inline. The same plots are shown on the admin screen's
利用状況 tab.

Files written by ``write_report(report, folder)``:

| file | rows |
|---|---|
| ``report.html`` | the page |
| ``daily.csv`` | one per day: questions, answered / clarify / refused / handoff (counts and shares), 👍, 👎, p50, p95 |
| ``languages.csv`` | language, questions |
| ``topics.csv`` | cited source, title, answered questions |
| ``unanswered.csv`` | one per group: the most asked wording, unanswered, asked, share, languages, the other wordings |
| ``improvements.csv`` | one per FAQ or synonym action taken before the month ended: before and after |

CSV files are UTF-8 with a BOM (Excel opens them as such), cells a spreadsheet would
read as formulas quoted (``kit.convlog.spreadsheet_cell``); every question and comment
is masked once more (``kit.pii.mask_pii``).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madoguchi.kit.convlog import spreadsheet_cell
from madoguchi.kit.pii import mask_pii
from madoguchi.kit.usage import (
    JST,
    OUTCOME_LABELS,
    OUTCOMES,
    Period,
    PeriodStats,
    load_turns,
    series,
    stats,
)

if TYPE_CHECKING:
    from madoguchi.kit.convlog import ConversationLog
    from madoguchi.kit.improvements import Effect, Improvements

__all__ = ["Report", "build_report", "render_html", "write_report"]

COLOURS = {"answered": "#2da44e", "clarify": "#bf8700", "refused": "#cf222e", "handoff": "#57606a"}
LANG_NAMES = {
    "ja": "日本語", "ja-easy": "やさしい日本語", "en": "英語", "zh-Hans": "中国語（簡体）",
    "zh-Hant": "中国語（繁体）", "ko": "韓国語", "vi": "ベトナム語", "pt": "ポルトガル語",
    "es": "スペイン語", "tl": "タガログ語", "ne": "ネパール語", "id": "インドネシア語",
}  # fmt: skip
ACTION_LABELS = {"faq": "FAQ を追加", "synonym": "言い換えを追加", "out_of_scope": "対象外"}


@dataclass
class Report:
    """One period's figures with its days, the period before, and the improvement loop."""

    town: str
    month: PeriodStats
    days: list[PeriodStats]
    previous: PeriodStats
    effects: list[Effect] = field(default_factory=list)
    taken: dict[str, int] = field(default_factory=dict)
    made: float = 0.0


def build_report(
    log: ConversationLog,
    period: Period,
    *,
    improvements: Improvements | None = None,
    town: str = "",
    unanswered: int | None = None,
) -> Report:
    """Read the period (and the one before it) from the log and compute the report.
    ``unanswered``: how many groups to keep (None: all; the page shows the first 30,
    ``unanswered.csv`` holds every one kept)."""
    prev = period.previous()
    turns = load_turns(log, prev.start_ts, period.end_ts)
    oos = improvements.store.out_of_scope() if improvements is not None else []
    month = stats(turns, period, groups=unanswered, out_of_scope=oos)
    report = Report(
        town=town,
        month=month,
        days=series(turns, period, "day"),
        previous=stats(turns, prev, topics=0, groups=0),
        made=datetime.now(UTC).timestamp(),
    )
    if improvements is not None:
        report.effects = improvements.effects(turns, period)
        report.taken = dict(improvements.taken_in(period))
    return report


# ------------------------------------------------------------------ plots (SVG)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _m(text: object) -> str:
    """Masked (once more) and escaped: every resident's text goes through this."""
    return _e(mask_pii(str(text)))


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(title)}" '
        f'font-family="sans-serif" font-size="12">'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def _ticks(top: float) -> list[float]:
    """Round steps (1, 2, 5, 10, 20, 50 …) for an axis from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    step, k = 1.0, 0
    while top / step > 5:
        step *= (2, 2.5, 2)[k % 3]
        k += 1
    n = int(-(-top // step))
    return [i * step for i in range(n + 1)]


def daily_plot(days: Sequence[PeriodStats], title: str = "日別の質問数") -> str:
    """Stacked bars per day: answered, 聞き返し, refused, to staff."""
    w, h, left, bottom, top = 760, 260, 44, 34, 28
    n = max(1, len(days))
    peak = max((d.questions for d in days), default=0)
    ticks = _ticks(peak)
    scale = (h - top - bottom) / (ticks[-1] or 1)
    slot = (w - left - 10) / n
    body = [f'<text x="{left}" y="16" font-size="14" font-weight="600">{_e(title)}</text>']
    for t in ticks:
        y = h - bottom - t * scale
        body.append(
            f'<line x1="{left}" x2="{w - 6}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">{t:g}</text>'
        )
    for i, d in enumerate(days):
        x = left + i * slot + slot * 0.12
        y = h - bottom
        for name in OUTCOMES:
            v = d.outcomes[name]
            if not v:
                continue
            bh = v * scale
            y -= bh
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" height="{bh:.1f}" '
                f'fill="{COLOURS[name]}"><title>{_e(d.period.label)} {OUTCOME_LABELS[name]} '
                f"{v}</title></rect>"
            )
        if n <= 31 and (d.period.start.day == 1 or d.period.start.day % 5 == 0):
            body.append(
                f'<text x="{x + slot * 0.38:.1f}" y="{h - bottom + 16}" text-anchor="middle" '
                f'fill="#57606a">{d.period.start.day}</text>'
            )
    lx = w - 82 * len(OUTCOMES)
    for k, name in enumerate(OUTCOMES):
        body.append(
            f'<rect x="{lx + k * 82}" y="6" width="11" height="11" fill="{COLOURS[name]}"/>'
            f'<text x="{lx + k * 82 + 15}" y="16">{OUTCOME_LABELS[name]}</text>'
        )
    return _svg(w, h, body, title)


def _fit(text: str, width: float) -> str:
    """``text`` cut to about ``width`` full-width characters (half-width count 0.55)."""
    used = 0.0
    for i, ch in enumerate(text):
        used += 0.55 if ord(ch) < 0x2E80 or 0xFF61 <= ord(ch) <= 0xFF9F else 1.0
        if used > width:
            return text[: max(1, i - 1)] + "…"
    return text


def bar_plot(items: Sequence[tuple[str, int]], title: str, colour: str = "#0969da") -> str:
    """Horizontal bars, one per (label, count), in the given order."""
    rows = list(items)[:15]
    w, row_h, left = 760, 22, 260
    h = 30 + row_h * max(1, len(rows)) + 8
    peak = max((v for _, v in rows), default=0) or 1
    body = [f'<text x="4" y="16" font-size="14" font-weight="600">{_e(title)}</text>']
    for i, (label, v) in enumerate(rows):
        y = 28 + i * row_h
        shown = _fit(label, 19.0)
        bw = (w - left - 60) * v / peak
        body.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_m(shown)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{bw:.1f}" height="{row_h - 7}" fill="{colour}">'
            f"<title>{_m(label)}: {v}</title></rect>"
            f'<text x="{left + bw + 6:.1f}" y="{y + 14}" fill="#57606a">{v}</text>'
        )
    if not rows:
        body.append('<text x="4" y="44" fill="#57606a">（データなし）</text>')
    return _svg(w, h, body, title)


# ------------------------------------------------------------------ the page

CSS = """
body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP","Yu Gothic",Meiryo,sans-serif;
margin:0;padding:24px 32px;color:#1b1f24;max-width:1100px;line-height:1.55;font-size:15px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:19px;margin:28px 0 8px;
border-bottom:2px solid #d0d7de;padding-bottom:4px} .meta,.note{color:#57606a;font-size:13px}
table{border-collapse:collapse;margin:6px 0 14px;font-size:14px}
th,td{border:1px solid #d0d7de;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#f3f5f7} td.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:130px}
.kpi b{display:block;font-size:24px} .kpi span{color:#57606a;font-size:13px}
svg{max-width:100%;height:auto} .good{color:#1a7f37} .bad{color:#cf222e}
"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _delta(now: float, before: float, pct: bool = False) -> str:
    d = now - before
    if not before and not now:
        return ""
    shown = f"{100 * d:+.1f} ポイント" if pct else f"{d:+,.0f}"
    return f"前月比 {shown}"


def kpi_html(s: PeriodStats, prev: PeriodStats | None = None) -> str:
    p = prev if prev is not None and prev.questions else None  # no month before: no change
    cards = [
        ("質問数", f"{s.questions:,}", _delta(s.questions, p.questions) if p else ""),
        ("会話数", f"{s.conversations:,}", ""),
        (
            "回答",
            _pct(s.share("answered")),
            _delta(s.share("answered"), p.share("answered"), True) if p else "",
        ),
        ("聞き返し", _pct(s.share("clarify")), ""),
        (
            "回答できず",
            _pct(s.share("refused")),
            _delta(s.share("refused"), p.share("refused"), True) if p else "",
        ),
        ("職員へ", f"{s.outcomes['handoff']:,} 件", ""),
        ("役に立った 👍 / 立たなかった 👎", f"{s.thumbs_up} / {s.thumbs_down}", ""),
        ("応答時間 p50 / p95", f"{s.latency_p50:,.0f} / {s.latency_p95:,.0f} ms", ""),
    ]
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><span>{_e(k)}</span><b>{_e(v)}</b><span>{_e(d)}</span></div>'
            for k, v, d in cards
        )
        + "</div>"
    )


def plots_html(days: Sequence[PeriodStats], s: PeriodStats) -> str:
    langs = [(LANG_NAMES.get(k, k), v) for k, v in s.langs.most_common()]
    topics = [(t.title, t.count) for t in s.topics]
    return (
        f"<div>{daily_plot(days)}</div>"
        f"<div>{bar_plot(langs, '言語別の質問数', '#8250df')}</div>"
        f"<div>{bar_plot(topics, 'よく聞かれた話題（回答に使った資料）')}</div>"
    )


def unanswered_table(s: PeriodStats, limit: int = 30) -> str:
    if not s.unanswered:
        return '<p class="note">回答できなかった質問はありません。</p>'
    rows = []
    for i, g in enumerate(s.unanswered[:limit], 1):
        others = "、".join(q for q, _ in g.questions[1:6])
        more = f" ほか {len(g.questions) - 6} 件" if len(g.questions) > 6 else ""
        langs = "、".join(LANG_NAMES.get(k, k) for k, _ in g.langs.most_common())
        rows.append(
            f'<tr><td class="num">{i}</td><td>{_m(g.leader)}</td>'
            f'<td class="num">{g.count}</td><td class="num">{g.asked}</td>'
            f'<td class="num">{_pct(g.share)}</td><td>{_e(langs)}</td>'
            f"<td>{_m(others)}{_e(more)}</td></tr>"
        )
    return (
        "<table><tr><th>#</th><th>質問（最も多い言い方）</th><th>未回答</th><th>質問数</th>"
        "<th>未回答の割合</th><th>言語</th><th>ほかの言い方</th></tr>" + "".join(rows) + "</table>"
    )


def effects_html(report: Report) -> str:
    taken = report.taken
    counts = "、".join(f"{ACTION_LABELS[k]} {taken.get(k, 0)} 件" for k in ACTION_LABELS)
    parts = [f"<p>この期間に行った改善: {_e(counts)}。</p>"]
    if report.month.excluded:
        parts.append(
            f'<p class="note">対象外とした質問 {report.month.excluded} 件は未回答の一覧から'
            "除いています。</p>"
        )
    if not report.effects:
        parts.append('<p class="note">効果を比べる改善はまだありません。</p>')
        return "".join(parts)
    rows = []
    for ef in report.effects:
        r = ef.row()
        better = ef.after_share < ef.action.before_share
        cls = "good" if better else "bad" if ef.after_asked else ""
        rows.append(
            f"<tr><td>{_e(ACTION_LABELS.get(r['action'], r['action']))}</td>"
            f"<td>{_e(r['taken'])}</td><td>{_m(r['group'])}</td><td>{_e(r['detail'])}</td>"
            f'<td class="num">{r["before_unanswered"]} / {r["before_asked"]}'
            f" ({_pct(ef.action.before_share)})</td>"
            f'<td class="num {cls}">{r["after_unanswered"]} / {r["after_asked"]}'
            f" ({_pct(ef.after_share) if ef.after_asked else '—'})</td></tr>"
        )
    parts.append(
        "<table><tr><th>改善</th><th>実施日</th><th>対象の質問</th><th>内容</th>"
        "<th>改善前 未回答 / 質問数</th><th>この期間（改善後）</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return "".join(parts)


def render_html(report: Report) -> str:
    s = report.month
    p = s.period
    made = datetime.fromtimestamp(report.made, JST).strftime("%Y-%m-%d %H:%M")
    topics = "".join(
        f'<tr><td class="num">{i}</td><td>{_m(t.title)}</td><td><code>{_e(t.source)}</code></td>'
        f'<td class="num">{t.count}</td></tr>'
        for i, t in enumerate(s.topics, 1)
    )
    title = f"利用状況レポート {p.label_ja}" + (f" — {report.town}" if report.town else "")
    return (
        f'<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<div class="meta">期間 {p.start:%Y-%m-%d} 〜 {p.end:%Y-%m-%d}（日本時間、終わりの日は含まない）'
        f" ・ 作成 {made} ・ 質問は個人情報を伏せて記録・表示しています</div>"
        f"{kpi_html(s, report.previous)}"
        f"<h2>日別・言語別・話題別</h2>{plots_html(report.days, s)}"
        f"<h2>よく聞かれた話題</h2>"
        + (
            "<table><tr><th>#</th><th>見出し</th><th>出典</th><th>回答数</th></tr>"
            + topics
            + "</table>"
            if topics
            else '<p class="note">回答した質問はありません。</p>'
        )
        + "<h2>回答できなかった質問（似た質問をまとめたもの）</h2>"
        '<p class="note">回答できなかった質問と 👎 の付いた質問です。管理画面の「利用状況」から'
        "FAQ の追加・言い換えの追加・対象外にできます。</p>"
        f"{unanswered_table(s)}"
        f"<h2>改善の効果</h2>{effects_html(report)}"
        "</body></html>"
    )


# ------------------------------------------------------------------ CSV


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow(
            {k: spreadsheet_cell(mask_pii(v) if isinstance(v, str) else v) for k, v in r.items()}
        )
    return "\ufeff" + buf.getvalue()


def csv_files(report: Report) -> dict[str, str]:
    s = report.month
    days = [d.row() for d in report.days]
    groups = [
        {
            "question": g.leader,
            "unanswered": g.count,
            "asked": g.asked,
            "share": round(g.share, 4),
            "refused": g.refused,
            "not_helpful": g.not_helpful,
            "langs": ",".join(k for k, _ in g.langs.most_common()),
            "other_wordings": " / ".join(q for q, _ in g.questions[1:]),
            "key": g.key,
        }
        for g in s.unanswered
    ]
    effects = [e.row() for e in report.effects]
    effect_cols = [
        "action", "taken", "group", "found_in", "before_asked", "before_unanswered",
        "before_share", "after_asked", "after_unanswered", "after_share", "detail",
    ]  # fmt: skip
    return {
        "daily.csv": _csv(days, list(days[0]) if days else ["period"]),
        "languages.csv": _csv(
            [{"lang": k, "questions": v} for k, v in s.langs.most_common()], ["lang", "questions"]
        ),
        "topics.csv": _csv(
            [{"source": t.source, "title": t.title, "answered": t.count} for t in s.topics],
            ["source", "title", "answered"],
        ),
        "unanswered.csv": _csv(
            groups,
            [
                "question",
                "unanswered",
                "asked",
                "share",
                "refused",
                "not_helpful",
                "langs",
                "other_wordings",
                "key",
            ],
        ),
        "improvements.csv": _csv(effects, effect_cols),
    }


def write_report(report: Report, folder: Path) -> list[Path]:
    """Write ``report.html`` and the CSV files into ``folder``; the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    files = {"report.html": render_html(report), **csv_files(report)}
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written
