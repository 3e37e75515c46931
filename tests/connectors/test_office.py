"""DOCX, PPTX and XLSX files: readable text, heading paths, rows as "列名: 値", clear failures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from madoguchi.connectors.folder import FolderConnector
from madoguchi.connectors.office import DOCX, PPTX, docx_markdown, pptx_markdown
from madoguchi.ingest.chunk import chunk_document
from madoguchi.ingest.parse import parse
from madoguchi.ingest.services import build_services
from madoguchi.kit.errors import ParseError


def make_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "子育て支援ガイド"
    d.add_heading("子育て支援ガイド", level=1)
    d.add_paragraph("みどり川町の子育て支援をまとめました。")
    d.add_heading("児童手当", level=2)
    d.add_paragraph("中学生までの児童を養育している方に支給します。")
    d.add_paragraph("申請には印鑑が必要です。", style="List Bullet")
    t = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate(
        [("年齢", "月額"), ("3歳未満", "15,000円"), ("3歳以上", "10,000円")]
    ):
        t.cell(r, 0).text, t.cell(r, 1).text = a, b
    d.add_heading("お問い合わせ", level=2)
    d.add_paragraph("子育て支援課 電話 0120-000-444")
    d.save(str(path))


def make_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[1])
    s.shapes.title.text = "ごみ分別説明会"
    s.placeholders[1].text_frame.text = "燃やせるごみは月曜と木曜です。"
    s2 = prs.slides.add_slide(prs.slide_layouts[5])
    s2.shapes.title.text = "資源ごみ"
    rows = s2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    rows.cell(0, 0).text, rows.cell(0, 1).text = "品目", "出す日"
    rows.cell(1, 0).text, rows.cell(1, 1).text = "ペットボトル", "第2水曜"
    s2.notes_slide.notes_text_frame.text = "質問が多い項目です。"
    prs.save(str(path))


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(str(path))


def test_docx_becomes_markdown_with_headings_and_table_rows(tmp_path):
    make_docx(tmp_path / "guide.docx")
    title, md = docx_markdown((tmp_path / "guide.docx").read_bytes(), "guide.docx")
    assert title == "子育て支援ガイド"
    assert "## 児童手当" in md and "- 申請には印鑑が必要です。" in md
    assert "・年齢: 3歳未満、月額: 15,000円" in md
    docs = list(FolderConnector(["guide.docx"], base=tmp_path).documents())
    assert docs[0].mime == DOCX
    parsed = parse(docs[0])
    assert parsed.title == "子育て支援ガイド"
    assert any(s.heading == "子育て支援ガイド > 児童手当" for s in parsed.sections)
    assert parsed.meta["department"] == "子育て支援課" and parsed.meta["phone"] == "0120-000-444"


def test_pptx_one_section_per_slide_with_tables_and_notes(tmp_path):
    make_pptx(tmp_path / "talk.pptx")
    title, md = pptx_markdown((tmp_path / "talk.pptx").read_bytes(), "talk.pptx")
    assert title == "ごみ分別説明会"
    assert "## 資源ごみ" in md and "・品目: ペットボトル、出す日: 第2水曜" in md
    assert "（ノート）質問が多い項目です。" in md
    docs = list(FolderConnector(["talk.pptx"], base=tmp_path).documents())
    assert docs[0].mime == PPTX
    headings = [s.heading for s in parse(docs[0]).sections]
    assert headings == ["ごみ分別説明会", "ごみ分別説明会 > 資源ごみ"]


def test_xlsx_rows_become_table_documents_and_faq_rows(tmp_path):
    make_xlsx(
        tmp_path / "one.xlsx",
        {
            "施設": [
                ["施設名", "住所", "開館日", "定員"],
                ["中央公民館", "本町1-1", dt.datetime(2024, 4, 1), 120.0],
                [None, None, None, None],
                ["図書館", "本町2-3", None, 40],
            ]
        },
    )
    conn = FolderConnector(["one.xlsx"], base=tmp_path)
    docs = list(conn.documents())
    assert [d.source_id for d in docs] == ["one.xlsx#1", "one.xlsx#3"]
    assert docs[0].body == "施設名: 中央公民館\n住所: 本町1-1\n開館日: 2024-04-01\n定員: 120"
    assert docs[0].title == "中央公民館" and docs[0].kind == "table"

    make_xlsx(
        tmp_path / "faq.xlsx",
        {
            "FAQ": [
                ["ID", "質問", "回答", "担当課"],
                [7, "犬の登録は？", "30日以内に。", "環境課"],
            ],
            "施設": [["名称", "電話"], ["体育館", "0120-000-555"]],
            "空": [],
        },
    )
    docs = list(FolderConnector(["faq.xlsx"], base=tmp_path).documents())
    assert [d.source_id for d in docs] == ["faq.xlsx#FAQ!7", "faq.xlsx#施設!1"]
    assert docs[0].kind == "faq" and docs[0].meta["department"] == "環境課"
    assert docs[1].body == "名称: 体育館\n電話: 0120-000-555"


def test_broken_and_legacy_office_files_are_reported(tmp_path):
    (tmp_path / "bad.docx").write_bytes(b"not a zip")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 broken")
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    make_xlsx(tmp_path / "empty.xlsx", {"Sheet": [["only a header"]]})
    conn = FolderConnector(["."], base=tmp_path)
    docs = list(conn.documents())
    why = dict(conn.skipped)
    assert why["old.doc"] == "unsupported: old Word format '.doc'; save it as .docx"
    assert why["old.xls"].startswith("unsupported: old Excel format")
    assert why["bad.xlsx"].startswith("not a readable XLSX file")
    assert why["empty.xlsx"] == "no sheet with a header row and data rows"
    bad_docx = next(d for d in docs if d.source_id == "bad.docx")
    with pytest.raises(ParseError, match="not a readable DOCX"):
        parse(bad_docx)


def test_office_files_ingest_end_to_end(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    make_docx(tmp_path / "docs" / "guide.docx")
    make_pptx(tmp_path / "docs" / "talk.pptx")
    make_xlsx(tmp_path / "docs" / "shisetsu.xlsx", {"施設": [["名称", "電話"], ["体育館", "0120"]]})
    svc = build_services(settings)
    r = svc.ingest(["docs"])
    assert sorted(r.added) == ["docs/guide.docx", "docs/shisetsu.xlsx#1", "docs/talk.pptx"]
    assert r.skipped == []
    assert svc.ingest(["docs"]).chunks_embedded == 0
    hit = svc.ask("児童手当の月額はいくら").hits[0]
    assert hit.chunk.source_id == "docs/guide.docx" and "15,000円" in hit.chunk.text
    chunks = chunk_document(
        next(FolderConnector(["docs/talk.pptx"]).documents()),
        parse(next(FolderConnector(["docs/talk.pptx"]).documents())),
    )
    assert chunks[1].text.startswith("ごみ分別説明会 > 資源ごみ")
