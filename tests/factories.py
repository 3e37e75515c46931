"""Test data builders shared by the test modules: retrieved hits, a counting embedder."""

from __future__ import annotations

from typing import Any

from madoguchi.ingest.embed import HashingEmbeddings
from madoguchi.kit.types import Chunk, ScoredChunk


def hit(
    sid: str,
    text: str | None = None,
    *,
    dense: float = 0.93,
    coverage: float = 0.8,
    name: float | None = None,
    score: float = 0.03,
    ranks: dict[str, int] | None = None,
    kind: str = "faq",
    **meta: Any,
) -> ScoredChunk:
    """A retrieved chunk of source ``sid``, as the answerer receives it.

    ``text`` defaults to the FAQ's question and answer (``meta``); the signals are
    what the retriever would have measured (dense similarity, word coverage, and the
    item-name match when ``name`` is given)."""
    if text is None:
        text = f"{meta.get('question', '')}\n{meta.get('answer', '')}"
    chunk = Chunk(
        Chunk.make_id(sid, text), sid, text, meta.get("question", sid), 0, {"kind": kind, **meta}
    )
    signals = {"dense": dense, "coverage": coverage}
    if name is not None:
        signals["name"] = name
    return ScoredChunk(chunk, score, ranks or {"dense": 1, "bm25": 1, "question": 1}, signals)


def source_hit(sid: str, position: int = 0) -> ScoredChunk:
    """A hit where only its source and position matter (evaluation metrics)."""
    return ScoredChunk(Chunk(f"{sid}@{position}", sid, "text", "title", position), 1.0)


class CountingEmbedder(HashingEmbeddings):
    """The fake embedder, remembering every text it embedded as a document."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim=dim)
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return super().embed_documents(texts)
