"""Tables and Markdown render the figures a run measured, and only those."""

from __future__ import annotations

from rich.console import Console

from madoguchi.eval.report import (
    by_lang_table,
    comparison_table,
    fmt,
    summary_markdown,
    summary_table,
)
from madoguchi.eval.run import FIGURES, EvalSummary, Figure


def _summary(**values: float | None) -> EvalSummary:
    figures = {k: Figure(None, None, 0) for k in FIGURES}
    for k, v in values.items():
        key = k.replace("_at_", "@")
        figures[key] = Figure(v, None if key.startswith("latency") else (0.1, 0.9), 10)
    return EvalSummary(
        n=12,
        n_answerable=10,
        n_unanswerable=2,
        figures=figures,
        by_lang={
            "ja": {"n": 8, "hit@5": 0.75, "answer_accuracy": 0.5, "false_refusal_rate": 0.125,
                   "refusal_recall": None},
            "en": {"n": 4, "hit@5": 1.0, "answer_accuracy": 1.0, "false_refusal_rate": 0.0,
                   "refusal_recall": 1.0},
        },
    )  # fmt: skip


def _text(renderable) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_fmt():
    assert fmt(0.5) == "0.500"
    assert fmt(41.66, "latency_p50_ms") == "41.7"
    assert fmt(None) == "–" and fmt(float("nan")) == "–"


def test_summary_table_shows_measured_figures_with_ci():
    s = _summary(hit_at_5=0.8, mrr=0.6512, latency_p50_ms=41.66)
    t = summary_table(s, title="demo")
    assert [c.header for c in t.columns] == ["metric", "value", "95% CI", "n"]
    out = _text(t)
    assert "demo: 10 answerable, 2 unanswerable" in out
    assert "hit@5" in out and "0.800" in out and "0.100 – 0.900" in out
    assert "MRR" in out and "0.651" in out
    assert "41.7" in out
    assert "nDCG" not in out  # not measured on this set: left out
    assert t.row_count == 3


def test_by_lang_table():
    out = _text(by_lang_table(_summary()))
    assert "ja" in out and "0.750" in out and "0.125" in out
    assert "en" in out and "1.000" in out


def test_comparison_table_columns_and_missing_figures():
    a = _summary(hit_at_5=0.8, mrr=0.6, latency_p50_ms=40.0, latency_p95_ms=90.0)
    b = _summary(hit_at_5=0.7, ndcg_at_10=0.55)
    t = comparison_table({"hybrid": a, "bm25": b}, title="modes")
    assert [c.header for c in t.columns] == [
        "config", "hit@5", "MRR", "nDCG@10", "recall@10", "answer acc", "answered prec",
        "coverage", "refused unansw.", "false refusal", "p50 ms", "p95 ms",
    ]  # fmt: skip
    out = _text(t)
    assert "hybrid" in out and "bm25" in out and "0.550" in out and "90.0" in out
    assert "–" in out


def test_summary_markdown():
    md = summary_markdown(_summary(hit_at_5=0.8, latency_p95_ms=90.0), title="demo")
    lines = md.splitlines()
    assert lines[0] == "### demo: 10 answerable, 2 unanswerable"
    assert "| metric | value | 95% CI | n |" in lines
    assert "| hit@5 | 0.800 | 0.100 – 0.900 | 10 |" in lines
    assert "| latency p95 (ms) | 90.0 |  | 10 |" in lines
    # two languages: the per-language table follows
    assert "| ja | 8 | 0.750 | 0.500 | – | – | 0.125 | – |" in lines
    assert md.endswith("\n")
