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

from madoguchi.kit import facts
from madoguchi.kit.answering import ExtractiveAnswerer, GroundedAnswerer, confidence
from madoguchi.kit.config import Settings
from madoguchi.kit.conversation import ConversationStore, Turn, names_its_topic, with_context
from madoguchi.kit.departments import Departments
from madoguchi.kit.errors import InputError
from madoguchi.kit.lang import detect_language, normalise_lang, romaji_kana
from madoguchi.kit.lexical import tokenize, topic_nouns
from madoguchi.kit.llm import build_llm
from madoguchi.kit.protocols import Embedder
from madoguchi.kit.retrieval import HybridRetriever, RetrievalTrace
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
class _Retrieved:
    question: str  # cleaned
    lang: str  # the answer's language
    hits: list[ScoredChunk]
    history: list[Turn]
    timings: dict[str, float]
    query: str  # what was searched: the question, or it read with the earlier topic


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
        self.answerer = ExtractiveAnswerer(settings.answer, Departments(settings.departments_path))
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
        r = self._retrieve(question, lang, conversation_id)
        q, lang, hits, history, timings = r.question, r.lang, r.hits, r.history, r.timings
        t1 = time.perf_counter()
        if self.generator is not None:
            answer = self.generator.answer(q, hits, lang=lang, history=history)
        else:
            answer = self.answerer.answer(q, hits, lang=lang)
        return self._result(q, r.query, answer, hits, conversation_id, timings, t0, t1)

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
        r = self._retrieve(question, lang, conversation_id)
        q, lang, hits, history, timings = r.question, r.lang, r.hits, r.history, r.timings
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
                res = self._result(q, r.query, answer, hits, conversation_id, timings, t0, t1)
                yield StreamEvent("final", result=res)

    def _retrieve(self, question: str, lang: str | None, conversation_id: str | None) -> _Retrieved:
        q = self.clean_question(question)
        asked_in = detect_language(q)
        if self.settings.retrieval.romaji and romaji_kana(q):
            # Japanese in Latin letters ("sodai gomi no dashikata"): searched as Japanese,
            # answered in the resident's menu language, else the town's
            asked_in = "ja"
        lang = normalise_lang(lang) or asked_in
        history = self.conversations.history(conversation_id)
        query, hits, trace = self._search_in_context(q, history, asked_in, lang)
        return _Retrieved(q, lang, hits, history, dict(trace.timings), query)

    def _search_in_context(
        self, q: str, history: list[Turn], asked_in: str, lang: str
    ) -> tuple[str, list[ScoredChunk], RetrievalTrace]:
        """Read a question on its own unless the evidence says it continues the
        conversation, and search that reading.

        - No earlier turn: on its own.
        - It names no thing of its own (「必要なものは？」, "How much is it?"): a follow-up,
          read with the previous turn's topic.
        - It names one and is answered confidently on its own: on its own, so a new topic
          (「図書館は何時まで？」 after a garbage question) is never dragged back; unless
          read with the topic it is answered as confidently, from the entry the previous
          answer cited, holding half of the question's own words (and at least as many
          as the entry found alone), where on its own it went elsewhere. The words are
          compared as written: 「子どもはいくら？」 after the pool's hours still goes to the
          child allowance, whose entry says 子ども where the pool's says 中学生以下. A question not answered confidently on its
          own, whose own words the entry lacks, is still read with the topic when it asks
          for a kind of fact (a fee, a time, a date, ...) that the entry the previous
          answer cited holds (「何時まで？」「最大でいくら？」 name no thing of the topic,
          but the entry gives the hours, the amount).
        - Else it is read with the topic too, and that reading is taken only when it is
          answered confidently and its best passage holds at least half of the question's
          own words (「コンビニでも取れる？」 after 住民票 does; 「町長の給料は？」 after a dog
          question, whose best passage is the dog's, does not).

        Words are matched only when the documents are in the question's language
        (``asked_in``)."""
        k = self.settings.retrieval.k
        search = self.retriever.search
        if not history:
            return q, *search(q, k, lang=asked_in)
        followup = with_context(q, history)
        if not names_its_topic(q, asked_in):
            return followup, *search(followup, k, lang=asked_in)
        alone, trace = search(q, k, lang=asked_in)
        threshold = self.settings.answer.answer_threshold
        alone_ok = bool(alone) and confidence(alone, self.settings.answer, lang, q) >= threshold
        read, rtrace = search(followup, k, lang=asked_in)
        view, own = self.store.view(), tokenize(q)
        read_conf = bool(read) and confidence(read, self.settings.answer, lang, q) >= threshold
        read_cov = view.coverage(own, read[0].chunk.id) if read else 0.0
        read_ok = read_conf and read_cov >= 0.5
        if alone_ok:
            # the topic's entry must hold the question's own words at least as well as the
            # entry found alone (「カセットボンベは？」 after the spray cans' row stays alone)
            if (
                read_ok
                and _continues(read, alone, history)
                and read_cov >= view.coverage(own, alone[0].chunk.id)
            ):
                return followup, read, rtrace
            return q, alone, trace
        if read_ok or (read_conf and _holds_what_is_asked(q, read, history)):
            return followup, read, rtrace
        return q, alone, trace

    def _result(
        self,
        q: str,
        query: str,
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
        turn = Turn(
            q,
            answer.text,
            answer.lang,
            tuple(c.source_id for c in answer.citations),
            query,
            answer.department,
        )
        self.conversations.add(conversation_id, turn)
        return AskResult(answer=answer, hits=hits, latency_ms=(t2 - t0) * 1000, timings=timings)

    def close(self) -> None:
        self.store.close()


def _sentence_events(text: str) -> Iterator[StreamEvent]:
    for piece in _SENTENCE_PIECES.findall(text):
        if piece:
            yield StreamEvent("delta", text=piece)


#: nouns that are question words (何時, 何歳, 何個, いくら): they name no thing
_INTERROGATIVE = re.compile(r"何|いくら|どこ|いつ|どれ|どの|幾")


def _continues(read: list[ScoredChunk], alone: list[ScoredChunk], history: list[Turn]) -> bool:
    """Whether the reading with the topic stays on an entry the previous answer cited
    while the question read alone lands on one that answer did not cite."""
    cited = set(history[-1].sources) if history else set()
    return read[0].chunk.source_id in cited and (not alone or alone[0].chunk.source_id not in cited)


def _holds_what_is_asked(q: str, read: list[ScoredChunk], history: list[Turn]) -> bool:
    """Whether the question asks for kinds of fact (``kit.facts``) and the reading's top
    entry, the one the previous answer cited, holds every one of them in its passages."""
    kinds = facts.asked(q)
    if not kinds or not history or read[0].chunk.source_id not in history[-1].sources:
        return False
    top = read[0].chunk.source_id
    text = "\n".join(
        str(h.chunk.meta.get("answer") or h.chunk.text) for h in read if h.chunk.source_id == top
    )
    if not all(facts.present(k, text) for k in kinds):
        return False
    # a thing the question names of its own must be in the entry too: 「町長の給料っていくら？」
    # after a dog question asks a fee, and the dog entry has one, but not 町長's
    plain = unicodedata.normalize("NFKC", text)
    own = [n for n in topic_nouns(q) if not _INTERROGATIVE.search(n)]
    return all(unicodedata.normalize("NFKC", n) in plain for n in own)
