"""Bounded caches of recent work: question embeddings and whole answers.

Residents ask the same things (粗大ごみ, 住民票, the office hours) again and again, and
the widget's suggested questions are asked word for word. Answering one again costs
an embedding, four searches and the answerer; looking it up costs a dictionary read.

An answer is only valid for what it was computed from, so its key holds all of it:

- the question, normalised (NFKC, runs of whitespace as one space, trimmed), and the
  language the widget asked for;
- the town: its data directory;
- the **index version** (``index_version``): the index's generation, which moves on
  every ingest, removal and repairing reconcile, and the stamp of the town's synonym
  list, which the retriever re-reads when it changes;
- a hash of the settings (``settings_hash``): any other setting may change an answer.

So a cached answer never outlives an ingest or a settings change: the next question
simply has another key, and the old entry ages out of the LRU. A question that
continues a conversation is read with the earlier turns, so it is never answered
from (nor stored into) this cache; the API checks that (``ui.api.answering``).
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from madoguchi.kit.config import Settings
from madoguchi.kit.store import Store
from madoguchi.kit.synonyms import SynonymFile, Synonyms

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """At most ``size`` entries, the least recently used dropped first; thread-safe.
    ``size`` 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("a cache size cannot be negative")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


def normalise_question(question: str) -> str:
    """The question as the cache compares it: NFKC (full-width letters and digits as
    half-width), whitespace runs as one space, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", question or "").split())


def settings_hash(settings: Settings) -> str:
    """A short hash of every setting (a changed setting is another cache key)."""
    dump = settings.model_dump_json()
    return hashlib.blake2b(dump.encode("utf-8"), digest_size=12).hexdigest()


def _synonyms_stamp(synonyms: SynonymFile | Synonyms | None) -> tuple[int, int] | None:
    path: Path | None = getattr(synonyms, "path", None)
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class IndexVersion:
    """What an answer was computed from, besides the question and the settings."""

    generation: int
    synonyms: tuple[int, int] | None


def index_version(store: Store, synonyms: SynonymFile | Synonyms | None = None) -> IndexVersion:
    """The index's generation (``Store.view().generation``; cheap while it has not
    moved) and the synonym file's stamp."""
    return IndexVersion(store.view().generation, _synonyms_stamp(synonyms))


@dataclass(frozen=True)
class AnswerKey:
    question: str  # normalise_question
    lang: str  # the widget's language, "" when the question's own is detected
    data_dir: str
    version: IndexVersion
    settings: str  # settings_hash


def answer_key(
    question: str,
    lang: str | None,
    settings: Settings,
    version: IndexVersion,
    digest: str | None = None,
) -> AnswerKey:
    return AnswerKey(
        normalise_question(question),
        lang or "",
        str(Path(settings.data_dir).resolve()),
        version,
        digest if digest is not None else settings_hash(settings),
    )
