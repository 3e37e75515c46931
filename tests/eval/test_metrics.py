"""Metrics against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest
from factories import source_hit as _hit

from madoguchi.eval import metrics as m
from madoguchi.eval.dataset import EvalItem, source_matches
from madoguchi.kit.types import Citation

LOG2_3 = math.log2(3)  # 1.5849625...: the discount denominator at rank 2


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("data/faq.csv#12", "data/faq.csv#12", True),
        ("data/amagasaki_faq/faq.csv#12", "../shared/data/amagasaki_faq/faq.csv#12", True),
        ("data/amagasaki_faq/faq.csv#12", "/abs/path/data/amagasaki_faq/faq.csv#12", True),
        ("faq.csv#12", "data/amagasaki_faq/faq.csv#12", True),
        ("demo/pages/a.md", "pages/a.md", True),
        ("faq.csv#1", "faq.csv#12", False),  # a row number is not a prefix of another
        ("faq.csv#12", "xfaq.csv#12", False),  # no "/" boundary
        ("data/faq.csv#12", "other/faq.csv#12", False),  # neither ends with the other
        ("faq.csv#12", "faq.csv#12/", False),
        ("", "data/", False),  # an empty id matches nothing but itself
        ("https://town.example/a/b.html", "b.html", True),
        ("https://town.example/a/b.html", "https://town.example/a/c.html", False),
    ],
)
def test_source_matches_is_symmetric_and_boundary_aware(a, b, expected):
    assert source_matches(a, b) is expected
    assert source_matches(b, a) is expected


def test_dedupe_sources_keeps_first_occurrence_in_order():
    hits = [_hit("b"), _hit("a"), _hit("b", 1), _hit("c"), _hit("a", 2)]
    assert m.dedupe_sources(hits) == ["b", "a", "c"]
    assert m.dedupe_sources(["x", "x", "y"]) == ["x", "y"]
    assert m.dedupe_sources([Citation("s#1", "t", None), Citation("s#1", "t", None)]) == ["s#1"]
    assert m.dedupe_sources([]) == []


def test_hit_at_k():
    retrieved = ["x", "a", "y", "b"]
    assert m.hit_at_k(retrieved, ["a"], 1) == 0.0  # a is at rank 2
    assert m.hit_at_k(retrieved, ["a"], 2) == 1.0
    assert m.hit_at_k(retrieved, ["b", "z"], 5) == 1.0  # any expected source counts
    assert m.hit_at_k(retrieved, ["a"], 0) == 0.0  # the top 0 holds nothing
    assert m.hit_at_k([], ["a"], 5) == 0.0
    assert m.hit_at_k(retrieved, [], 5) == 0.0  # nothing expected: nothing to hit
    assert m.hit_at_k(["../d/faq.csv#3"], ["d/faq.csv#3"], 1) == 1.0  # §4 matching


def test_recall_at_k():
    retrieved = ["x", "a", "y", "b"]
    # expected a, b, c: a (rank 2) and b (rank 4) within 4 -> 2/3
    assert m.recall_at_k(retrieved, ["a", "b", "c"], 4) == pytest.approx(2 / 3)
    # within 3 only a -> 1/3
    assert m.recall_at_k(retrieved, ["a", "b", "c"], 3) == pytest.approx(1 / 3)
    # a listed twice among the expected counts once: {a, b}, both found -> 1.0
    assert m.recall_at_k(retrieved, ["a", "a", "b"], 4) == 1.0
    # duplicates in retrieved do not inflate it: {a, b}, only a found -> 1/2
    assert m.recall_at_k(["a", "a", "a"], ["a", "b"], 3) == 0.5
    assert m.recall_at_k([], ["a"], 10) == 0.0
    assert m.recall_at_k(retrieved, [], 5) == 0.0


def test_reciprocal_rank():
    assert m.reciprocal_rank(["x", "a", "y", "b"], ["b", "a"]) == 0.5  # first match: rank 2
    assert m.reciprocal_rank(["a"], ["a"]) == 1.0
    assert m.reciprocal_rank(["x", "y", "z", "a"], ["a"]) == 0.25
    assert m.reciprocal_rank([], ["a"]) == 0.0
    assert m.reciprocal_rank(["a"], []) == 0.0


def test_ndcg_by_hand():
    # judgements a=2, b=1, c=2; retrieved a, x, b
    # DCG  = 2/log2(2) + 0/log2(3) + 1/log2(4) = 2 + 0 + 0.5 = 2.5
    # IDCG = grades sorted 2, 2, 1 = 2/1 + 2/1.58496 + 1/2 = 2 + 1.26186 + 0.5 = 3.76186
    # nDCG = 2.5 / 3.76186 = 0.66457
    rel = {"a": 2, "b": 1, "c": 2}
    assert m.ndcg_at_k(["a", "x", "b"], rel) == pytest.approx(0.66457, abs=1e-5)
    assert m.ndcg_at_k(["a", "c", "b"], rel) == pytest.approx(1.0)
    # grade 1 first, b, a, c: DCG = 1 + 2/1.58496 + 2/2 = 3.26186 -> 3.26186 / 3.76186 = 0.86709
    assert m.ndcg_at_k(["b", "a", "c"], rel) == pytest.approx(0.86709, abs=1e-5)


def test_ndcg_ties_in_grades():
    # a=2, b=2: either order is ideal (IDCG = 2 + 2/1.58496 = 3.26186)
    rel = {"a": 2, "b": 2}
    assert m.ndcg_at_k(["a", "b"], rel) == pytest.approx(1.0)
    assert m.ndcg_at_k(["b", "a"], rel) == pytest.approx(1.0)
    # a=1, b=1, c=2; retrieved b, a, c (the two grade-1 tied, ahead of c)
    # DCG  = 1 + 1/1.58496 + 2/2 = 2.63093
    # IDCG = 2 + 1/1.58496 + 1/2 = 3.13093  -> 0.84030
    assert m.ndcg_at_k(["b", "a", "c"], {"a": 1, "b": 1, "c": 2}) == pytest.approx(
        0.84030, abs=1e-5
    )


def test_ndcg_ideal_longer_than_retrieved():
    # three judged sources, only one retrieved: the missing ones still count in IDCG
    # DCG = 2; IDCG = 2 + 2/1.58496 + 1/2 = 3.76186 -> 0.53165
    rel = {"a": 2, "b": 2, "c": 1}
    assert m.ndcg_at_k(["a"], rel) == pytest.approx(0.53165, abs=1e-5)
    # k cuts the ideal too: k=1 -> IDCG = 2, and a at rank 1 is perfect
    assert m.ndcg_at_k(["a"], rel, k=1) == pytest.approx(1.0)
    # k=1 with c (grade 1) first: DCG = 1, IDCG = 2 -> 0.5
    assert m.ndcg_at_k(["c", "a"], rel, k=1) == pytest.approx(0.5)


def test_ndcg_duplicates_credit_a_judged_source_once():
    # a, a: the second a earns nothing. DCG = 2; IDCG = 2 + 2/1.58496 = 3.26186 -> 0.61315
    rel = {"a": 2, "b": 2}
    assert m.ndcg_at_k(["a", "a"], rel) == pytest.approx(2 / (2 + 2 / LOG2_3))
    assert m.ndcg_at_k(["a", "a"], rel) == pytest.approx(0.61315, abs=1e-5)
    # the same source spelled two ways is still one source
    assert m.ndcg_at_k(["../x/a", "x/a"], {"x/a": 2}) == pytest.approx(1.0)


def test_ndcg_one_retrieved_id_credits_its_best_judgement():
    # "faq.csv#1" matches both judged spellings; it credits grade 2, the better one.
    # DCG = 2; IDCG = 2 + 1/1.58496 = 2.63093 -> 0.76019
    rel = {"a/faq.csv#1": 1, "b/faq.csv#1": 2}
    assert m.ndcg_at_k(["faq.csv#1"], rel) == pytest.approx(0.76019, abs=1e-5)


def test_ndcg_empty_cases():
    assert m.ndcg_at_k([], {"a": 2}) == 0.0  # nothing retrieved
    assert m.ndcg_at_k(["a"], {}) == 0.0  # nothing judged
    assert m.ndcg_at_k(["a"], {"a": 0}) == 0.0  # only grade 0: IDCG = 0
    assert m.ndcg_at_k(["x", "y"], {"a": 2}) == 0.0  # nothing judged retrieved
    # an unanswerable localgovFAQ item: only grade-1 "related" entries
    # x, r2 -> DCG = 1/1.58496 = 0.63093; IDCG = 1 + 0.63093 = 1.63093 -> 0.38685
    assert m.ndcg_at_k(["x", "r2"], {"r1": 1, "r2": 1}) == pytest.approx(0.38685, abs=1e-5)


def _item(**kw) -> EvalItem:
    base = dict(
        id="q",
        question="?",
        answerable=True,
        expected_sources=("d/faq.csv#1",),
        expected_answer_contains=(),
    )
    base.update(kw)
    return EvalItem(**base)  # type: ignore[arg-type]


def test_answer_correct_nfkc_and_white_space():
    it = _item(expected_answer_contains=("300円", "06-6375-0000"))
    # full-width digits and hyphen, a space inside: NFKC + no white space -> both found
    text = "手数料は３００ 円です。電話 ０６－６３７５－００００"
    assert m.answer_correct(it, refused=False, cited=["../d/faq.csv#1"], text=text)
    # one expected string missing -> wrong
    assert not m.answer_correct(it, refused=False, cited=["d/faq.csv#1"], text="３００円")
    # the expected source not cited -> wrong, even with the right text
    assert not m.answer_correct(it, refused=False, cited=["d/faq.csv#2"], text=text)
    assert not m.answer_correct(it, refused=False, cited=[], text=text)
    # refused -> wrong
    assert not m.answer_correct(it, refused=True, cited=["d/faq.csv#1"], text=text)
    # case is kept: NFKC maps full-width Ｐａｙ to Pay, but pay is not Pay
    paypay = _item(expected_answer_contains=("PayPay",))
    assert m.answer_correct(paypay, refused=False, cited=["d/faq.csv#1"], text="ＰａｙＰａｙで")
    assert not m.answer_correct(paypay, refused=False, cited=["d/faq.csv#1"], text="paypayで")


def test_answer_correct_without_expected_sources_or_strings():
    # no expected sources: a string-only check, citations do not matter
    it = _item(expected_sources=(), expected_answer_contains=("300円",))
    assert m.answer_correct(it, refused=False, cited=[], text="300円")
    # localgovFAQ style: no expected strings, so citing the right FAQ is the whole test
    lgf = _item(expected_sources=("d/faq.csv#1", "d/faq.csv#9"))
    assert m.answer_correct(lgf, refused=False, cited=["d/faq.csv#9"], text="")
    assert not m.answer_correct(lgf, refused=False, cited=["d/faq.csv#5"], text="")


def test_answer_correct_on_unanswerable_means_refused():
    it = _item(answerable=False, expected_sources=())
    assert m.answer_correct(it, refused=True, cited=[], text="")
    assert not m.answer_correct(it, refused=False, cited=["d/faq.csv#3"], text="…")


def test_citation_precision():
    # distinct cited {a, b}; a expected -> 1/2 (the repeated a counts once)
    assert m.citation_precision(["a", "b", "a"], ["a"]) == 0.5
    assert m.citation_precision(["../x/a"], ["x/a"]) == 1.0
    assert m.citation_precision(["b"], ["a"]) == 0.0
    assert m.citation_precision([], ["a"]) is None  # nothing cited: undefined, not 0


def test_refusal_stats_by_hand():
    # 3 unanswerable (2 refused), 4 answerable (1 refused)
    answerable = [False, False, False, True, True, True, True]
    refused = [True, True, False, True, False, False, False]
    # recall    = refused unanswerable / unanswerable = 2/3
    # precision = refused unanswerable / refused      = 2/3 (3 refused, 2 of them unanswerable)
    # false     = refused answerable / answerable      = 1/4
    assert m.refusal_recall(answerable, refused) == pytest.approx(2 / 3)
    assert m.refusal_precision(answerable, refused) == pytest.approx(2 / 3)
    assert m.false_refusal_rate(answerable, refused) == 0.25
    # undefined denominators give None
    assert m.refusal_recall([True], [False]) is None
    assert m.refusal_precision([True, False], [False, False]) is None
    assert m.false_refusal_rate([False], [True]) is None
    with pytest.raises(ValueError):
        m.refusal_recall([True, False], [True])


def test_percentiles_linear():
    # linear: position p/100 * (n - 1) -> [1..5]: p50 at 2.0 -> 3; p95 at 3.8 -> 4.8; p99 at 3.96 -> 4.96
    assert m.percentiles([5, 1, 4, 2, 3]) == [3.0, pytest.approx(4.8), pytest.approx(4.96)]
    # [10, 20, 30, 40]: p50 at 1.5 -> 25
    assert m.percentiles([10, 20, 30, 40], [50]) == [25.0]
    assert m.percentiles([7.0]) == [7.0, 7.0, 7.0]
    assert all(math.isnan(x) for x in m.percentiles([]))


def test_bootstrap_ci():
    values = [0.0, 1.0] * 50  # mean 0.5, sd of the mean ~0.05
    lo, hi = m.bootstrap_ci(values)
    assert 0.35 < lo < 0.5 < hi < 0.65
    assert m.bootstrap_ci(values) == (lo, hi)  # fixed seed: the same interval every run
    assert m.bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)  # no spread, no width
    lo, hi = m.bootstrap_ci([0.2, 0.9, 0.4])
    assert 0.2 <= lo <= hi <= 0.9  # resampled means stay within the data
    assert all(math.isnan(x) for x in m.bootstrap_ci([]))


def test_group_means_by_hand():
    # ja: 1, 0, None (not defined there) -> 1/2; en: None only -> None; zh: 1 -> 1
    groups = ["ja", "en", "ja", "ja", "zh"]
    values = [1.0, None, 0.0, None, 1.0]
    assert m.group_means(groups, values) == {"en": None, "ja": 0.5, "zh": 1.0}
    assert list(m.group_means(groups, values)) == ["en", "ja", "zh"]  # sorted
    assert m.group_means([], []) == {}
    with pytest.raises(ValueError):
        m.group_means(["ja"], [])


def test_threshold_sweep_by_hand():
    # a: answerable, conf 0.9, right     b: answerable, conf 0.5, wrong
    # c: answerable, nothing retrieved (refused at any threshold)
    # d: unanswerable, conf 0.3          e: unanswerable, conf 0.5 (ties b)
    conf = [0.9, 0.5, 0.0, 0.3, 0.5]
    answerable = [True, True, True, False, False]
    correct = [True, False, None, False, False]
    pts = m.threshold_sweep(conf, answerable, correct, [0.0, 0.4, 0.5, 0.6, 1.0])
    # t=0: a, b answered (a right), c refused; d, e answered
    # answers given: a (right), b, d, e -> precision 1/4; answerable answered: a, b of 3
    assert pts[0] == {
        "threshold": 0.0,
        "answer_accuracy": pytest.approx(1 / 3),
        "false_refusal_rate": pytest.approx(1 / 3),
        "refusal_recall": 0.0,
        "answered_precision": 0.25,
        "coverage": pytest.approx(2 / 3),
    }
    # t=0.4: d refused (0.3 < 0.4)
    assert pts[1]["refusal_recall"] == 0.5 and pts[1]["false_refusal_rate"] == pytest.approx(1 / 3)
    # t=0.5: a tie is answered, so b and e still answered
    assert pts[2]["refusal_recall"] == 0.5 and pts[2]["answer_accuracy"] == pytest.approx(1 / 3)
    # t=0.6: b and e refused; a still right
    assert pts[3] == {
        "threshold": 0.6,
        "answer_accuracy": pytest.approx(1 / 3),
        "false_refusal_rate": pytest.approx(2 / 3),
        "refusal_recall": 1.0,
        "answered_precision": 1.0,
        "coverage": pytest.approx(1 / 3),
    }
    # t=1.0: everything refused, so no answer to be right or wrong
    assert pts[4]["answer_accuracy"] == 0.0 and pts[4]["false_refusal_rate"] == 1.0
    assert pts[4]["answered_precision"] is None and pts[4]["coverage"] == 0.0


def test_threshold_sweep_empty_and_one_sided_sets():
    assert m.threshold_sweep([], [], [], [0.5]) == [
        {"threshold": 0.5, "answer_accuracy": None, "false_refusal_rate": None,
         "refusal_recall": None, "answered_precision": None, "coverage": None}
    ]  # fmt: skip
    only_unanswerable = m.threshold_sweep([0.2], [False], [False], [0.1, 0.3])
    assert [p["refusal_recall"] for p in only_unanswerable] == [0.0, 1.0]
    assert only_unanswerable[0]["answer_accuracy"] is None
    with pytest.raises(ValueError):
        m.threshold_sweep([0.1], [True, False], [True], [0.5])
