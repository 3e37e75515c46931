"""madoguchi's Japanese retrieval as a LangChain retriever.

A town's developers who build their own chains (a summariser, an agent, another
channel) can use the kit's hybrid retrieval — dense + Sudachi BM25 + title, lead
and item-name signals, the town's synonym list — where LangChain expects a
``BaseRetriever``::

    from madoguchi.ingest.services import build_services
    from madoguchi.kit.config import Settings
    from madoguchi.kit.langchain import MadoguchiRetriever

    svc = build_services(Settings())
    retriever = MadoguchiRetriever(retriever=svc.retriever, k=4)
    docs = retriever.invoke("粗大ごみの出し方は？")        # or .invoke(q, k=2)
    docs[0].metadata["source_id"], docs[0].metadata["url"], docs[0].metadata["score"]

Each ``Document`` holds the chunk's text; its metadata carry the source id, the
title (the FAQ question, else the document's title), the URL when the source has
one, the fused score, the rank per signal and the raw signal values, and the
chunk's own metadata (department, phone, kind, ...).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from madoguchi.kit.protocols import Retriever
from madoguchi.kit.types import ScoredChunk


def to_document(hit: ScoredChunk) -> Document:
    """A retrieved chunk as a LangChain ``Document`` (scores in its metadata)."""
    c = hit.chunk
    url = c.meta.get("url")
    meta: dict[str, Any] = {
        **c.meta,
        "source_id": c.source_id,
        "chunk_id": c.id,
        "title": str(c.meta.get("question") or c.title or c.source_id),
        "url": str(url) if url else None,
        "score": hit.score,
        "ranks": dict(hit.ranks),
        "signals": dict(hit.signals),
    }
    return Document(page_content=c.text, metadata=meta, id=c.id)


class MadoguchiRetriever(BaseRetriever):
    """A LangChain retriever over any ``kit.protocols.Retriever`` (the hybrid one)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    """The kit's retriever, e.g. ``build_services(settings).retriever``."""
    k: int = Field(default=4, ge=1)
    """How many documents ``invoke`` returns unless it is given ``k``."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        return [to_document(h) for h in self.retriever.retrieve(query, k)]
