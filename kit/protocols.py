"""Small typed seams between the parts; fakes in tests implement the same."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from madoguchi.kit.types import Answer, Chunk, ScoredChunk, SourceDocument


@runtime_checkable
class Connector(Protocol):
    def documents(self) -> Iterator[SourceDocument]: ...


class Embedder(Protocol):
    """The LangChain ``Embeddings`` interface."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class Retriever(Protocol):
    def retrieve(self, query: str, k: int) -> list[ScoredChunk]: ...


class Answerer(Protocol):
    def answer(self, question: str, hits: Sequence[ScoredChunk]) -> Answer: ...


class ChunkSink(Protocol):
    """What ingest writes chunks into (the index)."""

    def upsert(self, chunks: Sequence[Chunk]) -> None: ...

    def delete_source(self, source_id: str) -> None: ...
