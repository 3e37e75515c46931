"""Answering questions: a few dedicated threads, the counting and logging of each answer,
and the server-sent events of a streamed one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI

from madoguchi.ingest.services import TownServices
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog, new_id
from madoguchi.kit.errors import KitError, ModelUnavailable
from madoguchi.kit.services import AskResult, StreamEvent
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.api.models import AskRequest

T = TypeVar("T")


def answer_json(res: AskResult, answer_id: str, conversation_id: str) -> dict[str, Any]:
    data = res.answer.to_json()
    data["latency_ms"] = round(res.latency_ms, 1)
    data["answer_id"] = answer_id
    data["conversation_id"] = conversation_id
    return data


class Answering:
    """Runs questions on a few dedicated threads, then counts and logs them.

    The kit keeps per-thread state (a Sudachi tokenizer with its dictionary, about
    100 MB, in each thread that tokenizes), so questions must not wander over the
    server's general thread pool of 40: with 16 busy clients that grew the process
    past 2 GB. ``server.max_concurrent_asks`` threads answer; the rest queue.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings: Settings = app.state.settings
        self.workers = settings.server.max_concurrent_asks
        self.executor: ThreadPoolExecutor | None = None
        self.recent: OrderedDict[str, None] = OrderedDict()  # answer ids when not logging
        self.recent_lock = threading.Lock()

    def record(self, res: AskResult, question: str, conversation_id: str | None) -> dict[str, Any]:
        st = self.app.state
        a = res.answer
        metrics: Metrics = st.metrics
        metrics.answers.labels(a.mode, a.lang).inc()
        metrics.answer_latency.observe(res.latency_ms / 1000)
        if a.refused:
            metrics.refusals.inc()
        cid = conversation_id or new_id()
        log: ConversationLog | None = st.log
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
            )
            answer_id = turn.id
        else:
            answer_id = new_id()
            with self.recent_lock:
                self.recent[answer_id] = None
                while len(self.recent) > 10_000:
                    self.recent.popitem(last=False)
        return answer_json(res, answer_id, cid)

    def open(self) -> None:
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="madoguchi-answer")

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

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
        res = svc.ask(body.question, lang=body.lang, conversation_id=cid)
        return self.record(res, body.question, cid)

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
                for ev in svc.ask_stream(body.question, lang=body.lang, conversation_id=cid):
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
