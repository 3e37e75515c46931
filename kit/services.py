"""Answering a resident: retrieval, the answerer (or an LLM), the conversation.

``Services`` works on any store that implements ``kit.store.Store``; the assembly
point that wires a real embedder and index to it is
``madoguchi.ingest.services.build_services``, which the CLI, the API, the admin
screen and the evaluator all call, so that an evaluation measures exactly what
residents get.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from madoguchi.kit.answering import ExtractiveAnswerer, GroundedAnswerer
from madoguchi.kit.config import Settings
from madoguchi.kit.conversation import ConversationStore, Turn, contextual_query
from madoguchi.kit.errors import InputError
from madoguchi.kit.lang import detect_language, normalise_lang
from madoguchi.kit.llm import build_llm
from madoguchi.kit.protocols import Embedder
from madoguchi.kit.retrieval import HybridRetriever
from madoguchi.kit.store import Store
from madoguchi.kit.synonyms import SynonymFile
from madoguchi.kit.types import Answer, ScoredChunk


@dataclass(frozen=True)
class AskResult:
    answer: Answer
    hits: list[ScoredChunk]
    latency_ms: float
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamEvent:
    """One event of ``Services.ask_stream``: kind ``delta`` (text), ``reset`` (discard the
    text streamed so far) or ``final`` (result)."""

    kind: str
    text: str = ""
    result: AskResult | None = None


_SENTENCE_PIECES = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+|\n+|$)")


class Services:
    def __init__(self, settings: Settings, embedder: Embedder, store: Store) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.synonyms = SynonymFile(settings.synonyms_path)
        self.retriever = HybridRetriever(store, embedder, settings.retrieval, self.synonyms)
        self.answerer = ExtractiveAnswerer(settings.answer)
        # composes answers when an LLM is configured (MADOGUCHI_LLM__BASE_URL), else None
        llm = build_llm(settings.llm)
        self.generator = (
            GroundedAnswerer(self.answerer, llm, town=settings.town_name) if llm else None
        )
        self.conversations = ConversationStore()

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
        """Answer one question. ``lang`` is the widget's setting (any accepted spelling,
        see ``kit.lang.normalise_lang``), else the question's language is detected;
        ``conversation_id`` links follow-up questions ("それはどこで？") to earlier ones."""
        t0 = time.perf_counter()
        q, lang, hits, history, timings = self._retrieve(question, lang, conversation_id)
        t1 = time.perf_counter()
        if self.generator is not None:
            answer = self.generator.answer(q, hits, lang=lang, history=history)
        else:
            answer = self.answerer.answer(q, hits, lang=lang)
        return self._result(q, answer, hits, conversation_id, timings, t0, t1)

    def ask_stream(
        self, question: str, lang: str | None = None, conversation_id: str | None = None
    ) -> Iterator[StreamEvent]:
        """The answer as events: ``delta`` pieces of text, then one ``final`` with the result.

        Without a generator the answer is complete before the first piece, so
        the pieces are its sentences. With an LLM the pieces are its tokens as they
        arrive; when the generated text fails verification (or the model fails midway)
        a ``reset`` event says "discard what was shown", the extractive answer's
        sentences follow, and ``final`` always holds the authoritative answer.
        """
        if self.generator is None:
            res = self.ask(question, lang=lang, conversation_id=conversation_id)
            yield from _sentence_events(res.answer.text)
            yield StreamEvent("final", result=res)
            return
        t0 = time.perf_counter()
        q, lang, hits, history, timings = self._retrieve(question, lang, conversation_id)
        t1 = time.perf_counter()
        for kind, payload in self.generator.stream(q, hits, lang=lang, history=history):
            if kind == "delta":
                yield StreamEvent("delta", text=payload)
            elif kind == "reset":
                yield StreamEvent("reset")
            else:
                answer, reason = payload
                if reason is not None:
                    yield from _sentence_events(answer.text)
                res = self._result(q, answer, hits, conversation_id, timings, t0, t1)
                yield StreamEvent("final", result=res)

    def _retrieve(
        self, question: str, lang: str | None, conversation_id: str | None
    ) -> tuple[str, str, list[ScoredChunk], list[Turn], dict[str, float]]:
        q = self.clean_question(question)
        asked_in = detect_language(q)
        lang = normalise_lang(lang) or asked_in
        history = self.conversations.history(conversation_id)
        # words are matched only when the documents are in the question's language
        hits, trace = self.retriever.search(
            contextual_query(q, history), self.settings.retrieval.k, lang=asked_in
        )
        return q, lang, hits, history, dict(trace.timings)

    def _result(
        self,
        q: str,
        answer: Answer,
        hits: list[ScoredChunk],
        conversation_id: str | None,
        timings: dict[str, float],
        t0: float,
        t1: float,
    ) -> AskResult:
        t2 = time.perf_counter()
        timings = {**timings, "retrieve_ms": (t1 - t0) * 1000, "answer_ms": (t2 - t1) * 1000}
        answer = Answer(**{**answer.__dict__, "timings": timings})
        turn = Turn(q, answer.text, answer.lang, tuple(c.source_id for c in answer.citations))
        self.conversations.add(conversation_id, turn)
        return AskResult(answer=answer, hits=hits, latency_ms=(t2 - t0) * 1000, timings=timings)

    def close(self) -> None:
        self.store.close()


def _sentence_events(text: str) -> Iterator[StreamEvent]:
    for piece in _SENTENCE_PIECES.findall(text):
        if piece:
            yield StreamEvent("delta", text=piece)
