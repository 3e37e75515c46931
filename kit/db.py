"""One seam for the rows the kit keeps: embedded SQLite, or a shared PostgreSQL.

The modules that keep rows (the catalogue ``ingest.index`` and its ``migrations``, the
conversation log ``kit.convlog``) write their SQL once, in SQLite's spelling, and run
it through the DB-API shape of ``sqlite3.Connection``: ``execute``, ``executemany``,
``commit``, ``rollback`` and ``with db:`` for one transaction. The embedded default is a
plain ``sqlite3.Connection``, exactly as before. ``PgDatabase`` gives the same shape over
a psycopg 3 connection pool, so the same statements run on PostgreSQL:

- placeholders: ``?`` becomes ``%s`` (a literal ``%`` is doubled), outside quoted text;
- ``CREATE TABLE`` / ``ALTER TABLE``: ``REAL`` becomes ``DOUBLE PRECISION`` (a REAL is
  four bytes in PostgreSQL: a timestamp would lose minutes) and ``TEXT`` is
  ``COLLATE "C"``, so ``ORDER BY`` sorts bytes as SQLite does, whatever the server's locale;
- upserts are written ``INSERT ... ON CONFLICT (key) DO UPDATE SET col = excluded.col``
  or ``... ON CONFLICT DO NOTHING``, which both engines read; what still differs
  (``PRAGMA``, ``GROUP_CONCAT``) asks ``dialect(db)``;
- a namespace (``store.namespace``, a town's id) is a schema, ``madoguchi_<namespace>``:
  each pooled connection's ``search_path`` is that schema, so the statements name their
  tables unqualified and a town's rows can never be read through another's connection.
  ``drop_schema`` removes a town's rows in one statement.

A statement outside ``with db:`` commits by itself (on a connection borrowed from the
pool for that statement); inside, every statement of the thread runs on one connection
in one transaction, committed or rolled back when the block ends, as ``sqlite3`` does.
Nested blocks join the outer one. Rows are read whole before the connection goes back.

Errors: any psycopg error becomes ``DatabaseError`` (a ``StoreError``, so the API answers
503 with one JSON error); ``DB_ERRORS`` is what a caller catches for either engine. The
pool checks a connection before lending it and opens new ones as needed, so a restarted
server is used again without a restart of ours.
"""

from __future__ import annotations

import atexit
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any, Literal, Protocol

from madoguchi.kit.errors import ConfigError, StoreError

Dialect = Literal["sqlite", "postgres"]


class DatabaseError(StoreError):
    """The shared database failed a statement or could not be reached."""


#: what to catch around a statement, whichever engine runs it
DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, DatabaseError)


class Rows(Protocol):
    """What a statement returns: its rows (read whole) and how many it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of ``sqlite3.Connection`` the kit uses; ``PgDatabase`` has it too."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> Any: ...


def dialect(db: object) -> Dialect:
    return "postgres" if isinstance(db, PgDatabase) else "sqlite"


def table_columns(db: Connection, table: str) -> set[str]:
    """The column names of ``table`` (empty when it does not exist)."""
    if isinstance(db, PgDatabase):
        rows = db.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {r[0] for r in rows}
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def table_names(db: Connection) -> set[str]:
    """The tables there are (in the namespace's schema, on PostgreSQL)."""
    if isinstance(db, PgDatabase):
        rows = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {r[0] for r in rows}
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


# ---------------------------------------------------------------------------- the SQL


_DDL = re.compile(r"^\s*(CREATE\s+TABLE|ALTER\s+TABLE)\b", re.IGNORECASE)
_QUOTED_OR_MARK = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


@lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """The statement in PostgreSQL's spelling (see the module docstring)."""

    def mark(m: re.Match[str]) -> str:
        t = m.group(0)
        return "%s" if t == "?" else "%%" if t == "%" else t

    out = _QUOTED_OR_MARK.sub(mark, sql)
    if _DDL.match(out):
        out = re.sub(r"\bREAL\b", "DOUBLE PRECISION", out)
        out = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', out)
    return out


def split_script(script: str) -> list[str]:
    """The statements of a script of plain DDL (no ``;`` inside quoted text)."""
    return [s.strip() for s in script.split(";") if s.strip()]


# ---------------------------------------------------------------------------- PostgreSQL


class _Result:
    """A statement's rows, read whole, and its row count."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Pools:
    """One connection pool per (database URL, schema) in this process: a town's index
    and its log share theirs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[str, str], Any] = {}

    def get(self, url: str, schema: str, min_size: int, max_size: int, timeout: float) -> Any:
        key = (url, schema)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None or pool.closed:
                pool = _new_pool(url, schema, min_size, max_size, timeout)
                self._pools[key] = pool
            return pool

    def close(self, url: str | None = None, schema: str | None = None) -> None:
        with self._lock:
            for key in [k for k in self._pools if url in (None, k[0]) and schema in (None, k[1])]:
                self._pools.pop(key).close()


POOLS = _Pools()
atexit.register(POOLS.close)  # each pool's worker threads end before the interpreter does


def _new_pool(url: str, schema: str, min_size: int, max_size: int, timeout: float) -> Any:
    try:
        import psycopg
        from psycopg import sql
        from psycopg_pool import ConnectionPool
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ConfigError(f"store.database_url needs psycopg and psycopg_pool: {exc}") from exc

    def configure(conn: psycopg.Connection[Any]) -> None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.commit()

    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max(max_size, min_size, 1),
        timeout=timeout,
        # a connection that died with the server is found before it is lent, not after
        check=ConnectionPool.check_connection,
        configure=configure,
        kwargs={"connect_timeout": max(1, int(timeout))},
        reconnect_timeout=0,  # keep trying for ever: an outage ends, the replica stays
        open=False,
    )
    pool.open(wait=False)
    return pool


#: when a pool last failed to lend a connection, and why, per (URL, schema)
_FAILED: dict[tuple[str, str], tuple[float, str]] = {}
#: how long requests fail at once after that, before the server is tried again
_RETRY_SECONDS = 1.0


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


class PgDatabase:
    """``sqlite3.Connection``'s shape over a pool of connections to one schema."""

    dialect: Dialect = "postgres"

    def __init__(
        self,
        url: str,
        schema: str,
        *,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 5.0,
    ) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"store.database_url must be a postgresql:// URL, not {url.split(':', 1)[0]!r}"
            )
        self.url = url
        self.schema = schema
        self.timeout = timeout
        self._pool = POOLS.get(url, schema, min_size, max_size, timeout)
        self._local = threading.local()

    @property
    def where(self) -> str:
        """The server and schema, for messages (no password)."""
        from urllib.parse import urlsplit

        u = urlsplit(self.url)
        return f"PostgreSQL {u.hostname or 'socket'}:{u.port or 5432}{u.path} schema {self.schema}"

    # ---- statements ------------------------------------------------------------------
    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Result:
        return self._run(sql, parameters, many=False)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Result:
        return self._run(sql, list(parameters), many=True)

    def executescript(self, script: str) -> None:
        with self:
            for stmt in split_script(script):
                self.execute(stmt)

    def _run(self, sql: str, params: Any, *, many: bool) -> _Result:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return self._on(conn, sql, params, many)
        with self:
            return self._on(self._local.conn, sql, params, many)

    def _on(self, conn: Any, sql: str, params: Any, many: bool) -> _Result:
        import psycopg

        query = to_postgres(sql)
        try:
            with conn.cursor() as cur:
                if many:
                    if not params:
                        return _Result([], 0)
                    cur.executemany(query, params)
                    return _Result([], cur.rowcount)
                cur.execute(query, tuple(params) if params else None)
                rows = cur.fetchall() if cur.description is not None else []
                return _Result(rows, cur.rowcount)
        except psycopg.Error as exc:
            raise DatabaseError(f"{self.where}: {_describe(exc)}") from exc

    # ---- transactions ----------------------------------------------------------------
    def __enter__(self) -> PgDatabase:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            key = (self.url, self.schema)
            failed = _FAILED.get(key)
            if failed is not None and time.monotonic() - failed[0] < _RETRY_SECONDS:
                # an outage: fail at once for a moment rather than make every request wait
                # the pool's timeout (start-up warms 16 threads; a 503 should be quick)
                raise DatabaseError(f"{self.where} is unreachable: {failed[1]}")
            try:
                self._local.conn = self._pool.getconn(timeout=self.timeout)
            except Exception as exc:  # PoolTimeout, or the pool closed
                why = f"no connection within {self.timeout:g} s ({_describe(exc)})"
                _FAILED[key] = (time.monotonic(), why)
                raise DatabaseError(f"{self.where} is unreachable: {why}") from exc
            _FAILED.pop(key, None)
        self._local.depth = depth + 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import psycopg

        self._local.depth -= 1
        if self._local.depth:
            return
        conn = self._local.conn
        self._local.conn = None
        try:
            if exc_type is None:
                conn.commit()
            else:
                conn.rollback()
        except psycopg.Error as err:
            if exc_type is None:
                raise DatabaseError(f"{self.where}: {_describe(err)}") from err
        finally:
            self._pool.putconn(conn)

    def commit(self) -> None:
        """Nothing to do: a statement outside ``with`` committed itself."""

    def rollback(self) -> None:
        """Nothing to undo: a failed statement outside ``with`` was rolled back."""

    def close(self) -> None:
        """The pool stays open for the process's other users of this schema
        (``POOLS.close`` ends it)."""

    def ping(self) -> None:
        """One round trip (``/readyz``)."""
        self.execute("SELECT 1").fetchone()

    def create_schema(self) -> None:
        """This namespace's schema, once, whoever else is creating it at the same time."""
        from psycopg import sql

        with self:
            self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (self.schema,))
            conn = self._local.conn
            try:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            except Exception as exc:
                raise DatabaseError(f"{self.where}: {_describe(exc)}") from exc


def drop_schema(url: str, schema: str, timeout: float = 5.0) -> int:
    """Delete a namespace's schema and every row in it; returns the tables it held."""
    from psycopg import sql

    db = PgDatabase(url, schema, min_size=0, max_size=1, timeout=timeout)
    try:
        with db:
            n = db.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?",
                (schema,),
            ).fetchone()[0]
            try:
                db._local.conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
            except Exception as exc:
                raise DatabaseError(f"{db.where}: {_describe(exc)}") from exc
    finally:
        POOLS.close(url, schema)
    return int(n)
