"""Answering questions: dedicated threads, the micro-batched embedder, the answer cache,
the counting and logging of each answer, and the server-sent events of a streamed one.

Throughput on a small server comes from three things here:

- **micro-batching**: while the services are open their embedder is wrapped in
  ``ingest.embed.BatchingEmbeddings``, so the questions being answered at the same
  time are embedded in one call and their vector searches run as one matrix product
  per field (``IndexView.prefetch``); a question asked alone is not delayed;
- **the answer cache** (``kit.cache``): a question asked again, word for word (after
  NFKC and whitespace), in the same language, against the same index version and
  settings, gets the stored answer; a question that continues a conversation never
  does. Its log row is written all the same;
- **group commit** of the conversation log (``kit.convlog``): the rows of answers
  finished together share one transaction, and an answer is sent only once its row
  is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import numpy as np
from fastapi import FastAPI

from madoguchi.ingest.embed import BatchingEmbeddings
from madoguchi.ingest.services import TownServices
from madoguchi.kit.cache import AnswerKey, LRUCache, answer_key, index_version, settings_hash
from madoguchi.kit.config import Settings
from madoguchi.kit.conversation import Turn
from madoguchi.kit.convlog import ConversationLog, new_id
from madoguchi.kit.errors import KitError, ModelUnavailable
from madoguchi.kit.handoff import offer
from madoguchi.kit.protocols import Embedder
from madoguchi.kit.services import AskResult, Services, StreamEvent, _sentence_events
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.api.models import AskRequest

T = TypeVar("T")


def answer_json(res: AskResult, answer_id: str, conversation_id: str) -> dict[str, Any]:
    data = res.answer.to_json()
    data["latency_ms"] = round(res.latency_ms, 1)
    data["answer_id"] = answer_id
    data["conversation_id"] = conversation_id
    return data


#: a cached answer and the conversation turn it leaves
Cached = tuple[AskResult, Turn]


class Answering:
    """Runs questions on dedicated threads, then counts and logs them.

    The kit keeps per-thread state (a Sudachi tokenizer in each thread that tokenizes;
    they share one dictionary), so questions do not wander over the server's general
    thread pool of 40: ``server.max_concurrent_asks`` threads answer, the rest queue.
    There are as many as an embedding batch holds (``server.embed_batch_max``): a
    thread waiting for its batch costs no CPU.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings: Settings = app.state.settings
        srv = settings.server
        self.workers = srv.max_concurrent_asks
        self.executor: ThreadPoolExecutor | None = None
        self.recent: OrderedDict[str, None] = OrderedDict()  # answer ids when not logging
        self.recent_lock = threading.Lock()
        self.cache: LRUCache[AnswerKey, Cached] = LRUCache(srv.answer_cache_size)
        self.batching: BatchingEmbeddings | None = None
        self._wrapped: tuple[Services, Embedder] | None = None
        self._digests: dict[int, str] = {}

    def record(self, res: AskResult, question: str, conversation_id: str | None) -> dict[str, Any]:
        st = self.app.state
        a = res.answer
        metrics: Metrics = st.metrics
        metrics.answers.labels(a.mode, a.lang).inc()
        metrics.answer_latency.observe(res.latency_ms / 1000)
        if a.refused:
            metrics.refusals.inc()
        cid = conversation_id or new_id()
        log = self._log()
        if log is not None:
            turn = log.record(
                question=question,
                lang=a.lang,
                answer=a.text,
                citations=[c.to_json() for c in a.citations],
                refused=a.refused,
                mode=a.mode,
                confidence=a.confidence,
                latency_ms=res.latency_ms,
                conversation_id=cid,
                follow_up=a.follow_up,
            )
            answer_id = turn.id
        else:
            answer_id = new_id()
            with self.recent_lock:
                self.recent[answer_id] = None
                while len(self.recent) > 10_000:
                    self.recent.popitem(last=False)
        return answer_json(res, answer_id, cid)

    def _log(self) -> ConversationLog | None:
        log: ConversationLog | None = self.app.state.log
        return log

    def open(self) -> None:
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="madoguchi-answer")
        svc = getattr(self.app.state, "services", None)
        if svc is not None:
            self._batch(svc)
        metrics: Metrics = self.app.state.metrics
        metrics.answer_cache_hits.set_function(lambda: self.cache.hits)
        metrics.embed_batches.set_function(
            lambda: self.batching.batcher.stats.batches if self.batching else 0
        )
        metrics.embed_batch_items.set_function(
            lambda: self.batching.batcher.stats.items if self.batching else 0
        )

    def _batch(self, svc: Services) -> None:
        """Put the services' question embeddings behind the micro-batcher (until close)."""
        srv: Any = self.app.state.settings.server
        if srv.embed_batch_max <= 1 and srv.embedding_cache_size == 0:
            return
        inner = svc.embedder
        batching = BatchingEmbeddings(
            inner,  # type: ignore[arg-type]
            max_batch=srv.embed_batch_max,
            max_wait=srv.embed_batch_wait_ms / 1000,
            cache_size=srv.embedding_cache_size,
        )
        n = max(svc.settings.retrieval.candidates, svc.settings.retrieval.k)

        def prefetch(texts: list[str], vectors: np.ndarray) -> None:
            ahead = getattr(svc.store.view(), "prefetch", None)
            if ahead is not None:
                ahead(vectors, n)

        batching.on_batch = prefetch
        svc.embedder = batching
        svc.retriever.embedder = batching
        self.batching, self._wrapped = batching, (svc, inner)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None
        if self._wrapped is not None:
            svc, inner = self._wrapped
            svc.embedder = inner
            svc.retriever.embedder = inner
            self._wrapped = None
        if self.batching is not None:
            self.batching.close()
            self.batching = None

    def _expecting(self) -> contextlib.AbstractContextManager[None]:
        """Around one question on an answering thread: the batcher may wait for it."""
        return self.batching.expecting() if self.batching is not None else contextlib.nullcontext()

    # ---- the answer cache -------------------------------------------------------------
    def _key(self, svc: Services, question: str, lang: str | None, cid: str) -> AnswerKey | None:
        """The cache key of a standalone question; None when the cache is off or the
        question continues a conversation (it is read with the earlier turns)."""
        if self.cache.size == 0 or svc.conversations.history(cid):
            return None
        digest = self._digests.get(id(svc.settings))
        if digest is None:
            digest = settings_hash(svc.settings)
            self._digests = {id(svc.settings): digest}
        version = index_version(svc.store, svc.synonyms)
        return answer_key(question, lang, svc.settings, version, digest)

    def _from_cache(self, svc: Services, key: AnswerKey | None, cid: str) -> AskResult | None:
        if key is None:
            return None
        t0 = time.perf_counter()
        hit = self.cache.get(key)
        if hit is None:
            return None
        res, turn = hit
        svc.conversations.add(cid, turn)  # a follow-up finds this question, as if answered now
        return dataclasses.replace(res, latency_ms=(time.perf_counter() - t0) * 1000)

    def _to_cache(self, svc: Services, key: AnswerKey | None, res: AskResult, cid: str) -> None:
        """Keep the answer if the index did not move while it was being composed."""
        if key is None or index_version(svc.store, svc.synonyms) != key.version:
            return
        history = svc.conversations.history(cid)
        if history:
            self.cache.put(key, (res, history[-1]))

    def answer(self, svc: Services, question: str, lang: str | None, cid: str) -> AskResult:
        """The answer to a question of conversation ``cid``: cached, or composed now."""
        with self._expecting():
            key = self._key(svc, question, lang, cid)
            res = self._from_cache(svc, key, cid)
            if res is None:
                res = svc.ask(question, lang=lang, conversation_id=cid)
                self._to_cache(svc, key, res, cid)
            return res

    def events(
        self, svc: Services, question: str, lang: str | None, cid: str
    ) -> Iterator[StreamEvent]:
        """``Services.ask_stream`` through the cache: a cached answer comes as its
        sentences, then the final event."""
        with self._expecting():
            key = self._key(svc, question, lang, cid)
            res = self._from_cache(svc, key, cid)
            if res is not None:
                yield from _sentence_events(res.answer.text)
                yield StreamEvent("final", result=res)
                return
            for ev in svc.ask_stream(question, lang=lang, conversation_id=cid):
                if ev.kind == "final" and ev.result is not None:
                    self._to_cache(svc, key, ev.result, cid)
                yield ev

    def submit(self, fn: Callable[[], None]) -> None:
        if self.executor is None:
            raise ModelUnavailable("the service is still starting")
        self.executor.submit(fn)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on an answering thread."""
        if self.executor is None:
            raise ModelUnavailable("the service is still starting")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def ask(self, svc: TownServices, body: AskRequest) -> dict[str, Any]:
        # the id exists before the first answer, so a follow-up with it finds its history
        cid = body.conversation_id or new_id()
        res = self.answer(svc, body.question, body.lang, cid)
        return self.offer_handoff(svc, self.record(res, body.question, cid))

    def offer_handoff(self, svc: TownServices, data: dict[str, Any]) -> dict[str, Any]:
        """A refusal offers the hand-off to staff (``kit.handoff.offer``), read at the
        time of the answer, never cached with it."""
        if data.get("refused"):
            clock = getattr(self.app.state, "clock", None)
            data["handoff"] = offer(svc.settings, data.get("department"), data["lang"], clock=clock)
        return data

    async def stream(self, svc: TownServices, body: AskRequest) -> AsyncIterator[dict[str, str]]:
        """One answering thread runs the whole stream (as long as an /ask would take it)
        and hands events over through a queue, so an LLM's tokens arrive as they come."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamEvent | BaseException | None] = asyncio.Queue()
        gone = threading.Event()  # the resident closed the page: stop generating
        cid = body.conversation_id or new_id()

        def put(item: StreamEvent | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the event loop has closed
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def produce() -> None:
            try:
                for ev in self.events(svc, body.question, body.lang, cid):
                    put(ev)
                    if gone.is_set():
                        break
            except BaseException as exc:
                put(exc)
            finally:
                put(None)

        try:
            self.submit(produce)
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if item.kind == "delta":
                    yield {
                        "event": "delta",
                        "data": json.dumps({"text": item.text}, ensure_ascii=False),
                    }
                elif item.kind == "reset":  # an LLM's text failed checks: discard what was shown
                    yield {"event": "reset", "data": "{}"}
                elif item.kind == "final" and item.result is not None:
                    data = await anyio.to_thread.run_sync(
                        self.record, item.result, body.question, cid
                    )
                    data = self.offer_handoff(svc, data)
                    yield {"event": "final", "data": json.dumps(data, ensure_ascii=False)}
                    break
        except KitError as exc:
            err = {"error": type(exc).__name__, "detail": str(exc)}
            yield {"event": "error", "data": json.dumps(err, ensure_ascii=False)}
        except Exception:  # never a traceback to the resident
            err = {"error": "InternalError", "detail": "the answer could not be composed"}
            yield {"event": "error", "data": json.dumps(err)}
        finally:
            gone.set()

    def known(self, answer_id: str) -> bool:
        with self.recent_lock:
            return answer_id in self.recent


def hits_json(res: AskResult) -> list[dict[str, Any]]:
    return [
        {
            "rank": i,
            "source": h.chunk.source_id,
            "title": h.chunk.title,
            "score": round(h.score, 5),
            "ranks": dict(h.ranks),
            "signals": {k: round(float(v), 4) for k, v in h.signals.items()},
            "text": h.chunk.text,
        }
        for i, h in enumerate(res.hits, 1)
    ]
