"""The one assembly point: settings in, a wired embedder/index/retriever/answerer out.

The CLI, the API, the admin screen and the evaluator all call
``build_services`` so that an evaluation measures exactly what residents get.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ingest.embed import build_embedder
from ingest.index import Index, VectorIndex
from ingest.pipeline import IngestReport, Progress, ingest
from kit.answering import ExtractiveAnswerer
from kit.config import Settings
from kit.errors import InputError
from kit.lang import detect_language
from kit.retrieval import HybridRetriever
from kit.types import Answer, ScoredChunk, SourceDocument


@dataclass(frozen=True)
class AskResult:
    answer: Answer
    hits: list[ScoredChunk]
    latency_ms: float
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamEvent:
    """One event of ``Services.ask_stream``: kind ``delta`` (text) or ``final`` (result)."""

    kind: str
    text: str = ""
    result: AskResult | None = None


_SENTENCE_PIECES = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+|\n+|$)")


class Services:
    def __init__(self, settings: Settings, embedder: Embeddings, index: Index) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.retriever = HybridRetriever(index, settings.retrieval)
        self.answerer = ExtractiveAnswerer(settings.answer)

    def warm_up(self) -> None:
        warm = getattr(self.embedder, "warm_up", None)
        if warm is not None:
            warm()
        self.retriever.warm_up()
        self.embedder.embed_query("ウォームアップ")
        detect_language("warm up the language model")

    def clean_question(self, question: str) -> str:
        q = unicodedata.normalize("NFC", question or "").strip()
        if not q:
            raise InputError("the question is empty")
        limit = self.settings.answer.max_question_chars
        if len(q) > limit:
            raise InputError(f"the question is {len(q):,} characters long; the limit is {limit:,}")
        return "".join(ch for ch in q if ch.isprintable() or ch in "\n\t")

    def ask(
        self, question: str, lang: str | None = None, conversation_id: str | None = None
    ) -> AskResult:
        """Answer one question. ``conversation_id`` links follow-up questions (history)."""
        t0 = time.perf_counter()
        q = self.clean_question(question)
        lang = lang or detect_language(q)
        hits, trace = self.retriever.search(q, self.settings.retrieval.k)
        t1 = time.perf_counter()
        answer = self.answerer.answer(q, hits, lang=lang)
        t2 = time.perf_counter()
        timings = {
            **trace.timings,
            "retrieve_ms": (t1 - t0) * 1000,
            "answer_ms": (t2 - t1) * 1000,
        }
        total = (t2 - t0) * 1000
        answer = Answer(**{**answer.__dict__, "timings": timings})
        return AskResult(answer=answer, hits=hits, latency_ms=total, timings=timings)

    def ask_stream(
        self, question: str, lang: str | None = None, conversation_id: str | None = None
    ) -> Iterator[StreamEvent]:
        """The answer as events: ``delta`` pieces of text, then one ``final`` with the result.

        Without a generator the answer is complete before the first piece, so
        the pieces are its sentences; an LLM backend streams its tokens here.
        """
        res = self.ask(question, lang=lang, conversation_id=conversation_id)
        for piece in _SENTENCE_PIECES.findall(res.answer.text):
            if piece:
                yield StreamEvent("delta", text=piece)
        yield StreamEvent("final", result=res)

    def ingest(
        self,
        roots: Iterable[str | Path],
        *,
        progress: Progress | None = None,
        dry_run: bool = False,
        documents: Iterable[SourceDocument] | None = None,
    ) -> IngestReport:
        return ingest(self.index, roots, progress=progress, dry_run=dry_run, documents=documents)

    def close(self) -> None:
        self.index.close()


def build_services(
    settings: Settings,
    *,
    embedder: Embeddings | None = None,
    vectors: VectorIndex | None = None,
) -> Services:
    """Wire everything from settings; tests may pass a fake embedder or vector index."""
    emb = embedder if embedder is not None else build_embedder(settings.embedder)
    index = Index(settings, emb, vectors=vectors)
    return Services(settings, emb, index)
