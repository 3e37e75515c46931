"""The hand-off inbox: what is kept of the resident (consent, masking), tokens, staff
replies, retention, FAQ drafts."""

from __future__ import annotations

import csv
import os
import sqlite3
import stat
from datetime import datetime

import pytest

from madoguchi.kit.config import Settings
from madoguchi.kit.errors import InputError
from madoguchi.kit.handoff import FAQ_COLUMNS, HandoffInbox, offer, write_faq_draft
from madoguchi.kit.officehours import JST

MESSAGE = "粗大ごみの予約をしたいです。連絡は taro@example.jp か 090-1234-5678 にください。"
CONTACT = "taro@example.jp"


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def inbox(tmp_path, clock) -> HandoffInbox:
    return HandoffInbox.in_data_dir(tmp_path, retention_days=30, clock=clock)


def test_without_consent_message_and_contact_are_masked(inbox):
    msg, _ = inbox.open(MESSAGE, contact=CONTACT, department="環境衛生課")
    assert "taro@example.jp" not in msg.question and "090-1234-5678" not in msg.question
    assert "[メール]" in msg.question and "[電話]" in msg.question
    assert "粗大ごみの予約" in msg.question  # staff still read the question
    assert msg.contact == "[メール]"  # a contact was given, not what it was
    assert not msg.consent
    # nothing of it is in the file either
    raw = inbox.path.read_bytes() + (
        inbox.path.with_name(inbox.path.name + "-wal").read_bytes()
        if inbox.path.with_name(inbox.path.name + "-wal").exists()
        else b""
    )
    assert b"taro@example.jp" not in raw and b"5678" not in raw


def test_with_consent_both_are_kept_as_written(inbox):
    msg, _ = inbox.open(MESSAGE, contact=CONTACT, consent=True)
    assert msg.question == MESSAGE
    assert msg.contact == CONTACT and msg.consent
    stored = inbox.get(msg.id)
    assert stored is not None and stored.question == MESSAGE and stored.contact == CONTACT


def test_token_is_needed_and_stored_hashed(inbox):
    msg, token = inbox.open("住民票について聞きたいです")
    assert inbox.check(msg.id, token) is not None
    assert inbox.check(msg.id, "wrong") is None
    assert inbox.check("nope", token) is None
    with sqlite3.connect(inbox.path) as db:
        (stored,) = db.execute("SELECT token_hash FROM messages").fetchone()
    assert stored != token and len(stored) == 64


def test_reply_assign_and_status(inbox, clock):
    msg, token = inbox.open("犬の登録の手続きを教えてください", department="総合窓口")
    assert [m.id for m in inbox.messages("open")] == [msg.id]
    clock.t += 60
    moved = inbox.assign(msg.id, "環境衛生課")
    assert moved.department == "環境衛生課" and moved.assigned_ts == clock.t
    clock.t += 3600
    done = inbox.reply(msg.id, "環境衛生課の窓口で登録できます。")
    assert done.status == "answered" and done.answer_seconds == 3660
    clock.t += 100
    again = inbox.reply(msg.id, "環境衛生課の窓口で登録できます。手数料は3,000円です。")
    assert again.answer_seconds == 3660  # the first reply's time stays
    assert inbox.messages("open") == [] and [m.id for m in inbox.messages("answered")] == [msg.id]
    seen = inbox.check(msg.id, token)
    assert seen is not None and seen.reply and "3,000円" in seen.reply
    assert inbox.stats() == {
        "opened": 1.0,
        "open": 0.0,
        "answered": 1.0,
        "answer_seconds_mean": 3660.0,
        "answer_seconds_median": 3660.0,
    }


def test_bad_input_is_a_clear_error(inbox):
    with pytest.raises(InputError, match="メッセージが空です"):
        inbox.open("   \n ")
    with pytest.raises(InputError, match="長すぎます"):
        inbox.open("あ" * 2001)
    with pytest.raises(InputError, match="連絡先が長すぎます"):
        inbox.open("質問です", contact="a" * 201)
    with pytest.raises(InputError, match="ありません"):
        inbox.reply("unknown", "返信")
    msg, _ = inbox.open("質問です")
    with pytest.raises(InputError, match="返信が空です"):
        inbox.reply(msg.id, "")
    with pytest.raises(InputError, match="status"):
        inbox.messages("closed")


def test_retention_deletes_old_rows_and_their_text(inbox, clock):
    old, _ = inbox.open("古い問い合わせ ふるいといあわせ")
    clock.t += 29 * 86400
    kept, _ = inbox.open("新しい問い合わせ")
    assert inbox.purge() == 0
    clock.t += 2 * 86400  # the first is now 31 days old, the second 2
    assert inbox.purge() == 1
    assert inbox.get(old.id) is None and inbox.get(kept.id) is not None
    raw = inbox.path.read_bytes()
    assert "ふるいといあわせ".encode() not in raw  # secure_delete: not left in free pages
    wal = inbox.path.with_name(inbox.path.name + "-wal")
    assert not wal.exists() or "ふるいといあわせ".encode() not in wal.read_bytes()
    # a new message purges too
    clock.t += 40 * 86400
    inbox.open("もう一つ")
    assert inbox.get(kept.id) is None


def test_the_file_is_private(inbox):
    if os.name == "nt":
        pytest.skip("POSIX modes")
    assert stat.S_IMODE(inbox.path.stat().st_mode) == 0o600


def test_faq_draft_in_the_faq_columns(tmp_path):
    path = tmp_path / "faq_drafts.csv"
    first = write_faq_draft(
        path,
        question="犬の登録は 090-1234-5678 の私でもできますか",
        answer="環境衛生課の窓口で登録できます。",
        department="環境衛生課",
        phone="01234-5-1103",
        town="みどり川町",
    )
    second = write_faq_draft(path, question="=HYPERLINK(1)", answer="はい。", department=None)
    assert (first["ID"], second["ID"]) == ("1", "2")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("\ufeff") and text.count("\ufeff") == 1
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert list(rows[0]) == FAQ_COLUMNS
    assert rows[0]["質問"] == "犬の登録は [電話] の私でもできますか"  # a FAQ is public
    assert rows[0]["回答"] == "環境衛生課の窓口で登録できます。"
    assert rows[0]["所管部署"] == "環境衛生課" and rows[0]["電話番号"] == "01234-5-1103"
    assert rows[1]["質問"] == "'=HYPERLINK(1)"  # not a formula in a spreadsheet
    # the demo FAQ's own header is the same layout
    demo = (
        (__import__("pathlib").Path(__file__).parents[2] / "demo" / "faq.csv")
        .read_text(encoding="utf-8-sig")
        .splitlines()[0]
    )
    assert demo.split(",") == FAQ_COLUMNS
    with pytest.raises(InputError, match="回答が空です"):
        write_faq_draft(path, question="q", answer=" ", department=None)


def test_offer_names_the_department_and_its_hours(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        office_hours={"departments": {"住民課": {"thu": "08:30-19:00"}}},
    )
    (tmp_path / "departments.csv").write_text(
        "name,phone,en\n住民課,01234-5-1101,Residents Section\n", encoding="utf-8"
    )
    thursday_evening = datetime(2026, 12, 3, 18, 0, tzinfo=JST)
    got = offer(settings, "住民課", "en", thursday_evening)
    assert got is not None
    assert got["open"] and got["phone"] == "01234-5-1101"
    assert got["department_label"] == "住民課 (Residents Section)"
    assert got["closes_at"] == "2026-12-03T19:00+09:00"
    closed = offer(settings, "税務課", "ja", thursday_evening)
    assert closed is not None and not closed["open"]
    assert closed["next_open"] == "2026-12-04T08:30+09:00"
    assert closed["phone"] == settings.widget.phone  # no number for it: the town's
    default = offer(settings, None, "ja", thursday_evening)
    assert default is not None and default["department"] == settings.answer.default_department
    off = settings.with_overrides(**{"handoff.enabled": False})
    assert offer(off, "住民課", "ja", thursday_evening) is None


def test_an_inbox_made_before_reply_channels_gets_the_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "handoff.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE messages (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL,"
        " conversation_id TEXT, ts REAL NOT NULL, lang TEXT, department TEXT,"
        " question TEXT NOT NULL, contact TEXT, consent INTEGER NOT NULL, status TEXT NOT NULL,"
        " reply TEXT, replied_ts REAL, assigned_ts REAL, faq_draft INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO messages (id, token_hash, ts, question, consent, status)"
        " VALUES ('0123456789abcdef', 'x', 1800000000, '古い質問', 0, 'open');"
    )
    db.commit()
    db.close()
    clock = Clock()
    inbox = HandoffInbox(path, clock=clock)
    [old] = inbox.messages()
    assert old.question == "古い質問" and old.reply_channel is None and old.delivery is None
    inbox.reply(old.id, "返事")
    assert inbox.reply_target(old.id) is None  # a widget message: nothing to push
    made, _ = inbox.open("LINEから", consent=True, reply_channel="line", reply_to="U" + "1" * 32)
    assert inbox.get(made.id).reply_channel == "line" and inbox.reply_target(made.id) is None
    first = inbox.reply(made.id, "一回目")
    assert first.delivery == "pending"
    channel, to, text, key = inbox.reply_target(made.id)
    assert (channel, to, text) == ("line", "U" + "1" * 32, "一回目")
    inbox.set_delivery(made.id, "sent", "another-reply's-key")  # a stale outcome: ignored
    assert inbox.get(made.id).delivery == "pending"
    inbox.set_delivery(made.id, "failed", key)
    assert inbox.get(made.id).delivery == "failed"
    inbox.reply(made.id, "二回目")  # a new reply: a new key, to be sent again
    assert inbox.reply_target(made.id)[3] != key and inbox.get(made.id).delivery == "pending"
    with pytest.raises(InputError):
        inbox.open("x", reply_channel="mail", reply_to="a@example.jp")
    with pytest.raises(InputError):
        inbox.open("x", reply_channel="line")
    with pytest.raises(InputError):
        inbox.set_delivery(made.id, "maybe")
