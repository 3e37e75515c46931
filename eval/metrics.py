"""Metrics, each a small pure function. Retrieved lists are source ids, best first.

Matching of an expected source and a retrieved one follows docs/ARCHITECTURE.md
(``source_matches``). Retrieval hits are chunks, and several chunks may share a
source, so hit lists go through ``dedupe_sources`` first: otherwise two chunks
of one wrong page would push the right page down a rank. Graded nDCG uses
linear gains (gain = grade) and the ideal DCG from the judgements, as the
published localgovFAQ table does.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from madoguchi.eval.dataset import EvalItem, source_matches


def dedupe_sources(hits: Iterable[Any]) -> list[str]:
    """Source ids of ranked hits, first occurrence kept, order preserved.

    Accepts ``ScoredChunk``s (anything with ``.chunk.source_id``), objects with
    a ``.source_id`` (``Chunk``, ``Citation``) or plain source id strings.
    """
    seen: set[str] = set()
    out: list[str] = []
    for h in hits:
        if isinstance(h, str):
            sid = h
        elif hasattr(h, "chunk"):
            sid = h.chunk.source_id
        else:
            sid = h.source_id
        if sid not in seen:
            seen.add(sid)
            out.append(sid)
    return out


def _first_match(retrieved: Sequence[str], expected: Sequence[str], k: int | None) -> int | None:
    """1-based rank of the first retrieved id matching any expected one, within the top k."""
    top = retrieved if k is None else retrieved[: max(k, 0)]
    for rank, r in enumerate(top, start=1):
        if any(source_matches(e, r) for e in expected):
            return rank
    return None


def hit_at_k(retrieved: Sequence[str], expected: Sequence[str], k: int) -> float:
    """1.0 when any expected source is among the first k retrieved, else 0.0.

    The resident reads a handful of answers at most; hit@5 asks whether the
    right source was within reach at all.
    """
    return 1.0 if _first_match(retrieved, expected, k) is not None else 0.0


def recall_at_k(retrieved: Sequence[str], expected: Sequence[str], k: int) -> float:
    """Share of the distinct expected sources matched in the first k (0.0 when none expected).

    Datasets list duplicate FAQ rows as alternative expected sources, so recall
    is the stricter companion of hit@k: did we surface all of them?
    """
    wanted = list(dict.fromkeys(expected))
    if not wanted:
        return 0.0
    top = retrieved[: max(k, 0)]
    found = sum(1 for e in wanted if any(source_matches(e, r) for r in top))
    return found / len(wanted)


def reciprocal_rank(retrieved: Sequence[str], expected: Sequence[str]) -> float:
    """1 / rank of the first matching source, 0.0 when none matches (mean it for MRR)."""
    rank = _first_match(retrieved, expected, None)
    return 1.0 / rank if rank else 0.0


def ndcg_at_k(retrieved: Sequence[str], relevance: dict[str, int], k: int = 10) -> float:
    """Graded nDCG@k: linear gain = grade, discount 1/log2(rank + 1).

    The ideal DCG takes the judged grades sorted best first (cut at k), so a
    list that misses judged sources is penalised even when what it shows is
    in the best order. Each judged source is credited at most once (a
    duplicate later in the list earns nothing), and each retrieved id credits
    at most one judged source, the highest-graded one it matches. 0.0 when
    there is no positive judgement.
    """
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[: max(k, 0)]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return 0.0
    credited: set[str] = set()
    dcg = 0.0
    for i, r in enumerate(retrieved[: max(k, 0)]):
        matches = [
            (grade, judged)
            for judged, grade in relevance.items()
            if grade > 0 and judged not in credited and source_matches(judged, r)
        ]
        if matches:
            grade, judged = max(matches, key=lambda m: m[0])
            credited.add(judged)
            dcg += grade / math.log2(i + 2)
    return dcg / idcg


def normalise(text: str) -> str:
    """NFKC with all white space removed: 「３００ 円」 and 「300円」 compare equal.

    Case is kept: expected strings are the town's own words ("PayPay"), and
    NFKC already folds full-width letters onto ASCII.
    """
    return "".join(unicodedata.normalize("NFKC", text).split())


def answer_correct(item: EvalItem, *, refused: bool, cited: Sequence[str], text: str) -> bool:
    """Whether one answer to ``item`` counts as correct.

    Answerable: not refused, AND an expected source is cited (when the item
    names any), AND every ``expected_answer_contains`` string occurs in the
    text after ``normalise`` on both sides. localgovFAQ-style items have no
    expected strings, so there citing the right FAQ is the whole test.
    Unanswerable: correct exactly when refused.
    """
    if not item.answerable:
        return refused
    if refused:
        return False
    if item.expected_sources and not any(
        source_matches(e, c) for e in item.expected_sources for c in cited
    ):
        return False
    body = normalise(text)
    return all(normalise(s) in body for s in item.expected_answer_contains)


def citation_precision(cited: Sequence[str], expected: Sequence[str]) -> float | None:
    """Share of distinct cited sources that match an expected one; None when nothing is cited.

    None rather than 0.0: an answer without citations (a refusal) says
    nothing about whether its citations are precise.
    """
    distinct = dedupe_sources(cited)
    if not distinct:
        return None
    return sum(1 for c in distinct if any(source_matches(e, c) for e in expected)) / len(distinct)


def refusal_recall(answerable: Sequence[bool], refused: Sequence[bool]) -> float | None:
    """Refused unanswerable / all unanswerable; None when the set has no unanswerable item."""
    una = [r for a, r in zip(answerable, refused, strict=True) if not a]
    return sum(una) / len(una) if una else None


def refusal_precision(answerable: Sequence[bool], refused: Sequence[bool]) -> float | None:
    """Refused unanswerable / all refused; None when nothing was refused."""
    ref = [not a for a, r in zip(answerable, refused, strict=True) if r]
    return sum(ref) / len(ref) if ref else None


def false_refusal_rate(answerable: Sequence[bool], refused: Sequence[bool]) -> float | None:
    """Refused answerable / all answerable; None when the set has no answerable item."""
    ans = [r for a, r in zip(answerable, refused, strict=True) if a]
    return sum(ans) / len(ans) if ans else None


def percentiles(values: Sequence[float], ps: Sequence[float] = (50, 95, 99)) -> list[float]:
    """Percentiles by numpy's 'linear' method (the default); NaN for each when empty."""
    if not len(values):
        return [float("nan")] * len(ps)
    return [float(x) for x in np.percentile(np.asarray(values, dtype=float), ps, method="linear")]


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of per-item values; (nan, nan) when empty.

    The seed is fixed so the same results print the same interval on every
    run; a few hundred questions leave wide intervals, and the CI says so.
    """
    if not len(values):
        return float("nan"), float("nan")
    arr = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, len(arr), size=(resamples, len(arr)))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; NaN for an empty sample."""
    return float(np.mean(values)) if len(values) else float("nan")


def group_means(groups: Sequence[str], values: Sequence[float | None]) -> dict[str, float | None]:
    """Mean of ``values`` per group (e.g. per question language), groups sorted by name.

    ``None`` values are items a figure is not defined on (hit@5 of an
    unanswerable question) and are left out; a group with nothing left maps to
    None, so "no such items" never reads as a score of 0.
    """
    acc: dict[str, list[float]] = {}
    for g, v in zip(groups, values, strict=True):
        bucket = acc.setdefault(g, [])
        if v is not None:
            bucket.append(float(v))
    return {g: (sum(vs) / len(vs) if vs else None) for g, vs in sorted(acc.items())}


def threshold_sweep(
    confidences: Sequence[float],
    answerable: Sequence[bool],
    correct_if_answered: Sequence[bool | None],
    thresholds: Sequence[float],
) -> list[dict[str, float | None]]:
    """Answer accuracy and refusals as the abstention threshold moves.

    Per item: the answerer's confidence, whether the question is answerable,
    and whether its answer is correct when it is *not* refused (``None``: the
    item is refused whatever the threshold, e.g. nothing was retrieved). At
    threshold ``t`` an item is refused when ``confidence < t`` (a tie is
    answered, as in ``kit.answering``). Returned per threshold: answer
    accuracy and false-refusal rate over answerable items, refusal recall over
    unanswerable ones (None when the set has no such items).
    """
    n = len(confidences)
    if not (len(answerable) == len(correct_if_answered) == n):
        raise ValueError("confidences, answerable and correct_if_answered differ in length")
    out: list[dict[str, float | None]] = []
    for t in thresholds:
        refused = [
            c is None or conf < t for conf, c in zip(confidences, correct_if_answered, strict=True)
        ]
        right = [(not r) and bool(c) for r, c in zip(refused, correct_if_answered, strict=True)]
        ans = [i for i in range(n) if answerable[i]]
        una = [i for i in range(n) if not answerable[i]]
        out.append(
            {
                "threshold": float(t),
                "answer_accuracy": sum(right[i] for i in ans) / len(ans) if ans else None,
                "false_refusal_rate": sum(refused[i] for i in ans) / len(ans) if ans else None,
                "refusal_recall": sum(refused[i] for i in una) / len(una) if una else None,
                "answered_precision": answered_precision(right, refused),
                "coverage": 1 - sum(refused[i] for i in ans) / len(ans) if ans else None,
            }
        )
    return out


def answered_precision(right: Sequence[bool], refused: Sequence[bool]) -> float | None:
    """Of the questions answered (not refused), the share answered right; an answered
    unanswerable question counts as wrong. None when nothing was answered."""
    answered = [r for r, x in zip(right, refused, strict=True) if not x]
    return sum(answered) / len(answered) if answered else None
