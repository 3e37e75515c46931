"""Sections to chunks, Japanese-aware.

A FAQ row or a table record is exactly one chunk (question and answer belong
together). Pages, PDFs and text are split per section at paragraph, line and
sentence ends (。！？), never inside a sentence that fits, and each chunk starts
with its section heading so headings are searchable and the passage reads on
its own. A chunk of a PDF carries its page; one read by OCR also ``ocr`` and
``ocr_confidence`` (0-100).
"""

from __future__ import annotations

from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from madoguchi.ingest.parse import ParsedDocument
from madoguchi.kit.types import Chunk, SourceDocument

SEPARATORS = ["\n\n", "\n", "。", "！", "？", "!", "?", "、", " ", ""]
_SCALAR = (str, int, float, bool)


def _meta(doc: SourceDocument, parsed: ParsedDocument, **extra: Any) -> dict[str, Any]:
    """Chroma-safe metadata: scalars only, no empty values."""
    merged = {**parsed.meta, **extra}
    return {k: v for k, v in merged.items() if isinstance(v, _SCALAR) and v != ""}


def chunk_document(
    doc: SourceDocument, parsed: ParsedDocument, max_chars: int = 500, overlap: int = 60
) -> list[Chunk]:
    if doc.kind in ("faq", "table"):
        text = parsed.text.strip()
        if not text:
            return []
        meta = _meta(doc, parsed, kind=doc.kind)
        return [
            Chunk(Chunk.make_id(doc.source_id, text), doc.source_id, text, parsed.title, 0, meta)
        ]

    chunks: list[Chunk] = []
    repeats: dict[str, int] = {}  # a text that occurs again gets its own id
    for section in parsed.sections:
        heading = section.heading.strip()
        # the heading prefix counts against max_chars, but never squeezes the text below half
        size = max(max_chars - len(heading) - 1, max_chars // 2, 1)
        splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            chunk_size=size,
            chunk_overlap=min(overlap, size // 2),
            keep_separator="end",
            strip_whitespace=True,
        )
        for piece in splitter.split_text(section.text):
            piece = piece.strip()
            if not piece:
                continue
            text = f"{heading}\n{piece}" if heading and not piece.startswith(heading) else piece
            pos = len(chunks)
            occurrence = repeats.get(text, 0)
            repeats[text] = occurrence + 1
            extra: dict[str, Any] = {"kind": doc.kind, "heading": heading}
            if section.page is not None:
                extra["page"] = section.page
            if section.ocr_confidence is not None:  # read by OCR from a scanned page
                extra["ocr"] = True
                extra["ocr_confidence"] = section.ocr_confidence
            chunks.append(
                Chunk(
                    Chunk.make_id(doc.source_id, text, occurrence),
                    doc.source_id,
                    text,
                    parsed.title,
                    pos,
                    _meta(doc, parsed, **extra),
                )
            )
    return chunks
