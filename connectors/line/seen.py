"""The webhook events already taken, so a redelivered one is answered once.

The platform may send an event again (``deliveryContext.isRedelivery``) when it did
not get a 2xx in time, and a proxy or the platform itself may repeat a delivery.
Each event's ``webhookEventId`` is claimed here before the event is queued: the
first claim wins, every later one (a retry, a redelivery, the same request sent
twice at once) loses. The ids are kept in ``<data_dir>/line_events.sqlite`` so that
a restart does not forget them, for ``max_age`` seconds (the platform redelivers
for a day at most); nothing else about an event is stored.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from madoguchi.kit.errors import StoreError

FILENAME = "line_events.sqlite"


class SeenEvents:
    def __init__(self, path: Path | str, max_age: float = 7 * 86400) -> None:
        self.path = Path(path)
        self.max_age = max_age
        self._lock = threading.Lock()
        self._last_purge = 0.0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if os.name != "nt":
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, ts REAL NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS seen_ts ON seen (ts)")
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc

    @classmethod
    def in_data_dir(cls, data_dir: Path | str, max_age: float = 7 * 86400) -> SeenEvents:
        return cls(Path(data_dir) / FILENAME, max_age)

    def claim(self, event_id: str, now: float | None = None) -> bool:
        """True the first time ``event_id`` is claimed (within ``max_age``), else False."""
        t = time.time() if now is None else now
        if t - self._last_purge > 3600:
            self.purge(t)
        try:
            with self._lock:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO seen (event_id, ts) VALUES (?, ?)", (event_id, t)
                )
                self._db.commit()
                return cur.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def release(self, event_id: str) -> None:
        """Forget a claim (the event could not be queued: its redelivery is welcome)."""
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE event_id = ?", (event_id,))
            self._db.commit()

    def purge(self, now: float | None = None) -> int:
        t = time.time() if now is None else now
        self._last_purge = t
        with self._lock:
            cur = self._db.execute("DELETE FROM seen WHERE ts < ?", (t - self.max_age,))
            self._db.commit()
            return cur.rowcount

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
