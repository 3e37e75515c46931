"""One writer at a time on a data directory, across threads and processes.

Every write to the index (``ingest.index.Index``: its catalogue and its Chroma
collections) happens while holding ``<data_dir>/index.lock`` (``flock``), so that a
backup taken by another process (``madoguchi backup`` while ``madoguchi serve`` runs,
or a scheduled sync in a third) copies the catalogue and the vectors between two
writes, never in the middle of one. The lock is re-entrant within a process: a
writer that calls another writer (``apply`` reading ``db``) takes it once.

On a system without ``fcntl`` (Windows) only the threads of one process are
serialised; the backup then checks the copy instead (``ingest.backup``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from madoguchi.kit.errors import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "index.lock"


class LockTimeout(StoreError):
    """The data directory stayed locked by another writer for longer than allowed."""


class DataDirLock:
    """A re-entrant lock over the threads of this process and an ``flock`` over processes.

    Used as ``with lock:`` (waits as long as it takes, like the writes it guards) or
    ``with lock.hold(timeout=...)`` (raises ``LockTimeout``)."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._mutex = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._mutex.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            raise LockTimeout(f"{self.path}: another writer of this process holds the index")
        try:
            if self._depth == 0:
                self._lock_file(deadline)
            self._depth += 1
        except BaseException:
            self._mutex.release()
            raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self._mutex.release()

    def _lock_file(self, deadline: float | None) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the index lock {self.path}: {exc}") from exc
        if fcntl is None:  # pragma: no cover - Windows
            self._fd = fd
            return
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"{self.path}: another process is writing the index "
                            "(an ingest or sync); try again when it has finished"
                        ) from None
                    time.sleep(0.05)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    @contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
