"""The conversation log: masking before storage, feedback, filters, CSV export, retention."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
import time

import pytest

from madoguchi.kit.convlog import ConversationLog, mask_pii
from madoguchi.kit.errors import InputError, StoreError


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("電話は090-1234-5678です", "電話は[電話]です"),
        ("03(1234)5678に", "[電話]に"),
        ("０３－１２３４－５６７８", "[電話]"),
        ("0312345678", "[電話]"),
        ("+81 90-1234-5678", "[電話]"),
        ("役場 01234-5-1103", "役場 [電話]"),
        ("0120-123-456", "[電話]"),
        ("mail: a.b+c@city.example.lg.jp まで", "mail: [メール] まで"),
        ("taro＠example.jp", "[メール]"),
        ("マイナンバー 1234 5678 9012 です", "マイナンバー [番号] です"),
        ("123456789012", "[番号]"),
        ("１２３４－５６７８－９０１２", "[番号]"),
    ],
)
def test_mask_pii_masks_phones_mails_and_twelve_digit_numbers(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "郵便番号 123-4567",
        "2024年4月1日に",
        "粗大ごみは1点500円",
        "予算は1000000円",
        "13桁 1234567890123",
        "令和6年の児童手当",
    ],
)
def test_mask_pii_leaves_ordinary_numbers(text):
    assert mask_pii(text) == text


def record(log, question="粗大ごみの出し方は？", refused=False, **kw):
    return log.record(
        question=question,
        lang=kw.pop("lang", "ja"),
        answer="処理券を貼って出してください。",
        citations=[{"source": "faq.csv#1", "title": "粗大ごみ", "url": None, "snippet": "x"}],
        refused=refused,
        mode="abstain" if refused else "faq",
        confidence=0.2 if refused else 0.9,
        latency_ms=12.5,
        **kw,
    )


def test_record_masks_before_storing_and_round_trips(tmp_path):
    log = ConversationLog.in_data_dir(tmp_path)
    t = record(log, question="090-1111-2222 に折り返し、a@b.jp へも", conversation_id="c1")
    raw = (
        sqlite3.connect(tmp_path / "conversations.sqlite")
        .execute("SELECT question, citations, refused, feedback FROM turns")
        .fetchone()
    )
    assert "090" not in raw[0] and "a@b.jp" not in raw[0]
    assert raw[1] == '[{"source": "faq.csv#1", "title": "粗大ごみ", "url": null}]'
    assert raw[2] == 0 and raw[3] is None
    got = log.get(t.id)
    assert got is not None and got.conversation_id == "c1" and got.question == t.question
    assert got.citations == [{"source": "faq.csv#1", "title": "粗大ごみ", "url": None}]
    assert log.get("missing") is None


def test_feedback_attaches_to_the_turn(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite")
    t = record(log)
    assert log.feedback(t.id, False, "  info@town.jp に書いてない ") is True
    got = log.get(t.id)
    assert got.feedback == 0 and got.comment == "[メール] に書いてない"
    assert log.feedback(t.id, True) is True  # changing one's mind keeps the comment
    assert log.get(t.id).feedback == 1 and log.get(t.id).comment == "[メール] に書いてない"
    assert log.feedback("nope", True) is False
    with pytest.raises(InputError):
        log.feedback(t.id, True, "x" * 1001)


def test_filters_counts_and_unanswered_csv(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite")
    record(log)
    record(log, question="宇宙船の免許は？", refused=True)
    record(log, question="宇宙船の免許は？", refused=True, lang="en")
    bad = record(log, question="ごみの日は？")
    log.feedback(bad.id, False, "古い情報")
    assert log.count() == 4 and log.count(refused=True) == 2 and log.count(feedback=0) == 1
    assert [t.question for t in log.turns(feedback=0)] == ["ごみの日は？"]
    assert len(log.turns(refused=False)) == 2
    assert len(log.turns(limit=1)) == 1
    rows = log.unanswered()
    assert rows[0]["question"] == "宇宙船の免許は？" and rows[0]["count"] == 2
    assert set(rows[0]["langs"].split(",")) == {"ja", "en"}
    assert rows[1]["question"] == "ごみの日は？" and rows[1]["not_helpful"] == 1
    assert rows[1]["comments"] == "古い情報"
    text = log.unanswered_csv()
    assert text.startswith("\ufeffquestion,count,")
    parsed = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["question"] for r in parsed] == ["宇宙船の免許は？", "ごみの日は？"]


def test_retention_deletes_old_turns(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite", retention_days=30)
    now = time.time()
    record(log, ts=now - 31 * 86400)
    keep = record(log, ts=now - 29 * 86400)
    assert log.purge(now) == 1
    assert [t.id for t in log.turns()] == [keep.id]
    log.close()
    record_old = ConversationLog(tmp_path / "log.sqlite", retention_days=1)  # purges on open
    assert record_old.count() == 0


def test_concurrent_writers(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite")

    def work():
        for _ in range(50):
            t = record(log)
            log.feedback(t.id, True)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert log.count() == 400 and log.count(feedback=1) == 400


def test_unusable_path_is_a_store_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError):
        ConversationLog(tmp_path / "file" / "log.sqlite")
