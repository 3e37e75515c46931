"""Ingest runs: connectors → parse → chunk → embed → index, with a report.

A source whose content hash is unchanged is neither parsed nor embedded. A
document that fails is reported as skipped and the run goes on; sources under
a root that could not be read keep what the index already had for them (a
broken upload must not erase last week's good answers). Sources that
disappeared from a root that *was* read completely are removed.

A document over one of the per-document limits (``settings.ingest``: pages, text,
chunks, rows, unpacked bytes) is skipped whole before anything of it is written, with
a reason naming the setting. A doubtful text decoding is indexed but listed in
``warnings``.

A PDF page without a text layer is read by OCR when tesseract is installed
(``ingest.ocr``, ``ingest/ocr.py``): the report lists each such page with its
confidence in ``ocr``, and a page read with little confidence is also a warning.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from madoguchi.connectors.folder import FolderConnector
from madoguchi.ingest.chunk import chunk_document
from madoguchi.ingest.index import EmbedStats, Index, covers
from madoguchi.ingest.parse import ParsedDocument, parse
from madoguchi.kit.config import IngestSettings
from madoguchi.kit.errors import KitError
from madoguchi.kit.types import Chunk, SourceDocument

Progress = Callable[[str, int], None]  # (event, amount): "doc" per document seen


@dataclass(frozen=True)
class OcrPageReport:
    """A PDF page indexed from OCR: its confidence (0-100), the language kept, seconds."""

    source: str
    page: int
    confidence: float
    lang: str
    seconds: float
    chars: int
    low: bool  # flagged to staff (also in ``warnings``)

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "page": self.page,
            "confidence": round(self.confidence, 1),
            "lang": self.lang,
            "seconds": round(self.seconds, 2),
            "chars": self.chars,
            "low_confidence": self.low,
        }


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (source id, what is doubtful): indexed, but staff should look, e.g. mojibake
    warnings: list[tuple[str, str]] = field(default_factory=list)
    ocr: list[OcrPageReport] = field(default_factory=list)  # pages read by OCR
    chunks_embedded: int = 0
    tokens_embedded: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    repaired: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_embedded / self.embed_seconds if self.embed_seconds else 0.0

    def ocr_by_source(self) -> dict[str, list[OcrPageReport]]:
        out: dict[str, list[OcrPageReport]] = {}
        for p in self.ocr:
            out.setdefault(p.source, []).append(p)
        return out

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "skipped": len(self.skipped),
        }

    def to_json(self) -> dict[str, object]:
        return {
            **self.counts(),
            "skipped_detail": [{"source": s, "reason": r} for s, r in self.skipped],
            "warnings": [{"source": s, "warning": w} for s, w in self.warnings],
            "ocr_pages": [p.to_json() for p in self.ocr],
            "chunks_embedded": self.chunks_embedded,
            "tokens_embedded": self.tokens_embedded,
            "embed_seconds": round(self.embed_seconds, 3),
            "tokens_per_second": round(self.tokens_per_second, 1),
            "seconds": round(self.seconds, 3),
            "repaired": self.repaired,
            "dry_run": self.dry_run,
        }


def _documents(
    roots: list[str],
    report: IngestReport,
    failed_roots: set[str],
    data_dir: Path,
    limits: IngestSettings,
) -> Iterator[SourceDocument]:
    for root in roots:
        if not Path(root).exists():
            report.skipped.append((root, "not found"))
            failed_roots.add(root)
            continue
        connector = FolderConnector([root], exclude=[data_dir], limits=limits)
        yield from connector.documents()
        for sid, reason in connector.skipped:
            report.skipped.append((sid, reason))
            failed_roots.add(sid)
        report.warnings.extend(connector.warnings)


def ingest(
    index: Index,
    roots: Iterable[str | Path],
    *,
    progress: Progress | None = None,
    dry_run: bool = False,
    batch_chunks: int = 64,
    documents: Iterable[SourceDocument] | None = None,
) -> IngestReport:
    """Bring the index in step with ``roots`` (files or folders, as given by the user).

    ``documents`` replaces the folder walk (for other connectors); ``roots`` then
    only scopes which indexed sources count as gone when not seen.
    """
    t0 = time.perf_counter()
    report = IngestReport(dry_run=dry_run)
    root_ids = [_source_root(r) for r in roots]
    if not dry_run:
        report.repaired = {k: v for k, v in index.reconcile().items() if v}
    failed: set[str] = set()
    limits = index.settings.ingest
    docs = (
        documents
        if documents is not None
        else _documents(root_ids, report, failed, Path(index.settings.data_dir), limits)
    )

    seen: set[str] = set()
    pending: list[tuple[SourceDocument, str, list[Chunk]]] = []
    pending_kind: dict[str, str] = {}
    n_pending = 0

    def flush() -> None:
        nonlocal n_pending
        if not pending:
            return
        stats: EmbedStats = index.apply(pending)
        report.chunks_embedded += stats.chunks
        report.tokens_embedded += stats.tokens
        report.embed_seconds += stats.seconds
        for doc, _, _ in pending:
            (report.added if pending_kind[doc.source_id] == "added" else report.updated).append(
                doc.source_id
            )
        pending.clear()
        pending_kind.clear()
        n_pending = 0

    for doc in docs:
        if progress:
            progress("doc", 1)
        if doc.source_id in seen:
            report.skipped.append((doc.source_id, "duplicate source id in this run"))
            continue
        seen.add(doc.source_id)
        content_hash = doc.content_hash()
        old = index.source_hash(doc.source_id)
        if old == content_hash:
            report.unchanged.append(doc.source_id)
            continue
        try:
            parsed, chunks = _parse_and_chunk(doc, limits)
        except KitError as exc:
            report.skipped.append((doc.source_id, str(exc)))
            failed.add(doc.source_id)
            continue
        except Exception as exc:  # a parser bug must not end the batch
            report.skipped.append((doc.source_id, f"unexpected {type(exc).__name__}: {exc}"))
            failed.add(doc.source_id)
            continue
        if not chunks:
            report.skipped.append((doc.source_id, "no text found"))
            failed.add(doc.source_id)
            continue
        report.warnings.extend((doc.source_id, w) for w in parsed.warnings)
        report.ocr.extend(
            OcrPageReport(doc.source_id, p.page, p.confidence, p.lang, p.seconds, p.chars, p.low)
            for p in parsed.ocr_pages
        )
        kind = "added" if old is None else "updated"
        if dry_run:
            (report.added if kind == "added" else report.updated).append(doc.source_id)
            continue
        # scanned pages left for want of OCR: a stored hash that never matches, so the
        # next run (tesseract installed by then) reads the document again
        pending.append((doc, content_hash + "+ocr" if parsed.ocr_pending else content_hash, chunks))
        pending_kind[doc.source_id] = kind
        n_pending += len(chunks)
        if n_pending >= batch_chunks:
            flush()
    flush()

    gone = [
        s.source_id
        for root in root_ids
        for s in index.sources(prefix=root)
        if s.source_id not in seen and not any(covers(f, s.source_id) for f in failed)
    ]
    gone = sorted(set(gone))
    if gone and not dry_run:
        index.remove(gone)
    report.removed = gone
    report.seconds = time.perf_counter() - t0
    return report


def _parse_and_chunk(
    doc: SourceDocument, limits: IngestSettings
) -> tuple[ParsedDocument, list[Chunk]]:
    parsed = parse(doc, limits)
    chunks = chunk_document(doc, parsed)
    if len(chunks) > limits.max_chunks:
        raise limits.exceeded(doc.source_id, "too many chunks", len(chunks), "max_chunks")
    return parsed, chunks


def _source_root(path: str | Path) -> str:
    """The source-id form of a path given on the command line (docs/ARCHITECTURE.md)."""
    s = str(path).replace("\\", "/")
    if "://" in s:
        return s
    while s.startswith("./"):
        s = s[2:]
    return s.rstrip("/") or "."
