"""Dataset validation with line numbers, and a run against a fake service."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from eval.dataset import DatasetError, load_dataset
from eval.run import run_items
from kit.types import Answer, Chunk, Citation, ScoredChunk

GOOD = [
    {
        "id": "q1",
        "question": "粗大ごみは？",
        "lang": "ja",
        "answerable": True,
        "expected_sources": ["faq.csv#1"],
        "expected_answer_contains": ["300円"],
    },
    {
        "id": "q2",
        "question": "町長の給料は？",
        "lang": "ja",
        "answerable": False,
        "expected_sources": [],
        "expected_answer_contains": [],
    },
    {
        "id": "q3",
        "question": "dog registration?",
        "lang": "en",
        "answerable": True,
        "expected_sources": ["faq.csv#2"],
        "expected_answer_contains": [],
        "relevance": {"faq.csv#2": 2},
    },
]


def write(tmp_path, rows, raw: str | None = None):
    p = tmp_path / "d.jsonl"
    p.write_text(
        raw
        if raw is not None
        else "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n"
    )
    return p


def test_loads_good_file(tmp_path):
    items = load_dataset(write(tmp_path, GOOD))
    assert [i.id for i in items] == ["q1", "q2", "q3"]
    assert items[2].relevance == {"faq.csv#2": 2}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda r: r.update(answerable="yes"),
            r"d.jsonl:2: field 'answerable' must be true or false",
        ),
        (lambda r: r.pop("question"), r"d.jsonl:2: field 'question' is required"),
        (
            lambda r: r.update(answerable=False),
            r"d.jsonl:2: an unanswerable item must have expected_sources",
        ),
        (lambda r: r.update(id="q1"), r"d.jsonl:2: duplicate id 'q1'"),
        (lambda r: r.update(relevance={"a": "high"}), r"d.jsonl:2: field 'relevance'"),
    ],
)
def test_errors_name_line_and_field(tmp_path, mutate, message):
    rows = [dict(GOOD[0]), {**GOOD[2], "id": "q2"}]
    mutate(rows[1])
    with pytest.raises(DatasetError, match=message):
        load_dataset(write(tmp_path, rows))


def test_bad_json_and_empty(tmp_path):
    with pytest.raises(DatasetError, match=r":1: not valid JSON"):
        load_dataset(write(tmp_path, [], raw="{oops\n"))
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(write(tmp_path, [], raw="\n"))


@dataclass
class FakeResult:
    answer: Answer
    hits: list
    latency_ms: float


class FakeService:
    def ask(self, question, lang=None):
        def hit(sid):
            return ScoredChunk(Chunk(sid + "c", sid, "t", "t", 0, {}), 1.0)

        if "給料" in question:
            return FakeResult(Answer("わかりません", (), True, "ja"), [hit("faq.csv#9")], 10.0)
        if "dog" in question:
            return FakeResult(
                Answer("Register", (Citation("faq.csv#2", "t", None),), False, "en"),
                [hit("faq.csv#5"), hit("faq.csv#2")],
                30.0,
            )
        return FakeResult(
            Answer("1点３００円", (Citation("faq.csv#1", "t", "http://u"),), False, "ja"),
            [hit("faq.csv#1"), hit("faq.csv#1"), hit("faq.csv#3")],
            20.0,
        )


def test_run_writes_details_and_scores(tmp_path):
    items = load_dataset(write(tmp_path, GOOD))
    details = tmp_path / "out.jsonl"
    s = run_items(FakeService(), items, details_path=details)
    rows = [json.loads(x) for x in details.read_text().splitlines()]
    assert [set(r) for r in rows] == [
        {"id", "retrieved", "answer", "refused", "lang", "citations", "latency_ms"}
    ] * 3
    assert rows[0]["retrieved"] == ["faq.csv#1", "faq.csv#3"]  # deduplicated
    assert rows[0]["citations"] == [{"source": "faq.csv#1", "title": "t", "url": "http://u"}]
    assert s["hit@5"] == 1.0
    assert s["mrr"] == pytest.approx((1 + 0.5) / 2)
    assert s["answer_accuracy"] == 1.0
    assert s["refusal_recall"] == 1.0 and s["false_refusal_rate"] == 0.0
    assert s["ndcg@10"] == pytest.approx(
        1 / 1.5849625, rel=1e-5
    )  # grade 2 at rank 2 / grade 2 at rank 1
    assert s.by_lang["en"]["n"] == 1
    assert s["latency_p50_ms"] == 20.0


def test_real_localgovfaq_set_loads(shared_data):
    items = load_dataset(shared_data / "amagasaki_faq" / "localgovfaq_queries.jsonl")
    assert len(items) == 749
    assert sum(not i.answerable for i in items) == 162
