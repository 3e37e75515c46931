"""Ask every question of a dataset through the same services residents use, and score."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eval import metrics as m
from eval.dataset import EvalItem
from kit.errors import KitError


class AsksQuestions(Protocol):
    def ask(self, question: str, lang: str | None = None) -> Any: ...


@dataclass(frozen=True)
class ItemResult:
    item: EvalItem
    retrieved: list[str]
    answer: str
    refused: bool
    lang: str
    citations: list[dict[str, Any]]
    latency_ms: float
    error: str | None = None

    def details(self) -> dict[str, Any]:
        """The per-question record of DESIGN.md §4."""
        return {
            "id": self.item.id,
            "retrieved": self.retrieved,
            "answer": self.answer,
            "refused": self.refused,
            "lang": self.lang,
            "citations": self.citations,
            "latency_ms": round(self.latency_ms, 1),
        }

    @property
    def cited(self) -> list[str]:
        return [c["source"] for c in self.citations]

    @property
    def correct(self) -> bool:
        it = self.item
        if not it.answerable:
            return self.refused
        return m.answer_correct(
            refused=self.refused,
            answer=self.answer,
            cited=self.cited,
            expected_sources=it.expected_sources,
            expected_contains=it.expected_answer_contains,
        )


@dataclass
class Figure:
    value: float | None
    ci: tuple[float, float] | None = None
    n: int = 0


@dataclass
class EvalSummary:
    n: int
    n_answerable: int
    n_unanswerable: int
    figures: dict[str, Figure]
    by_lang: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[ItemResult] = field(default_factory=list, repr=False)

    def __getitem__(self, name: str) -> float | None:
        return self.figures[name].value

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_answerable": self.n_answerable,
            "n_unanswerable": self.n_unanswerable,
            "figures": {
                k: {"value": f.value, "ci95": list(f.ci) if f.ci else None, "n": f.n}
                for k, f in self.figures.items()
            },
            "by_lang": self.by_lang,
        }


def _fig(values: Sequence[float]) -> Figure:
    if not values:
        return Figure(None, None, 0)
    return Figure(m.mean(values), m.bootstrap_ci(values), len(values))


def summarise(results: Sequence[ItemResult]) -> EvalSummary:
    ans = [r for r in results if r.item.answerable]
    una = [r for r in results if not r.item.answerable]
    with_src = [r for r in ans if r.item.expected_sources]
    graded = [r for r in results if r.item.relevance]
    refused_all = [r for r in results if r.refused]
    cprec = [
        p
        for r in with_src
        if (p := m.citation_precision(r.cited, r.item.expected_sources)) is not None
    ]
    p50, p95, p99 = m.percentiles([r.latency_ms for r in results])
    figures = {
        "hit@5": _fig([m.hit_at_k(r.retrieved, r.item.expected_sources, 5) for r in with_src]),
        "mrr": _fig([m.reciprocal_rank(r.retrieved, r.item.expected_sources) for r in with_src]),
        "recall@10": _fig(
            [m.recall_at_k(r.retrieved, r.item.expected_sources, 10) for r in with_src]
        ),
        "ndcg@10": _fig([m.ndcg_at_k(r.retrieved, r.item.relevance, 10) for r in graded]),
        "answer_accuracy": _fig([float(r.correct) for r in ans]),
        "citation_precision": _fig(cprec),
        "refusal_recall": _fig([float(r.refused) for r in una]),
        "refusal_precision": _fig([float(not r.item.answerable) for r in refused_all]),
        "false_refusal_rate": _fig([float(r.refused) for r in ans]),
        "latency_p50_ms": Figure(p50, None, len(results)),
        "latency_p95_ms": Figure(p95, None, len(results)),
        "latency_p99_ms": Figure(p99, None, len(results)),
    }
    by_lang: dict[str, dict[str, Any]] = {}
    for lang in sorted({r.item.lang for r in results}):
        rs = [r for r in results if r.item.lang == lang]
        a = [r for r in rs if r.item.answerable]
        s = [r for r in a if r.item.expected_sources]
        by_lang[lang] = {
            "n": len(rs),
            "hit@5": m.mean([m.hit_at_k(r.retrieved, r.item.expected_sources, 5) for r in s])
            if s
            else None,
            "answer_accuracy": m.mean([float(r.correct) for r in a]) if a else None,
            "false_refusal_rate": m.mean([float(r.refused) for r in a]) if a else None,
        }
    return EvalSummary(len(results), len(ans), len(una), figures, by_lang, list(results))


def run_items(
    services: AsksQuestions,
    items: Sequence[EvalItem],
    *,
    details_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalSummary:
    results: list[ItemResult] = []
    for item in items:
        try:
            res = services.ask(item.question, lang=None)
            a = res.answer
            results.append(
                ItemResult(
                    item=item,
                    retrieved=m.dedupe([h.chunk.source_id for h in res.hits])[:10],
                    answer=a.text,
                    refused=a.refused,
                    lang=a.lang,
                    citations=[
                        {"source": c.source_id, "title": c.title, "url": c.url} for c in a.citations
                    ],
                    latency_ms=res.latency_ms,
                )
            )
        except KitError as exc:  # e.g. an over-long question: counts as a refusal, reported
            results.append(ItemResult(item, [], "", True, item.lang, [], 0.0, error=str(exc)))
        if progress:
            progress(1)
    if details_path:
        Path(details_path).write_text(
            "".join(json.dumps(r.details(), ensure_ascii=False) + "\n" for r in results),
            encoding="utf-8",
        )
    return summarise(results)
