"""The synthetic month of conversations: deterministic by seed, shaped like a town's log."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from madoguchi.eval.synthlog import generate, main, paraphrases, read_sets, services_ask
from madoguchi.ingest.services import build_services
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError
from madoguchi.kit.usage import Period, load_turns, stats

REPO = Path(__file__).resolve().parents[2]
SETS = [REPO / "demo" / "eval.jsonl", REPO / "demo" / "eval_multilingual.jsonl"]


@pytest.fixture(scope="module")
def demo_services(tmp_path_factory):
    from madoguchi.kit.config import Settings

    data = tmp_path_factory.mktemp("synth") / "data"
    svc = build_services(
        Settings(
            data_dir=data,
            embedder={"kind": "fake", "dim": 256},
            store={"kind": "memory"},
            # the fake embedder's similarities run lower than a real model's: centre the
            # confidence on them, so that some questions are answered and some refused
            answer={"min_similarity": 0.0, "conf_sim_center": 0.3},
        )
    )
    svc.ingest([str(REPO / "demo" / "faq.csv")])
    return svc


def dump(log: ConversationLog) -> list[tuple]:
    return [
        (t.id, t.conversation_id, t.ts, t.question, t.lang, t.refused, t.mode, t.latency_ms,
         t.feedback, t.comment, t.follow_up, json.dumps(t.citations))
        for t in log.turns(limit=100_000)
    ]  # fmt: skip


def test_a_month_of_conversations_deterministic_by_seed(demo_services, tmp_path):
    month = Period.month("2026-11")
    questions = read_sets(SETS)
    logs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        log = ConversationLog(tmp_path / f"{name}.sqlite", retention_days=36500)
        summary = generate(log, services_ask(demo_services), questions, month, n=1000, seed=seed)
        logs.append(log)
    assert summary["conversations"] == 1000 and summary["turns"] > 1200
    a, b, c = (dump(x) for x in logs)
    assert a == b and a != c
    turns = load_turns(logs[0], month.start_ts, month.end_ts)
    assert len(turns) == len(a)  # every turn falls inside the month
    s = stats(turns, month)
    assert s.conversations == 1000
    assert len(s.langs) >= 5 and s.langs.most_common(1)[0][0] == "ja"
    assert 0.05 < s.share("refused") < 0.6 and s.share("answered") > 0.3
    assert s.thumbs_up > 50 and s.thumbs_down > 20
    assert s.latency_p50 < s.latency_p95
    # a few topics dominate, and unanswerable questions group across wordings
    assert s.topics[0].count > 3 * s.topics[-1].count
    assert any(len(g.questions) > 1 for g in s.unanswered)
    # weekdays busier than weekends
    by_weekday = Counter(Period.containing(t.ts, "day").start.weekday() for t in turns)
    assert by_weekday[2] > by_weekday[6]
    # the comment with a phone number was masked by the log
    assert not any("090-1234" in (t.comment or "") for t in turns)
    assert any("[電話]" in (t.comment or "") for t in turns)


def test_paraphrases_of_japanese_only():
    assert paraphrases("粗大ごみの出し方は？") == [
        "粗大ごみの出し方は？",
        "すみません、粗大ごみの出し方は？",
        "粗大ごみの出し方は。教えてください",
        "質問です。粗大ごみの出し方は？",
    ]
    assert paraphrases("How much is the dog registration fee?") == [
        "How much is the dog registration fee?"
    ]


def test_bad_input(tmp_path, demo_services):
    with pytest.raises(InputError, match="no such question set"):
        read_sets([tmp_path / "none.jsonl"])
    log = ConversationLog(tmp_path / "x.sqlite")
    with pytest.raises(InputError):
        generate(log, services_ask(demo_services), read_sets(SETS), Period.month("2026-11"), n=0)


def test_the_command_refuses_an_empty_index(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_STORE__KIND", "memory")
    assert main(["--month", "2026-11", "--n", "5", "--sets", str(SETS[0])]) == 2
    assert "is empty" in capsys.readouterr().err
