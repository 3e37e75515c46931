"""Self-contained HTML reports: inline CSS, plots as inline SVG, no external assets.

An evaluator opens the file from a USB stick on an office PC with no network,
so nothing is fetched: matplotlib draws each plot to SVG text (glyphs as
paths, so no font is needed to display them) and the page embeds it. Plot
labels are English; questions and titles in the tables stay in their own
language.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Mapping, Sequence
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


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def svg_of(fig: Any) -> str:
    """A matplotlib figure as inline ``<svg>`` text (no XML prolog, glyphs as paths)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text[text.index("<svg") :]


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
                    label=f"{name} ({len(vals)})")  # fmt: skip
    for label, th in thresholds.items():
        ax.axvline(th, color="#57606a", linestyle="--", linewidth=1)
        ax.text(th, ax.get_ylim()[1] * 0.97, f" {label} {th:.2f}", fontsize=8, va="top")
    ax.set_xlim(0, 1)
    ax.set_xlabel("answerer confidence")
    ax.set_ylabel("questions")
    ax.set_title("Confidence: correct vs wrong vs unanswerable")
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
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
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
        ax.barh(ys, xs, height=h, color=colours[j], label=LABELS[key], xerr=errs,
                error_kw={"elinewidth": 0.8, "capsize": 2})  # fmt: skip
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, frameon=False)
    ax.set_title("Configurations side by side (whiskers: 95% bootstrap CI)")
    return svg_of(fig)


def tradeoff_plot(sweeps: Mapping[str, Sweep]) -> str:
    """Left: answer accuracy against unanswerable refused, one curve per configuration, the
    configured threshold marked. Middle: answered precision against coverage, the curve a
    town picks its operating point on. Right: the first configuration's figures by
    threshold."""
    fig = _figure(16.5, 4.2)
    left, middle, right = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    _curves(left, sweeps, "refusal_recall", "answer_accuracy")
    left.set_xlabel("unanswerable questions refused")
    left.set_ylabel("answer accuracy (answerable)")
    left.set_title("Accuracy / refusal trade-off (dot: configured)")
    if not left.get_lines():
        left.text(0.5, 0.5, "no unanswerable questions in the set", ha="center", va="center")
    _curves(middle, sweeps, "coverage", "answered_precision")
    middle.set_xlabel("coverage (answerable questions answered)")
    middle.set_ylabel("answered precision (answers that are right)")
    middle.set_title("Precision / coverage (dot: configured)")
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
                    label=LABELS[key])  # fmt: skip
    ax.axvline(sw.configured, color="#1b1f24", linestyle="--", linewidth=1)
    ax.text(sw.configured, 1.0, f" configured {sw.configured:.2f}", fontsize=8, va="top")
    ax.set_title(f"{name}: figures by abstention threshold")
    ax.set_xlabel("answer threshold (confidence below it: refuse)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="center right")


# ---- tables ----------------------------------------------------------------------------


def _summary_table(run: EvalRun) -> str:
    s = run.summary
    rows = []
    for key, label in LABELS.items():
        f = s.figures.get(key)
        if f is None or f.n == 0:
            continue
        ci = f"{fmt(f.ci[0])} – {fmt(f.ci[1])}" if f.ci else ""
        rows.append(
            f"<tr><td>{_e(label)}</td><td class=num><b>{fmt(f.value, key)}</b></td>"
            f"<td class=num>{ci}</td><td class=num>{f.n}</td></tr>"
        )
    return (
        "<table><tr><th>metric</th><th>value</th><th>95% CI (bootstrap)</th><th>n</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _lang_table(run: EvalRun) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for _, label in BY_LANG)
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
    return f"<table><tr><th>lang</th>{head}</tr>{''.join(rows)}</table>"


def failure_reason(r: ItemResult) -> str:
    """Why an item counts as wrong, in the words an evaluator would use."""
    it = r.item
    if not it.answerable:
        return "answered an unanswerable question"
    if r.error:
        return f"rejected as input: {r.error}"
    if r.refused:
        found = any(source_matches(e, s) for e in it.expected_sources for s in r.retrieved)
        return "refused" + (" (expected source was retrieved)" if found else "")
    if it.expected_sources and not any(
        source_matches(e, c) for e in it.expected_sources for c in r.cited
    ):
        found = any(source_matches(e, s) for e in it.expected_sources for s in r.retrieved)
        return "expected source not cited" + ("" if found else " (nor retrieved in the top 10)")
    missing = [s for s in it.expected_answer_contains if normalise(s) not in normalise(r.answer)]
    return "answer lacks: " + ", ".join(missing)


def _failed_table(results: Sequence[ItemResult], limit: int) -> str:
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
            f"<td class=why>{_e(failure_reason(r))}</td>"
            f"<td class=num>{r.confidence:.2f}<br><span class=ci>{_e(r.mode)}</span></td>"
            f"<td><ol class=ret>{''.join(ret)}</ol></td><td class=ans>{_e(answer)}</td></tr>"
        )
    more = (
        f"<p class=note>{len(failed) - limit} more failed questions are in the details file.</p>"
        if len(failed) > limit
        else ""
    )
    if not failed:
        return "<p>No failed questions.</p>"
    return (
        "<table><tr><th>id</th><th>question</th><th>expected</th><th>why it failed</th>"
        "<th>conf.</th><th>retrieved (top 5, ✓ = expected)</th><th>answer</th></tr>"
        + "".join(rows)
        + f"</table>{more}"
    )


def _kpis(run: EvalRun) -> str:
    cards = []
    for key in ("answer_accuracy", "hit@5", "refusal_recall", "false_refusal_rate",
                "latency_p95_ms"):  # fmt: skip
        f = run.summary.figures.get(key)
        if f is None or f.value is None:
            continue
        ci = f" <span class=ci>({fmt(f.ci[0])} – {fmt(f.ci[1])})</span>" if f.ci else ""
        cards.append(
            f"<div class=kpi><b>{fmt(f.value, key)}</b><span>{_e(LABELS[key])}{ci}</span></div>"
        )
    return f"<div class=kpis>{''.join(cards)}</div>"


def _page(title: str, meta: Mapping[str, str], body: str) -> str:
    meta_html = " · ".join(f"{_e(k)}: <b>{_e(v)}</b>" for k, v in meta.items())
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
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


def run_html(page: RunPage) -> str:
    """The report of one run: headline figures with CIs, per language, plots, failures."""
    run = page.run
    s = run.summary
    latencies = [r.latency_ms for r in run.results if r.error is None]
    n_failed = sum(1 for r in run.results if not r.correct)
    body = (
        f"<p>{s.n} questions: {s.n_answerable} answerable, {s.n_unanswerable} unanswerable"
        + (f", {s.n_errors} rejected as input" if s.n_errors else "")
        + ".</p>"
        + _kpis(run)
        + "<h2>Summary</h2>"
        + _summary_table(run)
        + "<p class=note>answer accuracy: not refused, an expected source cited and the "
        "expected strings present (NFKC); unanswerable refused = refusal recall; refusal "
        "precision = share of refusals that were unanswerable questions.</p>"
        + "<h2>By language</h2>"
        + _lang_table(run)
        + "<h2>Plots</h2><div class=plots>"
        + f"<div class=plot>{confidence_plot(run.results, page.thresholds)}</div>"
        + f"<div class=plot>{latency_plot(latencies)}</div></div>"
        + f"<h2>Failed questions ({n_failed})</h2>"
        + _failed_table(run.results, page.failed_limit)
    )
    return _page(page.title, page.meta, body)


def compare_table_html(runs: Mapping[str, EvalRun]) -> str:
    """One row per configuration; a figure no configuration measured is left out."""
    keys = [k for k in COMPARE if any(r.summary[k] is not None for r in runs.values())]
    head = "".join(f"<th>{_e(LABELS[k])}</th>" for k in keys)
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
    return f"<table><tr><th>configuration</th>{head}</tr>{''.join(rows)}</table>"


@dataclass
class ComparePage:
    title: str
    runs: dict[str, EvalRun]
    settings: dict[str, str]  # configuration name -> what it changes
    sweeps: dict[str, Sweep] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)


def compare_html(page: ComparePage) -> str:
    """Configurations side by side: a table with CIs, a bar plot, the threshold sweep."""
    first = next(iter(page.runs.values()), None)
    settings_rows = "".join(
        f"<tr><td>{_e(n)}</td><td><code>{_e(v) or '(as configured)'}</code></td></tr>"
        for n, v in page.settings.items()
    )
    body = ""
    if first is not None:
        s = first.summary
        body += (
            f"<p>{s.n} questions: {s.n_answerable} answerable, {s.n_unanswerable} unanswerable.</p>"
        )
    body += (
        "<h2>Configurations</h2><table><tr><th>name</th><th>settings changed</th></tr>"
        + settings_rows
        + "</table><h2>Results (95% bootstrap CI below each figure; best in bold)</h2>"
        + compare_table_html(page.runs)
        + f"<div class=plot style='max-width:860px'>{compare_plot(page.runs)}</div>"
    )
    if page.sweeps:
        body += (
            "<h2>Abstention threshold</h2><p class=note>Each curve is one configuration "
            "asked every question once with the answer threshold at 0; the answer at each "
            "threshold follows exactly (below it the answerer refuses, otherwise its answer "
            "does not depend on the threshold). The dot is the configured threshold.</p>"
            + f"<div class=plot style='max-width:1200px'>{tradeoff_plot(page.sweeps)}</div>"
            + _sweep_table(page.sweeps)
        )
    return _page(page.title, page.meta, body)


def _sweep_table(sweeps: Mapping[str, Sweep]) -> str:
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
    return (
        f"<p class=note>{_e(name)} by threshold (configured {sw.configured:.2f} highlighted):"
        "</p><table><tr><th>threshold</th><th>answer accuracy</th><th>unanswerable refused</th>"
        "<th>answerable falsely refused</th></tr>" + "".join(rows) + "</table>"
    )


def write_report(path: str | Path, html_text: str, markdown: str) -> Path:
    """Write the HTML report and its Markdown summary next to it (same name, ``.md``)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html_text, encoding="utf-8")
    md = p.with_suffix(".md")
    md.write_text(markdown, encoding="utf-8")
    return md
