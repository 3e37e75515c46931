"""Group commit of the conversation log: concurrent rows share a transaction, each
``record`` returns only once its own row is committed, one bad row fails alone."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import StoreError


def record(log: ConversationLog, i: int, turn_id: str | None = None):
    return log.record(
        question=f"質問{i}",
        lang="ja",
        answer=f"回答{i}",
        citations=[],
        refused=False,
        mode="faq",
        confidence=0.9,
        latency_ms=1.0,
        turn_id=turn_id,
    )


def committed_ids(path) -> set[str]:
    db = sqlite3.connect(path)  # another connection sees only committed rows
    try:
        return {r[0] for r in db.execute("SELECT id FROM turns")}
    finally:
        db.close()


def queue_behind_the_lock(log, jobs):
    """Start the jobs while the connection is held, wait until they have queued, let go."""
    threads = [threading.Thread(target=j) for j in jobs]
    with log._lock:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(log._queued) < len(jobs) - 1 and time.monotonic() < deadline:
            time.sleep(0.002)
    for t in threads:
        t.join(timeout=30)


def test_concurrent_rows_share_commits_and_each_returns_only_once_committed(tmp_path):
    log = ConversationLog(tmp_path / "c.sqlite")
    returned: list[tuple[str, bool]] = []

    def one(i):
        turn = record(log, i)
        # by the time record returns, another connection already sees the row
        returned.append((turn.id, turn.id in committed_ids(log.path)))

    queue_behind_the_lock(log, [lambda i=i: one(i) for i in range(16)])
    assert len(returned) == 16 and all(seen for _, seen in returned)
    assert committed_ids(log.path) == {tid for tid, _ in returned}
    assert log.commits <= 3  # one leader waited on the lock, the rest went in one or two
    log.close()


def test_a_bad_row_fails_alone_and_the_others_of_its_group_are_kept(tmp_path):
    log = ConversationLog(tmp_path / "c.sqlite")
    record(log, 0, turn_id="taken")
    outcome: dict[int, object] = {}

    def one(i):
        try:
            outcome[i] = record(log, i, turn_id="taken" if i == 3 else None).id
        except StoreError as exc:
            outcome[i] = exc

    queue_behind_the_lock(log, [lambda i=i: one(i) for i in range(1, 7)])
    assert isinstance(outcome[3], StoreError) and "UNIQUE" in str(outcome[3])
    good = {v for k, v in outcome.items() if k != 3}
    assert all(isinstance(v, str) for v in good)
    assert committed_ids(log.path) == good | {"taken"}
    log.close()


def test_a_closed_log_raises_a_store_error(tmp_path):
    log = ConversationLog(tmp_path / "c.sqlite")
    log.close()
    with pytest.raises(StoreError):
        record(log, 1)
