"""The assembly point: settings in, a wired embedder, index, retriever and answerer out.

It lives outside ``kit/`` because it picks the concrete parts (the embedder, the
SQLite + Chroma index, the ingest pipeline); ``kit`` itself only knows their
interfaces. The CLI, the API, the admin screen and the evaluator all call
``build_services``, so that an evaluation measures exactly what residents get.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from madoguchi.ingest.embed import build_embedder
from madoguchi.ingest.index import Index, VectorIndex
from madoguchi.ingest.pipeline import IngestReport, Progress, ingest
from madoguchi.kit.config import Settings
from madoguchi.kit.services import Services
from madoguchi.kit.types import SourceDocument


class TownServices(Services):
    """``Services`` over one town's own index, which it can also fill."""

    index: Index

    def __init__(self, settings: Settings, embedder: Embeddings, index: Index) -> None:
        super().__init__(settings, embedder, index)
        self.index = index

    def ingest(
        self,
        roots: Iterable[str | Path],
        *,
        progress: Progress | None = None,
        dry_run: bool = False,
        documents: Iterable[SourceDocument] | None = None,
    ) -> IngestReport:
        return ingest(self.index, roots, progress=progress, dry_run=dry_run, documents=documents)


def build_services(
    settings: Settings,
    *,
    embedder: Embeddings | None = None,
    vectors: VectorIndex | None = None,
) -> TownServices:
    """Wire everything from settings; tests may pass a fake embedder or vector index."""
    emb = embedder if embedder is not None else build_embedder(settings.embedder)
    index = Index(settings, emb, vectors=vectors)
    return TownServices(settings, emb, index)
