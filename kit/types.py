"""Frozen value types passed between connectors, ingest, retrieval and answering."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["faq", "page", "pdf", "table", "text"]


@dataclass(frozen=True)
class SourceDocument:
    """One document as a connector hands it over: raw body plus what we know of it.

    ``meta`` keys used by the kit: ``kind`` (faq | page | pdf | table | text),
    ``department``, ``phone``, ``updated``, ``lang``; for FAQ rows also
    ``question`` and ``answer`` (already-parsed text, so no parser is needed).
    """

    source_id: str
    uri: str
    title: str
    body: bytes | str
    mime: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "text"))

    def content_hash(self) -> str:
        """Hash of everything that influences the chunks, so unchanged sources are skipped."""
        h = hashlib.sha256()
        body = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        h.update(body)
        h.update(b"\0" + self.title.encode("utf-8"))
        for key in sorted(self.meta):
            h.update(f"\0{key}={self.meta[key]!r}".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit. ``id`` is a hash of its source and text (``make_id``), not of
    its position, so unchanged text keeps its id when a paragraph is inserted before it."""

    id: str
    source_id: str
    text: str
    title: str
    position: int
    meta: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def make_id(source_id: str, text: str, occurrence: int = 0) -> str:
        """The id of a chunk of ``source_id`` holding ``text``; ``occurrence`` tells the
        repeats of one text in a source apart (0 for the first)."""
        key = f"{source_id}\0{text}" + (f"\0{occurrence}" if occurrence else "")
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk: fused score, 1-based rank per retriever, raw signal values."""

    chunk: Chunk
    score: float
    ranks: dict[str, int] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    source_id: str
    title: str
    url: str | None
    snippet: str = ""
    page: int | None = None  # the PDF page the cited passage is on (1-based)

    def to_json(self) -> dict[str, Any]:
        """The citation shape of the public answer JSON and of docs/ARCHITECTURE.md details;
        ``page`` only for a passage of a PDF, so other citations keep their three keys."""
        out: dict[str, Any] = {"source": self.source_id, "title": self.title, "url": self.url}
        if self.page is not None:
            out["page"] = self.page
        return out

    @property
    def label(self) -> str:
        """The title as a list of sources shows it: 「防災だより p. 3」 for a PDF's page."""
        return f"{self.title} p. {self.page}" if self.page is not None else self.title


@dataclass(frozen=True)
class Answer:
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    lang: str
    follow_up: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    department: str | None = None
    phone: str | None = None
    confidence: float = 0.0
    mode: str = "extractive"  # faq | extractive | llm | abstain
    # the Japanese official text behind a translated or generated answer (one click away)
    original: str | None = None
    # with a refusal: the closest documents, offered to read ("these may help"), never
    # presented as the answer's sources
    related: tuple[Citation, ...] = ()
    # the text shown is a machine translation town staff have not checked yet
    machine_translation: bool = False
    # the department as the answer's language names it: 「税務課 (Tax Division)」
    # (kit.departments); the Japanese name alone when no rendering is known
    department_label: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public shape shared by ``madoguchi ask --json`` and ``POST /api/v1/ask``."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "lang": self.lang,
            "follow_up": self.follow_up,
            "citations": [c.to_json() for c in self.citations],
            "department": self.department,
            "department_label": self.department_label,
            "phone": self.phone,
            "confidence": round(self.confidence, 4),
            "mode": self.mode,
            "original": self.original,
            "related": [c.to_json() for c in self.related],
            "machine_translation": self.machine_translation,
        }
