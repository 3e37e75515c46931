"""Ask every question of a dataset through the same services residents use, and score.

``run_items`` is duck-typed on the service: anything with
``ask(question, lang=None)`` returning an object with ``answer`` (a
``kit.types.Answer``), ``hits`` (ranked ``ScoredChunk``s) and ``latency_ms``.
So the CLI, the bench and the tests (with a small fake) share one code path,
and an evaluation measures exactly what residents get.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol

from madoguchi.eval import metrics as m
from madoguchi.eval.dataset import EvalItem, source_matches
from madoguchi.kit.errors import InputError

#: How many deduplicated source ids a details record keeps (docs/ARCHITECTURE.md).
DETAILS_TOP = 10

#: Figure names, stable: they are the keys of ``EvalSummary.figures`` and of its JSON.
FIGURES = (
    "hit@5",
    "mrr",
    "recall@10",
    "ndcg@10",
    "answer_accuracy",
    "answered_precision",
    "coverage",
    "citation_precision",
    "refusal_recall",
    "refusal_precision",
    "false_refusal_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
)


class AsksQuestions(Protocol):
    def ask(
        self, question: str, lang: str | None = None, conversation_id: str | None = None
    ) -> Any: ...


@dataclass(frozen=True)
class ItemResult:
    """What the service did with one question, in the terms the metrics need."""

    item: EvalItem
    retrieved: list[str]  # deduplicated source ids, best first, top DETAILS_TOP
    answer: str
    refused: bool
    lang: str
    citations: list[dict[str, Any]]  # {"source", "title", "url"} (+ "page" for a PDF)
    latency_ms: float
    error: str | None = None  # an InputError the service raised; counted as a refusal
    # not in the details record (docs/ARCHITECTURE.md is fixed), but the HTML report shows them
    confidence: float = 0.0
    mode: str = ""  # faq | extractive | llm | abstain
    retrieved_titles: list[str] = field(default_factory=list)  # parallel to ``retrieved``

    def details(self) -> dict[str, Any]:
        """The per-question record of docs/ARCHITECTURE.md, exactly these keys."""
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
        return m.answer_correct(self.item, refused=self.refused, cited=self.cited, text=self.answer)


@dataclass(frozen=True)
class Figure:
    """One headline number: mean over ``n`` items, with a bootstrap 95% CI when it is a mean."""

    value: float | None
    ci: tuple[float, float] | None = None
    n: int = 0


@dataclass
class EvalSummary:
    """Headline figures of one run (see ``FIGURES``), plus a per-language breakdown.

    ``value`` is None when no item qualifies (e.g. nDCG@10 on a set without
    graded judgements), so the JSON never carries NaN.
    """

    n: int
    n_answerable: int
    n_unanswerable: int
    figures: dict[str, Figure]
    by_lang: dict[str, dict[str, Any]] = field(default_factory=dict)
    n_errors: int = 0

    def __getitem__(self, name: str) -> float | None:
        return self.figures[name].value

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_answerable": self.n_answerable,
            "n_unanswerable": self.n_unanswerable,
            "n_errors": self.n_errors,
            "figures": {
                k: {"value": f.value, "ci95": list(f.ci) if f.ci else None, "n": f.n}
                for k, f in self.figures.items()
            },
            "by_lang": self.by_lang,
        }


@dataclass
class EvalRun:
    """A finished run: every item's result and their summary.

    ``to_dict`` and ``run["hit@5"]`` read the summary, and the report
    functions accept a run or a summary, so callers that only want the
    figures need not unwrap it.
    """

    results: list[ItemResult]
    summary: EvalSummary

    def __getitem__(self, name: str) -> float | None:
        return self.summary[name]

    def to_dict(self) -> dict[str, Any]:
        return self.summary.to_dict()

    def details(self) -> list[dict[str, Any]]:
        return [r.details() for r in self.results]


def _fig(values: Sequence[float]) -> Figure:
    if not values:
        return Figure(None, None, 0)
    return Figure(m.mean(values), m.bootstrap_ci(values), len(values))


def _mean_or_none(values: Sequence[float]) -> float | None:
    return m.mean(values) if values else None


def summarise(results: Sequence[ItemResult]) -> EvalSummary:
    """Figures over the items each one is defined on.

    hit@5, MRR and recall@10 over answerable items naming expected sources;
    nDCG@10 over items with graded judgements (unanswerable ones included:
    their grade-1 "related" entries still reward a sensible ranking); answer
    accuracy and false refusals over answerable items; refusal recall over
    unanswerable ones; refusal precision over refused ones; latency
    percentiles over items the service answered without error.
    """
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
    timed = [r.latency_ms for r in results if r.error is None]
    pcts: list[float | None] = [
        None if math.isnan(x) else x for x in m.percentiles(timed, (50, 95, 99))
    ]
    figures = {
        "hit@5": _fig([m.hit_at_k(r.retrieved, r.item.expected_sources, 5) for r in with_src]),
        "mrr": _fig([m.reciprocal_rank(r.retrieved, r.item.expected_sources) for r in with_src]),
        "recall@10": _fig(
            [m.recall_at_k(r.retrieved, r.item.expected_sources, 10) for r in with_src]
        ),
        "ndcg@10": _fig([m.ndcg_at_k(r.retrieved, r.item.relevance, 10) for r in graded]),
        "answer_accuracy": _fig([float(r.correct) for r in ans]),
        # of the answers given, the share that are right (an answered unanswerable is wrong)
        "answered_precision": _fig(
            [float(r.item.answerable and r.correct) for r in results if not r.refused]
        ),
        "coverage": _fig([float(not r.refused) for r in ans]),
        "citation_precision": _fig(cprec),
        "refusal_recall": _fig([float(r.refused) for r in una]),
        "refusal_precision": _fig([float(not r.item.answerable) for r in refused_all]),
        "false_refusal_rate": _fig([float(r.refused) for r in ans]),
        "latency_p50_ms": Figure(pcts[0], None, len(timed)),
        "latency_p95_ms": Figure(pcts[1], None, len(timed)),
        "latency_p99_ms": Figure(pcts[2], None, len(timed)),
    }
    langs = [r.item.lang for r in results]
    per_lang = {
        "hit@5": m.group_means(
            langs,
            [
                m.hit_at_k(r.retrieved, r.item.expected_sources, 5)
                if r.item.answerable and r.item.expected_sources
                else None
                for r in results
            ],
        ),
        "answer_accuracy": m.group_means(
            langs, [float(r.correct) if r.item.answerable else None for r in results]
        ),
        "false_refusal_rate": m.group_means(
            langs, [float(r.refused) if r.item.answerable else None for r in results]
        ),
        "refusal_recall": m.group_means(
            langs, [None if r.item.answerable else float(r.refused) for r in results]
        ),
        "answered_precision": m.group_means(
            langs,
            [None if r.refused else float(r.item.answerable and r.correct) for r in results],
        ),
        "coverage": m.group_means(
            langs, [float(not r.refused) if r.item.answerable else None for r in results]
        ),
    }
    by_lang: dict[str, dict[str, Any]] = {}
    for lang in sorted(set(langs)):
        a = [r for r in results if r.item.lang == lang and r.item.answerable]
        acc_ci = m.bootstrap_ci([float(r.correct) for r in a]) if a else None
        by_lang[lang] = {
            "n": langs.count(lang),
            "n_answerable": len(a),
            **{k: v[lang] for k, v in per_lang.items()},
            "answer_accuracy_ci95": list(acc_ci) if acc_ci else None,
        }
    return EvalSummary(
        n=len(results),
        n_answerable=len(ans),
        n_unanswerable=len(una),
        figures=figures,
        by_lang=by_lang,
        n_errors=sum(1 for r in results if r.error is not None),
    )


@dataclass
class Sweep:
    """A configuration's figures by abstention threshold, and the threshold it is set to."""

    points: list[dict[str, float | None]]
    configured: float

    def at(self, threshold: float) -> dict[str, float | None]:
        """The swept point nearest to ``threshold``."""
        return min(self.points, key=lambda p: abs(float(p["threshold"] or 0.0) - threshold))


def at_threshold(results: Sequence[ItemResult], threshold: float) -> list[ItemResult]:
    """The results the same service would give with ``answer_threshold = threshold``,
    derived from a run made with the threshold at 0.

    Exact for the extractive answerer, where the threshold decides only
    whether to refuse (``confidence < threshold``) and never what an answer
    says; a refusal drops the citations. Items already refused at 0 (nothing
    retrieved, input errors) stay refused.
    """
    out = []
    for r in results:
        if r.refused or r.confidence >= threshold:
            out.append(r)
        else:
            out.append(replace(r, refused=True, citations=[], mode="abstain"))
    return out


def sweep(
    results: Sequence[ItemResult], thresholds: Sequence[float]
) -> list[dict[str, float | None]]:
    """``metrics.threshold_sweep`` over a run made with ``answer_threshold = 0``."""
    return m.threshold_sweep(
        [r.confidence for r in results],
        [r.item.answerable for r in results],
        [None if r.refused else r.correct for r in results],
        thresholds,
    )


def ask_item(services: AsksQuestions, item: EvalItem) -> ItemResult:
    """One question through the service; an item with ``history`` is asked after its
    earlier questions, in one conversation, as a resident's chat would be.

    Only ``InputError`` (say, a question over the length limit) is caught
    and counted as a refusal, as a resident would see it; any other error
    (index missing, model unreachable) aborts the run rather than scoring a
    broken setup as a cautious one.
    """
    try:
        if item.history:  # the conversation first, as the widget and the API would send it
            conv = f"eval:{item.id}"
            for earlier in item.history:
                services.ask(earlier, lang=None, conversation_id=conv)
            res = services.ask(item.question, lang=None, conversation_id=conv)
        else:
            res = services.ask(item.question, lang=None)
    except InputError as exc:
        return ItemResult(item, [], "", True, item.lang, [], 0.0, error=str(exc))
    a = res.answer
    retrieved = m.dedupe_sources(res.hits)[:DETAILS_TOP]
    titles: dict[str, str] = {}
    for h in res.hits:
        titles.setdefault(h.chunk.source_id, h.chunk.title)
    return ItemResult(
        item=item,
        retrieved=retrieved,
        answer=a.text,
        refused=a.refused,
        lang=a.lang,
        citations=[c.to_json() for c in a.citations],
        latency_ms=float(res.latency_ms),
        confidence=float(getattr(a, "confidence", 0.0)),
        mode=str(getattr(a, "mode", "")),
        retrieved_titles=[titles.get(sid, "") for sid in retrieved],
    )


@contextmanager
def _details_file(path: str | Path | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    with Path(path).open("w", encoding="utf-8", newline="\n") as fh:
        yield fh


#: Why a wrong answer is wrong, in a fixed order: the keys of ``failure_classes``.
FAILURE_CLASSES = {
    "unanswerable_answered": "unanswerable question answered",
    "refused_found": "answerable refused, although the expected source was retrieved",
    "refused_not_found": "answerable refused, expected source not retrieved",
    "near_neighbour": "another entry cited, the expected one retrieved (a near neighbour)",
    "wrong_not_found": "another entry cited, the expected one not retrieved",
    "fact_missing": "expected source cited, the asked-for text missing from the answer",
    "input_rejected": "question rejected as input",
}


def failure_class(r: ItemResult) -> str | None:
    """The key of ``FAILURE_CLASSES`` that says why ``r`` is wrong; None when it is right."""
    if r.correct:
        return None
    it = r.item
    if not it.answerable:
        return "unanswerable_answered"
    if r.error:
        return "input_rejected"
    found = any(source_matches(e, s) for e in it.expected_sources for s in r.retrieved)
    if r.refused:
        return "refused_found" if found else "refused_not_found"
    if it.expected_sources and not any(
        source_matches(e, c) for e in it.expected_sources for c in r.cited
    ):
        return "near_neighbour" if found else "wrong_not_found"
    return "fact_missing"


def failure_classes(results: Sequence[ItemResult]) -> dict[str, int]:
    """How many wrong results fall in each class (classes with none left out)."""
    counts = dict.fromkeys(FAILURE_CLASSES, 0)
    for r in results:
        key = failure_class(r)
        if key is not None:
            counts[key] += 1
    return {k: v for k, v in counts.items() if v}


def run_items(
    services: AsksQuestions,
    items: Sequence[EvalItem],
    *,
    details_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalRun:
    """Ask every item's question (``lang=None``: the service detects it) and score the answers.

    With ``details_path``, the per-question records of docs/ARCHITECTURE.md are
    written as UTF-8 JSON Lines, one flushed line per question, so a long run
    that is interrupted still leaves what it measured. ``progress`` is called
    with 1 after each question (a ``rich`` progress bar's ``advance``).
    """
    results: list[ItemResult] = []
    with _details_file(details_path) as fh:
        for item in items:
            r = ask_item(services, item)
            results.append(r)
            if fh is not None:
                fh.write(json.dumps(r.details(), ensure_ascii=False) + "\n")
                fh.flush()
            if progress is not None:
                progress(1)
    return EvalRun(results=results, summary=summarise(results))


@dataclass(frozen=True)
class DragCheck:
    """Questions asked once more right after an unrelated earlier question: the ones whose
    answer changed (the earlier topic dragged in). A question that stands on its own must
    be answered as if asked alone."""

    asked: int
    changed: list[tuple[str, str]]  # (item id, the earlier question it was asked after)

    @property
    def rate(self) -> float | None:
        return len(self.changed) / self.asked if self.asked else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "asked": self.asked,
            "changed": len(self.changed),
            "rate": self.rate,
            "items": [{"id": i, "after": q} for i, q in self.changed],
        }


def _unrelated(items: Sequence[EvalItem], i: int) -> EvalItem | None:
    """The next answerable item (cyclically) sharing no expected source with item ``i``."""
    mine = set(items[i].expected_sources)
    for k in range(1, len(items)):
        other = items[(i + k) % len(items)]
        if other.answerable and not other.history and not mine & set(other.expected_sources):
            return other
    return None


def _same_answer(a: ItemResult, b: ItemResult) -> bool:
    return (a.refused, a.cited, a.answer) == (b.refused, b.cited, b.answer)


def drag_check(services: AsksQuestions, run: EvalRun) -> DragCheck:
    """Ask every question of ``run`` that has no history again, right after an unrelated
    one (``_unrelated``) in one conversation, and compare with its answer alone."""
    items = [r.item for r in run.results]
    asked, changed = 0, []
    for i, alone in enumerate(run.results):
        other = _unrelated(items, i)
        if alone.item.history or other is None:
            continue
        after = ask_item(services, replace(alone.item, history=(other.question,)))
        asked += 1
        if not _same_answer(alone, after):
            changed.append((alone.item.id, other.question))
    return DragCheck(asked, changed)
