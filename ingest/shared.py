"""A namespace of the shared back-ends as a whole: what it holds, and its removal.

On a shared service (``store.database_url``, ``store.chroma_url``) a town's rows are the
tables of its PostgreSQL schema (``kit.db``: ``madoguchi_<namespace>``) and its vectors
the Chroma server's collections named ``<namespace>.*`` (``ingest.vectors``). Removing a
town (``ingest.towns.remove_town``) drops both, after counting them for its report;
nothing of another namespace is touched, since no other schema or prefix is named.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from madoguchi.ingest.vectors import namespace_collections
from madoguchi.kit.config import StoreSettings
from madoguchi.kit.db import PgDatabase, drop_schema, table_names

#: the tables counted in a namespace's report
COUNTED = ("sources", "chunks", "turns")


@dataclass
class NamespaceContents:
    namespace: str
    schema: str | None  # None: the rows are not in PostgreSQL
    sources: int = 0
    chunks: int = 0
    turns: int = 0
    refused: int = 0  # turns refused
    last_change: float = 0.0  # the newest logged turn or indexed source
    vectors: int = 0  # on the Chroma server, every collection of the namespace
    collections: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def for_namespace(store: StoreSettings, namespace: str) -> StoreSettings:
    return store.model_copy(update={"namespace": namespace})


def is_shared(store: StoreSettings) -> bool:
    return bool(store.database_url or store.chroma_server)


def contents(store: StoreSettings, *, vectors: bool = True) -> NamespaceContents:
    """What the shared back-ends hold for ``store.namespace`` (the vectors on the Chroma
    server counted too unless ``vectors`` is false: that lists every collection)."""
    out = NamespaceContents(store.namespace, store.pg_schema if store.database_url else None)
    if store.database_url:
        db = PgDatabase(store.database_url, store.pg_schema, min_size=0, max_size=1)
        for table in COUNTED:
            exists = db.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                (store.pg_schema, table),
            ).fetchone()
            if not exists:
                continue
            n = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            setattr(out, table, int(n))
            if table == "turns":
                refused, newest = db.execute(
                    "SELECT COUNT(*) FILTER (WHERE refused = 1), MAX(ts) FROM turns"
                ).fetchone()
                out.refused = int(refused)
                out.last_change = max(out.last_change, float(newest or 0))
            elif table == "sources":
                newest = db.execute("SELECT MAX(indexed_at) FROM sources").fetchone()[0]
                out.last_change = max(out.last_change, float(newest or 0))
    if vectors:
        cols = namespace_collections(store)
        out.collections, out.vectors = len(cols), sum(cols.values())
    return out


def town_store(store: StoreSettings | None, town_id: str) -> StoreSettings | None:
    """A town's store on a shared PostgreSQL (its namespace), or None when its rows are
    in its data directory."""
    if store is None or not store.database_url:
        return None
    return for_namespace(store, town_id)


def source_rows(store: StoreSettings) -> list[tuple[Any, ...]]:
    """(source id, title, kind, chunks, URI, indexed at) of every indexed source."""
    db = PgDatabase(store.database_url, store.pg_schema, min_size=0, max_size=1)
    if "sources" not in table_names(db):
        return []
    return db.execute(
        "SELECT source_id, title, kind, n_chunks, uri, indexed_at FROM sources ORDER BY source_id"
    ).fetchall()


def drop(store: StoreSettings) -> NamespaceContents:
    """Delete everything of ``store.namespace`` on the shared back-ends; returns what was
    there. The rows go first: a town half removed answers nothing."""
    before = contents(store)
    if store.database_url:
        drop_schema(store.database_url, store.pg_schema, timeout=store.pool_timeout)
    namespace_collections(store, delete=True)
    return before
