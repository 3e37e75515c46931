"""Hand-off to staff: the inbox of residents' messages the assistant could not answer.

One SQLite file per town, ``<data_dir>/handoff.sqlite`` (a town's data directory is its
own folder, so towns never share an inbox), table ``messages``: a ticket per message,
``open`` until staff reply, then ``answered``; the department it is assigned to; the
staff reply; the conversation it came from; its times.

What is kept of the resident:

- the message as written only when the resident ticked the consent; without it the
  message is kept masked by ``kit.pii.mask_pii`` (phone, e-mail, My Number, addresses,
  names ... become ``[電話]``, ``[メール]`` ...), so staff read the question but not the
  personal data in it;
- the contact (an e-mail address or phone number for the reply) likewise: as given with
  consent, masked without (staff then see that one was given, not what it was);
- the conversation log (``kit.convlog``) gets the message masked, always, like every
  question.

The resident polls with the ticket id and a token returned once; only the token's
SHA-256 is stored. A message sent from another channel (LINE) also keeps where the
reply goes: ``reply_channel`` ("line") and ``reply_to`` (the LINE user id, the only
place it is stored; never in the conversation log), with ``delivery`` (``pending``,
``sent``, ``failed``) and ``reply_key``, the retry key of the current reply's push (a
new reply gets a new key; sending the same reply again reuses it, so it arrives once). Rows older than ``handoff.retention_days`` are deleted with their
text (``secure_delete``, then a checkpoint empties the write-ahead log), as the
conversation log does. The file is the owner's only (0600).

Each operation opens its own connection: the API and the admin screen may hold an
inbox for the same town at once, and a town removed and added again never meets a
connection to its old file.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import sqlite3
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import _private_file
from madoguchi.kit.departments import Departments
from madoguchi.kit.errors import InputError, StoreError
from madoguchi.kit.improvements import FAQ_COLUMNS, FaqEntry, append_faq_entry
from madoguchi.kit.officehours import OfficeHours
from madoguchi.kit.pii import clean_text, mask_pii

__all__ = [
    "FAQ_COLUMNS",
    "FILENAME",
    "STATUSES",
    "HandoffInbox",
    "Message",
    "offer",
    "write_faq_draft",
]

log = logging.getLogger(__name__)

FILENAME = "handoff.sqlite"
STATUSES = ("open", "answered")

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    conversation_id TEXT,
    ts REAL NOT NULL,
    lang TEXT,
    department TEXT,
    question TEXT NOT NULL,
    contact TEXT,
    consent INTEGER NOT NULL,
    status TEXT NOT NULL,
    reply TEXT,
    replied_ts REAL,
    assigned_ts REAL,
    faq_draft INTEGER NOT NULL DEFAULT 0,
    reply_channel TEXT,
    reply_to TEXT,
    reply_key TEXT,
    delivery TEXT
);
CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts);
CREATE INDEX IF NOT EXISTS messages_status ON messages (status, ts);
"""
_COLUMNS = (
    "id, conversation_id, ts, lang, department, question, contact, consent, status,"
    " reply, replied_ts, assigned_ts, faq_draft, reply_channel, delivery"
)
#: columns added after the first release: (name, type), added to an older file on open
ADDED_COLUMNS = (
    ("reply_channel", "TEXT"),
    ("reply_to", "TEXT"),
    ("reply_key", "TEXT"),
    ("delivery", "TEXT"),
)
REPLY_CHANNELS = ("line",)
#: reading an inbox purges it when its last purge is older than this (seconds)
PURGE_EVERY = 3600.0
_PURGED: dict[str, float] = {}  # inbox file -> when it was last purged (its clock)
DELIVERIES = ("pending", "sent", "failed")


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str | None
    ts: float
    lang: str | None
    department: str | None
    question: str
    contact: str | None
    consent: bool
    status: str
    reply: str | None
    replied_ts: float | None
    assigned_ts: float | None
    faq_draft: bool
    # where the staff reply is sent besides the ticket ("line"), and how that went
    reply_channel: str | None = None
    delivery: str | None = None

    @property
    def answer_seconds(self) -> float | None:
        return None if self.replied_ts is None else max(0.0, self.replied_ts - self.ts)

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["answer_seconds"] = self.answer_seconds
        return data


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _text(value: str | None, what: str, limit: int) -> str:
    text = clean_text(unicodedata.normalize("NFC", value or "")).strip()
    if not text:
        raise InputError(f"{what}が空です ({what}: empty)")
    if len(text) > limit:
        raise InputError(f"{what}が長すぎます: {len(text):,} 文字、上限 {limit:,} 文字 (too long)")
    return text


class HandoffInbox:
    """Open, list, assign, reply to and forget residents' messages of one town."""

    def __init__(
        self,
        path: Path | str,
        retention_days: int = 30,
        clock: Callable[[], float] | None = None,
        *,
        max_message_chars: int = 2000,
        max_contact_chars: int = 200,
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.clock = clock or time.time
        self.max_message_chars = max_message_chars
        self.max_contact_chars = max_contact_chars
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private_file(self.path)
            with self._db() as db:
                db.executescript(SCHEMA)
                have = {r[1] for r in db.execute("PRAGMA table_info(messages)")}
                for name, kind in ADDED_COLUMNS:  # a file made before the column existed
                    if name not in have:
                        db.execute(f"ALTER TABLE messages ADD COLUMN {name} {kind}")
        except OSError as exc:
            raise StoreError(f"cannot open the hand-off inbox {self.path}: {exc}") from exc

    @classmethod
    def in_data_dir(
        cls,
        data_dir: Path | str,
        retention_days: int = 30,
        clock: Callable[[], float] | None = None,
        **kw: Any,
    ) -> HandoffInbox:
        return cls(Path(data_dir) / FILENAME, retention_days, clock, **kw)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(str(self.path), timeout=10)
        except sqlite3.Error as exc:
            raise StoreError(f"hand-off inbox {self.path}: {exc}") from exc
        try:
            db.execute("PRAGMA secure_delete=ON")
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction, committed or rolled back
                yield db
        except sqlite3.Error as exc:
            raise StoreError(f"hand-off inbox {self.path}: {exc}") from exc
        finally:
            db.close()

    # ------------------------------------------------------------------ the resident
    def open(
        self,
        question: str,
        *,
        department: str | None = None,
        contact: str | None = None,
        consent: bool = False,
        lang: str | None = None,
        conversation_id: str | None = None,
        reply_channel: str | None = None,
        reply_to: str | None = None,
    ) -> tuple[Message, str]:
        """A new ticket; returns it and the polling token (shown once, stored hashed).
        An empty or too long message or contact is an ``InputError``. ``reply_channel``
        and ``reply_to`` (a LINE user id): where staff's reply is also sent."""
        if (reply_channel is None) != (reply_to is None) or (
            reply_channel is not None and reply_channel not in REPLY_CHANNELS
        ):
            raise InputError(f"返信先が正しくありません (reply channel {reply_channel!r})")
        text = _text(question, "メッセージ", self.max_message_chars)
        given = (contact or "").strip()
        kept_contact: str | None = None
        if given:
            given = _text(given, "連絡先", self.max_contact_chars)
            kept_contact = given if consent else mask_pii(given)
        kept = text if consent else mask_pii(text)
        now = self.clock()
        self.purge(now)
        _PURGED[str(self.path)] = now
        ticket = uuid.uuid4().hex[:16]
        token = secrets.token_urlsafe(24)
        msg = Message(
            id=ticket,
            conversation_id=(conversation_id or None),
            ts=now,
            lang=lang,
            department=(department or "").strip()[:100] or None,
            question=kept,
            contact=kept_contact,
            consent=bool(consent),
            status="open",
            reply=None,
            replied_ts=None,
            assigned_ts=None,
            faq_draft=False,
            reply_channel=reply_channel,
        )
        with self._db() as db:
            db.execute(
                "INSERT INTO messages (id, token_hash, conversation_id, ts, lang, department,"
                " question, contact, consent, status, reply_channel, reply_to)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    msg.id,
                    _hash(token),
                    msg.conversation_id,
                    msg.ts,
                    msg.lang,
                    msg.department,
                    msg.question,
                    msg.contact,
                    int(msg.consent),
                    msg.status,
                    reply_channel,
                    (reply_to or None),
                ),
            )
        return msg, token

    def find_open(self, conversation_id: str, question: str) -> Message | None:
        """The open ticket of this conversation with this message, if any (a second tap
        on 「同意して送る」 finds the first ticket rather than opening another)."""
        with self._db() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND question = ?"
                " AND status = 'open' ORDER BY ts DESC LIMIT 1",
                (conversation_id, question),
            ).fetchone()
        return _message(row) if row else None

    def check(self, ticket: str, token: str) -> Message | None:
        """The ticket when ``token`` is its token; None otherwise (unknown, deleted or a
        wrong token look the same)."""
        self.purge_due()
        with self._db() as db:
            row = db.execute("SELECT token_hash FROM messages WHERE id = ?", (ticket,)).fetchone()
        if row is None or not hmac.compare_digest(row[0], _hash(token or "")):
            return None
        return self.get(ticket)

    # ------------------------------------------------------------------ staff
    def get(self, ticket: str) -> Message | None:
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (ticket,)).fetchone()
        return _message(row) if row else None

    def _need(self, ticket: str) -> Message:
        msg = self.get(ticket)
        if msg is None:
            raise InputError(f"受付番号 {ticket[:40]!r} のメッセージはありません (no such message)")
        return msg

    def messages(
        self, status: str | None = None, *, limit: int = 200, offset: int = 0
    ) -> list[Message]:
        """Open ones oldest first (the next to answer on top); answered and all, newest first."""
        if status is not None and status not in STATUSES:
            raise InputError(f"status は open か answered です (got {status!r})")
        self.purge_due()
        order = "ts ASC" if status == "open" else "ts DESC"
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM messages {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, int(limit), int(offset)],
            ).fetchall()
        return [_message(r) for r in rows]

    def assign(self, ticket: str, department: str) -> Message:
        name = _text(department, "担当部署", 100)
        self._need(ticket)
        with self._db() as db:
            db.execute(
                "UPDATE messages SET department = ?, assigned_ts = ? WHERE id = ?",
                (name, self.clock(), ticket),
            )
        return self._need(ticket)

    def reply(self, ticket: str, text: str) -> Message:
        """Staff's reply: the ticket becomes ``answered`` (a second reply replaces the first
        and keeps the first reply's time, so the time to answer stays the first one's)."""
        body = _text(text, "返信", self.max_message_chars * 2)
        self._need(ticket)
        with self._db() as db:
            # a ticket with a reply channel: this reply is to be sent, with a key of its own
            db.execute(
                "UPDATE messages SET reply = ?, status = 'answered',"
                " replied_ts = COALESCE(replied_ts, ?),"
                " reply_key = CASE WHEN reply_channel IS NULL THEN NULL ELSE ? END,"
                " delivery = CASE WHEN reply_channel IS NULL THEN NULL ELSE 'pending' END"
                " WHERE id = ?",
                (body, self.clock(), str(uuid.uuid4()), ticket),
            )
        return self._need(ticket)

    def reply_target(self, ticket: str) -> tuple[str, str, str, str] | None:
        """Where and what to send of an answered ticket with a reply channel:
        (channel, address, the reply, its retry key); None for any other ticket."""
        with self._db() as db:
            row = db.execute(
                "SELECT reply_channel, reply_to, reply, reply_key FROM messages WHERE id = ?",
                (ticket,),
            ).fetchone()
        if row is None or not all(row):
            return None
        return row[0], row[1], row[2], row[3]

    def set_delivery(self, ticket: str, delivery: str, reply_key: str | None = None) -> None:
        """How sending the reply went; only the reply with ``reply_key`` (when given) is
        marked, so a late outcome of an older reply does not mark a newer one."""
        if delivery not in DELIVERIES:
            raise InputError(f"delivery は {DELIVERIES} のどれかです (got {delivery!r})")
        sql = "UPDATE messages SET delivery = ? WHERE id = ? AND reply_channel IS NOT NULL"
        args: list[Any] = [delivery, ticket]
        if reply_key is not None:
            sql += " AND reply_key = ?"
            args.append(reply_key)
        with self._db() as db:
            db.execute(sql, args)

    def mark_faq_draft(self, ticket: str) -> None:
        with self._db() as db:
            db.execute("UPDATE messages SET faq_draft = 1 WHERE id = ?", (ticket,))

    def stats(self) -> dict[str, float]:
        """Messages kept: opened (all), open, answered, and the answered ones' time to
        answer in seconds (mean, median; 0 when none)."""
        self.purge_due()
        with self._db() as db:
            total, still_open = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(status = 'open'), 0) FROM messages"
            ).fetchone()
            waits = sorted(
                float(r[0])
                for r in db.execute(
                    "SELECT replied_ts - ts FROM messages WHERE replied_ts IS NOT NULL"
                )
            )
        median = 0.0
        if waits:
            mid = len(waits) // 2
            median = waits[mid] if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2
        return {
            "opened": float(total),
            "open": float(still_open),
            "answered": float(len(waits)),
            "answer_seconds_mean": sum(waits) / len(waits) if waits else 0.0,
            "answer_seconds_median": median,
        }

    def purge_due(self) -> int:
        """``purge`` when the file was not purged in the last ``PURGE_EVERY`` seconds (by
        this inbox's clock): reading the inbox (staff's list, the metrics, a poll) deletes
        what is past retention even when no new message comes, a LINE user id with it."""
        now = self.clock()
        key = str(self.path)
        if now - _PURGED.get(key, float("-inf")) < PURGE_EVERY:
            return 0
        _PURGED[key] = now
        return self.purge(now)

    def purge(self, now: float | None = None) -> int:
        """Delete messages older than the retention period; returns how many went.
        Their text goes from the file too (secure_delete, then a WAL checkpoint)."""
        cutoff = (self.clock() if now is None else now) - self.retention_days * 86400
        with self._db() as db:
            gone = db.execute("DELETE FROM messages WHERE ts < ?", (cutoff,)).rowcount
        if gone:
            try:
                db2 = sqlite3.connect(str(self.path), timeout=10)
                try:
                    busy = db2.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                finally:
                    db2.close()
            except sqlite3.Error as exc:
                raise StoreError(f"hand-off inbox {self.path}: {exc}") from exc
            if busy:
                log.warning("hand-off inbox %s: the write-ahead log is still in use", self.path)
        return gone


def _message(row: tuple[Any, ...]) -> Message:
    (mid, cid, ts, lang, dept, q, contact, consent, status, reply, rts, ats, draft) = row[:13]
    channel, delivery = row[13:15]
    return Message(
        id=mid,
        conversation_id=cid,
        ts=ts,
        lang=lang,
        department=dept,
        question=q,
        contact=contact,
        consent=bool(consent),
        status=status,
        reply=reply,
        replied_ts=rts,
        assigned_ts=ats,
        faq_draft=bool(draft),
        reply_channel=channel,
        delivery=delivery,
    )


def write_faq_draft(
    path: Path | str,
    *,
    question: str,
    answer: str,
    department: str | None,
    phone: str | None = None,
    town: str = "",
    code: str = "",
    url: str = "",
) -> dict[str, str]:
    """Append one entry to the FAQ draft file (created with a header and a BOM when
    absent), in demo/faq.csv's columns; returns the entry as written (its ID: the next
    number in the file), through ``kit.improvements.append_faq_entry``. The question is
    masked (it came from a resident) whether or not they consented: a FAQ is public."""
    q = mask_pii(_text(question, "質問", 20000))
    a = _text(answer, "回答", 40000)
    e = FaqEntry(q, a, department or "", phone or "", url)
    entry_id = append_faq_entry(Path(path), e, town_name=town, town_code=code)
    return dict(
        zip(FAQ_COLUMNS, [entry_id, code, town, q, a, e.department, e.phone, url], strict=True)
    )


# ---------------------------------------------------------------------------- the offer


@lru_cache(maxsize=64)
def departments_for(path: str) -> Departments:
    """The departments table of a data directory, kept (it re-reads its file on change)."""
    return Departments(path)


def offer(
    settings: Settings,
    department: str | None,
    lang: str,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
) -> dict[str, Any] | None:
    """What a refusal (or the widget's status call) offers: whether the department's
    office is open now, its phone, its name in ``lang``, when it next opens. None when
    hand-off is switched off (``handoff.enabled``)."""
    if not settings.handoff.enabled:
        return None
    dept = (department or "").strip() or settings.answer.default_department
    names = departments_for(str(settings.departments_path))
    hours = OfficeHours(settings.office_hours, clock)
    status = hours.status(now, dept)
    phone = names.phone(dept) or settings.answer.default_phone or settings.widget.phone
    return {
        "open": status["open"],
        "department": dept,
        "department_label": names.label(dept, lang) or dept,
        "phone": phone,
        "next_open": status["next_open"],
        "closes_at": status["closes_at"],
        "today": status["today"],
        "closed_reason": status["closed_reason"],
        "retention_days": settings.handoff.retention_days,
    }
