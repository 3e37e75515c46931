"""Office files: Word (DOCX) and PowerPoint (PPTX) as Markdown text, Excel (XLSX) as rows.

A DOCX becomes Markdown (headings from the 見出し/Heading styles, tables as
"列名: 値" lines) so ``ingest.parse`` gives it heading paths like any page. A
PPTX becomes one section per slide. An XLSX sheet is a table: like a CSV, a
sheet with question and answer columns yields FAQ rows, any other sheet one
``table`` document per record with readable "列名: 値" lines (connectors.faq_csv
decides which, with the same column names). Source ids per docs/ARCHITECTURE.md: the
file's id + ``#`` + the ID column value or the 1-based data record number; a
workbook with several non-empty sheets adds the sheet name: ``book.xlsx#施設一覧!3``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from madoguchi.connectors.faq_csv import (
    FaqCsvConnector,
    _is_number,
    map_columns,
    translation_columns,
)
from madoguchi.kit.errors import ParseError
from madoguchi.kit.types import SourceDocument

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SHEET_ROWS = 100_000

_HEADING = re.compile(r"^(?:heading|見出し)\s*(\d)$", re.I)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _table_lines(rows: list[list[str]]) -> list[str]:
    """A small table as readable lines: the first row names the columns."""
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body or all(_is_number(h) or not h for h in header):
        return ["・" + " / ".join(c for c in r if c) for r in rows]
    out = []
    for r in body:
        pairs = [(h or f"列{i + 1}", v) for i, (h, v) in enumerate(zip(header, r, strict=False))]
        out.append("・" + "、".join(f"{h}: {v}" for h, v in pairs if v))
    return out


def _open_error(kind: str, name: str, exc: Exception) -> ParseError:
    return ParseError(f"{name}: not a readable {kind} file ({type(exc).__name__}: {exc})")


def docx_markdown(raw: bytes, name: str) -> tuple[str, str]:
    """(title, Markdown) of a Word document, paragraphs and tables in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # zipfile/lxml/KeyError on broken files
        raise _open_error("DOCX", name, exc) from exc
    lines: list[str] = []
    first_heading = ""
    for el in document.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = Paragraph(el, document)
            text = " ".join(p.text.split())
            if not text:
                continue
            style = (p.style.name if p.style is not None else "") or ""
            m = _HEADING.match(style)
            if style.lower() in ("title", "表題") or m:
                level = 1 if not m else min(int(m.group(1)) + (1 if first_heading else 0), 6)
                lines.append("#" * level + " " + text)
                first_heading = first_heading or text
            elif "list" in style.lower() or "箇条書き" in style:
                lines.append("- " + text)
            else:
                lines.append(text)
            lines.append("")
        elif tag == "tbl":
            t = Table(el, document)
            rows = [[" ".join(c.text.split()) for c in r.cells] for r in t.rows]
            lines.extend(_table_lines(rows))
            lines.append("")
    title = (document.core_properties.title or "").strip() or first_heading
    return title, "\n".join(lines)


def pptx_markdown(raw: bytes, name: str) -> tuple[str, str]:
    """(title, Markdown) of a presentation: one "## slide title" section per slide."""
    from pptx import Presentation

    try:
        prs = Presentation(io.BytesIO(raw))
    except Exception as exc:
        raise _open_error("PPTX", name, exc) from exc
    lines: list[str] = []
    deck_title = (prs.core_properties.title or "").strip()
    for n, slide in enumerate(prs.slides, 1):
        title_shape = slide.shapes.title
        heading = " ".join((title_shape.text_frame.text if title_shape else "").split())
        deck_title = deck_title or heading
        lines += [f"## {heading or f'スライド{n}'}", ""]
        for shape in slide.shapes:
            if shape is title_shape:
                continue
            if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                for para in shape.text_frame.paragraphs:
                    text = " ".join("".join(r.text for r in para.runs).split())
                    if text:
                        lines.append(("- " if para.level else "") + text)
            elif getattr(shape, "has_table", False) and shape.has_table:
                rows = [[" ".join(c.text.split()) for c in r.cells] for r in shape.table.rows]
                lines.extend(_table_lines(rows))
        if slide.has_notes_slide:
            notes = " ".join(slide.notes_slide.notes_text_frame.text.split())
            if notes:
                lines.append(f"（ノート）{notes}")
        lines.append("")
    return deck_title, "\n".join(lines)


def read_workbook(raw: bytes, name: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(sheet name, header, data rows) of each sheet that has a header and rows.

    Values as displayed where it matters: dates as YYYY-MM-DD, whole numbers
    without ".0", formulas by their cached value.
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise _open_error("XLSX", name, exc) from exc
    except Exception as exc:  # openpyxl raises a variety on broken files
        raise _open_error("XLSX", name, exc) from exc
    sheets: list[tuple[str, list[str], list[list[str]]]] = []
    try:
        for ws in wb.worksheets:
            rows: list[list[str]] = []
            for i, row in enumerate(ws.iter_rows(values_only=True)):
                if i > MAX_SHEET_ROWS:
                    break
                rows.append([_cell_text(v) for v in row])
            while rows and not any(rows[0]):
                rows.pop(0)
            while rows and not any(rows[-1]):
                rows.pop()
            if len(rows) < 2:
                continue
            width = max(len(r) for r in rows)
            header = rows[0] + [""] * (width - len(rows[0]))
            sheets.append((ws.title, header, rows[1:]))
    finally:
        wb.close()
    return sheets


class XlsxConnector(FaqCsvConnector):
    """One document per row of each sheet, as ``FaqCsvConnector`` does for a CSV."""

    def __init__(self, path: Path | str, source_id: str, uri: str | None = None) -> None:
        super().__init__(path, source_id, uri)

    def documents(self) -> Iterator[SourceDocument]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise ParseError(f"{self.source_id}: cannot read: {exc.strerror or exc}") from exc
        sheets = read_workbook(raw, self.source_id)
        if not sheets:
            raise ParseError(f"{self.source_id}: no sheet with a header row and data rows")
        multi = len(sheets) > 1
        for sheet, header, rows in sheets:
            named = [h for h in header if h]
            if not named or all(_is_number(h) for h in named):
                self.skipped.append(
                    (f"{self.source_id}#{sheet}", "no header row (the first row holds no names)")
                )
                continue
            cols = map_columns(header)
            faq = "question" in cols and "answer" in cols
            self.kind = "faq" if faq else "table"
            tcols = translation_columns(header) if faq else {}
            prefix = f"{self.source_id}#{sheet}!" if multi else f"{self.source_id}#"
            seen: set[str] = set()
            for n, row in enumerate(rows, start=1):
                row = row + [""] * (len(header) - len(row))
                fields = {f: row[i].strip() for f, i in cols.items()}
                key = fields.get("id") or str(n)
                sid = prefix + key
                if faq:
                    tr = {tf: row[i].strip() for tf, i in tcols.items() if row[i].strip()}
                    doc = self._faq_doc(sid, fields, tr)
                else:
                    doc = self._table_doc(sid, header, row)
                if doc is None:
                    continue  # blank rows in a sheet are layout, not data
                if sid in seen:
                    self.skipped.append((sid, f"duplicate ID {key!r} (row {n})"))
                    continue
                seen.add(sid)
                yield doc
