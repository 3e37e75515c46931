"""The conversation log: what residents asked, what they got, and whether it helped.

One SQLite file, ``<data_dir>/conversations.sqlite``, table ``turns``. Staff
review it on the admin screen and turn unanswered questions into new FAQ
entries; the evaluation tools read it to build starter datasets, so the schema
below is a contract (columns are only ever added at the end: ``follow_up``, the
clarifying question an answer ended with, which ``kit.usage`` counts as 聞き返し, is
added to an older file on open). Questions and comments are masked *before* they reach
this module's storage, by ``kit.pii.mask_pii`` (phone, My Number, card and
account numbers, e-mail addresses, birth dates, addresses, names; control
characters dropped); answers lose what they repeat of the question's personal
data. Rows older than the retention period are deleted, and their text with
them: ``secure_delete`` overwrites it, a checkpoint empties the WAL. The files
are the owner's only (0600). The CSV export quotes cells a spreadsheet would
read as formulas (``spreadsheet_cell``).

On a shared service (``store.database_url``) the same table lives in PostgreSQL, in the
namespace's schema (``kit.db``): the replicas write one log, staff see every replica's
turns, and a turn's feedback reaches it whichever replica receives it. Deleted rows
there are PostgreSQL's to reclaim (autovacuum); the server's own storage is then what
must be protected.

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
import logging
import os
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.kit.config import StoreSettings
from madoguchi.kit.db import DB_ERRORS, Connection, PgDatabase, dialect
from madoguchi.kit.errors import InputError, StoreError
from madoguchi.kit.pii import clean_text, mask_echo, mask_pii

__all__ = ["FILENAME", "ConversationLog", "Turn", "mask_pii", "new_id", "spreadsheet_cell"]

log = logging.getLogger(__name__)

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
    comment TEXT NULL,
    follow_up TEXT NULL
);
CREATE INDEX IF NOT EXISTS turns_ts ON turns (ts);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation_id);
"""

FILENAME = "conversations.sqlite"
# PRAGMA user_version of a file whose deleted rows are known to be overwritten: older
# versions deleted without secure_delete, so the first open scrubs the file (VACUUM).
SCRUBBED = 1

# A cell that begins with one of these is a formula to Excel (and LibreOffice), after
# leading blanks too; Japanese Excel reads the full-width forms as the ASCII ones.
_FORMULA_START = frozenset("=+-@＝＋－＠﹦﹢﹣﹫\u2212")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell Excel shows as text: one starting with ``= + - @`` (after blanks, or
    their full-width forms), a tab or a CR gets a leading single quote (OWASP, "CSV
    injection"). Other values are returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in "\t\r" or value.lstrip()[:1] in _FORMULA_START:
        return "'" + value
    return value


def _private_file(path: Path) -> None:
    """Create the log file readable by its owner only, and tighten one an older version
    left world-readable. SQLite gives its -wal and -shm files the database's mode."""
    if os.name == "nt":
        return
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077:
                os.chmod(p, 0o600)
        except OSError as exc:  # another user's file: say so, keep serving
            log.warning("cannot make %s private: %s", p, exc)


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
    # the clarifying question the answer ended with (聞き返し), None when it asked none
    follow_up: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def new_id() -> str:
    return uuid.uuid4().hex


_INSERT = (
    "INSERT INTO turns (id, conversation_id, ts, question, lang, answer, citations,"
    " refused, mode, confidence, latency_ms, follow_up) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
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

    def __init__(
        self, path: Path | str, retention_days: int = 90, *, database: PgDatabase | None = None
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._last_purge = 0.0
        self._group = threading.Condition()  # rows waiting for a commit, and who commits
        self._queued: list[_Row] = []
        self._committing = False
        self.commits = 0  # transactions that wrote turns (group commit: fewer than turns)
        self._db: Connection
        self.where = str(self.path)
        self._ready = True
        if database is not None:
            # nothing is asked of the server yet: a service started during an outage
            # serves its 503s and starts logging once the server is back (``_ensure``)
            self._db = database
            self.where = database.where
            self._ready = False  # and the first turn recorded purges, as opening does here
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private_file(self.path)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
            # deleted rows are overwritten with zeros, not left in free pages
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(turns)")}
            if "follow_up" not in columns:  # a log written before the column existed
                self._db.execute("ALTER TABLE turns ADD COLUMN follow_up TEXT NULL")
            self._db.commit()
            if self._db.execute("PRAGMA user_version").fetchone()[0] < SCRUBBED:
                self._db.execute("VACUUM")
                self._db.execute(f"PRAGMA user_version={SCRUBBED}")
                self._checkpoint()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the conversation log {self.path}: {exc}") from exc
        self.purge()

    @classmethod
    def in_data_dir(
        cls,
        data_dir: Path | str,
        retention_days: int = 90,
        *,
        store: StoreSettings | None = None,
    ) -> ConversationLog:
        """The log of a data directory, or, with ``store.database_url``, of the
        namespace's schema in PostgreSQL."""
        if store is not None and store.database_url:
            db = PgDatabase(
                store.database_url,
                store.pg_schema,
                min_size=store.pool_min,
                max_size=store.pool_max,
                timeout=store.pool_timeout,
            )
            return cls(Path(data_dir) / FILENAME, retention_days, database=db)
        return cls(Path(data_dir) / FILENAME, retention_days)

    def _ensure(self) -> None:
        """The shared log's schema and table, made on first use (called holding the lock)."""
        if self._ready:
            return
        db = self._db
        assert isinstance(db, PgDatabase)
        db.create_schema()
        db.executescript(SCHEMA)
        self._ready = True

    def _run(self, sql: str, args: Iterable[Any] = ()) -> Any:
        try:
            with self._lock:
                self._ensure()
                cur = self._db.execute(sql, tuple(args))
                self._db.commit()
                return cur
        except DB_ERRORS as exc:
            raise StoreError(f"conversation log {self.where}: {exc}") from exc

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                self._ensure()
                rows: list[tuple[Any, ...]] = self._db.execute(sql, tuple(args)).fetchall()
                return rows
        except DB_ERRORS as exc:
            raise StoreError(f"conversation log {self.where}: {exc}") from exc

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
        follow_up: str | None = None,
    ) -> Turn:
        """Store one answered question (masked here) and return the stored turn.

        The answer keeps the town's own text (its phone numbers, its addresses) but not
        what it repeats of the resident's personal data; control characters go from both.
        """
        turn = Turn(
            id=turn_id or new_id(),
            conversation_id=conversation_id or new_id(),
            ts=time.time() if ts is None else ts,
            question=mask_pii(question),
            lang=lang,
            answer=mask_echo(answer, question),
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
            follow_up=clean_text(follow_up) if follow_up else None,
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
                turn.follow_up,
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
                self._ensure()
                try:
                    self._db.executemany(_INSERT, [r.values for r in group])
                    self._db.commit()
                    self.commits += 1
                    return
                except DB_ERRORS:
                    self._db.rollback()
                    if len(group) == 1:
                        raise
                for r in group:  # alone, so each caller gets its own outcome
                    try:
                        self._db.execute(_INSERT, r.values)
                        self._db.commit()
                        self.commits += 1
                    except DB_ERRORS as exc:
                        self._db.rollback()
                        r.error = StoreError(f"conversation log {self.where}: {exc}")
        except DB_ERRORS as exc:
            for r in group:
                r.error = StoreError(f"conversation log {self.where}: {exc}")

    def feedback(self, turn_id: str, helpful: bool, comment: str | None = None) -> bool:
        """Attach feedback to a turn; False when no such turn exists. The comment is masked."""
        if comment is not None and len(comment) > 1000:
            raise InputError("the comment is longer than 1,000 characters")
        masked = (mask_pii(comment).strip() if comment else "") or None
        cur = self._run(
            "UPDATE turns SET feedback = ?, comment = COALESCE(?, comment) WHERE id = ?",
            (int(helpful), masked, turn_id),
        )
        return bool(cur.rowcount > 0)

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
        if dialect(self._db) == "postgres":
            langs, comments = "string_agg(DISTINCT lang, ',')", "string_agg(comment, ' / ')"
        else:
            langs, comments = "GROUP_CONCAT(DISTINCT lang)", "GROUP_CONCAT(comment, ' / ')"
        rows = self._query(
            f"SELECT question, COUNT(*), MAX(ts), {langs},"
            " SUM(refused), SUM(CASE WHEN feedback = 0 THEN 1 ELSE 0 END),"
            f" {comments}"
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
            w.writerow(
                {
                    k: spreadsheet_cell(clean_text(v) if isinstance(v, str) else v)
                    for k, v in row.items()
                }
            )
        return "\ufeff" + buf.getvalue()

    def purge(self, now: float | None = None) -> int:
        """Delete turns older than the retention period; returns how many went.

        Their text goes from the files too: secure_delete zeroes it in the database, and
        the checkpoint empties the write-ahead log that still held the rows as written.
        """
        cutoff = (time.time() if now is None else now) - self.retention_days * 86400
        self._last_purge = time.time()
        gone: int = self._run("DELETE FROM turns WHERE ts < ?", (cutoff,)).rowcount
        if gone and dialect(self._db) == "sqlite":
            self._checkpoint()
        return gone

    def extent(self) -> tuple[int, float | None]:
        """How many turns there are, and when the oldest was asked (None: no turns)."""
        rows, oldest = self._query("SELECT COUNT(*), MIN(ts) FROM turns")[0]
        return int(rows), None if oldest is None else float(oldest)

    def ping(self) -> None:
        """One round trip to the log's database (``/readyz``)."""
        self._query("SELECT COUNT(*) FROM turns WHERE id = ?", ("",))

    def _checkpoint(self) -> None:
        try:
            with self._lock:
                busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"conversation log {self.path}: {exc}") from exc
        if busy:  # a reader in another process: the next purge or the last close empties it
            log.warning("conversation log %s: the write-ahead log is still in use", self.path)

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
    (tid, cid, ts, q, lang, ans, cits, refused, mode, conf, lat, fb, comment) = row[:13]
    follow_up = row[13] if len(row) > 13 else None
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
        follow_up=follow_up,
    )
