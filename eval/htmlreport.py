"""Self-contained HTML reports: inline CSS, plots as inline SVG, no external assets.

An evaluator opens the file from a USB stick on an office PC with no network,
so nothing is fetched: matplotlib draws each plot to SVG text (glyphs as
paths, so no font is needed to display them) and the page embeds it.

The page is in Japanese by default (``lang="ja"``: headings, metric names in plain
words such as 正しく答えた割合, table headers, why a question failed, a caption under
each plot), for the town's staff; ``lang="en"`` gives the English page. The plots are
in Japanese too when matplotlib finds a Japanese font on the machine drawing them
(``japanese_font``: Noto Sans CJK JP, which ``./run`` installs, or IPA, Yu, Hiragino);
without one they stay English and the caption says so. Questions and titles in the
tables stay in their own language.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import html
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from madoguchi.eval.dataset import source_matches
from madoguchi.eval.metrics import normalise
from madoguchi.eval.report import BY_LANG, COMPARE, LABELS, fmt
from madoguchi.eval.run import EvalRun, ItemResult, Sweep

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",
"IPAGothic","Yu Gothic",Meiryo,sans-serif;margin:0;padding:24px 32px;color:#1b1f24;
background:#fff;font-size:15px;line-height:1.5;max-width:1280px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid
#d0d7de;padding-bottom:4px} .meta{color:#57606a;font-size:13px;margin-bottom:12px}
table{border-collapse:collapse;margin:6px 0 14px;font-size:14px}
th,td{border:1px solid #d0d7de;padding:4px 9px;vertical-align:top;text-align:left}
th{background:#f3f5f7;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#eef8ee} .ci{color:#57606a;font-size:12px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0 6px}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:150px}
.kpi b{display:block;font-size:24px} .kpi span{color:#57606a;font-size:13px}
.plots{display:flex;flex-wrap:wrap;gap:18px} .plot{flex:1 1 480px;max-width:620px}
.plot svg{width:100%;height:auto} .why{color:#b42318;font-weight:600}
.ok{color:#1a7f37;font-weight:600} ol.ret{margin:0;padding-left:20px;font-size:13px}
.ans{font-size:13px;color:#33383e;max-width:380px} code{font-size:12px}
.note{color:#57606a;font-size:13px;max-width:900px}
"""


LANGS = ("ja", "en")
# the metric names of eval.report.LABELS, in words the town's staff use
LABELS_JA = {
    "hit@5": "上位 5 件に正しい資料 (hit@5)",
    "mrr": "正しい資料の順位 (MRR)",
    "recall@10": "上位 10 件に入った正しい資料の割合 (recall@10)",
    "ndcg@10": "並び順のよさ・段階評価 (nDCG@10)",
    "answer_accuracy": "正しく答えた割合",
    "answered_precision": "答えたうち正しかった割合",
    "coverage": "回答できた割合（答えられるはずの質問のうち）",
    "citation_precision": "示した出典が正しかった割合",
    "refusal_recall": "答えられない質問を断った割合",
    "refusal_precision": "断ったうち、本当に答えられない質問だった割合",
    "false_refusal_rate": "答えられるのに断った割合",
    "latency_p50_ms": "応答時間・中央値（ミリ秒）",
    "latency_p95_ms": "応答時間・95% の質問がこれ以内（ミリ秒）",
    "latency_p99_ms": "応答時間・99% の質問がこれ以内（ミリ秒）",
}
# every other English phrase of the page, in Japanese
JA = {
    "metric": "指標",
    "value": "値",
    "95% CI (bootstrap)": "95% 信頼区間（ブートストラップ）",
    "n": "件数",
    "lang": "言語",
    "id": "ID",
    "question": "質問",
    "expected": "正しい資料",
    "why it failed": "うまくいかなかった理由",
    "conf.": "確からしさ",
    "retrieved (top 5, ✓ = expected)": "検索された資料（上位 5 件、✓ = 正しい資料）",
    "answer": "回答",
    "No failed questions.": "うまくいかなかった質問はありません。",
    "Summary": "まとめ",
    "By language": "言語ごと",
    "Plots": "グラフ",
    "configuration": "設定",
    "name": "名前",
    "settings changed": "変えた設定",
    "(as configured)": "（設定どおり）",
    "Configurations": "比べた設定",
    "Abstention threshold": "回答を控えるしきい値",
    "threshold": "しきい値",
    "answer accuracy": "正しく答えた割合",
    "unanswerable refused": "答えられない質問を断った割合",
    "answerable falsely refused": "答えられるのに断った割合",
}
# eval.report.BY_LANG's column names
BY_LANG_JA = {
    "n": "件数",
    "hit@5": "上位 5 件に正しい資料",
    "answer_accuracy": "正しく答えた割合",
    "answered_precision": "答えたうち正しかった割合",
    "coverage": "回答できた割合",
    "false_refusal_rate": "答えられるのに断った割合",
    "refusal_recall": "答えられない質問を断った割合",
}


def _t(lang: str, text: str) -> str:
    return text if lang == "en" else JA[text]


def _label(lang: str, key: str) -> str:
    return LABELS[key] if lang == "en" else LABELS_JA[key]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def svg_of(fig: Any) -> str:
    """A matplotlib figure as inline ``<svg>`` text (no XML prolog, glyphs as paths)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text[text.index("<svg") :]


JAPANESE_FONTS = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "Yu Gothic", "Hiragino Sans",
                  "TakaoGothic")  # fmt: skip
# the plots' words in Japanese (the plot functions say them through ``_p``)
PLOT_JA = {
    "correct": "正しく答えた",
    "wrong": "間違えた",
    "unanswerable": "断るべき質問",
    "answer": "回答",
    "answerer confidence": "確からしさ",
    "questions": "質問の数",
    "Confidence: correct vs wrong vs unanswerable": "確からしさ: 正しく答えた・間違えた・断るべき質問",
    "latency per question (ms)": "1 問あたりの応答時間（ミリ秒）",
    "Latency": "応答時間",
    "Configurations side by side (whiskers: 95% bootstrap CI)": "設定ごとの値（ひげ: 95% 信頼区間）",
    "unanswerable questions refused": "答えられない質問を断った割合",
    "answer accuracy (answerable)": "正しく答えた割合",
    "Accuracy / refusal trade-off (dot: configured)": "正しさと断る割合（点: いまの設定）",
    "no unanswerable questions in the set": "断るべき質問がありません",
    "coverage (answerable questions answered)": "回答できた割合",
    "answered precision (answers that are right)": "答えたうち正しかった割合",
    "Precision / coverage (dot: configured)": "正しさと回答できた割合（点: いまの設定）",
    "configured": "いまの設定",
    "figures by abstention threshold": "しきい値ごとの値",
    "answer threshold (confidence below it: refuse)": "しきい値（確からしさがこれより低いと断る）",
}
_PLOT_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("plot_lang", default="en")


@functools.cache
def japanese_font() -> str | None:
    """The first Japanese font matplotlib can find here (None: the plots stay English)."""
    from matplotlib.font_manager import FontProperties, findfont

    for family in JAPANESE_FONTS:
        try:
            findfont(FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        return family
    return None


@contextlib.contextmanager
def plot_words(lang: str) -> Iterator[str]:
    """Plots drawn inside say their words in ``lang`` when a font for it exists; yields
    the language they are drawn in."""
    import matplotlib

    font = japanese_font() if lang == "ja" else None
    drawn = "ja" if font else "en"
    token = _PLOT_LANG.set(drawn)
    try:
        if font:
            with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"]}):
                yield drawn
        else:
            yield drawn
    finally:
        _PLOT_LANG.reset(token)


def _p(text: str) -> str:
    return PLOT_JA.get(text, text) if _PLOT_LANG.get() == "ja" else text


def _plabel(key: str) -> str:
    return _label(_PLOT_LANG.get(), key)


def _figure(width: float = 6.4, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("tight")
    return fig


# ---- plots -----------------------------------------------------------------------------


def outcome(r: ItemResult) -> str:
    """correct / wrong / unanswerable: the three groups of the confidence plot."""
    if not r.item.answerable:
        return "unanswerable"
    return "correct" if r.correct else "wrong"


def confidence_plot(results: Sequence[ItemResult], thresholds: Mapping[str, float]) -> str:
    """Histogram of the answerer's confidence for correct, wrong and unanswerable items."""
    fig = _figure()
    ax = fig.add_subplot()
    bins = [i / 20 for i in range(21)]
    colours = {"correct": "#2da44e", "wrong": "#cf222e", "unanswerable": "#8250df"}
    for name, colour in colours.items():
        vals = [min(max(r.confidence, 0.0), 1.0) for r in results if outcome(r) == name]
        if vals:
            ax.hist(vals, bins=bins, histtype="step", linewidth=2, color=colour,
                    label=f"{_p(name)} ({len(vals)})")  # fmt: skip
    for label, th in thresholds.items():
        ax.axvline(th, color="#57606a", linestyle="--", linewidth=1)
        ax.text(th, ax.get_ylim()[1] * 0.97, f" {_p(label)} {th:.2f}", fontsize=8, va="top")
    ax.set_xlim(0, 1)
    ax.set_xlabel(_p("answerer confidence"))
    ax.set_ylabel(_p("questions"))
    ax.set_title(_p("Confidence: correct vs wrong vs unanswerable"))
    ax.legend(fontsize=8, loc="upper left")
    return svg_of(fig)


def latency_plot(latencies: Sequence[float]) -> str:
    """Histogram of per-question latency with p50 / p95 / p99 marked."""
    import numpy as np

    fig = _figure()
    ax = fig.add_subplot()
    if latencies:
        arr = np.asarray(latencies, dtype=float)
        ax.hist(arr, bins=min(40, max(5, len(arr) // 4)), color="#0969da", alpha=0.8)
        for p, style in ((50, "-"), (95, "--"), (99, ":")):
            v = float(np.percentile(arr, p))
            ax.axvline(v, color="#1b1f24", linestyle=style, linewidth=1,
                       label=f"p{p} {v:.1f} ms")  # fmt: skip
        ax.legend(fontsize=8)
    ax.set_xlabel(_p("latency per question (ms)"))
    ax.set_ylabel(_p("questions"))
    ax.set_title(_p("Latency"))
    return svg_of(fig)


BAR_FIGURES = ("hit@5", "answer_accuracy", "refusal_recall", "false_refusal_rate")


def compare_plot(runs: Mapping[str, EvalRun]) -> str:
    """Grouped horizontal bars: one group per configuration, one bar per figure, with CIs."""
    fig = _figure(9.0, 1.4 + 0.85 * max(1, len(runs)))
    ax = fig.add_subplot()
    names = list(runs)
    colours = ("#0969da", "#2da44e", "#8250df", "#cf222e")
    h = 0.8 / len(BAR_FIGURES)
    for j, key in enumerate(BAR_FIGURES):
        ys: list[float] = []
        xs: list[float] = []
        errs: list[list[float]] = [[], []]
        for i, name in enumerate(names):
            f = runs[name].summary.figures[key]
            if f.value is None:
                continue
            ys.append(i + (j - 1.5) * h)
            xs.append(f.value)
            lo, hi = f.ci or (f.value, f.value)
            errs[0].append(max(f.value - lo, 0.0))
            errs[1].append(max(hi - f.value, 0.0))
        ax.barh(ys, xs, height=h, color=colours[j], label=_plabel(key), xerr=errs,
                error_kw={"elinewidth": 0.8, "capsize": 2})  # fmt: skip
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, frameon=False)
    ax.set_title(_p("Configurations side by side (whiskers: 95% bootstrap CI)"))
    return svg_of(fig)


def tradeoff_plot(sweeps: Mapping[str, Sweep]) -> str:
    """Left: answer accuracy against unanswerable refused, one curve per configuration, the
    configured threshold marked. Middle: answered precision against coverage, the curve a
    town picks its operating point on. Right: the first configuration's figures by
    threshold."""
    fig = _figure(16.5, 4.2)
    left, middle, right = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    _curves(left, sweeps, "refusal_recall", "answer_accuracy")
    left.set_xlabel(_p("unanswerable questions refused"))
    left.set_ylabel(_p("answer accuracy (answerable)"))
    left.set_title(_p("Accuracy / refusal trade-off (dot: configured)"))
    if not left.get_lines():
        left.text(0.5, 0.5, _p("no unanswerable questions in the set"), ha="center", va="center")
    _curves(middle, sweeps, "coverage", "answered_precision")
    middle.set_xlabel(_p("coverage (answerable questions answered)"))
    middle.set_ylabel(_p("answered precision (answers that are right)"))
    middle.set_title(_p("Precision / coverage (dot: configured)"))
    if sweeps:
        _by_threshold(right, *next(iter(sweeps.items())))
    return svg_of(fig)


def _curves(ax: Any, sweeps: Mapping[str, Sweep], x: str, y: str) -> None:
    """One curve of ``y`` against ``x`` per configuration, its configured point marked."""
    for name, sw in sweeps.items():
        pts = [p for p in sw.points if p.get(x) is not None and p.get(y) is not None]
        if not pts:
            continue
        (line,) = ax.plot([float(p[x] or 0.0) for p in pts], [float(p[y] or 0.0) for p in pts],
                          linewidth=1.5, label=name)  # fmt: skip
        at = sw.at(sw.configured)
        if at.get(x) is not None and at.get(y) is not None:
            ax.plot([at[x]], [at[y]], marker="o", markersize=8, color=line.get_color(),
                    markeredgecolor="#1b1f24")  # fmt: skip
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    if ax.get_lines():
        ax.legend(fontsize=8, loc="lower left")


def _by_threshold(ax: Any, name: str, sw: Sweep) -> None:
    ts = [float(p["threshold"] or 0.0) for p in sw.points]
    for key, colour in (
        ("answer_accuracy", "#2da44e"),
        ("answered_precision", "#0969da"),
        ("refusal_recall", "#8250df"),
        ("false_refusal_rate", "#cf222e"),
    ):
        vals = [p.get(key) for p in sw.points]
        if any(v is not None for v in vals):
            ax.plot(ts, [math.nan if v is None else v for v in vals], color=colour,
                    label=_plabel(key))  # fmt: skip
    ax.axvline(sw.configured, color="#1b1f24", linestyle="--", linewidth=1)
    ax.text(sw.configured, 1.0, f" {_p('configured')} {sw.configured:.2f}", fontsize=8, va="top")
    ax.set_title(f"{name}: {_p('figures by abstention threshold')}")
    ax.set_xlabel(_p("answer threshold (confidence below it: refuse)"))
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="center right")


# ---- tables ----------------------------------------------------------------------------


def _summary_table(run: EvalRun, lang: str = "en") -> str:
    s = run.summary
    rows = []
    for key in LABELS:
        f = s.figures.get(key)
        if f is None or f.n == 0:
            continue
        ci = f"{fmt(f.ci[0])} – {fmt(f.ci[1])}" if f.ci else ""
        rows.append(
            f"<tr><td>{_e(_label(lang, key))}</td><td class=num><b>{fmt(f.value, key)}</b></td>"
            f"<td class=num>{ci}</td><td class=num>{f.n}</td></tr>"
        )
    head = "".join(
        f"<th>{_e(_t(lang, h))}</th>" for h in ("metric", "value", "95% CI (bootstrap)", "n")
    )
    return f"<table><tr>{head}</tr>" + "".join(rows) + "</table>"


def _lang_table(run: EvalRun, lang: str = "en") -> str:
    head = "".join(
        f"<th>{_e(label if lang == 'en' else BY_LANG_JA[key])}</th>" for key, label in BY_LANG
    )
    rows = []
    for lang, row in run.summary.by_lang.items():
        cells = []
        for key, _ in BY_LANG:
            v = row.get(key)
            if key == "n":
                cells.append(f"<td class=num>{v}</td>")
                continue
            txt = fmt(v if isinstance(v, int | float) else None)
            ci = row.get("answer_accuracy_ci95") if key == "answer_accuracy" else None
            if ci:
                txt += f" <span class=ci>({fmt(ci[0])} – {fmt(ci[1])})</span>"
            cells.append(f"<td class=num>{txt}</td>")
        rows.append(f"<tr><td>{_e(lang)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>{_t(lang, 'lang')}</th>{head}</tr>{''.join(rows)}</table>"


def failure_reason(r: ItemResult, lang: str = "en") -> str:
    """Why an item counts as wrong, in the words an evaluator would use."""
    it = r.item
    ja = lang != "en"
    if not it.answerable:
        return "答えられない質問に答えた" if ja else "answered an unanswerable question"
    if r.error:
        return f"{'質問として受け付けられなかった' if ja else 'rejected as input'}: {r.error}"
    if r.refused:
        found = any(source_matches(e, s) for e in it.expected_sources for s in r.retrieved)
        if ja:
            return "回答を断った" + ("（正しい資料は検索されていた）" if found else "")
        return "refused" + (" (expected source was retrieved)" if found else "")
    if it.expected_sources and not any(
        source_matches(e, c) for e in it.expected_sources for c in r.cited
    ):
        found = any(source_matches(e, s) for e in it.expected_sources for s in r.retrieved)
        if ja:
            return "正しい資料を出典に示さなかった" + (
                "" if found else "（検索の上位 10 件にもなかった）"
            )
        return "expected source not cited" + ("" if found else " (nor retrieved in the top 10)")
    missing = [s for s in it.expected_answer_contains if normalise(s) not in normalise(r.answer)]
    return ("回答に入っていなかった語: " if ja else "answer lacks: ") + ", ".join(missing)


def _failed_table(results: Sequence[ItemResult], limit: int, lang: str = "en") -> str:
    failed = [r for r in results if not r.correct]
    failed.sort(key=lambda r: (not r.item.answerable, r.item.id))
    rows = []
    for r in failed[:limit]:
        ret = []
        for i, sid in enumerate(r.retrieved[:5]):
            title = r.retrieved_titles[i] if i < len(r.retrieved_titles) else ""
            good = any(source_matches(e, sid) for e in r.item.expected_sources)
            mark = "<span class=ok>✓</span> " if good else ""
            ret.append(f"<li>{mark}<code>{_e(sid)}</code> {_e(title[:60])}</li>")
        expected = "<br>".join(f"<code>{_e(s)}</code>" for s in r.item.expected_sources[:3])
        if len(r.item.expected_sources) > 3:
            expected += f"<br>(+{len(r.item.expected_sources) - 3})"
        answer = r.answer.strip().replace("\n", " ")
        answer = answer[:160] + ("…" if len(answer) > 160 else "")
        rows.append(
            f"<tr><td>{_e(r.item.id)}<br><span class=ci>{_e(r.item.lang)}</span></td>"
            f"<td>{_e(r.item.question)}</td><td>{expected or '—'}</td>"
            f"<td class=why>{_e(failure_reason(r, lang))}</td>"
            f"<td class=num>{r.confidence:.2f}<br><span class=ci>{_e(r.mode)}</span></td>"
            f"<td><ol class=ret>{''.join(ret)}</ol></td><td class=ans>{_e(answer)}</td></tr>"
        )
    rest = len(failed) - limit
    more = (
        (
            f"<p class=note>{rest} more failed questions are in the details file.</p>"
            if lang == "en"
            else f"<p class=note>ほかの {rest} 件は詳細ファイル（--details）にあります。</p>"
        )
        if rest > 0
        else ""
    )
    if not failed:
        return f"<p>{_t(lang, 'No failed questions.')}</p>"
    heads = ("id", "question", "expected", "why it failed", "conf.",
             "retrieved (top 5, ✓ = expected)", "answer")  # fmt: skip
    head = "".join(f"<th>{_e(_t(lang, h))}</th>" for h in heads)
    return f"<table><tr>{head}</tr>" + "".join(rows) + f"</table>{more}"


def _kpis(run: EvalRun, lang: str = "en") -> str:
    cards = []
    for key in ("answer_accuracy", "hit@5", "refusal_recall", "false_refusal_rate",
                "latency_p95_ms"):  # fmt: skip
        f = run.summary.figures.get(key)
        if f is None or f.value is None:
            continue
        ci = f" <span class=ci>({fmt(f.ci[0])} – {fmt(f.ci[1])})</span>" if f.ci else ""
        cards.append(
            f"<div class=kpi><b>{fmt(f.value, key)}</b>"
            f"<span>{_e(_label(lang, key))}{ci}</span></div>"
        )
    return f"<div class=kpis>{''.join(cards)}</div>"


def _page(title: str, meta: Mapping[str, str], body: str, lang: str = "en") -> str:
    meta_html = " · ".join(f"{_e(k)}: <b>{_e(v)}</b>" for k, v in meta.items())
    return (
        f"<!DOCTYPE html><html lang={'en' if lang == 'en' else 'ja'}><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><div class=meta>{meta_html}</div>{body}</body></html>\n"
    )


@dataclass
class RunPage:
    """What one ``eval run`` report shows."""

    title: str
    run: EvalRun
    meta: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)  # drawn on the confidence plot
    failed_limit: int = 200
    lang: str = "ja"  # or "en"


def _counts(s: Any, lang: str, errors: bool = True) -> str:
    if lang == "en":
        text = f"{s.n} questions: {s.n_answerable} answerable, {s.n_unanswerable} unanswerable"
        return text + (f", {s.n_errors} rejected as input" if errors and s.n_errors else "") + "."
    text = (
        f"質問 {s.n} 件: 答えられるはずの質問 {s.n_answerable} 件、"
        f"資料に答えがなく断るべき質問 {s.n_unanswerable} 件"
    )
    return (
        text
        + (f"、受け付けられなかった質問 {s.n_errors} 件" if errors and s.n_errors else "")
        + "。"
    )


RUN_NOTE = {
    "en": "answer accuracy: not refused, an expected source cited and the expected strings "
    "present (NFKC); unanswerable refused = refusal recall; refusal precision = share of "
    "refusals that were unanswerable questions.",
    "ja": "正しく答えた割合: 断らずに答え、正しい資料を出典に示し、回答に入るべき語が入っていた"
    "質問の割合（文字の幅や書き方の違いはそろえて比べます）。答えられない質問を断った割合: "
    "資料に答えのない質問で「お答えできません」と返せた割合。括弧の中の 2 つの数は、"
    "質問の選び方によるぶれの幅（95% 信頼区間）です。",
}
PLOT_CAPTIONS = {
    "en": "Left: the answerer's confidence for right answers, wrong answers and questions "
    "that should be refused; right: time per question.",
    "ja": "左: 確からしさの分布。緑 = 正しく答えた質問、赤 = 間違えた質問、"
    "紫 = 断るべき質問。点線がしきい値で、それより低いと回答を控えます。"
    "右: 1 問あたりの応答時間（ミリ秒）。p50 は中央値、p95 は 95% の質問がそれ以内。",
}


def _drawn_note(lang: str, drawn: str) -> str:
    if lang == drawn:
        return ""
    return (
        "（この PC に日本語のフォントがないため、グラフの文字は英語です: confidence = 確からしさ、"
        "accuracy = 正しく答えた割合、refused = 断った割合、precision = 答えたうち正しかった割合、"
        "coverage = 回答できた割合、latency = 応答時間）"
    )


def run_html(page: RunPage) -> str:
    """The report of one run: headline figures with CIs, per language, plots, failures."""
    run, lang = page.run, page.lang
    s = run.summary
    latencies = [r.latency_ms for r in run.results if r.error is None]
    n_failed = sum(1 for r in run.results if not r.correct)
    failed_head = (
        f"Failed questions ({n_failed})"
        if lang == "en"
        else f"うまくいかなかった質問（{n_failed} 件）"
    )
    with plot_words(lang) as drawn:
        plots = (confidence_plot(run.results, page.thresholds), latency_plot(latencies))
    body = (
        f"<p>{_e(_counts(s, lang))}</p>"
        + _kpis(run, lang)
        + f"<h2>{_t(lang, 'Summary')}</h2>"
        + _summary_table(run, lang)
        + f"<p class=note>{_e(RUN_NOTE[lang])}</p>"
        + f"<h2>{_t(lang, 'By language')}</h2>"
        + _lang_table(run, lang)
        + f"<h2>{_t(lang, 'Plots')}</h2><div class=plots>"
        + f"<div class=plot>{plots[0]}</div><div class=plot>{plots[1]}</div></div>"
        + f"<p class=note>{_e(PLOT_CAPTIONS[lang] + _drawn_note(lang, drawn))}</p>"
        + f"<h2>{_e(failed_head)}</h2>"
        + _failed_table(run.results, page.failed_limit, lang)
    )
    return _page(page.title, page.meta, body, lang)


def compare_table_html(runs: Mapping[str, EvalRun], lang: str = "en") -> str:
    """One row per configuration; a figure no configuration measured is left out."""
    keys = [k for k in COMPARE if any(r.summary[k] is not None for r in runs.values())]
    head = "".join(f"<th>{_e(_label(lang, k))}</th>" for k in keys)
    best: dict[str, float] = {}
    for key in ("hit@5", "answer_accuracy", "ndcg@10", "mrr", "recall@10"):
        vals = [r.summary[key] for r in runs.values() if r.summary[key] is not None]
        if vals:
            best[key] = max(v for v in vals if v is not None)
    rows = []
    for name, run in runs.items():
        cells = []
        for key in keys:
            f = run.summary.figures[key]
            txt = fmt(f.value, key)
            if f.value is not None and best.get(key) == f.value:
                txt = f"<b>{txt}</b>"
            if f.ci:
                txt += f"<br><span class=ci>{fmt(f.ci[0])} – {fmt(f.ci[1])}</span>"
            cells.append(f"<td class=num>{txt}</td>")
        rows.append(f"<tr><td>{_e(name)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>{_t(lang, 'configuration')}</th>{head}</tr>{''.join(rows)}</table>"


@dataclass
class ComparePage:
    title: str
    runs: dict[str, EvalRun]
    settings: dict[str, str]  # configuration name -> what it changes
    sweeps: dict[str, Sweep] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    lang: str = "ja"  # or "en"


SWEEP_NOTE = {
    "en": "Each curve is one configuration asked every question once with the answer "
    "threshold at 0; the answer at each threshold follows exactly (below it the answerer "
    "refuses, otherwise its answer does not depend on the threshold). The dot is the "
    "configured threshold.",
    "ja": "確からしさがしきい値より低い質問には答えず「お答えできません」と返します。"
    "しきい値を上げると間違いは減りますが、答えられるのに断る質問が増えます。"
    "曲線は設定ごとに、しきい値を 0 から 1 まで動かしたときの値で、点がいまの設定です。",
}
COMPARE_NOTE = {
    "en": "Results (95% bootstrap CI below each figure; best in bold)",
    "ja": "結果（各値の下は 95% 信頼区間、いちばんよい値は太字）",
}


def compare_html(page: ComparePage) -> str:
    """Configurations side by side: a table with CIs, a bar plot, the threshold sweep."""
    lang = page.lang
    first = next(iter(page.runs.values()), None)
    as_configured = _t(lang, "(as configured)")
    settings_rows = "".join(
        f"<tr><td>{_e(n)}</td><td><code>{_e(v) or as_configured}</code></td></tr>"
        for n, v in page.settings.items()
    )
    with plot_words(lang) as drawn:
        bars = compare_plot(page.runs)
        curves = tradeoff_plot(page.sweeps) if page.sweeps else ""
    body = ""
    if first is not None:
        body += f"<p>{_e(_counts(first.summary, lang, errors=False))}</p>"
    body += (
        f"<h2>{_t(lang, 'Configurations')}</h2><table><tr><th>{_t(lang, 'name')}</th>"
        f"<th>{_t(lang, 'settings changed')}</th></tr>"
        + settings_rows
        + f"</table><h2>{_e(COMPARE_NOTE[lang])}</h2>"
        + compare_table_html(page.runs, lang)
        + f"<div class=plot style='max-width:860px'>{bars}</div>"
    )
    if page.sweeps:
        body += (
            f"<h2>{_t(lang, 'Abstention threshold')}</h2>"
            f"<p class=note>{_e(SWEEP_NOTE[lang] + _drawn_note(lang, drawn))}</p>"
            + f"<div class=plot style='max-width:1200px'>{curves}</div>"
            + _sweep_table(page.sweeps, lang)
        )
    return _page(page.title, page.meta, body, lang)


def _sweep_table(sweeps: Mapping[str, Sweep], lang: str = "en") -> str:
    name, sw = next(iter(sweeps.items()))
    rows = []
    for p in sw.points[::5]:
        th = float(p["threshold"] or 0.0)
        cls = " class=best" if abs(th - sw.configured) < 0.025 else ""
        rows.append(
            f"<tr{cls}><td class=num>{th:.2f}</td>"
            + "".join(
                f"<td class=num>{fmt(p[k])}</td>"
                for k in ("answer_accuracy", "refusal_recall", "false_refusal_rate")
            )
            + "</tr>"
        )
    note = (
        f"{_e(name)} by threshold (configured {sw.configured:.2f} highlighted):"
        if lang == "en"
        else f"{_e(name)} のしきい値ごとの値（いまの設定 {sw.configured:.2f} の行に色）:"
    )
    heads = ("threshold", "answer accuracy", "unanswerable refused", "answerable falsely refused")
    head = "".join(f"<th>{_t(lang, h)}</th>" for h in heads)
    return f"<p class=note>{note}</p><table><tr>{head}</tr>" + "".join(rows) + "</table>"


def write_report(path: str | Path, html_text: str, markdown: str) -> Path:
    """Write the HTML report and its Markdown summary next to it (same name, ``.md``)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html_text, encoding="utf-8")
    md = p.with_suffix(".md")
    md.write_text(markdown, encoding="utf-8")
    return md
