"""The conversation log: what residents asked, what they got, and whether it helped.

One SQLite file, ``<data_dir>/conversations.sqlite``, table ``turns``. Staff
review it on the admin screen and turn unanswered questions into new FAQ
entries; the evaluation tools read it to build starter datasets, so the schema
below is a contract. Questions are masked (phone numbers, e-mail addresses,
12-digit numbers) *before* they reach this module's storage, by
``mask_pii`` here; rows older than the retention period are deleted.

Thread-safe: one connection guarded by a lock (the API answers in a thread
pool), WAL journal so the admin screen can read while the API writes.

Group commit: ``record`` returns only once its row is committed (an answer is never
sent before its row is durable), but the rows of answers finished at the same time
share one transaction. The first waiting writer commits every row queued by then
while the others wait for it; a row that fails in a group is tried alone, so one bad
row never takes the others with it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.kit.errors import InputError, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id TEXT PRIMARY KEY,
    conversation_id TEXT,
    ts REAL,
    question TEXT,
    lang TEXT,
    answer TEXT,
    citations TEXT,
    refused INTEGER,
    mode TEXT,
    confidence REAL,
    latency_ms REAL,
    feedback INTEGER NULL,
    comment TEXT NULL
);
CREATE INDEX IF NOT EXISTS turns_ts ON turns (ts);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation_id);
"""

FILENAME = "conversations.sqlite"

# E-mail addresses first (they may contain digits), then 12-digit numbers (マイナンバー,
# written with or without separators), then phone numbers (0X-XXXX-XXXX, 090..., +81 ...).
# Full-width digits are matched too: residents type them on Japanese keyboards.
_D = "[0-9０-９]"
_SEP = "[-‐－―ー−– 　.]"
_EMAIL = re.compile(r"[\w.+\-]+(?:@|＠)[\w\-]+(?:\.[\w\-]+)+")
_TWELVE = re.compile(rf"(?<![0-9０-９]){_D}{{4}}{_SEP}?{_D}{{4}}{_SEP}?{_D}{{4}}(?![0-9０-９])")
_PHONE = re.compile(
    rf"(?<![0-9０-９])(?:(?:\+|＋)(?:81|８１){_SEP}?{_D}{{1,4}}|[0０]{_D}{{1,4}})"
    rf"(?:{_SEP}|[(（]|[)）])?{_D}{{1,4}}(?:{_SEP}|[)）])?{_D}{{3,4}}(?![0-9０-９])"
)


def mask_pii(text: str) -> str:
    """Replace e-mail addresses, 12-digit numbers and phone numbers with placeholders."""
    text = _EMAIL.sub("[メール]", text)
    text = _TWELVE.sub("[番号]", text)
    return _PHONE.sub("[電話]", text)


@dataclass(frozen=True)
class Turn:
    id: str
    conversation_id: str
    ts: float
    question: str
    lang: str
    answer: str
    citations: list[dict[str, Any]]
    refused: bool
    mode: str
    confidence: float
    latency_ms: float
    feedback: int | None
    comment: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def new_id() -> str:
    return uuid.uuid4().hex


_INSERT = (
    "INSERT INTO turns (id, conversation_id, ts, question, lang, answer, citations,"
    " refused, mode, confidence, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


class _Row:
    """A row waiting for its group's commit."""

    __slots__ = ("done", "error", "values")

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        self.done = False
        self.error: StoreError | None = None


class ConversationLog:
    """Append turns, attach feedback, list and export them, forget old ones."""

    def __init__(self, path: Path | str, retention_days: int = 90) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._last_purge = 0.0
        self._group = threading.Condition()  # rows waiting for a commit, and who commits
        self._queued: list[_Row] = []
        self._committing = False
        self.commits = 0  # transactions that wrote turns (group commit: fewer than turns)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the conversation log {self.path}: {exc}") from exc
        self.purge()

    @classmethod
    def in_data_dir(cls, data_dir: Path | str, retention_days: int = 90) -> ConversationLog:
        return cls(Path(data_dir) / FILENAME, retention_days)

    def _run(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        try:
            with self._lock:
                cur = self._db.execute(sql, tuple(args))
                self._db.commit()
                return cur
        except sqlite3.Error as exc:
            raise StoreError(f"conversation log {self.path}: {exc}") from exc

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"conversation log {self.path}: {exc}") from exc

    def record(
        self,
        *,
        question: str,
        lang: str,
        answer: str,
        citations: list[dict[str, Any]],
        refused: bool,
        mode: str,
        confidence: float,
        latency_ms: float,
        conversation_id: str | None = None,
        turn_id: str | None = None,
        ts: float | None = None,
    ) -> Turn:
        """Store one answered question (masked here) and return the stored turn."""
        turn = Turn(
            id=turn_id or new_id(),
            conversation_id=conversation_id or new_id(),
            ts=time.time() if ts is None else ts,
            question=mask_pii(question),
            lang=lang,
            answer=answer,
            citations=[
                {"source": c.get("source"), "title": c.get("title"), "url": c.get("url")}
                for c in citations
            ],
            refused=bool(refused),
            mode=mode,
            confidence=float(confidence),
            latency_ms=float(latency_ms),
            feedback=None,
            comment=None,
        )
        self._append(
            (
                turn.id,
                turn.conversation_id,
                turn.ts,
                turn.question,
                turn.lang,
                turn.answer,
                json.dumps(turn.citations, ensure_ascii=False),
                int(turn.refused),
                turn.mode,
                turn.confidence,
                turn.latency_ms,
            ),
        )
        if time.time() - self._last_purge > 3600:
            self.purge()
        return turn

    def _append(self, values: tuple[Any, ...]) -> None:
        """Insert one row and return once it is committed, in a group with the rows of
        other threads queued meanwhile (see the module docstring)."""
        row = _Row(values)
        with self._group:
            self._queued.append(row)
            while not row.done:
                if self._committing:
                    self._group.wait()
                    continue
                group, self._queued = self._queued, []
                self._committing = True
                self._group.release()
                try:
                    self._commit(group)
                finally:
                    self._group.acquire()
                    self._committing = False
                    for r in group:
                        r.done = True
                    self._group.notify_all()
        if row.error is not None:
            raise row.error

    def _commit(self, group: list[_Row]) -> None:
        try:
            with self._lock:
                try:
                    self._db.executemany(_INSERT, [r.values for r in group])
                    self._db.commit()
                    self.commits += 1
                    return
                except sqlite3.Error:
                    self._db.rollback()
                    if len(group) == 1:
                        raise
                for r in group:  # alone, so each caller gets its own outcome
                    try:
                        self._db.execute(_INSERT, r.values)
                        self._db.commit()
                        self.commits += 1
                    except sqlite3.Error as exc:
                        self._db.rollback()
                        r.error = StoreError(f"conversation log {self.path}: {exc}")
        except sqlite3.Error as exc:
            for r in group:
                r.error = StoreError(f"conversation log {self.path}: {exc}")

    def feedback(self, turn_id: str, helpful: bool, comment: str | None = None) -> bool:
        """Attach feedback to a turn; False when no such turn exists. The comment is masked."""
        if comment is not None and len(comment) > 1000:
            raise InputError("the comment is longer than 1,000 characters")
        masked = mask_pii(comment.strip()) if comment and comment.strip() else None
        cur = self._run(
            "UPDATE turns SET feedback = ?, comment = COALESCE(?, comment) WHERE id = ?",
            (int(helpful), masked, turn_id),
        )
        return cur.rowcount > 0

    def get(self, turn_id: str) -> Turn | None:
        rows = self._query("SELECT * FROM turns WHERE id = ?", (turn_id,))
        return _turn(rows[0]) if rows else None

    def turns(
        self,
        *,
        refused: bool | None = None,
        feedback: int | None = None,
        since: float | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Turn]:
        """Newest first; ``refused``/``feedback`` filter (feedback 0 = thumbs-down)."""
        where, args = _filters(refused=refused, feedback=feedback, since=since)
        rows = self._query(
            f"SELECT * FROM turns{where} ORDER BY ts DESC LIMIT ? OFFSET ?",
            [*args, int(limit), int(offset)],
        )
        return [_turn(r) for r in rows]

    def count(self, *, refused: bool | None = None, feedback: int | None = None) -> int:
        where, args = _filters(refused=refused, feedback=feedback)
        return int(self._query(f"SELECT COUNT(*) FROM turns{where}", args)[0][0])

    def unanswered(self, since: float | None = None) -> list[dict[str, Any]]:
        """Questions that were refused or got a thumbs-down, grouped by their masked text.

        The rows staff turn into new FAQ entries: most frequent first.
        """
        where, args = _filters(since=since)
        cond = "(refused = 1 OR feedback = 0)"
        where = f"{where} AND {cond}" if where else f" WHERE {cond}"
        rows = self._query(
            "SELECT question, COUNT(*), MAX(ts), GROUP_CONCAT(DISTINCT lang),"
            " SUM(refused), SUM(CASE WHEN feedback = 0 THEN 1 ELSE 0 END),"
            " GROUP_CONCAT(comment, ' / ')"
            f" FROM turns{where} GROUP BY question ORDER BY COUNT(*) DESC, MAX(ts) DESC",
            args,
        )
        return [
            {
                "question": q,
                "count": n,
                "last_asked": time.strftime("%Y-%m-%d %H:%M", time.localtime(last)),
                "langs": langs or "",
                "refused": int(ref or 0),
                "not_helpful": int(bad or 0),
                "comments": comments or "",
            }
            for q, n, last, langs, ref, bad, comments in rows
        ]

    def unanswered_csv(self, since: float | None = None) -> str:
        """The unanswered questions as CSV (UTF-8 with BOM so Excel opens it correctly)."""
        buf = io.StringIO()
        cols = ["question", "count", "last_asked", "langs", "refused", "not_helpful", "comments"]
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\r\n")
        w.writeheader()
        for row in self.unanswered(since):
            w.writerow(row)
        return "\ufeff" + buf.getvalue()

    def purge(self, now: float | None = None) -> int:
        """Delete turns older than the retention period; returns how many went."""
        cutoff = (time.time() if now is None else now) - self.retention_days * 86400
        self._last_purge = time.time()
        return self._run("DELETE FROM turns WHERE ts < ?", (cutoff,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _filters(
    *, refused: bool | None = None, feedback: int | None = None, since: float | None = None
) -> tuple[str, list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    if refused is not None:
        conds.append("refused = ?")
        args.append(int(refused))
    if feedback is not None:
        conds.append("feedback = ?")
        args.append(int(feedback))
    if since is not None:
        conds.append("ts >= ?")
        args.append(float(since))
    return (" WHERE " + " AND ".join(conds) if conds else ""), args


def _turn(row: tuple[Any, ...]) -> Turn:
    (tid, cid, ts, q, lang, ans, cits, refused, mode, conf, lat, fb, comment) = row
    return Turn(
        id=tid,
        conversation_id=cid,
        ts=ts,
        question=q,
        lang=lang,
        answer=ans,
        citations=json.loads(cits or "[]"),
        refused=bool(refused),
        mode=mode,
        confidence=conf,
        latency_ms=lat,
        feedback=fb,
        comment=comment,
    )
