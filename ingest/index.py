"""The index: a SQLite catalogue (sources, chunks, tokens) plus a vector index.

SQLite is the source of truth for *what* is indexed; the vector index (Chroma,
or numpy in memory for tests) holds the embeddings keyed by chunk id. Writes
follow one order so that a run killed at any instant leaves a state the next
run repairs:

1. embed and upsert the new chunks' vectors (ids are content hashes: repeatable);
2. in one SQLite transaction, replace the source's chunk rows and its hash;
3. delete vectors of chunk ids that no row refers to any more.

``reconcile()`` (run at the start of every ingest) deletes vectors that no row
refers to, and re-embeds rows whose vector is missing, so search never returns
a chunk that the catalogue does not know, nor silently misses one it does.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from madoguchi.ingest.embed import count_tokens, embedder_name
from madoguchi.ingest.migrations import migrate
from madoguchi.ingest.search import IndexView, VectorFields
from madoguchi.ingest.vectors import ChromaVectorIndex, MemoryVectorIndex, VectorIndex, drop_orphans
from madoguchi.ingest.writelock import DataDirLock
from madoguchi.kit.config import Settings
from madoguchi.kit.db import DB_ERRORS, Connection, PgDatabase
from madoguchi.kit.errors import ConfigError, StoreError
from madoguchi.kit.fields import chunk_tokens, embed_text, lead_of, lead_text, title_id, title_text
from madoguchi.kit.lexical import TOKENIZER_VERSION
from madoguchi.kit.types import Chunk, SourceDocument

SOURCE_COLUMNS = "source_id, hash, title, uri, kind, indexed_at, n_chunks, meta"


@dataclass
class EmbedStats:
    chunks: int = 0
    titles: int = 0
    leads: int = 0
    tokens: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class FetchRecord:
    """A source's fetch columns in the manifest."""

    fetched_at: float | None
    etag: str | None = None
    last_modified: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceRecord:
    source_id: str
    hash: str
    title: str
    uri: str
    kind: str
    indexed_at: float
    n_chunks: int
    meta: dict[str, Any]


class Index:
    """The catalogue + vectors of one data directory."""

    def __init__(
        self, settings: Settings, embedder: Embeddings, vectors: VectorIndex | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.embedder_label = embedder_name(embedder)
        self._vectors = vectors
        self._title_vectors: VectorIndex | None = (
            MemoryVectorIndex() if vectors is not None else None
        )
        self._lead_vectors: VectorIndex | None = (
            MemoryVectorIndex() if vectors is not None else None
        )
        self._db: Connection | None = None
        # every write, in this process and in others (``ingest.writelock``): a backup
        # copies the catalogue and the vectors between two writes
        self._lock = DataDirLock(settings.data_dir)
        self._view: IndexView | None = None
        # a shared catalogue's generation, as last read: (monotonic time, generation)
        self._polled: tuple[float, int] | None = None

    # ---- opening -------------------------------------------------------------
    @property
    def db(self) -> Connection:
        if self._db is None:
            with self._lock:
                if self._db is None:
                    self._open_db()
        assert self._db is not None
        return self._db

    def _open_db(self) -> None:
        st = self.settings.store
        if st.database_url:
            pg = PgDatabase(
                st.database_url,
                st.pg_schema,
                min_size=st.pool_min,
                max_size=st.pool_max,
                timeout=st.pool_timeout,
            )
            pg.create_schema()
            with pg:  # one transaction, the schema's lock held: replicas migrate in turn
                pg.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (st.pg_schema,))
                migrate(pg)
            self._db = pg
            self._check_embedder()
            self._refresh_tokens()
            return
        data_dir = Path(self.settings.data_dir)
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(data_dir / "catalogue.sqlite", check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            migrate(db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the catalogue in {data_dir}: {exc}") from exc
        self._db = db
        self._check_embedder()
        self._refresh_tokens()

    def _check_embedder(self) -> None:
        assert self._db is not None
        row = self._db.execute("SELECT value FROM info WHERE key='embedder'").fetchone()
        if row is None:
            with self._db:
                self._db.execute(
                    "INSERT INTO info VALUES ('embedder', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value",
                    (self.embedder_label,),
                )
                self._db.execute(
                    "INSERT INTO info VALUES ('generation', '0') ON CONFLICT DO NOTHING"
                )
        elif row[0] != self.embedder_label:
            db = self._db
            where, fresh = (
                (db.where, "another MADOGUCHI_STORE__NAMESPACE")
                if isinstance(db, PgDatabase)
                else (str(self.settings.data_dir), "a fresh MADOGUCHI_DATA_DIR")
            )
            raise ConfigError(
                f"the index in {where} was built with the embedder "
                f"'{row[0]}', but '{self.embedder_label}' is configured; use the same "
                f"embedder or {fresh}"
            )

    def _refresh_tokens(self) -> None:
        """Store the lexical tokens and title ids anew when the tokenisation rules
        changed (``TOKENIZER_VERSION``): no re-embedding; title vectors a change of
        title ids calls for are embedded by the next ``reconcile``."""
        assert self._db is not None
        db = self._db
        row = db.execute("SELECT value FROM info WHERE key='tokenizer'").fetchone()
        if row is not None and row[0] == TOKENIZER_VERSION:
            return
        rows = db.execute(
            "SELECT id, source_id, text, title, position, meta FROM chunks"
        ).fetchall()
        with db:
            for r in rows:
                c = Chunk(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]))
                tokens, qtokens = chunk_tokens(c)
                db.execute(
                    "UPDATE chunks SET tokens=?, qtokens=?, tid=? WHERE id=?",
                    (
                        json.dumps(tokens, ensure_ascii=False),
                        json.dumps(qtokens, ensure_ascii=False),
                        title_id(c),
                        r[0],
                    ),
                )
            db.execute(
                "INSERT INTO info VALUES ('tokenizer', ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value",
                (TOKENIZER_VERSION,),
            )
            if rows:
                self._bump(db)

    def _new_vectors(self, suffix: str = "") -> VectorIndex:
        if self.settings.store.kind == "memory":
            return MemoryVectorIndex()
        return ChromaVectorIndex(self.settings, self.embedder_label, suffix=suffix)

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
            with self._lock:  # opening Chroma may write its files
                if self._vectors is None:
                    self._vectors = self._new_vectors()
        return self._vectors

    @property
    def title_vectors(self) -> VectorIndex:
        """Embeddings of title fields (FAQ question, section heading), one per distinct text."""
        if self._title_vectors is None:
            with self._lock:
                if self._title_vectors is None:
                    self._title_vectors = self._new_vectors(suffix="-titles")
        return self._title_vectors

    @property
    def lead_vectors(self) -> VectorIndex:
        """Embeddings of each FAQ answer's first sentence (``lead_text``), by chunk id."""
        if self._lead_vectors is None:
            with self._lock:
                if self._lead_vectors is None:
                    self._lead_vectors = self._new_vectors(suffix="-leads")
        return self._lead_vectors

    @property
    def write_lock(self) -> DataDirLock:
        """The lock every write of this index holds (``ingest.writelock``)."""
        return self._lock

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ---- catalogue reads -----------------------------------------------------
    def generation(self) -> int:
        row = self.db.execute("SELECT value FROM info WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def source_hash(self, source_id: str) -> str | None:
        row = self.db.execute("SELECT hash FROM sources WHERE source_id=?", (source_id,)).fetchone()
        return row[0] if row else None

    def sources(self, prefix: str | None = None) -> list[SourceRecord]:
        q = "SELECT source_id, hash, title, uri, kind, indexed_at, n_chunks, meta FROM sources"
        rows = self.db.execute(q + " ORDER BY source_id").fetchall()
        out = [
            SourceRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7])) for r in rows
        ]
        if prefix is not None:
            out = [s for s in out if covers(prefix, s.source_id)]
        return out

    def fetch_states(self, prefix: str | None = None) -> dict[str, FetchRecord]:
        """The manifest's fetch columns of every indexed source (under ``prefix``)."""
        rows = self.db.execute(
            "SELECT source_id, fetched_at, etag, last_modified, links FROM sources"
        ).fetchall()
        return {
            r[0]: FetchRecord(r[1], r[2], r[3], tuple(json.loads(r[4])) if r[4] else ())
            for r in rows
            if prefix is None or covers(prefix, r[0])
        }

    def record_fetches(self, records: dict[str, FetchRecord]) -> int:
        """Store when indexed sources were fetched and their validators/links.

        Called after ``apply``: a run killed in between only loses validators, so the
        next run fetches those pages in full and finds them unchanged by their hash.
        """
        rows = [
            (
                r.fetched_at,
                r.etag,
                r.last_modified,
                json.dumps(list(r.links), ensure_ascii=False),
                sid,
            )
            for sid, r in records.items()
        ]
        with self._lock, self.db as db:
            cur = db.executemany(
                "UPDATE sources SET fetched_at=?, etag=?, last_modified=?, links=? "
                "WHERE source_id=?",
                rows,
            )
            return int(cur.rowcount)

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    # ---- writes --------------------------------------------------------------
    def apply(self, batch: Sequence[tuple[SourceDocument, str, Sequence[Chunk]]]) -> EmbedStats:
        """Store a batch of (document, content hash, chunks), embedding only new chunk ids."""
        stats = EmbedStats()
        if not batch:
            return stats
        with self._lock:
            wanted = [c for _, _, chunks in batch for c in chunks]
            known = self._existing_chunk_ids([c.id for c in wanted])
            fresh = list({c.id: c for c in wanted if c.id not in known}.values())
            if fresh:
                texts = [embed_text(c) for c in fresh]
                t0 = time.perf_counter()
                vecs = self.embedder.embed_documents(texts)
                stats.seconds = time.perf_counter() - t0
                stats.chunks = len(fresh)
                stats.tokens = sum(count_tokens(self.embedder, t) for t in texts)
                self.vectors.upsert([c.id for c in fresh], vecs)
            titles = {title_id(c): title_text(c) for c in wanted if title_id(c)}
            known_t = self._referenced_tids(list(titles))
            fresh_t = {t: x for t, x in titles.items() if t not in known_t}
            if fresh_t:
                t0 = time.perf_counter()
                tvecs = self.embedder.embed_documents(list(fresh_t.values()))
                stats.seconds += time.perf_counter() - t0
                stats.titles += len(fresh_t)
                stats.tokens += sum(count_tokens(self.embedder, x) for x in fresh_t.values())
                self.title_vectors.upsert(list(fresh_t), tvecs)
            leads = {c.id: lead_text(c) for c in fresh if lead_text(c)}
            if leads:
                t0 = time.perf_counter()
                self._embed_leads(leads)
                stats.seconds += time.perf_counter() - t0
                stats.leads += len(leads)
                stats.tokens += sum(count_tokens(self.embedder, x) for x in set(leads.values()))
            stale: list[str] = []
            old_tids: set[str] = set()
            now = time.time()
            db = self.db
            try:
                with db:
                    for doc, content_hash, chunks in batch:
                        old_rows = db.execute(
                            "SELECT id, tid FROM chunks WHERE source_id=?", (doc.source_id,)
                        ).fetchall()
                        old = {r[0] for r in old_rows}
                        old_tids.update(r[1] for r in old_rows if r[1])
                        db.execute("DELETE FROM chunks WHERE source_id=?", (doc.source_id,))
                        db.executemany(_UPSERT_CHUNK, [_chunk_row(c) for c in chunks])
                        db.execute(
                            _UPSERT_SOURCE,
                            (
                                doc.source_id,
                                content_hash,
                                doc.title,
                                doc.uri,
                                doc.kind,
                                now,
                                len(chunks),
                                json.dumps(_jsonable(doc.meta), ensure_ascii=False),
                            ),
                        )
                        stale.extend(old - {c.id for c in chunks})
                    self._bump(db)
            except DB_ERRORS as exc:
                raise StoreError(f"cannot write the catalogue: {exc}") from exc
            if stale:
                self.vectors.delete(stale)
                self.lead_vectors.delete(stale)
            self._drop_unreferenced_titles(old_tids)
        return stats

    def _embed_leads(self, leads: dict[str, str]) -> None:
        """Embed lead sentences (each distinct text once) and store them by chunk id."""
        texts = sorted(set(leads.values()))
        vec_of = dict(zip(texts, self.embedder.embed_documents(texts), strict=True))
        ids = list(leads)
        self.lead_vectors.upsert(ids, [vec_of[leads[i]] for i in ids])

    def remove(self, source_ids: Iterable[str]) -> int:
        ids = list(source_ids)
        if not ids:
            return 0
        with self._lock:
            db = self.db
            stale: list[str] = []
            old_tids: set[str] = set()
            with db:
                for sid in ids:
                    for cid, tid in db.execute(
                        "SELECT id, tid FROM chunks WHERE source_id=?", (sid,)
                    ).fetchall():
                        stale.append(cid)
                        if tid:
                            old_tids.add(tid)
                    db.execute("DELETE FROM chunks WHERE source_id=?", (sid,))
                    db.execute("DELETE FROM sources WHERE source_id=?", (sid,))
                self._bump(db)
            if stale:
                self.vectors.delete(stale)
                self.lead_vectors.delete(stale)
            self._drop_unreferenced_titles(old_tids)
        return len(ids)

    def reconcile(self) -> dict[str, int]:
        """Repair what an interrupted run may have left: orphan or missing vectors."""
        with self._lock:
            rows = {r[0] for r in self.db.execute("SELECT id FROM chunks")}
            orphans, missing = drop_orphans(self.vectors, rows)
            for s in range(0, len(missing), 64):
                part = missing[s : s + 64]
                chunks = self._load_chunks(part)
                vecs = self.embedder.embed_documents([embed_text(c) for c in chunks])
                self.vectors.upsert([c.id for c in chunks], vecs)
            # the same for title vectors (one per distinct title text)
            tids = {
                r[0]: r[1] for r in self.db.execute("SELECT tid, id FROM chunks WHERE tid != ''")
            }
            orphans_t, missing_t = drop_orphans(self.title_vectors, set(tids))
            for s in range(0, len(missing_t), 64):
                part = missing_t[s : s + 64]
                chunks = self._load_chunks([tids[t] for t in part])
                texts = {title_id(c): title_text(c) for c in chunks}
                keys = [t for t in part if t in texts]
                self.title_vectors.upsert(
                    keys, self.embedder.embed_documents([texts[t] for t in keys])
                )
            # and for lead vectors (one per FAQ chunk; an index built before they existed
            # gets them here, on its next ingest)
            wanted_l = {
                r[0]: text
                for r in self.db.execute("SELECT id, meta FROM chunks")
                if (text := lead_of(json.loads(r[1])))
            }
            orphans_l, missing_l = drop_orphans(self.lead_vectors, set(wanted_l))
            for s in range(0, len(missing_l), 64):
                self._embed_leads({i: wanted_l[i] for i in missing_l[s : s + 64]})
            if orphans or missing or orphans_t or missing_t or orphans_l or missing_l:
                with self.db:
                    self._bump(self.db)
            return {
                "orphans_removed": len(orphans) + len(orphans_t) + len(orphans_l),
                "missing_embedded": len(missing) + len(missing_t) + len(missing_l),
            }

    def _referenced_tids(self, tids: Sequence[str]) -> set[str]:
        return self._present("tid", tids)

    def _drop_unreferenced_titles(self, candidates: set[str]) -> None:
        if candidates:
            gone = set(candidates) - self._referenced_tids(sorted(candidates))
            if gone:
                self.title_vectors.delete(sorted(gone))

    def _bump(self, db: Connection) -> None:
        db.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
        self._view = None
        self._polled = None

    def _current_generation(self) -> int:
        """The generation. A shared catalogue is asked at most every
        ``store.poll_seconds``: the version row every replica polls, so a write made
        through another replica or the CLI is seen that long after at most."""
        st = self.settings.store
        if not st.database_url:
            return self.generation()
        now = time.monotonic()
        polled = self._polled
        if polled is not None and now - polled[0] < st.poll_seconds:
            return polled[1]
        gen = self.generation()
        self._polled = (now, gen)
        return gen

    def health(self) -> dict[str, Any]:
        """Read both back-ends now (``/readyz``); a ``StoreError`` says which one failed."""
        try:
            chunks = self.chunk_count()
            generation = self.generation()
        except DB_ERRORS as exc:
            raise StoreError(f"the catalogue cannot be read: {exc}") from exc
        out: dict[str, Any] = {"chunks": chunks, "generation": generation}
        out["catalogue"] = "postgresql" if self.settings.store.database_url else "sqlite"
        vectors = self.vectors
        ping = getattr(vectors, "heartbeat", None)
        if ping is not None:
            ping()
        out["vectors"] = getattr(vectors, "kind", "memory")
        return out

    def _existing_chunk_ids(self, ids: Sequence[str]) -> set[str]:
        return self._present("id", ids)

    def _present(self, column: str, values: Sequence[str]) -> set[str]:
        """Which of ``values`` occur in the chunks table's ``column`` (id or tid)."""
        assert column in ("id", "tid")
        out: set[str] = set()
        for s in range(0, len(values), 500):
            part = values[s : s + 500]
            q = f"SELECT DISTINCT {column} FROM chunks WHERE {column} IN ({','.join('?' * len(part))})"
            out.update(r[0] for r in self.db.execute(q, part))
        return out

    def _load_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        out: list[Chunk] = []
        for s in range(0, len(ids), 500):
            part = ids[s : s + 500]
            q = (
                "SELECT id, source_id, text, title, position, meta FROM chunks "
                f"WHERE id IN ({','.join('?' * len(part))})"
            )
            out.extend(
                Chunk(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]))
                for r in self.db.execute(q, part)
            )
        return out

    # ---- search state --------------------------------------------------------
    def view(self) -> IndexView:
        """This generation in memory (``kit.store.SearchView``); rebuilt only when the
        generation moved."""
        view = self._view
        if view is not None and view.generation == self._current_generation():
            return view
        with self._lock:
            self._complete_rekey()
            gen = self.generation()
            rows = self.db.execute(
                "SELECT id, source_id, text, title, position, meta, tokens, qtokens, tid "
                "FROM chunks ORDER BY source_id, position"
            ).fetchall()
            chunks = [Chunk(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]
            stores = (self.vectors, self.title_vectors, self.lead_vectors)
            if 0 < len(chunks) <= self.settings.store.exact_search_max:
                fields = VectorFields.exact_copies(*stores, self.settings.store.vector_precision)
            else:
                fields = VectorFields(*stores)
            view = IndexView(
                gen,
                chunks,
                (json.loads(r[6]) for r in rows),  # parsed one row at a time
                (json.loads(r[7]) for r in rows),
                [r[8] for r in rows],
                fields,
                with_lead=(c.id for c in chunks if lead_text(c)),
            )
            self._view = view
            return view

    def _complete_rekey(self) -> None:
        """Move vectors to the chunk ids migration 004 gave their rows (no re-embedding);
        a run killed midway leaves the rest for the next call, and ``reconcile``
        embeds whatever vector was lost."""
        db = self.db
        pairs = db.execute("SELECT old, new FROM chunk_rekey").fetchall()
        if not pairs:
            return
        for store in (self.vectors, self.lead_vectors):
            for s in range(0, len(pairs), 1000):
                part = dict(pairs[s : s + 1000])
                ids, vecs = store.get(list(part))
                if ids:
                    store.upsert([part[i] for i in ids], vecs)
                    store.delete(ids)
        with db:
            db.execute("DELETE FROM chunk_rekey")


_CHUNK_COLUMNS = (
    "id",
    "source_id",
    "position",
    "text",
    "title",
    "meta",
    "tokens",
    "qtokens",
    "tid",
)
_SOURCE_COLUMNS = tuple(c.strip() for c in SOURCE_COLUMNS.split(","))


def _upsert(table: str, columns: Sequence[str], cleared: Sequence[str] = ()) -> str:
    """Insert or replace a row by its first column (``INSERT OR REPLACE``), in the
    spelling SQLite and PostgreSQL share (``kit.db``); ``cleared`` columns go back to
    NULL, as a replaced row's unnamed columns did."""
    sets = [f"{c} = excluded.{c}" for c in columns[1:]] + [f"{c} = NULL" for c in cleared]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))}) "
        f"ON CONFLICT ({columns[0]}) DO UPDATE SET {', '.join(sets)}"
    )


_UPSERT_CHUNK = _upsert("chunks", _CHUNK_COLUMNS)
# the fetch columns (the manifest) are written again by ``record_fetches`` after apply
_UPSERT_SOURCE = _upsert(
    "sources", _SOURCE_COLUMNS, ("fetched_at", "etag", "last_modified", "links")
)


def _chunk_row(c: Chunk) -> tuple[Any, ...]:
    tokens, qtokens = chunk_tokens(c)
    return (
        c.id,
        c.source_id,
        c.position,
        c.text,
        c.title,
        json.dumps(_jsonable(c.meta), ensure_ascii=False),
        json.dumps(tokens, ensure_ascii=False),
        json.dumps(qtokens, ensure_ascii=False),
        title_id(c),
    )


def _jsonable(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
        for k, v in meta.items()
    }


def covers(root: str, source_id: str) -> bool:
    """Whether ``source_id`` belongs under the ingest root ``root`` (file, folder, URL)."""
    root = root.rstrip("/")
    if root in (".", ""):
        return not (source_id.startswith(("../", "/")) or "://" in source_id)
    return source_id == root or source_id.startswith((root + "#", root + "/"))
