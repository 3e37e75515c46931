"""Starter sets from a FAQ CSV and from the conversation log; unlabelled items are refused clearly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from madoguchi.eval.dataset import UnlabelledError, load_dataset
from madoguchi.eval.starter import items_from_faq_csv, items_from_log, write_jsonl
from madoguchi.kit.errors import InputError

REPO = Path(__file__).resolve().parents[2]

# the API's table, as kit/convlog.py writes it
SCHEMA = """CREATE TABLE turns (id TEXT PRIMARY KEY, conversation_id TEXT, ts REAL,
question TEXT, lang TEXT, answer TEXT, citations TEXT, refused INTEGER, mode TEXT,
confidence REAL, latency_ms REAL, feedback INTEGER NULL, comment TEXT NULL)"""


def make_log(data_dir: Path, rows: list[tuple]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data_dir / "conversations.sqlite")
    db.execute(SCHEMA)
    db.executemany("INSERT INTO turns VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


CITE = json.dumps([{"source": "faq.csv#3", "title": "犬の登録", "url": None}], ensure_ascii=False)
ROWS = [
    # id, conv, ts, question, lang, answer, citations, refused, mode, conf, ms, feedback, comment
    ("t1", "c1", 10.0, "町長の給料は？", "ja", "お答えできません", "[]", 1, "abstain", 0.2, 30,
     None, None),
    ("t2", "c1", 11.0, "犬の登録は？", "ja", "犬の登録は…", CITE, 0, "faq", 0.8, 25, 1, None),
    ("t3", "c2", 12.0, "猫の登録は？", "ja", "犬の登録は…", CITE, 0, "faq", 0.6, 25, 0,
     "犬じゃなくて猫"),
    # the same question again (white space and width differ): counted, comment kept
    ("t4", "c3", 13.0, "猫の 登録は?", "ja", "犬の登録は…", CITE, 0, "faq", 0.6, 25, 0,
     "また犬の話"),
    ("t5", "c4", 14.0, "Where is city hall?", "en", "I could not find", "[]", 1, "abstain",
     0.1, 20, 0, None),
    ("t6", "c5", 15.0, "  ", "ja", "", "[]", 1, "abstain", 0.0, 1, None, None),  # blank: skipped
    ("t7", "c6", 16.0, "ごみの日は？", "ja", "…", "not json", 0, "faq", 0.9, 22, 1, None),
]  # fmt: skip


def test_items_from_log(tmp_path):
    make_log(tmp_path, ROWS)
    recs = items_from_log(tmp_path)
    # thumbs-down or refused, oldest first, one per distinct question; t2, t7 were fine
    assert [r["question"] for r in recs] == [
        "町長の給料は？",
        "猫の登録は？",
        "Where is city hall?",
    ]
    assert [r["id"] for r in recs] == ["log-0001", "log-0002", "log-0003"]
    first, cat, en = recs
    assert first["note"] == "refused" and first["answerable"] is None and first["needs_label"]
    assert cat["note"] == "thumbs-down"
    assert cat["log"]["times"] == 2 and cat["log"]["comments"] == ["犬じゃなくて猫", "また犬の話"]
    assert cat["log"]["cited"] == ["faq.csv#3"] and cat["log"]["confidence"] == 0.6
    assert en["note"] == "refused, thumbs-down" and en["lang"] == "en"


def test_log_file_for_staff_is_refused_until_labelled(tmp_path):
    make_log(tmp_path / "data", ROWS)
    out = tmp_path / "to_label.jsonl"
    write_jsonl(items_from_log(tmp_path / "data"), out)
    with pytest.raises(
        UnlabelledError, match=r"3 of 3 items still need labels.*:1: item 'log-0001'"
    ):
        load_dataset(out)
    # staff label two of them: answerable with a source, and unanswerable
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    lines[0].update(answerable=False, needs_label=False)
    lines[1].update(answerable=True, expected_sources=["faq.csv#4"])
    del lines[1]["needs_label"]
    write_jsonl(lines, out)
    with pytest.raises(UnlabelledError, match=r"1 of 3 items.*:3: item 'log-0003'"):
        load_dataset(out)
    write_jsonl(lines[:2], out)
    items = load_dataset(out)  # the extra "log" field is carried along, ignored
    assert [(it.id, it.answerable) for it in items] == [("log-0001", False), ("log-0002", True)]


def test_log_errors(tmp_path):
    with pytest.raises(InputError, match="no conversation log"):
        items_from_log(tmp_path)
    (tmp_path / "conversations.sqlite").write_bytes(b"")  # an empty file: no table
    with pytest.raises(InputError, match="cannot read the turns table"):
        items_from_log(tmp_path)


def test_items_from_faq_csv(monkeypatch):
    monkeypatch.chdir(REPO)
    items = items_from_faq_csv("demo/faq.csv")
    assert len(items) > 40
    first = items[0]
    assert first.answerable and first.expected_sources == ("demo/faq.csv#1",)
    assert first.relevance == {"demo/faq.csv#1": 2} and first.question.endswith("か。")


def test_faq_csv_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        items_from_faq_csv(tmp_path / "missing.csv")
    table = tmp_path / "target.csv"
    table.write_text("品目,分類\n空き缶,資源ごみ\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a FAQ table"):
        items_from_faq_csv(table)
