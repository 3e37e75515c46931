"""OCR of scanned PDFs, end to end: pages made by ``eval/scans.py`` from our own text
(200 dpi, as a town-hall scanner writes them) go through ``madoguchi ingest`` with the
real tesseract, and come back as searchable, cited text.

Tesseract runs are real (about 2-4 s a page), so the OCR'd corpus is ingested once per
module; the cases that need no reading (tesseract absent, a timeout, a malformed file)
stop before tesseract does any work. Without tesseract the OCR tests are skipped on a
developer's machine and fail on CI (``./run test`` installs it).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from madoguchi.eval.bench_ocr import cer
from madoguchi.eval.scans import (
    BOUSAI,
    GOMI,
    add_noise,
    images_pdf,
    render_horizontal,
    ruined,
    skew,
)
from madoguchi.ingest.consistency import check_index
from madoguchi.ingest.ocr import unavailable
from madoguchi.ingest.services import build_services
from madoguchi.kit.config import IngestSettings, Settings

#: character error rate a page of the skewed or noisy scan must stay under (measured:
#: about 1%, eval/bench_ocr.py)
MAX_CER = 0.05

TEXT_PAGES = [
    "みどり川町 くらしのガイド\n転入届は住民課の窓口で受け付けます。",
    "図書館の利用案内\n町立図書館の貸出冊数は一人十冊までです。",
]


def _needs_tesseract() -> None:
    reason = unavailable(IngestSettings())
    if reason:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason}; ./run test should have installed it")
        pytest.skip(reason)


def png(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def text_pdf(pages: list[str]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for text in pages:
        c.setFont("HeiseiKakuGo-W5", 12)
        for i, line in enumerate(text.split("\n")):
            c.drawString(50, 800 - 20 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def joined(*pdfs: bytes) -> bytes:
    """The pages of several PDFs in one file (a scanned page inside a typed document)."""
    from pypdf import PdfReader, PdfWriter

    out = PdfWriter()
    for raw in pdfs:
        for page in PdfReader(io.BytesIO(raw)).pages:
            out.add_page(page)
    buf = io.BytesIO()
    out.write(buf)
    return buf.getvalue()


def ocr_settings(data_dir: Path, **ingest: Any) -> Settings:
    """The fake embedder, the real Chroma store, the default OCR settings (300 dpi, which
    renders these 200 dpi scans at their own 200)."""
    return Settings(
        data_dir=data_dir, embedder={"kind": "fake", "dim": 256}, ingest=ingest
    ).with_overrides(**{"answer.answer_threshold": 0.0})


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """skewed.pdf, noisy.pdf and ruined.pdf (the 防災 notice), mixed.pdf (two typed pages,
    then the 粗大ごみ notice scanned), broken.pdf (a scan cut in half)."""
    folder = tmp_path_factory.mktemp("scans") / "town"
    folder.mkdir()
    page = render_horizontal(BOUSAI)
    files = {
        "skewed": images_pdf([png(skew(page))]),
        "noisy": images_pdf([png(add_noise(page))]),
        "ruined": images_pdf([png(ruined(page))]),
        "mixed": joined(text_pdf(TEXT_PAGES), images_pdf([png(render_horizontal(GOMI))])),
    }
    files["broken"] = files["skewed"][: len(files["skewed"]) // 2]
    paths = {}
    for name, raw in files.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(raw)
    return paths


@pytest.fixture(scope="module")
def ocr_run(scans: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """One ingest of skewed, noisy, ruined and mixed with the real tesseract."""
    _needs_tesseract()
    settings = ocr_settings(tmp_path_factory.mktemp("ocr") / "data")
    svc = build_services(settings)
    paths = [str(scans[n]) for n in ("skewed", "noisy", "ruined", "mixed")]
    report = svc.ingest(paths)
    yield settings, svc, report
    svc.close()


def body(chunk: Any) -> str:
    """A chunk's text as the page has it: the chunker starts a chunk of page 2 on with the
    heading "<title> p.N", which the page does not say (page 1's heading is its own first
    line, already in the text)."""
    heading = chunk.meta.get("heading", "")
    if chunk.meta.get("page", 1) > 1:
        return chunk.text.removeprefix(f"{heading}\n")
    return chunk.text


def chunks_of(svc: Any, source_suffix: str) -> list[Any]:
    view = svc.index.view()
    return sorted(
        (c for c in view.chunks() if c.source_id.endswith(source_suffix)), key=lambda c: c.position
    )


# ---------------------------------------------------------------- reading scans


def test_a_scan_is_rendered_at_its_own_resolution_never_enlarged(scans):
    import pypdfium2 as pdfium

    from madoguchi.ingest.ocr import render, scan_dpi

    pdf = pdfium.PdfDocument(scans["skewed"].read_bytes())
    try:
        assert round(scan_dpi(pdf[0])) == 200
        assert render(pdf, 0, 300)[1] == 200  # not interpolated up to the default 300
        image, dpi = render(pdf, 0, 150)
        assert dpi == 150 and image.size[0] == round(1165 * 150 / 200)
    finally:
        pdf.close()
    mixed = pdfium.PdfDocument(scans["mixed"].read_bytes())
    try:
        assert scan_dpi(mixed[0]) is None  # a typed page has no scan
        assert round(scan_dpi(mixed[2])) == 200
    finally:
        mixed.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["skewed", "noisy"])
def test_character_error_rate_per_page_is_under_the_bound(ocr_run, name):
    _, svc, report = ocr_run
    chunks = chunks_of(svc, f"{name}.pdf")
    assert chunks, report.skipped
    assert {c.meta.get("page") for c in chunks} == {1}
    assert all(c.meta.get("ocr") for c in chunks)
    text = "".join(body(c) for c in chunks)
    assert cer(text, BOUSAI) < MAX_CER, text


@pytest.mark.slow
def test_ingest_report_lists_ocr_pages_with_confidence(ocr_run):
    _, _, report = ocr_run
    pages = report.ocr_by_source()
    names = {Path(s).name: ps for s, ps in pages.items()}
    assert set(names) == {"skewed.pdf", "noisy.pdf", "ruined.pdf", "mixed.pdf"}
    for name in ("skewed.pdf", "noisy.pdf"):
        (p,) = names[name]
        assert p.page == 1 and p.lang == "jpn" and 60 <= p.confidence <= 100 and not p.low
        assert p.chars > 150
    # the typed pages of the mixed file are not OCR'd: only its scanned page 3
    assert [p.page for p in names["mixed.pdf"]] == [3]
    shown = report.to_json()["ocr_pages"]
    assert {"source", "page", "confidence", "lang", "low_confidence"} <= set(shown[0])


@pytest.mark.slow
def test_a_page_read_with_little_confidence_is_indexed_and_flagged(ocr_run):
    settings, svc, report = ocr_run
    (p,) = [p for p in report.ocr if p.source.endswith("ruined.pdf")]
    assert p.low and p.confidence < settings.ingest.ocr_min_confidence
    said = [w for s, w in report.warnings if s.endswith("ruined.pdf")]
    assert any("p. 1" in w and "信頼度" in w and "OCR_MIN_CONFIDENCE" in w for w in said), said
    assert any(s.endswith("ruined.pdf") for s in report.added)  # indexed, for staff to check
    chunks = chunks_of(svc, "ruined.pdf")
    assert chunks and all(
        c.meta["ocr_confidence"] < settings.ingest.ocr_min_confidence for c in chunks
    )
    # the well-read pages are not flagged
    assert not [s for s, _ in report.warnings if s.endswith(("skewed.pdf", "noisy.pdf"))]


@pytest.mark.slow
def test_mixed_pdf_keeps_text_pages_and_reads_the_scanned_one(ocr_run):
    _, svc, _ = ocr_run
    chunks = chunks_of(svc, "mixed.pdf")
    by_page: dict[int, str] = {}
    for c in chunks:
        by_page[c.meta["page"]] = by_page.get(c.meta["page"], "") + body(c)
    assert set(by_page) == {1, 2, 3}
    assert "転入届" in by_page[1] and "貸出冊数" in by_page[2]
    assert not any(c.meta.get("ocr") for c in chunks if c.meta["page"] != 3)
    assert cer(by_page[3], GOMI) < MAX_CER


@pytest.mark.slow
def test_a_question_answered_only_by_the_scan(ocr_run):
    _, svc, _ = ocr_run
    res = svc.ask("粗大ごみの手数料は一点いくらですか")
    a = res.answer
    assert not a.refused
    assert a.citations[0].source_id.endswith("mixed.pdf")
    assert a.citations[0].page == 3  # cited as 「… p. 3」
    assert "八百円" in a.text


@pytest.mark.slow
def test_the_index_stays_consistent_after_ocr(ocr_run):
    settings, _, _ = ocr_run
    check = check_index(settings)
    assert check.exists and check.consistent and check.chunks > 0


# ---------------------------------------------------------------- when OCR cannot run


def test_without_tesseract_a_scan_is_skipped_as_before(scans, tmp_path):
    settings = ocr_settings(tmp_path / "data", ocr_command=str(tmp_path / "no" / "tesseract"))
    svc = build_services(settings)
    try:
        report = svc.ingest([str(scans["skewed"]), str(scans["mixed"])])
    finally:
        svc.close()
    skipped = dict(report.skipped)
    (reason,) = [r for s, r in skipped.items() if s.endswith("skewed.pdf")]
    assert "no text layer (scanned?)" in reason and "not installed" in reason
    assert report.ocr == []
    # the mixed file's typed pages are indexed; its scanned page is named as left out
    assert any(s.endswith("mixed.pdf") for s in report.added)
    said = [w for s, w in report.warnings if s.endswith("mixed.pdf")]
    assert any("p. 3" in w and "no text layer" in w for w in said), said


def test_an_ocr_timeout_is_reported_and_the_document_skipped(scans, tmp_path):
    _needs_tesseract()
    settings = ocr_settings(tmp_path / "data", ocr_timeout=0.001)
    svc = build_services(settings)
    faq = tmp_path / "faq.csv"
    faq.write_text("ID,質問,回答\n1,役場の開庁時間は？,平日の午前8時30分からです。\n", "utf-8")
    try:
        report = svc.ingest([str(faq), str(scans["skewed"]), str(scans["mixed"])])
        chunk_sources = {c.source_id for c in svc.index.view().chunks()}
    finally:
        svc.close()
    (reason,) = [r for s, r in report.skipped if s.endswith("skewed.pdf")]
    assert "took longer than" in reason and "MADOGUCHI_INGEST__OCR_TIMEOUT" in reason
    assert not any(s.endswith("skewed.pdf") for s in chunk_sources)
    # the typed pages of the mixed file still count; its scanned page is named
    assert any(s.endswith("mixed.pdf") for s in report.added)
    said = [w for s, w in report.warnings if s.endswith("mixed.pdf")]
    assert any("p. 3" in w and "took longer than" in w for w in said), said
    assert any(s.endswith("faq.csv#1") for s in chunk_sources)
    check = check_index(settings)
    assert check.consistent and check.sources == len({s.split("#")[0] for s in report.added})


def test_a_malformed_pdf_is_reported(scans, tmp_path):
    settings = ocr_settings(tmp_path / "data")
    svc = build_services(settings)
    try:
        report = svc.ingest([str(scans["broken"])])
    finally:
        svc.close()
    ((source, reason),) = report.skipped
    assert source.endswith("broken.pdf") and "PDF" in reason
    assert report.added == [] and report.ocr == []
    assert check_index(settings).consistent


@pytest.mark.slow
def test_cli_ingest_shows_each_ocr_page_and_its_confidence(scans, tmp_path, monkeypatch):
    _needs_tesseract()
    from typer.testing import CliRunner

    from madoguchi.ui.cli import app

    monkeypatch.chdir(scans["mixed"].parent)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    r = CliRunner().invoke(app, ["ingest", "mixed.pdf"])
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.output.splitlines() if ln.startswith("ocr "))
    assert line.startswith("ocr mixed.pdf: 1 scanned page(s) read by OCR, confidence p.3 ")
    assert "(low)" not in line
