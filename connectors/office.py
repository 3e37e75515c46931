"""Office files: Word (DOCX) and PowerPoint (PPTX) as Markdown text, Excel (XLSX) as rows.

A DOCX becomes Markdown (headings from the 見出し/Heading styles, tables as
"列名: 値" lines) so ``ingest.parse`` gives it heading paths like any page. A
PPTX becomes one section per slide. An XLSX sheet is a table: like a CSV, a
sheet with question and answer columns yields FAQ rows, any other sheet one
``table`` document per record with readable "列名: 値" lines (connectors.faq_csv
decides which, with the same column names). Source ids per docs/ARCHITECTURE.md: the
file's id + ``#`` + the ID column value or the 1-based data record number; a
workbook with several non-empty sheets adds the sheet name: ``book.xlsx#施設一覧!3``.

Every Office file is a zip, checked by ``check_zip`` before a library opens it (the
limits of ``kit.config.IngestSettings``): member count, names, declared sizes and
compression ratios from the central directory, then the bytes really unpacked, counted
while reading. Text, rows and cells are counted while they are read, and reading stops
at the first limit passed: the file is skipped whole, so nothing of it is half indexed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from madoguchi.connectors.faq_csv import (
    FaqCsvConnector,
    _is_number,
    map_columns,
    translation_columns,
)
from madoguchi.kit.config import IngestSettings
from madoguchi.kit.errors import ParseError
from madoguchi.kit.types import SourceDocument

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_GRID_SPAN = 64  # Word tables have at most 63 columns
# members smaller than this are not judged by their compression ratio
RATIO_FLOOR = 1024 * 1024
_READ = 256 * 1024
# a member name that climbs out of the package or is absolute ("../x", "/x", "C:/x", "a\\..")
_UNSAFE_MEMBER = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)|^[/\\]|^[A-Za-z]:|\x00")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a password-protected Office file is OLE, not zip

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


def check_zip(raw: bytes, name: str, kind: str, limits: IngestSettings) -> None:
    """Refuse a zip bomb or a crafted package before python-docx/pptx or openpyxl unpack it.

    The central directory first (member count, unsafe names, encryption, declared total
    and per-member compression ratio), then every member is unpacked once and counted:
    a member giving more than its header declares, or a total over the limit, stops the
    read there. Costs one extra inflate of at most ``max_unpacked_bytes``.
    """
    if raw.startswith(_OLE):
        raise ParseError(
            f"{name}: not a readable {kind} file (a password-protected or old-format Office"
            " file; save it again without a password)"
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _open_error(kind, name, exc) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_zip_members:
            raise limits.exceeded(name, "too many zip members", len(infos), "max_zip_members")
        declared = 0
        for info in infos:
            _check_member(info, name, kind, limits)
            declared += info.file_size
        if declared > limits.max_unpacked_bytes:
            raise limits.exceeded(name, "unpacked size", declared, "max_unpacked_bytes", "bytes")
        total = 0
        for info in infos:
            total += _count_member(zf, info, name, kind, limits, total)


def _check_member(info: zipfile.ZipInfo, name: str, kind: str, limits: IngestSettings) -> None:
    if _UNSAFE_MEMBER.search(info.filename):
        raise ParseError(
            f"{name}: unsafe zip member name {info.filename!r} (a path outside the package);"
            f" not a {kind} file as Office writes it"
        )
    if info.flag_bits & 0x1:
        raise ParseError(f"{name}: encrypted zip member {info.filename!r}; cannot read it")
    if info.file_size > RATIO_FLOOR:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise limits.exceeded(
                name,
                f"compression ratio of {info.filename} ({info.file_size:,} bytes unpacked)",
                ratio,
                "max_compression_ratio",
            )


def _count_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    kind: str,
    limits: IngestSettings,
    before: int,
) -> int:
    """Bytes ``info`` really unpacks to; stops at its declared size or the total limit."""
    got = 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(_READ):
                got += len(chunk)
                if got > info.file_size:
                    raise ParseError(
                        f"{name}: zip member {info.filename} unpacks to more than the"
                        f" {info.file_size:,} bytes its header declares; not a readable {kind} file"
                    )
                if before + got > limits.max_unpacked_bytes:
                    raise limits.exceeded(
                        name, "unpacked size", before + got, "max_unpacked_bytes", "bytes", True
                    )
    except ParseError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ParseError(
            f"{name}: damaged zip member {info.filename} ({type(exc).__name__}: {exc});"
            f" not a readable {kind} file"
        ) from exc
    except (NotImplementedError, RuntimeError) as exc:  # compression method, encryption
        raise ParseError(
            f"{name}: zip member {info.filename} cannot be unpacked ({exc}); not a readable"
            f" {kind} file"
        ) from exc
    return got


class _TextBudget:
    """Characters of one document counted as they are produced, against ``max_chars``."""

    def __init__(self, name: str, limits: IngestSettings) -> None:
        self.name, self.limits, self.chars = name, limits, 0

    def add(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > self.limits.max_chars:
            raise self.limits.exceeded(
                self.name, "too much text", self.chars, "max_chars", "characters", True
            )
        return text


def _docx_table_rows(table: Any, budget: _TextBudget) -> list[list[str]]:
    """Cell texts row by row, as python-docx's ``row.cells`` gives them (a horizontal span
    repeats its text, a vertical one takes the text above) but with each span capped at
    ``MAX_GRID_SPAN``: ``row.cells`` builds a tuple as long as the span a file declares."""
    from docx.table import _Cell

    rows: list[list[str]] = []
    above: list[str] = []
    for tr in table._tbl.tr_lst:
        row: list[str] = []
        for tc in tr.tc_lst:
            span = max(1, min(tc.grid_span, MAX_GRID_SPAN))
            if tc.vMerge == "continue":
                text = above[len(row)] if len(row) < len(above) else ""
            else:
                text = budget.add(" ".join(_Cell(tc, table).text.split()))
            row.extend([text] * span)
        rows.append(row)
        above = row
    return rows


def docx_markdown(raw: bytes, name: str, limits: IngestSettings | None = None) -> tuple[str, str]:
    """(title, Markdown) of a Word document, paragraphs and tables in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    limits = limits or IngestSettings()
    check_zip(raw, name, "DOCX", limits)
    budget = _TextBudget(name, limits)
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
            text = budget.add(" ".join(p.text.split()))
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
            lines.extend(_table_lines(_docx_table_rows(Table(el, document), budget)))
            lines.append("")
    title = (document.core_properties.title or "").strip() or first_heading
    return title, "\n".join(lines)


def pptx_markdown(raw: bytes, name: str, limits: IngestSettings | None = None) -> tuple[str, str]:
    """(title, Markdown) of a presentation: one "## slide title" section per slide."""
    from pptx import Presentation

    limits = limits or IngestSettings()
    check_zip(raw, name, "PPTX", limits)
    budget = _TextBudget(name, limits)
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
                    text = budget.add(" ".join("".join(r.text for r in para.runs).split()))
                    if text:
                        lines.append(("- " if para.level else "") + text)
            elif getattr(shape, "has_table", False) and shape.has_table:
                rows = [
                    [budget.add(" ".join(c.text.split())) for c in r.cells]
                    for r in shape.table.rows
                ]
                lines.extend(_table_lines(rows))
        if slide.has_notes_slide:
            notes = budget.add(" ".join(slide.notes_slide.notes_text_frame.text.split()))
            if notes:
                lines.append(f"（ノート）{notes}")
        lines.append("")
    return deck_title, "\n".join(lines)


def read_workbook(
    raw: bytes, name: str, limits: IngestSettings | None = None
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(sheet name, header, data rows) of each sheet that has a header and rows.

    Values as displayed where it matters: dates as YYYY-MM-DD, whole numbers
    without ".0", formulas by their cached value. Rows, cells and characters are counted
    over the whole workbook as they are read, against ``limits``. A sheet's declared
    dimension is not trusted: openpyxl pads every row to it, so "A1:XFD1048576" over
    three cells would mean a million rows of 16,384 cells.
    """
    import openpyxl

    limits = limits or IngestSettings()
    check_zip(raw, name, "XLSX", limits)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # zipfile/lxml/KeyError/ValueError: openpyxl raises a variety
        raise _open_error("XLSX", name, exc) from exc
    sheets: list[tuple[str, list[str], list[list[str]]]] = []
    count = _TableBudget(name, limits)
    try:
        for ws in wb.worksheets:
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()
            rows = [
                count.row([_cell_text(v) for v in count.cells(row)])
                for row in ws.iter_rows(values_only=True)
            ]
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


class _TableBudget:
    """Rows, cells and characters of one table file, counted against the limits."""

    def __init__(self, name: str, limits: IngestSettings) -> None:
        self.name, self.limits = name, limits
        self.rows = self.n_cells = 0
        self.text = _TextBudget(name, limits)

    def cells(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        self.rows += 1
        self.n_cells += len(row)
        if self.rows > self.limits.max_table_rows:
            raise self.limits.exceeded(
                self.name, "too many rows", self.rows, "max_table_rows", more=True
            )
        if self.n_cells > self.limits.max_table_cells:
            raise self.limits.exceeded(
                self.name, "too many cells", self.n_cells, "max_table_cells", more=True
            )
        return row

    def row(self, texts: list[str]) -> list[str]:
        for t in texts:
            self.text.add(t)
        return texts


class XlsxConnector(FaqCsvConnector):
    """One document per row of each sheet, as ``FaqCsvConnector`` does for a CSV."""

    def documents(self) -> Iterator[SourceDocument]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise ParseError(f"{self.source_id}: cannot read: {exc.strerror or exc}") from exc
        sheets = read_workbook(raw, self.source_id, self.limits)
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
