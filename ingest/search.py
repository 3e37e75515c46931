"""One generation of an index in memory, as retrieval reads it (``kit.store.SearchView``).

Built from the catalogue's rows when the index's generation moves: the chunks, the
BM25 indexes of their text and title field, the item names of table rows, and the
vectors to search. A town's index (up to ``store.exact_search_max`` chunks) is
searched exactly, from in-memory copies of its vectors (see ``ExactVectors`` for
why); a larger one asks the vector store's approximate search.

``IndexView.prefetch`` searches the three vector fields for a batch of questions at
once (one matrix product per field, or one Chroma call) and keeps the hits for the
questions' own searches, which then find them ready: the server calls it from its
embedding micro-batches (``ingest.embed.BatchingEmbeddings``). The kept hits belong
to the view, so they never outlive the generation they were found in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from madoguchi.ingest.vectors import ExactVectors, Precision, VectorIndex
from madoguchi.kit.lang import base_lang
from madoguchi.kit.lexical import BM25Index
from madoguchi.kit.names import NameIndex
from madoguchi.kit.store import Hits, LexicalField, best_of
from madoguchi.kit.types import Chunk


@dataclass(frozen=True)
class VectorFields:
    """Where each field's vectors are searched: the vector store, or an exact copy."""

    passages: VectorIndex | ExactVectors
    titles: VectorIndex | ExactVectors
    leads: VectorIndex | ExactVectors

    @staticmethod
    def exact_copies(
        passages: VectorIndex,
        titles: VectorIndex,
        leads: VectorIndex,
        precision: Precision = "float32",
    ) -> VectorFields:
        """Every vector read once into normalised matrices: exact, repeatable search."""
        return VectorFields(
            ExactVectors(*passages.all_vectors(), precision=precision),
            ExactVectors(*titles.all_vectors(), precision=precision),
            ExactVectors(*leads.all_vectors(), precision=precision),
        )

    def nbytes(self) -> int:
        """Memory of the exact copies (0 for fields searched in the vector store)."""
        return sum(
            f.nbytes
            for f in (self.passages, self.titles, self.leads)
            if isinstance(f, ExactVectors)
        )


class _Prefetched:
    """Hits found ahead for (field, question vector), at most ``size`` kept (oldest
    dropped first); a search for fewer hits than were found takes their head."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._hits: OrderedDict[tuple[str, bytes], tuple[int, list[tuple[str, float]]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def put(self, field: str, key: bytes, n: int, hits: list[tuple[str, float]]) -> None:
        with self._lock:
            self._hits[(field, key)] = (n, hits)
            self._hits.move_to_end((field, key))
            while len(self._hits) > self.size:
                self._hits.popitem(last=False)

    def get(self, field: str, key: bytes, n: int) -> list[tuple[str, float]] | None:
        with self._lock:
            got = self._hits.get((field, key))
        if got is None:
            return None
        found, hits = got
        # fewer hits than asked for mean the field holds no more: they are all there is
        return hits[:n] if n <= found or len(hits) < found else None


def _key(vector: Sequence[float] | np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


class IndexView:
    """The chunks and search structures of one generation."""

    def __init__(
        self,
        generation: int,
        chunks: Sequence[Chunk],
        text_tokens: Iterable[Sequence[str]],
        title_tokens: Iterable[Sequence[str]],
        title_ids: Sequence[str],
        vectors: VectorFields,
        *,
        with_lead: Iterable[str] = (),
    ) -> None:
        self.generation = generation
        self._chunks = list(chunks)
        self._position = {c.id: i for i, c in enumerate(self._chunks)}
        # read once each, in order: the index may pass generators (no list of every token)
        self._bm25_text = BM25Index(text_tokens)
        self._bm25_title = BM25Index(title_tokens)
        # title-vector id -> the chunks sharing that title field, in index order
        by_title: dict[str, list[str]] = {}
        for c, tid in zip(self._chunks, title_ids, strict=True):
            if tid:
                by_title.setdefault(tid, []).append(c.id)
        self._by_title = {tid: tuple(ids) for tid, ids in by_title.items()}
        self._names = NameIndex(
            (i, c.title) for i, c in enumerate(self._chunks) if c.meta.get("kind") == "table"
        )
        self.vectors = vectors  # where each field is searched (exact copies or the store)
        self._prefetched = _Prefetched()
        self._with_lead = frozenset(with_lead)
        self.languages = frozenset(
            {"ja"}
            | {
                base_lang(code)
                for c in self._chunks
                for code in str(c.meta.get("langs") or "").split(",")
                if code.strip()
            }
        )

    def __len__(self) -> int:
        return len(self._chunks)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._position

    def chunk(self, chunk_id: str) -> Chunk:
        return self._chunks[self._position[chunk_id]]

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def _field(self, name: str) -> VectorIndex | ExactVectors:
        return getattr(self.vectors, name)

    def _search(self, name: str, vector: Sequence[float], n: int) -> Hits:
        found = self._prefetched.get(name, _key(vector), n)
        return found if found is not None else self._field(name).query(vector, n)

    def prefetch(self, vectors: np.ndarray, n: int) -> None:
        """Search every vector field for each row of ``vectors`` (question embeddings)
        in one go, for the questions' own searches to find (best ``n`` each)."""
        mat = np.asarray(vectors, dtype=np.float32)
        if mat.ndim != 2 or not len(mat) or not len(self):
            return
        keys = [_key(row) for row in mat]
        for name in ("passages", "titles", "leads"):
            if name == "leads" and not self.has_leads:
                continue
            field = self._field(name)
            many = getattr(field, "query_many", None)
            if many is None:
                continue
            for key, hits in zip(keys, many(mat, n), strict=True):
                self._prefetched.put(name, key, n, hits)

    def passage_search(self, vectors: Sequence[Sequence[float]], n: int) -> Hits:
        return best_of([self._search("passages", v, n) for v in vectors], n)

    def title_search(
        self, vectors: Sequence[Sequence[float]], n: int
    ) -> list[tuple[tuple[str, ...], float]]:
        hits = best_of([self._search("titles", v, n) for v in vectors], n)
        return [(self._by_title.get(tid, ()), sim) for tid, sim in hits]

    @property
    def has_leads(self) -> bool:
        return bool(self._with_lead)

    def has_lead(self, chunk_id: str) -> bool:
        return chunk_id in self._with_lead

    def lead_search(self, vectors: Sequence[Sequence[float]], n: int) -> Hits:
        return best_of([self._search("leads", v, n) for v in vectors], n)

    def lexical_search(self, field: LexicalField, tokens: Sequence[str], n: int) -> Hits:
        bm25 = self._bm25_text if field == "text" else self._bm25_title
        return [(self._chunks[i].id, sc) for i, sc in bm25.search(list(tokens), n)]

    def coverage(self, tokens: Sequence[str], chunk_id: str) -> float:
        return self._bm25_text.coverage(list(tokens), self._position[chunk_id])

    def document_frequency(self, token: str) -> int:
        return self._bm25_text.df(token)

    @property
    def has_names(self) -> bool:
        return bool(len(self._names))

    def name_search(self, query: str) -> Hits:
        return [(self._chunks[i].id, v) for i, v in self._names.search(query)]
