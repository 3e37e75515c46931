"""Tables (rich) and Markdown for evaluation summaries."""

from __future__ import annotations

from rich.table import Table

from eval.run import EvalSummary

LABELS = {
    "hit@5": "hit@5",
    "mrr": "MRR",
    "recall@10": "recall@10",
    "ndcg@10": "nDCG@10 (graded)",
    "answer_accuracy": "answer accuracy",
    "citation_precision": "citation precision",
    "refusal_recall": "unanswerable refused",
    "refusal_precision": "refusal precision",
    "false_refusal_rate": "answerable falsely refused",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
    "latency_p99_ms": "latency p99 (ms)",
}
COMPARE = (
    "hit@5", "mrr", "ndcg@10", "recall@10", "answer_accuracy", "refusal_recall",
    "false_refusal_rate", "latency_p50_ms", "latency_p95_ms",
)  # fmt: skip


def fmt(value: float | None, name: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:.1f}" if name.endswith("_ms") else f"{value:.3f}"


def summary_table(summary: EvalSummary, title: str = "evaluation") -> Table:
    t = Table(
        title=f"{title}: {summary.n_answerable} answerable, {summary.n_unanswerable} unanswerable"
    )
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("95% CI", justify="right")
    t.add_column("n", justify="right")
    for key, label in LABELS.items():
        f = summary.figures[key]
        if f.n == 0:
            continue
        ci = f"{fmt(f.ci[0])} – {fmt(f.ci[1])}" if f.ci else ""
        t.add_row(label, fmt(f.value, key), ci, str(f.n))
    return t


def by_lang_table(summary: EvalSummary) -> Table:
    t = Table(title="by language")
    for col in ("lang", "n", "hit@5", "answer accuracy", "falsely refused"):
        t.add_column(col, justify="right" if col != "lang" else "left")
    for lang, row in summary.by_lang.items():
        t.add_row(
            lang,
            str(row["n"]),
            fmt(row["hit@5"]),
            fmt(row["answer_accuracy"]),
            fmt(row["false_refusal_rate"]),
        )
    return t


def comparison_table(results: dict[str, EvalSummary], title: str = "comparison") -> Table:
    t = Table(title=title)
    t.add_column("config")
    for key in COMPARE:
        t.add_column(LABELS[key].replace(" (ms)", " ms"), justify="right")
    for name, s in results.items():
        t.add_row(name, *(fmt(s[key], key) for key in COMPARE))
    return t


def summary_markdown(summary: EvalSummary, title: str = "evaluation") -> str:
    lines = [f"### {title}", "", "| metric | value | 95% CI | n |", "|---|---:|---:|---:|"]
    for key, label in LABELS.items():
        f = summary.figures[key]
        if f.n == 0:
            continue
        ci = f"{fmt(f.ci[0])} – {fmt(f.ci[1])}" if f.ci else ""
        lines.append(f"| {label} | {fmt(f.value, key)} | {ci} | {f.n} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(results: dict[str, EvalSummary]) -> str:
    head = "| config | " + " | ".join(LABELS[k] for k in COMPARE) + " |"
    sep = "|---|" + "---:|" * len(COMPARE)
    rows = [
        f"| {n} | " + " | ".join(fmt(s[k], k) for k in COMPARE) + " |" for n, s in results.items()
    ]
    return "\n".join([head, sep, *rows]) + "\n"
