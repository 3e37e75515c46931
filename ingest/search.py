"""One generation of an index in memory, as retrieval reads it (``kit.store.SearchView``).

Built from the catalogue's rows when the index's generation moves: the chunks, the
BM25 indexes of their text and title field, the item names of table rows, and the
vectors to search. A town's index (up to ``store.exact_search_max`` chunks) is
searched exactly, from in-memory copies of its vectors (see ``ExactVectors`` for
why); a larger one asks the vector store's approximate search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from madoguchi.ingest.vectors import ExactVectors, VectorIndex
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
        passages: VectorIndex, titles: VectorIndex, leads: VectorIndex
    ) -> VectorFields:
        """Every vector read once into normalised matrices: exact, repeatable search."""
        return VectorFields(
            ExactVectors(*passages.all_vectors()),
            ExactVectors(*titles.all_vectors()),
            ExactVectors(*leads.all_vectors()),
        )


class IndexView:
    """The chunks and search structures of one generation."""

    def __init__(
        self,
        generation: int,
        chunks: Sequence[Chunk],
        text_tokens: Sequence[Sequence[str]],
        title_tokens: Sequence[Sequence[str]],
        title_ids: Sequence[str],
        vectors: VectorFields,
        *,
        with_lead: Iterable[str] = (),
    ) -> None:
        self.generation = generation
        self._chunks = list(chunks)
        self._position = {c.id: i for i, c in enumerate(self._chunks)}
        self._bm25_text = BM25Index([list(t) for t in text_tokens])
        self._bm25_title = BM25Index([list(t) for t in title_tokens])
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

    def passage_search(self, vectors: Sequence[Sequence[float]], n: int) -> Hits:
        return best_of([self.vectors.passages.query(v, n) for v in vectors], n)

    def title_search(
        self, vectors: Sequence[Sequence[float]], n: int
    ) -> list[tuple[tuple[str, ...], float]]:
        hits = best_of([self.vectors.titles.query(v, n) for v in vectors], n)
        return [(self._by_title.get(tid, ()), sim) for tid, sim in hits]

    @property
    def has_leads(self) -> bool:
        return bool(self._with_lead)

    def has_lead(self, chunk_id: str) -> bool:
        return chunk_id in self._with_lead

    def lead_search(self, vectors: Sequence[Sequence[float]], n: int) -> Hits:
        return best_of([self.vectors.leads.query(v, n) for v in vectors], n)

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
