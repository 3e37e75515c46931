"""What retrieval asks of a store: the seam between the core and the index.

Retrieval never reads a store's internals. It asks a ``Store`` for a ``SearchView``,
one consistent generation of a town's index, and asks the view for what it needs:

- vector search per field: the passage (``passage_search``), the title field, shared
  by chunks with the same FAQ question or heading (``title_search``), and a FAQ
  answer's lead sentence (``lead_search``);
- lexical search over the chunk text or its title field (``lexical_search``), and how
  much of a question's words a chunk holds (``coverage``, ``document_frequency``);
- item-name lookup in tables (``name_search``);
- chunk lookup by id.

The embedded SQLite + Chroma index (``madoguchi.ingest.index.Index``) implements it;
a shared PostgreSQL + Chroma-server store implements the same two protocols, so
retrieval, answering and evaluation run unchanged on either.

A view's answers are exact for its generation: a view built before an ingest keeps
answering from what was indexed then, and ``Store.view()`` returns a new one after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from madoguchi.kit.types import Chunk

#: ranked hits: (chunk id, raw score), best first
Hits = list[tuple[str, float]]
#: the lexical fields: the chunk's whole text, or its title field alone
LexicalField = Literal["text", "title"]


class SearchView(Protocol):
    """One generation of an index, as retrieval reads it."""

    #: the index's generation when the view was built (it moves on every write)
    generation: int
    #: languages the documents are written in: "ja" and the FAQ's translations (base codes)
    languages: frozenset[str]

    def __len__(self) -> int: ...

    def __contains__(self, chunk_id: object) -> bool: ...

    def chunk(self, chunk_id: str) -> Chunk:
        """The chunk with this id (``KeyError`` if the view does not hold it)."""
        ...

    def chunks(self) -> Sequence[Chunk]:
        """Every chunk, in the index's order (source id, position)."""
        ...

    def passage_search(self, vectors: Sequence[Sequence[float]], n: int) -> Hits:
        """The ``n`` chunks nearest to any of ``vectors`` (cosine; each chunk's best)."""
        ...

    def title_search(
        self, vectors: Sequence[Sequence[float]], n: int
    ) -> list[tuple[tuple[str, ...], float]]:
        """The ``n`` title fields nearest to any of ``vectors``: for each, the ids of the
        chunks sharing that title text (index order) and its cosine, best first."""
        ...

    @property
    def has_leads(self) -> bool:
        """Whether any chunk has a lead sentence (a FAQ row with an answer)."""
        ...

    def has_lead(self, chunk_id: str) -> bool: ...

    def lead_search(self, vectors: Sequence[Sequence[float]], n: int) -> Hits:
        """The ``n`` chunks whose lead sentence is nearest to any of ``vectors``."""
        ...

    def lexical_search(self, field: LexicalField, tokens: Sequence[str], n: int) -> Hits:
        """BM25 over the field's tokens (``kit.lexical.tokenize``), best ``n``."""
        ...

    def coverage(self, tokens: Sequence[str], chunk_id: str) -> float:
        """IDF-weighted share of ``tokens`` that the chunk's text holds (0 to 1)."""
        ...

    def document_frequency(self, token: str) -> int:
        """How many chunks hold the token."""
        ...

    @property
    def has_names(self) -> bool:
        """Whether the index holds table rows with item names."""
        ...

    def name_search(self, query: str) -> Hits:
        """Table rows whose item name the question names (``kit.names``)."""
        ...


class Store(Protocol):
    """A town's index as the core sees it."""

    def view(self) -> SearchView:
        """The current generation (cheap when nothing changed since the last call)."""
        ...

    def close(self) -> None: ...


def best_of(lists: Sequence[Hits], n: int) -> Hits:
    """One ranking from several: each id's best value, best first, at most ``n``.

    A single list is returned as it came (cut to ``n``); several are merged with
    ties broken by id, so the order never depends on which list came first."""
    if len(lists) == 1:
        return lists[0][:n]
    best: dict[str, float] = {}
    for hits in lists:
        for cid, v in hits:
            if v > best.get(cid, float("-inf")):
                best[cid] = v
    return sorted(best.items(), key=lambda x: (-x[1], x[0]))[:n]
