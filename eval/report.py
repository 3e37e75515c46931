"""Tables (rich) and Markdown for evaluation summaries.

Every function takes an ``EvalSummary`` or an ``EvalRun`` (its summary is used).
Figures a set cannot measure (no graded judgements, no unanswerable items)
are left out of the single-run tables and shown as "–" in comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table

from madoguchi.eval.run import FAILURE_CLASSES, EvalRun, EvalSummary, ItemResult, Sweep

LABELS = {
    "hit@5": "hit@5",
    "mrr": "MRR",
    "recall@10": "recall@10",
    "ndcg@10": "nDCG@10 (graded)",
    "answer_accuracy": "answer accuracy",
    "answered_precision": "answered precision",
    "coverage": "coverage (answerable answered)",
    "citation_precision": "citation precision",
    "refusal_recall": "unanswerable refused",
    "refusal_precision": "refusal precision",
    "false_refusal_rate": "answerable falsely refused",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
    "latency_p99_ms": "latency p99 (ms)",
}
COMPARE = (
    "hit@5", "mrr", "ndcg@10", "recall@10", "answer_accuracy", "answered_precision",
    "coverage", "refusal_recall", "false_refusal_rate", "latency_p50_ms", "latency_p95_ms",
)  # fmt: skip
SHORT = {
    "answer_accuracy": "answer acc",
    "answered_precision": "answered prec",
    "refusal_recall": "refused unansw.",
    "false_refusal_rate": "false refusal",
    "ndcg@10": "nDCG@10",
    "coverage": "coverage",
    "latency_p50_ms": "p50 ms",
    "latency_p95_ms": "p95 ms",
}
BY_LANG = (
    ("n", "n"),
    ("hit@5", "hit@5"),
    ("answer_accuracy", "answer accuracy"),
    ("answered_precision", "answered precision"),
    ("coverage", "coverage"),
    ("false_refusal_rate", "falsely refused"),
    ("refusal_recall", "unanswerable refused"),
)

Summary = EvalSummary | EvalRun


def _s(summary: Summary) -> EvalSummary:
    return summary.summary if isinstance(summary, EvalRun) else summary


def fmt(value: float | None, name: str = "") -> str:
    """Three decimals for rates, one for milliseconds, "–" for a figure not measured."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:.1f}" if name.endswith("_ms") else f"{value:.3f}"


def _ci(summary: EvalSummary, key: str) -> str:
    ci = summary.figures[key].ci
    return f"{fmt(ci[0])} – {fmt(ci[1])}" if ci else ""


def _measured(summary: EvalSummary) -> list[str]:
    return [k for k in LABELS if k in summary.figures and summary.figures[k].n > 0]


def _heading(summary: EvalSummary, title: str) -> str:
    head = f"{title}: {summary.n_answerable} answerable, {summary.n_unanswerable} unanswerable"
    return head + (f", {summary.n_errors} rejected as input errors" if summary.n_errors else "")


def summary_table(summary: Summary, title: str = "evaluation") -> Table:
    """Metric, value, bootstrap 95% CI and the number of items each figure is over."""
    s = _s(summary)
    t = Table(title=_heading(s, title))
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("95% CI", justify="right")
    t.add_column("n", justify="right")
    for key in _measured(s):
        f = s.figures[key]
        t.add_row(LABELS[key], fmt(f.value, key), _ci(s, key), str(f.n))
    return t


def _lang_cell(row: dict[str, object], key: str) -> str:
    v = row.get(key)
    if key == "n":
        return str(v)
    return fmt(v if isinstance(v, int | float) else None)


def by_lang_table(summary: Summary, title: str = "by language") -> Table:
    """One row per question language of the dataset."""
    s = _s(summary)
    t = Table(title=title)
    t.add_column("lang")
    for _, label in BY_LANG:
        t.add_column(label, justify="right")
    for lang, row in s.by_lang.items():
        t.add_row(lang, *(_lang_cell(row, key) for key, _ in BY_LANG))
    return t


def by_kind_table(results: Sequence[ItemResult], title: str = "by kind of item") -> Table | None:
    """Items with a ``kind`` (a dialogue set's follow-ups, switches, ...): per kind, the
    items, the share answered right (for unanswerable ones: refused) and the share refused.
    None when no item has a kind."""
    kinds: dict[str, list[ItemResult]] = {}
    for r in results:
        if r.item.kind:
            kinds.setdefault(r.item.kind, []).append(r)
    if not kinds:
        return None
    t = Table(title=title)
    for col in ("kind", "n", "right", "refused"):
        t.add_column(col, justify="left" if col == "kind" else "right")
    for kind, rs in sorted(kinds.items()):
        right = sum(r.correct for r in rs) / len(rs)
        refused = sum(r.refused for r in rs) / len(rs)
        t.add_row(kind, str(len(rs)), fmt(right), fmt(refused))
    return t


def failure_table(counts: Mapping[str, int], title: str = "wrong answers, by cause") -> Table:
    """``eval.run.failure_classes`` as a table: cause, count."""
    t = Table(title=title)
    t.add_column("cause")
    t.add_column("n", justify="right")
    for key, n in counts.items():
        t.add_row(FAILURE_CLASSES.get(key, key), str(n))
    return t


def comparison_table(results: Mapping[str, Summary], title: str = "comparison") -> Table:
    """Configurations side by side on the same dataset, one row each."""
    t = Table(title=title)
    t.add_column("config", no_wrap=True)
    for key in COMPARE:
        t.add_column(SHORT.get(key, LABELS[key]), justify="right")
    for name, run in results.items():
        s = _s(run)
        t.add_row(name, *(fmt(s[key], key) for key in COMPARE))
    return t


def summary_markdown(summary: Summary, title: str = "evaluation") -> str:
    """The summary table, and the per-language one when there are several languages, as Markdown."""
    s = _s(summary)
    lines = [
        f"### {_heading(s, title)}",
        "",
        "| metric | value | 95% CI | n |",
        "|---|---:|---:|---:|",
    ]
    for key in _measured(s):
        f = s.figures[key]
        lines.append(f"| {LABELS[key]} | {fmt(f.value, key)} | {_ci(s, key)} | {f.n} |")
    if len(s.by_lang) > 1:
        lines += [
            "",
            "| lang | " + " | ".join(label for _, label in BY_LANG) + " |",
            "|---|" + "---:|" * len(BY_LANG),
        ]
        for lang, row in s.by_lang.items():
            cells = " | ".join(_lang_cell(row, key) for key, _ in BY_LANG)
            lines.append(f"| {lang} | {cells} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(results: Mapping[str, Summary]) -> str:
    """``comparison_table`` as Markdown, for the README."""
    head = "| config | " + " | ".join(LABELS[k] for k in COMPARE) + " |"
    sep = "|---|" + "---:|" * len(COMPARE)
    rows = [
        f"| {n} | " + " | ".join(fmt(_s(s)[k], k) for k in COMPARE) + " |"
        for n, s in results.items()
    ]
    return "\n".join([head, sep, *rows]) + "\n"


def sweep_markdown(sweeps: dict[str, Sweep], step: float = 0.05) -> str:
    """Answer accuracy / unanswerable refused / false refusals by threshold, per configuration.

    One row per threshold (every ``step``), one ``acc / refused / false`` cell
    per configuration; the configured threshold's row is marked with "←".
    """
    if not sweeps:
        return ""
    names = list(sweeps)
    head = "| threshold | " + " | ".join(f"{n} (acc / refused / false)" for n in names) + " |"
    lines = [head, "|---:|" + "---:|" * len(names)]
    n_steps = round(1 / step)
    for i in range(n_steps + 1):
        th = round(i * step, 2)
        cells = []
        for n in names:
            p = sweeps[n].at(th)
            mark = " ←" if abs(sweeps[n].configured - th) < step / 2 else ""
            cells.append(
                f"{fmt(p['answer_accuracy'])} / {fmt(p['refusal_recall'])} / "
                f"{fmt(p['false_refusal_rate'])}{mark}"
            )
        lines.append(f"| {th:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
