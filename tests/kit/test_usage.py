"""利用状況: the figures of a small hand-made log with known counts, masking, grouping."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError
from madoguchi.kit.usage import (
    JST,
    Period,
    group_unanswered,
    load_turns,
    percentile,
    series,
    similarity,
    stats,
)

GOMI = {"source": "faq.csv#1", "title": "粗大ごみはどのように出せばよいですか。", "url": None}
TOSHO = {"source": "faq.csv#2", "title": "図書館は何時まで開いていますか。", "url": None}


def ts(day: int, hour: int = 10, month: int = 11) -> float:
    return datetime(2026, month, day, hour, tzinfo=JST).timestamp()


def add(log, q, when, *, refused=False, cite=None, lang="ja", ms=100.0, follow_up=None, cid=None):
    return log.record(
        question=q,
        lang=lang,
        answer="回答できません" if refused else "答え",
        citations=[] if refused or cite is None else [cite],
        refused=refused,
        mode="abstain" if refused else "faq",
        confidence=0.1 if refused else 0.9,
        latency_ms=ms,
        ts=when,
        follow_up=follow_up,
        conversation_id=cid,
    )


@pytest.fixture
def log(tmp_path):
    log = ConversationLog(tmp_path / "c.sqlite", retention_days=36500)
    # November 2026: 10 questions in 8 conversations
    a = add(log, "粗大ごみの出し方", ts(2), cite=GOMI, ms=50, cid="c1")
    add(log, "粗大ごみの出し方は？", ts(2, 11), cite=GOMI, ms=60, cid="c1")
    b = add(log, "図書館は何時まで？", ts(3), cite=TOSHO, ms=70, cid="c2")
    add(log, "How late is the library open?", ts(3, 12), cite=TOSHO, lang="en", ms=80, cid="c3")
    add(log, "ごみの日はいつ？", ts(9), cite=GOMI, follow_up="どの地区ですか？", ms=90, cid="c4")
    add(log, "ペットの火葬はできますか", ts(10), refused=True, ms=200, cid="c5")
    add(log, "ペットの火葬", ts(16), refused=True, ms=300, cid="c6")
    add(log, "ペットの火葬はできますか", ts(17), refused=True, ms=400, lang="ja", cid="c7")
    add(log, "電話090-1234-5678に折り返して。宝くじの当選番号", ts(30, 23), refused=True,
        ms=500, cid="c8")  # fmt: skip
    c = add(log, "図書館の駐車場", ts(30, 23), cite=TOSHO, ms=1000, cid="c8")
    log.feedback(a.id, True)
    log.feedback(b.id, True)
    log.feedback(c.id, False, "駐車場のことが書いてない。連絡は a@b.jp")
    # outside the month: 31 Oct 23:59 and 1 Dec 00:00 Japan time
    add(log, "粗大ごみの出し方", datetime(2026, 10, 31, 23, 59, tzinfo=JST).timestamp(), cite=GOMI)
    add(log, "ペットの火葬", datetime(2026, 12, 1, 0, 0, tzinfo=JST).timestamp(), refused=True)
    yield log
    log.close()


def test_month_figures_match_the_hand_counted_log(log):
    month = Period.month("2026-11")
    turns = load_turns(log, month.start_ts - 86400 * 40, month.end_ts + 86400 * 40)
    assert len(turns) == 12
    s = stats(turns, month)
    assert s.questions == 10 and s.conversations == 8
    assert dict(s.outcomes) == {"answered": 5, "clarify": 1, "refused": 4}
    assert (s.share("answered"), s.share("clarify"), s.share("refused")) == (0.5, 0.1, 0.4)
    assert (s.thumbs_up, s.thumbs_down) == (2, 1)
    assert dict(s.langs) == {"ja": 9, "en": 1}
    # topics: answered turns by their first cited source, with the title it carried
    assert [(t.source, t.title, t.count) for t in s.topics] == [
        ("faq.csv#1", GOMI["title"], 3),
        ("faq.csv#2", TOSHO["title"], 3),
    ]
    # nearest rank over 50 60 70 80 90 200 300 400 500 1000
    assert s.latency_p50 == 90 and s.latency_p95 == 1000
    row = s.row()
    assert row["period"] == "2026-11" and row["refused_share"] == 0.4


def test_unanswered_groups_are_similar_questions_most_asked_first(log):
    month = Period.month("2026-11")
    s = stats(load_turns(log, month.start_ts, month.end_ts), month)
    groups = [(g.leader, g.count, g.asked, g.refused, g.not_helpful) for g in s.unanswered]
    assert groups == [
        ("ペットの火葬はできますか", 3, 3, 3, 0),
        ("図書館の駐車場", 1, 1, 0, 1),  # ties by text
        ("電話[電話]に折り返して。宝くじの当選番号", 1, 1, 1, 0),
    ]
    pet = s.unanswered[0]
    assert pet.questions == [("ペットの火葬はできますか", 2), ("ペットの火葬", 1)]
    assert pet.langs == {"ja": 3} and pet.share == 1.0
    assert pet.key == group_unanswered(load_turns(log, month.start_ts, month.end_ts))[0].key


def test_nothing_shown_holds_contact_data(log, tmp_path):
    """The log masks before storing; rows written around it are masked on output too."""
    db = sqlite3.connect(tmp_path / "c.sqlite")
    db.execute(
        "UPDATE turns SET question = '住所は港町1-2-3、電話 03-1234-5678 です' "
        "WHERE question = '図書館の駐車場'"
    )
    db.commit()
    month = Period.month("2026-11")
    s = stats(load_turns(log, month.start_ts, month.end_ts), month)
    text = repr(s.to_json())
    assert "090-1234" not in text and "03-1234-5678" not in text and "a@b.jp" not in text
    assert "1-2-3" not in text
    assert "[電話]" in text and "[メール]" in text


def test_out_of_scope_groups_are_left_out_and_counted(log):
    month = Period.month("2026-11")
    turns = load_turns(log, month.start_ts, month.end_ts)
    s = stats(turns, month, out_of_scope=[("ペットの火葬",)])
    assert [g.leader for g in s.unanswered if "火葬" in g.leader] == []
    assert s.excluded == 3
    assert s.questions == 10  # the figures themselves still count them


def test_days_weeks_and_months_are_japan_time(log):
    month = Period.month("2026-11")
    turns = load_turns(log, month.start_ts - 86400 * 40, month.end_ts + 86400 * 40)
    days = series(turns, month, "day")
    assert len(days) == 30 and days[0].period.label == "2026-11-01"
    assert {d.period.label: d.questions for d in days if d.questions} == {
        "2026-11-02": 2,
        "2026-11-03": 2,
        "2026-11-09": 1,
        "2026-11-10": 1,
        "2026-11-16": 1,
        "2026-11-17": 1,
        "2026-11-30": 2,
    }
    weeks = series(turns, month, "week")  # the ISO weeks touching November, whole
    assert [w.period.label for w in weeks] == [f"2026-W{n}" for n in range(44, 50)]
    assert [w.questions for w in weeks] == [1, 4, 2, 2, 0, 3]
    assert weeks[0].period.start.day == 26 and weeks[0].period.start.weekday() == 0
    assert Period.month("2026/12").previous().label == "2026-11"
    assert Period.month("202612").label_ja == "2026年12月"
    quarter = Period("quarter", Period.month("2026-10").start, Period.month("2027-01").start)
    months = series(turns, quarter, "month")
    assert [(m.period.label, m.questions) for m in months] == [
        ("2026-10", 1),
        ("2026-11", 10),
        ("2026-12", 1),
    ]


@pytest.mark.parametrize("bad", ["2026-13", "26-11", "november", ""])
def test_a_bad_month_is_a_clear_error(bad):
    with pytest.raises(InputError, match="YYYY-MM"):
        Period.month(bad)


def test_a_bad_period_kind_is_a_clear_error():
    with pytest.raises(InputError, match="day / week / month"):
        Period.containing(0, "year")


def test_similarity_folds_spelling_and_question_endings():
    assert similarity("ペットの火葬はできますか？", "ぺっとの火葬はできますか") == 1.0
    assert similarity("ＰＣの捨て方", "pcの捨て方") == 1.0
    assert similarity("ペットの火葬はできますか", "ペットの火葬") >= 0.4
    assert similarity("ペットの火葬", "図書館の駐車場") < 0.2


def test_percentile_nearest_rank():
    assert percentile([], 50) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(i) for i in range(1, 21)], 95) == 19.0
    assert percentile([float(i) for i in range(1, 21)], 50) == 10.0


def test_grouping_is_deterministic_whatever_the_order(log):
    month = Period.month("2026-11")
    turns = load_turns(log, month.start_ts, month.end_ts)
    a = [g.to_json() for g in group_unanswered(turns)]
    b = [g.to_json() for g in group_unanswered(list(reversed(turns)))]
    assert a == b


def test_a_log_written_before_follow_up_existed_gains_the_column(tmp_path):
    """Older log files have no follow_up column: it is added on open, old rows read as
    answered without a clarifying question, new rows keep theirs."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE turns (id TEXT PRIMARY KEY, conversation_id TEXT, ts REAL, question TEXT,"
        " lang TEXT, answer TEXT, citations TEXT, refused INTEGER, mode TEXT, confidence REAL,"
        " latency_ms REAL, feedback INTEGER NULL, comment TEXT NULL);"
        "INSERT INTO turns VALUES ('t1', 'c1', 1.0e9, '古い質問', 'ja', '答え', '[]', 0, 'faq',"
        " 0.9, 10, NULL, NULL);"
    )
    db.commit()
    db.close()
    log = ConversationLog(path, retention_days=36500)
    old = log.get("t1")
    assert old is not None and old.follow_up is None
    new = add(log, "ごみの日は？", 1.0e9 + 60, cite=GOMI, follow_up="どの地区ですか？")
    got = log.get(new.id)
    assert got is not None and got.follow_up == "どの地区ですか？"
    month = Period.containing(1.0e9, "month")
    assert dict(stats(load_turns(log, 0, 2e9), month).outcomes) == {"answered": 1, "clarify": 1}
    log.close()


def test_a_message_to_staff_is_counted_apart(tmp_path):
    """The hand-off endpoint logs the resident's message with mode handoff: it is neither
    answered nor refused, and its zero latency is no response time."""
    log = ConversationLog(tmp_path / "h.sqlite", retention_days=36500)
    add(log, "粗大ごみの出し方", ts(2), cite=GOMI, ms=100)
    log.record(question="職員の方と話したい 090-1234-5678", lang="ja", answer="受付",
               citations=[], refused=False, mode="handoff", confidence=0.0, latency_ms=0.0,
               ts=ts(2, 11))  # fmt: skip
    month = Period.month("2026-11")
    s = stats(load_turns(log, month.start_ts, month.end_ts), month)
    assert dict(s.outcomes) == {"answered": 1, "handoff": 1}
    assert s.row()["handoff"] == 1 and s.row()["handoff_share"] == 0.5
    assert s.latency_p50 == 100 and s.unanswered == []
    log.close()
