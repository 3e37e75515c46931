"""Metrics against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from eval import metrics as m
from eval.dataset import source_matches


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("data/faq.csv#12", "data/faq.csv#12", True),
        ("data/amagasaki_faq/faq.csv#12", "../shared/data/amagasaki_faq/faq.csv#12", True),
        ("data/amagasaki_faq/faq.csv#12", "/abs/data/amagasaki_faq/faq.csv#12", True),
        ("faq.csv#1", "faq.csv#12", False),
        ("faq.csv#12", "xfaq.csv#12", False),
        ("demo/pages/a.md", "pages/a.md", True),
    ],
)
def test_source_matches(a, b, expected):
    assert source_matches(a, b) is expected
    assert source_matches(b, a) is expected


def test_hit_recall_rr():
    retrieved = ["x", "a", "y", "b"]
    assert m.hit_at_k(retrieved, ["a"], 1) == 0.0
    assert m.hit_at_k(retrieved, ["a"], 2) == 1.0
    assert m.recall_at_k(retrieved, ["a", "b", "c"], 4) == pytest.approx(2 / 3)
    assert m.reciprocal_rank(retrieved, ["b", "a"]) == 0.5  # first match at rank 2
    assert m.reciprocal_rank([], ["a"]) == 0.0
    assert m.recall_at_k(retrieved, [], 5) == 0.0


def test_ndcg_by_hand():
    # judgements a=2, b=1, c=2; retrieved a, x, b
    # DCG = 2/log2(2) + 0 + 1/log2(4) = 2 + 0.5 = 2.5
    # IDCG = 2/log2(2) + 2/log2(3) + 1/log2(4) = 2 + 1.26186 + 0.5 = 3.76186
    rel = {"a": 2, "b": 1, "c": 2}
    assert m.ndcg_at_k(["a", "x", "b"], rel) == pytest.approx(2.5 / (2 + 2 / math.log2(3) + 0.5))
    assert m.ndcg_at_k(["a", "c", "b"], rel) == pytest.approx(1.0)


def test_ndcg_ties_duplicates_and_empty():
    rel = {"a": 2, "b": 2}
    # ties in grade: either order is ideal
    assert m.ndcg_at_k(["b", "a"], rel) == pytest.approx(1.0)
    # a duplicate is credited once: DCG = 2/1 = 2; IDCG = 2 + 2/log2(3) = 3.26186
    assert m.ndcg_at_k(["a", "a"], rel) == pytest.approx(2 / (2 + 2 / math.log2(3)))
    assert m.ndcg_at_k([], rel) == 0.0
    assert m.ndcg_at_k(["a"], {}) == 0.0
    # ideal cut at k: k=1 -> IDCG = 2; retrieved b first -> 1.0
    assert m.ndcg_at_k(["b"], rel, k=1) == pytest.approx(1.0)


def test_answer_correct_normalises():
    ok = dict(
        refused=False, answer="手数料は３００ 円です。", cited=["f#1"], expected_sources=["f#1"]
    )
    assert m.answer_correct(**ok, expected_contains=["300円"])
    assert not m.answer_correct(**ok, expected_contains=["400円"])
    assert not m.answer_correct(**{**ok, "cited": ["f#2"]}, expected_contains=[])
    assert not m.answer_correct(**{**ok, "refused": True}, expected_contains=[])
    # no expected sources (a string-only check)
    assert m.answer_correct(
        **{**ok, "expected_sources": [], "cited": []}, expected_contains=["300円"]
    )


def test_citation_precision_and_dedupe():
    assert m.citation_precision(["a", "b", "a"], ["a"]) == 0.5
    assert m.citation_precision([], ["a"]) is None
    assert m.dedupe(["a", "b", "a", "c"]) == ["a", "b", "c"]


def test_percentiles_and_bootstrap():
    assert m.percentiles([1, 2, 3, 4, 5], [50, 95]) == [3.0, pytest.approx(4.8)]
    lo, hi = m.bootstrap_ci([0, 1] * 50)
    assert 0.35 < lo < 0.5 < hi < 0.65
    assert m.bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(x) for x in m.bootstrap_ci([]))
