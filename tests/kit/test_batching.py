"""The micro-batcher: each caller gets its own result or error, batches form, waits are bounded."""

from __future__ import annotations

import threading
import time

import pytest

from madoguchi.kit.batching import BatcherClosed, MicroBatcher


def run_threads(fn, items):
    """``fn(item)`` on one thread per item; (results, errors) by item."""
    results: dict = {}
    errors: dict = {}

    def one(item):
        try:
            results[item] = fn(item)
        except Exception as exc:
            errors[item] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


class Gate:
    """A batch function whose first call blocks until released, so that every later
    item queues up behind it and lands in one batch."""

    def __init__(self, fn):
        self.fn = fn
        self.first = threading.Event()
        self.release = threading.Event()
        self.batches: list[list] = []

    def __call__(self, items):
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.first.set()
            self.release.wait(10)
        return self.fn(items)


def start_blocked(batcher, gate):
    """Submit one item that holds the worker; returns its thread."""
    t = threading.Thread(target=batcher.submit, args=("hold",))
    t.start()
    assert gate.first.wait(10)
    return t


def wait_queued(batcher, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(batcher._queue) < n:
        assert time.monotonic() < deadline, "items did not queue"
        time.sleep(0.001)


def test_results_go_back_to_their_own_callers_in_one_batch():
    gate = Gate(lambda items: [f"{x}!" for x in items])
    b = MicroBatcher(gate, max_batch=32, max_wait=0)
    holder = start_blocked(b, gate)
    items = [f"q{i}" for i in range(12)]
    done: dict = {}
    runner = threading.Thread(target=lambda: done.update(run=run_threads(b.submit, items)))
    runner.start()
    wait_queued(b, len(items))
    gate.release.set()
    runner.join(timeout=30)
    holder.join(timeout=10)
    results, errors = done["run"]
    assert errors == {}
    assert results == {x: f"{x}!" for x in items}
    assert sorted(gate.batches[1]) == sorted(items)  # all twelve in the second call
    assert b.stats.largest == 12 and b.stats.items == 13 and b.stats.batches == 2
    b.close()


def test_a_batch_is_never_larger_than_max_batch():
    gate = Gate(lambda items: [x * 2 for x in items])
    b = MicroBatcher(gate, max_batch=4, max_wait=0)
    holder = threading.Thread(target=b.submit, args=(0,))
    holder.start()
    assert gate.first.wait(10)
    done: dict = {}
    items = list(range(1, 11))
    runner = threading.Thread(target=lambda: done.update(run=run_threads(b.submit, items)))
    runner.start()
    wait_queued(b, len(items))
    gate.release.set()
    runner.join(timeout=30)
    holder.join(timeout=10)
    results, errors = done["run"]
    assert errors == {} and results == {x: x * 2 for x in items}
    assert [len(batch) for batch in gate.batches[1:]] == [4, 4, 2]
    b.close()


def test_an_error_reaches_only_the_caller_whose_item_caused_it():
    def fn(items):
        if "bad" in items:
            raise ValueError("cannot embed 'bad'")
        return [x.upper() for x in items]

    gate = Gate(fn)
    b = MicroBatcher(gate, max_batch=16, max_wait=0)
    holder = start_blocked(b, gate)
    done: dict = {}
    items = ["a", "bad", "c", "d"]
    runner = threading.Thread(target=lambda: done.update(run=run_threads(b.submit, items)))
    runner.start()
    wait_queued(b, len(items))
    gate.release.set()
    runner.join(timeout=30)
    holder.join(timeout=10)
    results, errors = done["run"]
    assert results == {"a": "A", "c": "C", "d": "D"}
    assert list(errors) == ["bad"] and isinstance(errors["bad"], ValueError)
    assert "bad" in str(errors["bad"])
    # the failing batch of four was tried item by item
    assert sorted(gate.batches[1]) == sorted(items)
    assert sorted(len(x) for x in gate.batches[2:]) == [1, 1, 1, 1]
    b.close()


def test_a_batch_function_returning_the_wrong_count_is_an_error_not_a_mixup():
    b = MicroBatcher(lambda items: [], max_batch=8, max_wait=0.05, expect=lambda: 1)
    results, errors = run_threads(b.submit, ["x", "y", "z"])
    assert results == {}
    assert set(errors) == {"x", "y", "z"}
    assert all(isinstance(e, RuntimeError) and "0 results" in str(e) for e in errors.values())
    b.close()


def test_alone_it_does_not_wait():
    b = MicroBatcher(lambda items: items, max_batch=16, max_wait=2.0)  # nobody expected
    t0 = time.perf_counter()
    assert b.submit("solo") == "solo"
    assert time.perf_counter() - t0 < 1.0
    expecting_nobody = MicroBatcher(lambda items: items, max_wait=2.0, expect=lambda: 0)
    t0 = time.perf_counter()
    assert expecting_nobody.submit("solo") == "solo"
    assert time.perf_counter() - t0 < 1.0
    b.close()
    expecting_nobody.close()


def test_waiting_for_expected_callers_is_bounded_by_max_wait():
    b = MicroBatcher(lambda items: items, max_batch=16, max_wait=0.2, expect=lambda: 5)
    t0 = time.perf_counter()
    assert b.submit("early") == "early"  # the five never come
    waited = time.perf_counter() - t0
    assert 0.15 <= waited < 1.5
    b.close()


def test_an_expected_caller_joins_the_batch_it_was_waited_for():
    more = [1]
    calls: list[list[str]] = []

    def fn(items):
        calls.append(list(items))
        return items

    b = MicroBatcher(fn, max_batch=16, max_wait=5.0, expect=lambda: more[0])
    first = threading.Thread(target=b.submit, args=("first",))
    first.start()
    wait_queued(b, 1)
    time.sleep(0.05)
    assert calls == []  # still waiting for the expected one
    assert b.submit("second", queued=lambda: more.__setitem__(0, 0)) == "second"
    first.join(timeout=10)
    assert calls == [["first", "second"]]
    b.close()


def test_closed_batcher_refuses_new_items():
    b = MicroBatcher(lambda items: items)
    assert b.submit(1) == 1
    b.close()
    with pytest.raises(BatcherClosed):
        b.submit(2)


@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"max_wait": -1.0}])
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        MicroBatcher(lambda items: items, **kwargs)
