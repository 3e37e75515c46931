"""Does the catalogue agree with the vectors? Read without changing either.

``check_index(settings)`` opens ``catalogue.sqlite`` read-only (no migration runs, no
token refresh) and each Chroma collection of the index, and compares, field by field,
the ids the catalogue wants with the ids Chroma holds:

- ``passages``: one vector per chunk id;
- ``titles``: one per distinct title id (``chunks.tid``);
- ``leads``: one per FAQ chunk with a lead sentence.

A missing vector means a chunk that dense search can never find (the next ingest's
``reconcile`` embeds it; ``madoguchi doctor --repair`` does it now); an orphan is a
vector no row refers to (harmless, dropped by the same repair). Used by
``madoguchi doctor`` and by ``madoguchi backup`` / ``restore`` to check a copy.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.ingest.migrations import MIGRATIONS
from madoguchi.kit.config import Settings
from madoguchi.kit.db import DB_ERRORS, Connection, PgDatabase, table_columns, table_names
from madoguchi.kit.errors import StoreError
from madoguchi.kit.fields import lead_of

CATALOGUE = "catalogue.sqlite"
#: the vector collections of one index: field name -> collection name suffix
FIELDS = {"passages": "", "titles": "-titles", "leads": "-leads"}


@dataclass
class FieldCheck:
    field: str
    wanted: int  # ids the catalogue refers to
    stored: int  # ids the collection holds
    missing: list[str] = dataclasses.field(default_factory=list)  # wanted, not stored (a sample)
    orphans: list[str] = dataclasses.field(default_factory=list)  # stored, not wanted (a sample)
    n_missing: int = 0  # the exact counts
    n_orphans: int = 0

    @property
    def ok(self) -> bool:
        return not self.n_missing and not self.n_orphans

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "catalogue": self.wanted,
            "vectors": self.stored,
            "missing": self.n_missing,
            "orphans": self.n_orphans,
            "missing_ids": self.missing,
            "orphan_ids": self.orphans,
        }


@dataclass
class IndexCheck:
    """What ``check_index`` found; ``fields`` is empty for an in-memory store."""

    exists: bool
    embedder: str | None = None
    generation: int = 0
    sources: int = 0
    chunks: int = 0
    migrations_pending: list[str] = dataclasses.field(default_factory=list)
    rekey_pending: int = 0
    fields: list[FieldCheck] = dataclasses.field(default_factory=list)
    dim: int | None = None  # the stored vectors' dimension
    store: str = "chroma"

    @property
    def consistent(self) -> bool:
        return all(f.ok for f in self.fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "exists": self.exists,
            "embedder": self.embedder,
            "generation": self.generation,
            "sources": self.sources,
            "chunks": self.chunks,
            "migrations_pending": self.migrations_pending,
            "rekey_pending": self.rekey_pending,
            "store": self.store,
            "dim": self.dim,
            "fields": [f.to_json() for f in self.fields],
        }


@dataclass
class CatalogueIds:
    embedder: str | None
    generation: int
    sources: int
    wanted: dict[str, set[str]]  # field -> ids
    migrations_pending: list[str]
    rekey: dict[str, str]  # old id -> new id, not yet moved (migration 004)


def read_catalogue(path: Path | PgDatabase) -> CatalogueIds:
    """The ids a catalogue file (or a shared catalogue's schema) refers to, read-only
    (``StoreError`` when unreadable)."""
    db: Connection
    if isinstance(path, PgDatabase):
        db, where = path, path.where
    else:
        where = str(path)
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        tables = table_names(db)
        done = (
            {r[0] for r in db.execute("SELECT name FROM migrations")}
            if "migrations" in tables
            else set()
        )
        info = (
            dict(db.execute("SELECT key, value FROM info").fetchall()) if "info" in tables else {}
        )
        passages: set[str] = set()
        titles: set[str] = set()
        leads: set[str] = set()
        if "chunks" in tables:
            has_tid = "tid" in table_columns(db, "chunks")
            q = "SELECT id, meta" + (", tid" if has_tid else ", ''") + " FROM chunks"
            for cid, meta, tid in db.execute(q):
                passages.add(cid)
                if tid:
                    titles.add(tid)
                if lead_of(json.loads(meta)):
                    leads.add(cid)
        n_sources = (
            int(db.execute("SELECT COUNT(*) FROM sources").fetchone()[0])
            if "sources" in tables
            else 0
        )
        rekey = (
            dict(db.execute("SELECT old, new FROM chunk_rekey").fetchall())
            if "chunk_rekey" in tables
            else {}
        )
    except DB_ERRORS as exc:
        raise StoreError(f"cannot read {where}: {exc}") from exc
    finally:
        db.close()
    return CatalogueIds(
        embedder=info.get("embedder"),
        generation=int(info.get("generation", 0) or 0),
        sources=n_sources,
        wanted={"passages": passages, "titles": titles, "leads": leads},
        migrations_pending=[m.__name__ for m in MIGRATIONS if m.__name__ not in done],
        rekey=rekey,
    )


def check_index(settings: Settings, *, sample: int = 20) -> IndexCheck:
    """Compare the catalogue of ``settings.data_dir`` with its vectors; at most
    ``sample`` ids of each kind are listed (the counts are exact)."""
    st = settings.store
    path = Path(settings.data_dir) / CATALOGUE
    if st.database_url:
        pg = PgDatabase(st.database_url, st.pg_schema, min_size=0, max_size=1)
        if "info" not in table_names(pg):
            return IndexCheck(exists=False, store=st.kind)
        cat = read_catalogue(pg)
    elif not path.is_file():
        return IndexCheck(exists=False, store=st.kind)
    else:
        cat = read_catalogue(path)
    out = IndexCheck(
        exists=True,
        embedder=cat.embedder,
        generation=cat.generation,
        sources=cat.sources,
        chunks=len(cat.wanted["passages"]),
        migrations_pending=cat.migrations_pending,
        rekey_pending=len(cat.rekey),
        store=settings.store.kind,
    )
    if settings.store.kind == "memory" or cat.embedder is None:
        return out  # nothing stored to compare with
    from madoguchi.ingest.vectors import ChromaVectorIndex

    for name, suffix in FIELDS.items():
        store = ChromaVectorIndex(settings, cat.embedder, suffix=suffix)
        stored = store.ids()
        wanted = cat.wanted[name]
        # vectors still under the ids migration 004 replaced count as their new ids
        have = {cat.rekey.get(i, i) for i in stored} if name != "titles" else stored
        missing = sorted(wanted - have)
        orphans = sorted(have - wanted)
        out.fields.append(
            FieldCheck(
                name,
                len(wanted),
                len(have),
                missing[:sample],
                orphans[:sample],
                len(missing),
                len(orphans),
            )
        )
        if out.dim is None and stored:
            ids, vecs = store.get(sorted(stored)[:1])
            if ids and vecs.ndim == 2:
                out.dim = int(vecs.shape[1])
        store.close()
    return out
