"""run_items against a small fake service: the §4 details file and figures worked out by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from factories import source_hit as hit

from madoguchi.eval.dataset import EvalItem
from madoguchi.eval.run import FIGURES, EvalRun, EvalSummary, run_items
from madoguchi.kit.errors import InputError, StoreError
from madoguchi.kit.types import Answer, Citation, ScoredChunk

DETAIL_KEYS = {"id", "retrieved", "answer", "refused", "lang", "citations", "latency_ms"}


@dataclass(frozen=True)
class FakeAskResult:
    answer: Answer
    hits: list[ScoredChunk]
    latency_ms: float


def cite(sid: str, url: str | None = None) -> Citation:
    return Citation(sid, f"title of {sid}", url)


# question -> what the fake service answers (or raises)
SCRIPT: dict[str, object] = {
    # right source first (two chunks of it), right text with full-width digits
    "粗大ごみは？": FakeAskResult(
        Answer("1点３００円です", (cite("faq#1", "http://town.example/1"),), False, "ja"),
        [hit("faq#1"), hit("faq#1", 1), hit("faq#3")],
        20.04,
    ),
    # unanswerable, refused; the related faq#7 at rank 2
    "町長の給料は？": FakeAskResult(
        Answer("お答えできません", (), True, "ja"), [hit("faq#9"), hit("faq#7")], 10.0
    ),
    # right source at rank 2; cites it and a wrong one
    "dog registration?": FakeAskResult(
        Answer("Register your dog", (cite("faq#2"), cite("faq#5")), False, "en"),
        [hit("faq#5"), hit("faq#2")],
        30.0,
    ),
    # answerable, falsely refused, nothing retrieved
    "住民票の写しは？": FakeAskResult(Answer("", (), True, "ja"), [], 40.0),
    # unanswerable, but answered: 15 chunks over 12 distinct sources
    "what is the mayor's salary?": FakeAskResult(
        Answer("It is high", (cite("faq#3"),), False, "en"),
        [hit(f"s#{i}") for i in range(12)] + [hit("s#0", 1), hit("s#1", 1), hit("s#2", 1)],
        50.0,
    ),
    # the service rejects it as input: counted as a refusal and an error
    "長" * 5: InputError("the question is too long"),
}

ITEMS = [
    EvalItem("q1", "粗大ごみは？", "ja", True, ("faq#1",), ("300円",)),
    EvalItem("q2", "町長の給料は？", "ja", False, (), (), {"faq#7": 1}),
    EvalItem("q3", "dog registration?", "en", True, ("faq#2",), (), {"faq#2": 2, "faq#4": 1}),
    EvalItem("q4", "住民票の写しは？", "ja", True, ("faq#8",), ("電話",)),
    EvalItem("q5", "what is the mayor's salary?", "en", False),
    EvalItem("q6", "長" * 5, "ja", True, ("faq#1",)),
]


@dataclass
class FakeServices:
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def ask(self, question: str, lang: str | None = None) -> FakeAskResult:
        self.calls.append((question, lang))
        out = SCRIPT[question]
        if isinstance(out, Exception):
            raise out
        assert isinstance(out, FakeAskResult)
        return out


@pytest.fixture
def run_and_details(tmp_path):
    details = tmp_path / "details.jsonl"
    svc = FakeServices()
    ticks: list[int] = []
    run = run_items(svc, ITEMS, details_path=details, progress=ticks.append)
    return run, details, svc, ticks


def test_asks_every_question_without_a_language(run_and_details):
    run, _, svc, ticks = run_and_details
    assert svc.calls == [(it.question, None) for it in ITEMS]
    assert ticks == [1] * len(ITEMS)
    assert isinstance(run, EvalRun) and isinstance(run.summary, EvalSummary)
    assert [r.item.id for r in run.results] == [it.id for it in ITEMS]


def test_details_file_is_exactly_the_design_record(run_and_details):
    run, details, _, _ = run_and_details
    text = details.read_text(encoding="utf-8")
    assert "３００円" in text  # ensure_ascii=False: Japanese stays readable
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == len(ITEMS)
    assert all(set(r) == DETAIL_KEYS for r in rows)
    assert rows == run.details()
    q1, q2, q3, q4, q5, q6 = rows
    assert q1 == {
        "id": "q1",
        "retrieved": ["faq#1", "faq#3"],  # two chunks of faq#1 count once
        "answer": "1点３００円です",
        "refused": False,
        "lang": "ja",
        "citations": [
            {"source": "faq#1", "title": "title of faq#1", "url": "http://town.example/1"}
        ],
        "latency_ms": 20.0,
    }
    assert q2["refused"] is True and q2["citations"] == [] and q2["retrieved"] == ["faq#9", "faq#7"]
    assert q3["citations"][1] == {"source": "faq#5", "title": "title of faq#5", "url": None}
    assert q3["lang"] == "en"
    assert q4["retrieved"] == [] and q4["refused"] is True
    assert q5["retrieved"] == [f"s#{i}" for i in range(10)]  # deduplicated, then the top 10
    # the rejected question: a refusal with nothing retrieved, the item's language
    assert q6 == {
        "id": "q6",
        "retrieved": [],
        "answer": "",
        "refused": True,
        "lang": "ja",
        "citations": [],
        "latency_ms": 0.0,
    }


def test_summary_by_hand(run_and_details):
    s = run_and_details[0].summary
    assert (s.n, s.n_answerable, s.n_unanswerable, s.n_errors) == (6, 4, 2, 1)
    # answerable with expected sources: q1 (rank 1), q3 (rank 2), q4 (none), q6 (none)
    assert s["hit@5"] == 0.5  # (1 + 1 + 0 + 0) / 4
    assert s["mrr"] == 0.375  # (1 + 1/2 + 0 + 0) / 4
    assert s["recall@10"] == 0.5
    assert s.figures["hit@5"].n == 4
    # graded: q2 {faq#7: 1} retrieved at rank 2 -> (1/log2 3) / 1 = 0.63093
    #         q3 {faq#2: 2, faq#4: 1}, faq#2 at rank 2 -> (2/log2 3) / (2 + 1/log2 3)
    #            = 1.26186 / 2.63093 = 0.47962;  mean = 0.55528
    assert s["ndcg@10"] == pytest.approx(0.55528, abs=1e-5)
    assert s.figures["ndcg@10"].n == 2
    # answer accuracy over answerable: q1 right, q3 right (no strings, faq#2 cited),
    # q4 refused, q6 rejected -> 2/4
    assert s["answer_accuracy"] == 0.5
    # citation precision over answered items with expected sources: q1 1/1, q3 1/2 -> 0.75
    assert s["citation_precision"] == 0.75
    # unanswerable q2 refused, q5 answered -> 1/2; refused q2, q4, q6 of which unanswerable q2 -> 1/3
    assert s["refusal_recall"] == 0.5
    assert s["refusal_precision"] == pytest.approx(1 / 3)
    # answerable refused: q4, q6 -> 2/4
    assert s["false_refusal_rate"] == 0.5
    # answers given: q1 (right), q3 (right), q5 (unanswerable, so wrong) -> 2/3;
    # answerable answered: q1, q3 of q1, q3, q4, q6 -> 2/4
    assert s["answered_precision"] == pytest.approx(2 / 3)
    assert s.figures["answered_precision"].n == 3
    assert s["coverage"] == 0.5
    # latency over the 5 answered items 10, 20.04, 30, 40, 50 (the rejected one excluded)
    # linear: p50 at index 2 -> 30; p95 at 3.8 -> 40 + 0.8*10 = 48; p99 at 3.96 -> 49.6
    assert s["latency_p50_ms"] == 30.0
    assert s["latency_p95_ms"] == pytest.approx(48.0)
    assert s["latency_p99_ms"] == pytest.approx(49.6)
    assert s.figures["latency_p50_ms"].n == 5


def test_every_mean_has_a_bootstrap_ci(run_and_details):
    s = run_and_details[0].summary
    assert set(s.figures) == set(FIGURES)
    for name, f in s.figures.items():
        if name.startswith("latency"):
            assert f.ci is None
        else:
            assert f.ci is not None and f.value is not None
            assert f.ci[0] <= f.value <= f.ci[1]


def test_by_language(run_and_details):
    by = run_and_details[0].summary.by_lang
    assert list(by) == ["en", "ja"]
    # en: q3 (answerable, right at rank 2), q5 (unanswerable, answered)
    assert by["en"] == {
        "n": 2,
        "n_answerable": 1,
        "hit@5": 1.0,
        "answer_accuracy": 1.0,
        "false_refusal_rate": 0.0,
        "refusal_recall": 0.0,
        "answered_precision": 0.5,  # q3 right, q5 (unanswerable) answered
        "coverage": 1.0,
        "answer_accuracy_ci95": [1.0, 1.0],  # one correct item: no spread
    }
    # ja: q1 right, q4 and q6 refused, q2 refused (unanswerable)
    assert by["ja"]["n"] == 4 and by["ja"]["n_answerable"] == 3
    assert by["ja"]["hit@5"] == pytest.approx(1 / 3)
    assert by["ja"]["answer_accuracy"] == pytest.approx(1 / 3)
    assert by["ja"]["false_refusal_rate"] == pytest.approx(2 / 3)
    assert by["ja"]["refusal_recall"] == 1.0


def test_to_dict_is_strict_json(run_and_details):
    run = run_and_details[0]
    d = json.loads(json.dumps(run.to_dict(), allow_nan=False))
    assert d == run.summary.to_dict()
    assert d["figures"]["mrr"]["value"] == 0.375
    assert len(d["figures"]["mrr"]["ci95"]) == 2
    assert d["n_errors"] == 1 and d["by_lang"]["en"]["n"] == 2
    assert run["mrr"] == 0.375  # a run reads its summary's figures


def test_unmeasurable_figures_are_none_not_nan():
    # answerable only, no graded judgements, nothing refused
    items = [ITEMS[0]]
    s = run_items(FakeServices(), items).summary
    for name in ("ndcg@10", "refusal_recall", "refusal_precision"):
        assert s[name] is None and s.figures[name].n == 0 and s.figures[name].ci is None
    assert s.by_lang["ja"]["refusal_recall"] is None
    json.dumps(s.to_dict(), allow_nan=False)


def test_empty_run():
    run = run_items(FakeServices(), [])
    assert run.summary.n == 0 and run.results == []
    assert all(v is None for v in (run.summary[k] for k in FIGURES))
    json.dumps(run.to_dict(), allow_nan=False)


class BrokenServices(FakeServices):
    def ask(self, question: str, lang: str | None = None) -> FakeAskResult:
        if len(self.calls) == 1:
            raise StoreError("index missing")
        return super().ask(question, lang)


def test_other_kit_errors_abort_but_keep_what_was_measured(tmp_path):
    # a broken index must not score as a cautious service that refuses everything
    details = tmp_path / "d.jsonl"
    with pytest.raises(StoreError):
        run_items(BrokenServices(), ITEMS, details_path=details)
    rows = [json.loads(x) for x in details.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["q1"]  # flushed line by line


@dataclass
class ChatServices:
    """A service with conversations: answers "いくらですか" from the chat's earlier topic."""

    calls: list[tuple[str, str | None]] = field(default_factory=list)
    topic: dict[str, str] = field(default_factory=dict)
    drags: bool = False

    def ask(self, question: str, lang: str | None = None, conversation_id: str | None = None):
        self.calls.append((question, conversation_id))
        earlier = self.topic.get(conversation_id or "", "")
        if conversation_id:
            self.topic[conversation_id] = question
        about = earlier if ("いくら" in question or self.drags) and earlier else question
        src = "faq#dog" if "犬" in about else "faq#gomi"
        return FakeAskResult(Answer(f"{src} の答え", (cite(src),), False, "ja"), [hit(src)], 5.0)


def test_an_item_with_history_is_asked_after_it_in_one_conversation():
    item = EvalItem("f1", "いくらですか", "ja", True, ("faq#dog",), history=("犬の登録は？",))
    svc = ChatServices()
    run = run_items(svc, [item, EvalItem("s1", "粗大ごみは？", "ja", True, ("faq#gomi",))])
    (q1, c1), (q2, c2), (q3, c3) = svc.calls
    assert (q1, q2, q3) == ("犬の登録は？", "いくらですか", "粗大ごみは？")
    assert c1 == c2 and c1 is not None and c3 is None  # one conversation, then none
    assert [r.correct for r in run.results] == [True, True]


def test_the_drag_check_counts_answers_an_earlier_question_changed():
    from madoguchi.eval.run import drag_check

    items = [
        EvalItem("d1", "犬の登録は？", "ja", True, ("faq#dog",)),
        EvalItem("g1", "粗大ごみは？", "ja", True, ("faq#gomi",)),
        EvalItem("g2", "ごみの日は？", "ja", True, ("faq#gomi",)),
    ]
    fair = ChatServices()
    assert drag_check(fair, run_items(fair, items)).changed == []
    dragging = ChatServices(drags=True)
    check = drag_check(dragging, run_items(dragging, items))
    # d1 after g1: the garbage topic wins; g1 and g2 after d1: the dog's
    assert check.asked == 3
    assert [i for i, _ in check.changed] == ["d1", "g1", "g2"]
    assert check.changed[0][1] == "粗大ごみは？" and check.rate == 1.0
    assert check.to_dict()["changed"] == 3


def test_wrong_answers_are_classed_by_cause(run_and_details):
    from madoguchi.eval.run import FAILURE_CLASSES, failure_class, failure_classes

    run, *_ = run_and_details
    by_id = {r.item.id: failure_class(r) for r in run.results}
    assert by_id["q1"] is None and by_id["q2"] is None
    assert by_id["q4"] == "refused_not_found"
    assert by_id["q5"] == "unanswerable_answered"
    assert by_id["q6"] == "input_rejected"
    counts = failure_classes(run.results)
    assert sum(counts.values()) == sum(1 for r in run.results if not r.correct)
    assert set(counts) <= set(FAILURE_CLASSES) and 0 not in counts.values()


def test_a_near_neighbour_and_a_missing_fact_are_told_apart():
    from madoguchi.eval.run import failure_class

    near = FakeAskResult(
        Answer("原戸籍は750円", (cite("faq#5"),), False, "ja"), [hit("faq#5"), hit("faq#2")], 5.0
    )
    lacking = FakeAskResult(
        Answer("窓口で申請します", (cite("faq#2"),), False, "ja"), [hit("faq#2")], 5.0
    )
    refused = FakeAskResult(Answer("", (), True, "ja"), [hit("faq#2")], 5.0)
    item = EvalItem("x", "戸籍謄本は？", "ja", True, ("faq#2",), ("450円",))

    class One:
        def __init__(self, out: FakeAskResult) -> None:
            self.out = out

        def ask(self, question: str, lang: str | None = None) -> FakeAskResult:
            return self.out

    got = [failure_class(run_items(One(o), [item]).results[0]) for o in (near, lacking, refused)]
    assert got == ["near_neighbour", "fact_missing", "refused_found"]


def test_items_with_a_kind_get_figures_per_kind():
    from madoguchi.eval.dataset import parse_item
    from madoguchi.eval.report import by_kind_table

    assert by_kind_table(run_items(FakeServices(), ITEMS[:2]).results) is None
    items = [
        parse_item(
            {
                "id": "q1",
                "question": ITEMS[0].question,
                "answerable": True,
                "expected_sources": ["faq#1"],
                "expected_answer_contains": ["300円"],
                "kind": "followup",
            },
            "t:1",
        ),
        parse_item(
            {"id": "q4", "question": ITEMS[3].question, "answerable": True, "kind": "switch"},
            "t:2",
        ),
    ]
    table = by_kind_table(run_items(FakeServices(), items).results)
    assert table is not None
    rows = list(zip(*(c._cells for c in table.columns), strict=True))
    assert rows == [("followup", "1", "1.000", "0.000"), ("switch", "1", "0.000", "1.000")]
    with pytest.raises(Exception, match="kind"):
        parse_item({"id": "x", "question": "q", "answerable": True, "kind": 3}, "t:3")
