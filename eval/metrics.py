"""Metrics, each a small pure function. Retrieved lists are source ids, best first.

Matching of an expected source and a retrieved one follows DESIGN.md §4
(``source_matches``). Graded nDCG uses linear gains (gain = grade) and the
ideal DCG from the judgements, as the published localgovFAQ table does.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import numpy as np

from eval.dataset import source_matches


def dedupe(ids: Sequence[str]) -> list[str]:
    """Keep the first occurrence of each id (several chunks of one source count once)."""
    seen: set[str] = set()
    out = []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _first_match(
    retrieved: Sequence[str], expected: Sequence[str], k: int | None = None
) -> int | None:
    for rank, r in enumerate(retrieved[:k] if k else retrieved, start=1):
        if any(source_matches(e, r) for e in expected):
            return rank
    return None


def hit_at_k(retrieved: Sequence[str], expected: Sequence[str], k: int) -> float:
    """1.0 when any expected source is among the first k retrieved, else 0.0."""
    return 1.0 if _first_match(retrieved, expected, k) is not None else 0.0


def recall_at_k(retrieved: Sequence[str], expected: Sequence[str], k: int) -> float:
    """Share of the expected sources found in the first k (0.0 when none are expected)."""
    if not expected:
        return 0.0
    top = retrieved[:k]
    found = sum(1 for e in set(expected) if any(source_matches(e, r) for r in top))
    return found / len(set(expected))


def reciprocal_rank(retrieved: Sequence[str], expected: Sequence[str]) -> float:
    rank = _first_match(retrieved, expected)
    return 1.0 / rank if rank else 0.0


def ndcg_at_k(retrieved: Sequence[str], relevance: dict[str, int], k: int = 10) -> float:
    """Graded nDCG@k with linear gains; each judged source is credited once."""
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return 0.0
    credited: set[str] = set()
    dcg = 0.0
    for i, r in enumerate(retrieved[:k]):
        for judged, grade in relevance.items():
            if judged not in credited and grade > 0 and source_matches(judged, r):
                credited.add(judged)
                dcg += grade / math.log2(i + 2)
                break
    return dcg / idcg


def normalise(text: str) -> str:
    """NFKC, lower case, no white space: 「３００円」 and 「300 円」 compare equal."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def answer_correct(
    *,
    refused: bool,
    answer: str,
    cited: Sequence[str],
    expected_sources: Sequence[str],
    expected_contains: Sequence[str],
) -> bool:
    """Not refused, an expected source cited (when any), every expected string present."""
    if refused:
        return False
    if expected_sources and not any(source_matches(e, c) for e in expected_sources for c in cited):
        return False
    text = normalise(answer)
    return all(normalise(s) in text for s in expected_contains)


def citation_precision(cited: Sequence[str], expected: Sequence[str]) -> float | None:
    """Share of cited sources that are expected; None when nothing was cited."""
    cited = dedupe(cited)
    if not cited:
        return None
    return sum(1 for c in cited if any(source_matches(e, c) for e in expected)) / len(cited)


def percentiles(values: Sequence[float], ps: Sequence[float] = (50, 95, 99)) -> list[float]:
    if not values:
        return [float("nan")] * len(ps)
    return [float(x) for x in np.percentile(np.asarray(values, dtype=float), ps, method="linear")]


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean; (nan, nan) for an empty sample."""
    if not values:
        return float("nan"), float("nan")
    arr = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, len(arr), size=(resamples, len(arr)))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")
