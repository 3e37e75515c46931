"""Files made to be expensive: zip bombs in DOCX/XLSX, huge sheets, PDFs of many pages,
documents of too much text. Each is skipped with a reason that names the limit and its
setting, the parser stops early (what it read or visited is counted here), and the index
keeps what it had.

The bombs are generated here and are small on disk. No timings are asserted: a spy counts
the bytes unpacked, the rows visited or the pages read, and a generous guard stops an
unbounded parser (so a regression fails quickly instead of running for minutes).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
MiB = 1024 * 1024


class GuardTripped(BaseException):
    """Raised by a spy when a parser goes far past any limit; a BaseException so that no
    ``except Exception`` on the way turns it into an ordinary skip."""


class Spy:
    """Counts what a library method returns (bytes, rows, calls) and trips past ``guard``."""

    def __init__(self, guard: int) -> None:
        self.count = 0
        self.guard = guard

    def add(self, n: int) -> None:
        self.count += n
        if self.count > self.guard:
            raise GuardTripped(f"{self.count:,} > guard {self.guard:,}")


def spy_zip_reads(monkeypatch, guard: int) -> Spy:
    """Bytes unpacked from any zip member, by anyone (our checks, python-docx, openpyxl)."""
    spy = Spy(guard)
    original = zipfile.ZipExtFile.read

    def read(self, n=-1):
        data = original(self, n)
        spy.add(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    return spy


def spy_sheet_rows(monkeypatch, guard_rows: int, guard_cells: int) -> tuple[Spy, Spy]:
    """Rows and cells openpyxl yields from a read-only worksheet."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    rows, cells = Spy(guard_rows), Spy(guard_cells)
    original = ReadOnlyWorksheet._cells_by_row

    def cells_by_row(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            rows.add(1)
            cells.add(len(row))
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", cells_by_row)
    return rows, cells


def spy_pdf_pages(monkeypatch, guard: int) -> Spy:
    from pypdf import PageObject

    spy = Spy(guard)
    original = PageObject.extract_text

    def extract_text(self, *args, **kwargs):
        spy.add(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", extract_text)
    return spy


# ------------------------------------------------------------------ generators


def docx_with_body(path: Path, body: Callable[[io.RawIOBase], None], extra=()) -> None:
    """A real python-docx package whose word/document.xml is written by ``body``."""
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    with (
        zipfile.ZipFile(base) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            if info.filename == "word/document.xml":
                with out.open("word/document.xml", "w", force_zip64=True) as f:
                    f.write(
                        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}">'.encode()
                    )
                    f.write(b"<w:body>")
                    body(f)
                    f.write(b"</w:body></w:document>")
            else:
                out.writestr(info, src.read(info))
        for name, data in extra:
            out.writestr(name, data)


def paragraphs(n: int, text: str) -> Callable[[io.RawIOBase], None]:
    para = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()

    def write(f: io.RawIOBase) -> None:
        for start in range(0, n, 1000):
            f.write(para * min(1000, n - start))

    return write


def xlsx_with_sheet(path: Path, rows: Iterable[bytes], dimension: str | None = None) -> None:
    """A minimal workbook written as XML: one sheet whose <sheetData> is ``rows``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{PKG}/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG}/relationships"><Relationship Id="rId1" '
            f'Type="{R}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets>'
            '<sheet name="一覧" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PKG}/relationships"><Relationship Id="rId1" '
            f'Type="{R}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<worksheet xmlns="{S}">'.encode())
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>")
            for chunk in rows:
                f.write(chunk)
            f.write(b"</sheetData></worksheet>")


def header_row(names: list[str], r: int = 1) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{n}</t></is></c>' for n in names)
    return f'<row r="{r}">{cells}</row>'.encode()


def number_rows(n: int, cols: int, batch: int = 1000) -> Iterable[bytes]:
    row = b"<row>" + b"<c><v>1234</v></c>" * cols + b"</row>"
    for start in range(0, n, batch):
        yield row * min(batch, n - start)


def one_page_pdf(text: str) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("HeiseiKakuGo-W5", 12)
    c.drawString(50, 800, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def many_pages_pdf(
    path: Path, pages: int, text: str = "ごみの出し方 燃やせるごみは月曜日です"
) -> None:
    """``pages`` pages sharing one content stream: small on disk, as the 3 MB original."""
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(io.BytesIO(one_page_pdf(text))).pages[0]
    w = PdfWriter()
    for _ in range(pages):
        w.add_page(page)
    with path.open("wb") as f:
        w.write(f)


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def town(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "town"
    root.mkdir()
    (root / "ok.md").write_text("# 窓口\n\n役場の窓口は8時30分からです。\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return root


def settings_with(tmp_path: Path, **ingest) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        embedder={"kind": "fake", "dim": 64},
        store={"kind": "memory"},
        ingest=ingest,
    )


def run(settings: Settings, root: str = "town"):
    svc = build_services(settings)
    return svc, svc.ingest([root])


def reason(report, sid: str) -> str:
    skipped = dict(report.skipped)
    assert sid in skipped, f"{sid} was not skipped; added={report.added[:3]}..."
    return skipped[sid]


def assert_nothing_of(svc, sid: str) -> None:
    assert svc.index.source_hash(sid) is None
    assert not [c for c in svc.index.view().chunks() if c.source_id.startswith(sid)]


# ------------------------------------------------------------------ DOCX


def test_docx_zip_bomb_is_refused_from_its_central_directory(tmp_path, town, monkeypatch):
    """The reported case: ~200 KB on disk, ~59 MB of XML, 40,000 chunks."""
    docx_with_body(town / "bomb.docx", paragraphs(175_000, "あいうえおかきくけこ" * 10))
    assert (town / "bomb.docx").stat().st_size < 1 * MiB
    spy = spy_zip_reads(monkeypatch, guard=16 * MiB)
    svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/bomb.docx")
    assert "compression ratio" in why and "MADOGUCHI_INGEST__MAX_COMPRESSION_RATIO" in why
    assert spy.count < 1 * MiB, "the bomb's XML was unpacked"
    assert r.added == ["town/ok.md"]
    assert_nothing_of(svc, "town/bomb.docx")


def test_docx_unpacked_size_is_counted_over_all_members(tmp_path, town, monkeypatch):
    """Members each under the ratio limit, together over max_unpacked_bytes."""
    docx_with_body(
        town / "big.docx", paragraphs(3_000, "住民票の写しの交付について説明します。" * 5)
    )
    spy = spy_zip_reads(monkeypatch, guard=64 * MiB)
    _svc, r = run(settings_with(tmp_path, max_unpacked_bytes=1_000_000))
    why = reason(r, "town/big.docx")
    assert "unpacked" in why and "> limit 1,000,000" in why
    assert "MADOGUCHI_INGEST__MAX_UNPACKED_BYTES" in why
    assert spy.count <= 1_100_000


def test_zip_header_that_lies_about_a_size_is_caught_while_reading(tmp_path, town, monkeypatch):
    """The central directory says 1,000 bytes, the member unpacks to 30 MB."""
    docx_with_body(town / "liar.docx", paragraphs(100_000, "ごみ" * 100))
    raw = bytearray((town / "liar.docx").read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        at = z.start_dir  # the central directory: records of 46 bytes + name + extra + comment
        for info in z.infolist():
            n, m, k = struct.unpack_from("<HHH", raw, at + 28)
            if raw[at + 46 : at + 46 + n] == b"word/document.xml":
                assert struct.unpack_from("<I", raw, at + 24)[0] == info.file_size > 10 * MiB
                struct.pack_into("<I", raw, at + 24, 1_000)  # uncompressed size
            at += 46 + n + m + k
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        assert z.getinfo("word/document.xml").file_size == 1_000
    (town / "liar.docx").write_bytes(bytes(raw))
    spy = spy_zip_reads(monkeypatch, guard=8 * MiB)
    svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/liar.docx")
    assert not why.startswith("unexpected")
    assert spy.count <= 1_000 + 64 * 1024
    assert_nothing_of(svc, "town/liar.docx")


def test_zip_with_too_many_members_is_refused(tmp_path, town):
    docx_with_body(
        town / "many.docx",
        paragraphs(1, "本文"),
        extra=[(f"customXml/extra{i}.xml", b"<a/>") for i in range(300)],
    )
    _svc, r = run(settings_with(tmp_path, max_zip_members=200))
    why = reason(r, "town/many.docx")
    assert "too many zip members" in why and "> limit 200" in why
    assert "MADOGUCHI_INGEST__MAX_ZIP_MEMBERS" in why


def test_docx_text_is_counted_while_it_is_read(tmp_path, town, monkeypatch):
    docx_with_body(
        town / "long.docx", paragraphs(2_000, "転入届は14日以内に住民課へ出してください。")
    )
    svc, r = run(settings_with(tmp_path, max_chars=10_000))
    why = reason(r, "town/long.docx")
    assert "too much text" in why and "> limit 10,000" in why
    assert "MADOGUCHI_INGEST__MAX_CHARS" in why
    assert_nothing_of(svc, "town/long.docx")


# ------------------------------------------------------------------ XLSX


def test_xlsx_of_100k_rows_by_60_columns_is_refused_before_its_rows(tmp_path, town, monkeypatch):
    """The reported case: a small file, 100,000 rows x 60 columns, did not finish in 60 s."""
    xlsx_with_sheet(
        town / "huge.xlsx",
        [header_row([f"列{i}" for i in range(60)]), *number_rows(100_000, 60)],
    )
    assert (town / "huge.xlsx").stat().st_size < 1 * MiB
    rows, _ = spy_sheet_rows(monkeypatch, guard_rows=40_000, guard_cells=10**9)
    _svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/huge.xlsx")
    assert "MADOGUCHI_INGEST__" in why
    assert rows.count == 0, "rows were parsed although the zip check had enough to refuse"
    assert r.added == ["town/ok.md"]


def test_xlsx_rows_stop_at_the_limit(tmp_path, town, monkeypatch):
    xlsx_with_sheet(
        town / "rows.xlsx",
        [header_row(["施設名", "電話番号", "定員"]), *number_rows(3_000, 3)],
    )
    rows, _ = spy_sheet_rows(monkeypatch, guard_rows=10_000, guard_cells=10**9)
    svc, r = run(settings_with(tmp_path, max_table_rows=1_000))
    why = reason(r, "town/rows.xlsx")
    assert "too many rows" in why and "> limit 1,000" in why
    assert "MADOGUCHI_INGEST__MAX_TABLE_ROWS" in why
    assert rows.count <= 1_001 + 1
    assert not [s for s in svc.index.sources() if s.source_id.startswith("town/rows.xlsx")]


def test_sparse_sheet_that_claims_a_million_rows_is_bounded(tmp_path, town, monkeypatch):
    """Two cells and one at row 1,048,576 under a dimension of A1:XFD1048576: openpyxl would
    yield a million rows, each padded to 16,384 columns."""
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    xlsx_with_sheet(
        town / "sparse.xlsx",
        [header_row(["品目", "分別"]), b'<row r="2"><c r="A2"><v>1</v></c></row>', far],
        dimension="A1:XFD1048576",
    )
    rows, cells = spy_sheet_rows(monkeypatch, guard_rows=200_000, guard_cells=10_000_000)
    _svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/sparse.xlsx")
    assert "MADOGUCHI_INGEST__MAX_TABLE_" in why
    assert cells.count <= 1_000_000 + 16_384
    assert rows.count <= 20_001


# ------------------------------------------------------------------ PDF


def test_pdf_of_too_many_pages_is_refused_before_any_page_is_read(tmp_path, town, monkeypatch):
    many_pages_pdf(town / "pages.pdf", 2_500)
    spy = spy_pdf_pages(monkeypatch, guard=4_000)
    svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/pages.pdf")
    assert "too many pages: 2,500 > limit 2,000" in why
    assert "MADOGUCHI_INGEST__MAX_PDF_PAGES" in why
    assert spy.count == 0
    assert_nothing_of(svc, "town/pages.pdf")


def test_pdf_text_stops_at_the_character_limit(tmp_path, town, monkeypatch):
    many_pages_pdf(town / "long.pdf", 60)
    spy = spy_pdf_pages(monkeypatch, guard=1_000)
    _svc, r = run(settings_with(tmp_path, max_chars=300))
    why = reason(r, "town/long.pdf")
    assert "too much text" in why and "MADOGUCHI_INGEST__MAX_CHARS" in why
    assert spy.count < 60


# ------------------------------------------------------------------ any document


def test_text_over_the_character_limit_is_skipped(tmp_path, town):
    (town / "long.txt").write_text("燃やせるごみは月曜日と木曜日です。\n" * 2_000, encoding="utf-8")
    _svc, r = run(settings_with(tmp_path, max_chars=20_000))
    why = reason(r, "town/long.txt")
    assert "too much text: 36,000 characters > limit 20,000" in why
    assert "MADOGUCHI_INGEST__MAX_CHARS" in why


def test_document_over_the_chunk_limit_is_skipped(tmp_path, town):
    body = "\n\n".join(
        f"## 項目{i}\n\n" + "資源ごみは第2水曜日に出してください。" * 20 for i in range(30)
    )
    (town / "many.md").write_text("# ごみ\n\n" + body, encoding="utf-8")
    svc, r = run(settings_with(tmp_path, max_chunks=10))
    why = reason(r, "town/many.md")
    assert "too many chunks" in why and "> limit 10" in why
    assert "MADOGUCHI_INGEST__MAX_CHUNKS" in why
    assert_nothing_of(svc, "town/many.md")


def test_a_document_that_grows_into_a_bomb_keeps_its_previous_version(tmp_path, town):
    (town / "guide.pdf").write_bytes(one_page_pdf("子育て支援ガイド 児童手当"))
    settings = settings_with(tmp_path, max_pdf_pages=50)
    svc, r1 = run(settings)
    assert "town/guide.pdf" in r1.added
    before = {(c.id, c.text) for c in svc.index.view().chunks()}
    many_pages_pdf(town / "guide.pdf", 200)
    svc, r2 = run(settings)
    assert "too many pages: 200 > limit 50" in reason(r2, "town/guide.pdf")
    assert r2.removed == [] and r2.added == [] and r2.updated == []
    assert {(c.id, c.text) for c in svc.index.view().chunks()} == before
    assert svc.index.reconcile() == {k: 0 for k in svc.index.reconcile()}


def test_limits_have_sensible_defaults():
    limits = Settings().ingest
    assert limits.max_pdf_pages == 2_000
    assert 10_000 <= limits.max_table_rows <= 100_000
    assert limits.max_chunks >= 1_000 and limits.max_chars >= 1_000_000
    assert 50 <= limits.max_compression_ratio <= 1_000


# ------------------------------------------------------------------ malformed on purpose


def raw_pdf(objects: dict[int, bytes]) -> bytes:
    """A PDF from numbered object bodies (1 is the catalog), with a correct xref table."""
    out = b"%PDF-1.4\n"
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    xref, size = len(out), max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    out += b"".join(
        (f"{offsets[i]:010d} 00000 n \n" if i in offsets else "0000000000 65535 f \n").encode()
        for i in range(1, size)
    )
    out += f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R >>"
CONTENT = b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 50 700 Td (loop page) Tj ET\nendstream"


@pytest.mark.parametrize(
    ("objects", "what"),
    [
        (
            {
                1: CATALOG,
                2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
            },
            "two-node loop",
        ),
        (
            {
                1: CATALOG,
                2: b"<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 2 >>",
                4: PAGE,
                5: CONTENT,
            },
            "self loop",
        ),
        (
            {
                1: CATALOG,
                2: b"<< /Type /Pages /Kids [4 0 R 4 0 R 4 0 R] /Count 999999999 >>",
                4: PAGE,
                5: CONTENT,
            },
            "lying /Count",
        ),
    ],
    ids=["two-node loop", "self loop", "lying count"],
)
def test_pdf_page_tree_tricks_are_reported_not_raised(tmp_path, town, objects, what):
    (town / "tree.pdf").write_bytes(raw_pdf(objects))
    svc, r = run(settings_with(tmp_path, max_pdf_pages=100))
    skipped = dict(r.skipped)
    if "town/tree.pdf" in skipped:
        assert not skipped["town/tree.pdf"].startswith("unexpected"), skipped["town/tree.pdf"]
    else:  # pypdf read a page tree it could make sense of: no more pages than exist
        assert all(c.meta.get("page", 1) <= 3 for c in svc.index.view().chunks())


def test_encrypted_pdf_is_skipped_with_a_reason(tmp_path, town):
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    w.add_page(PdfReader(io.BytesIO(one_page_pdf("秘密の文書"))).pages[0])
    w.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with (town / "locked.pdf").open("wb") as f:
        w.write(f)
    _svc, r = run(settings_with(tmp_path))
    assert "password-protected" in reason(r, "town/locked.pdf")


@pytest.mark.parametrize("member", ["../x", "/etc/x", "word/../../x", "C:/x", "word\\..\\x"])
def test_zip_member_that_climbs_out_is_refused(tmp_path, town, member):
    docx_with_body(town / "climb.docx", paragraphs(3, "本文"), extra=[(member, b"<a/>")])
    svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/climb.docx")
    assert "unsafe zip member name" in why
    assert_nothing_of(svc, "town/climb.docx")


@pytest.mark.parametrize("name", ["cut.docx", "cut.xlsx", "cut.pptx"])
def test_truncated_office_file_is_skipped(tmp_path, town, name):
    if name.endswith(".xlsx"):
        xlsx_with_sheet(town / name, [header_row(["品目", "分別"]), *number_rows(50, 2)])
    else:
        docx_with_body(town / name, paragraphs(50, "途中で切れた文書"))
    raw = (town / name).read_bytes()
    (town / name).write_bytes(raw[: len(raw) // 2])
    _svc, r = run(settings_with(tmp_path))
    why = reason(r, f"town/{name}")
    assert "not a readable" in why and not why.startswith("unexpected")


def test_aes_encrypted_pdf_is_skipped_with_a_reason(tmp_path, town):
    """An AES-256 (V5/R6) encryption dictionary: pypdf needs the cryptography package to even
    try the empty password; without it that was a bare 'DependencyError'."""
    objects = {
        1: CATALOG,
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        4: PAGE,
        5: CONTENT,
        6: b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4"
        + b" /O <"
        + b"00" * 48
        + b"> /U <"
        + b"00" * 48
        + b">"
        + b" /OE <"
        + b"00" * 32
        + b"> /UE <"
        + b"00" * 32
        + b"> /Perms <"
        + b"00" * 16
        + b">"
        + b" /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >>"
        + b" /StmF /StdCF /StrF /StdCF >>",
    }
    raw = raw_pdf(objects).replace(
        b"/Root 1 0 R >>", b"/Root 1 0 R /Encrypt 6 0 R /ID [<00> <00>] >>"
    )
    (town / "aes.pdf").write_bytes(raw)
    _svc, r = run(settings_with(tmp_path))
    why = reason(r, "town/aes.pdf")
    assert "encrypted PDF" in why or "password-protected" in why


def test_encrypted_zip_member_is_refused(tmp_path, town):
    docx_with_body(town / "locked.docx", paragraphs(3, "本文"))
    raw = bytearray((town / "locked.docx").read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        at = z.start_dir
        for _ in z.infolist():
            n, m, k = struct.unpack_from("<HHH", raw, at + 28)
            flags = struct.unpack_from("<H", raw, at + 8)[0]
            struct.pack_into("<H", raw, at + 8, flags | 0x1)  # "encrypted"
            at += 46 + n + m + k
    (town / "locked.docx").write_bytes(bytes(raw))
    _svc, r = run(settings_with(tmp_path))
    assert "encrypted zip member" in reason(r, "town/locked.docx")
