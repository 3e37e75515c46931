"""Numbered schema migrations of the catalogue (``catalogue.sqlite``, or a namespace's
schema in PostgreSQL: the same statements, through ``kit.db``).

Each migration runs once, in order, and is recorded in the ``migrations`` table, as
simonw/llm's ``embeddings_migrations`` do; opening a catalogue runs the ones it has
not had yet, each in its own transaction, so an index built by an earlier release
opens after an upgrade without re-embedding. Catalogues from before this table
existed had some of these steps applied by column probes, so the early migrations
check before they add a column; later ones need not.

Add a migration by appending a function to ``MIGRATIONS``; never edit or reorder
one that has shipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from madoguchi.kit.db import Connection, table_columns
from madoguchi.kit.types import Chunk

Migration = Callable[[Connection], None]


def _columns(db: Connection, table: str) -> set[str]:
    return table_columns(db, table)


def m001_base(db: Connection) -> None:
    """The catalogue: info (embedder, generation), sources and their chunks."""
    db.execute("CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS sources (
            source_id TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            title TEXT NOT NULL,
            uri TEXT NOT NULL,
            kind TEXT NOT NULL,
            indexed_at REAL NOT NULL,
            n_chunks INTEGER NOT NULL,
            meta TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS chunks (
            id TEXT PRIMARY KEY,
            source_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            title TEXT NOT NULL,
            meta TEXT NOT NULL,
            tokens TEXT NOT NULL,
            qtokens TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source_id)")


def m002_title_ids(db: Connection) -> None:
    """Each chunk's title-field vector id (chunks sharing a FAQ question or heading
    share one vector); filled by the token refresh that follows."""
    if "tid" not in _columns(db, "chunks"):
        db.execute("ALTER TABLE chunks ADD COLUMN tid TEXT NOT NULL DEFAULT ''")
        db.execute("DELETE FROM info WHERE key='tokenizer'")  # refresh fills tid
    db.execute("CREATE INDEX IF NOT EXISTS chunks_by_tid ON chunks(tid)")


def m003_fetch_columns(db: Connection) -> None:
    """The sync manifest: when a source was last fetched, its HTTP validators and,
    for a web page, its links."""
    have = _columns(db, "sources")
    for name, sql_type in (
        ("fetched_at", "REAL"),
        ("etag", "TEXT"),
        ("last_modified", "TEXT"),
        ("links", "TEXT"),
    ):
        if name not in have:
            db.execute(f"ALTER TABLE sources ADD COLUMN {name} {sql_type}")


def m004_chunk_ids_without_position(db: Connection) -> None:
    """Re-key chunks by content alone (``Chunk.make_id``: source, text, repeat).

    Their vectors are not embedded again: the old and new ids go to ``chunk_rekey``,
    and the index moves each vector to its new id when it next reads its vectors
    (``Index.view``)."""
    db.execute("CREATE TABLE IF NOT EXISTS chunk_rekey (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
    rows = db.execute("SELECT id, source_id, text FROM chunks ORDER BY source_id, position")
    seen: dict[tuple[str, str], int] = {}
    pairs: list[tuple[str, str]] = []
    for old, source_id, text in rows.fetchall():
        k = seen.get((source_id, text), 0)
        seen[(source_id, text)] = k + 1
        new = Chunk.make_id(source_id, text, k)
        if new != old:
            pairs.append((old, new))
    for old, _ in pairs:
        db.execute("UPDATE chunks SET id=? WHERE id=?", (f"~{old}", old))
    for old, new in pairs:
        db.execute("UPDATE chunks SET id=? WHERE id=?", (new, f"~{old}"))
    db.executemany(
        "INSERT INTO chunk_rekey VALUES (?, ?) ON CONFLICT (old) DO UPDATE SET new = excluded.new",
        pairs,
    )
    if pairs:  # a running server's view of the old ids is out of date
        db.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")


MIGRATIONS: tuple[Migration, ...] = (
    m001_base,
    m002_title_ids,
    m003_fetch_columns,
    m004_chunk_ids_without_position,
)


def migrate(db: Connection) -> list[str]:
    """Apply the migrations this catalogue has not had; returns their names."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {r[0] for r in db.execute("SELECT name FROM migrations")}
    applied = []
    for step in MIGRATIONS:
        name = step.__name__
        if name in done:
            continue
        with db:
            step(db)
            db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
        applied.append(name)
    return applied
