"""Micro-batching: concurrent callers' items handled in one call of a batch function.

A model such as the bundled embedder is far cheaper per text when it gets several at
once (its engine spreads a batch over the cores, one text per thread), and an exact
vector search over a batch is one matrix product instead of several passes over the
whole matrix. ``MicroBatcher`` lets each answering thread keep its plain
one-question code: ``submit(item)`` blocks until the batch holding the item has been
handled and returns that item's own result (or raises that item's own error).

How a batch forms, on one worker thread:

- the first waiting item starts a batch; every item already waiting joins it (up to
  ``max_batch``), so under load batches form while the previous one runs, with no
  waiting at all;
- only while more callers are *expected* (``expect()``: how many more items are on
  their way, e.g. questions being answered that have not asked for their embedding
  yet) does it wait for them, at most ``max_wait`` seconds from the first item: a
  question asked alone is never delayed.

If the batch function raises, every item of the batch is retried alone, so one bad
item's error reaches its own caller and the others still get their results.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchStats:
    """Counts for tests and the metrics page: batches run, items, the largest batch."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    waited_s: float = 0.0
    sizes: dict[int, int] = field(default_factory=dict)

    @property
    def mean_size(self) -> float:
        return self.items / self.batches if self.batches else 0.0


class _Pending(Generic[T, R]):
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Event()
        self.result: R | None = None
        self.error: BaseException | None = None


class BatcherClosed(RuntimeError):
    """``submit`` after ``close``."""


class MicroBatcher(Generic[T, R]):
    """Runs ``fn(items) -> results`` (one result per item, in order) over concurrent
    ``submit`` calls."""

    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        *,
        max_batch: int = 16,
        max_wait: float = 0.003,
        expect: Callable[[], int] | None = None,
        name: str = "madoguchi-batch",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait < 0:
            raise ValueError("max_wait must not be negative")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.expect = expect
        self.name = name
        self.stats = BatchStats()
        self._queue: deque[_Pending[T, R]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    # ---- callers ---------------------------------------------------------------
    def submit(self, item: T, queued: Callable[[], None] | None = None) -> R:
        """The result of ``item``, computed in a batch with whatever else is waiting.
        ``queued`` is called once the item is in the queue (under the batcher's lock)."""
        p: _Pending[T, R] = _Pending(item)
        with self._cond:
            if self._closed:
                raise BatcherClosed(f"{self.name} is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._queue.append(p)
            if queued is not None:
                queued()
            self._cond.notify_all()
        p.done.wait()
        if p.error is not None:
            raise p.error
        return p.result  # type: ignore[return-value]

    def close(self) -> None:
        """Finish what is queued, then stop the worker; later ``submit`` calls raise."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    # ---- the worker --------------------------------------------------------------
    def _take(self) -> list[_Pending[T, R]] | None:
        """The next batch (None: closed and drained)."""
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            started = time.monotonic()
            deadline = started + self.max_wait
            while len(self._queue) < self.max_batch and not self._closed:
                if self.expect is None or self.expect() <= 0:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            self.stats.waited_s += time.monotonic() - started
            n = min(self.max_batch, len(self._queue))
            return [self._queue.popleft() for _ in range(n)]

    def _loop(self) -> None:
        while (batch := self._take()) is not None:
            s = self.stats
            s.batches += 1
            s.items += len(batch)
            s.largest = max(s.largest, len(batch))
            s.sizes[len(batch)] = s.sizes.get(len(batch), 0) + 1
            self._run(batch)

    def _run(self, batch: list[_Pending[T, R]]) -> None:
        try:
            results = list(self.fn([p.item for p in batch]))
            if len(results) != len(batch):
                raise RuntimeError(
                    f"{self.name}: the batch function returned {len(results)} results "
                    f"for {len(batch)} items"
                )
        except BaseException as exc:
            if len(batch) == 1:
                batch[0].error = exc
                batch[0].done.set()
                return
            for p in batch:  # alone, so each caller gets its own result or error
                self._run([p])
            return
        for p, r in zip(batch, results, strict=True):
            p.result = r
            p.done.set()
