"""Parsing and chunking of pages, PDFs and text; FAQ rows stay whole."""

from __future__ import annotations

import io

import pytest

from ingest.chunk import chunk_document
from ingest.parse import contact_from_text, parse
from kit.errors import ParseError
from kit.types import SourceDocument

HTML = """<!doctype html><html><head><meta charset="utf-8"><title>ごみの出し方｜みどり川町</title>
<style>body{color:red}</style><script>alert('x')</script></head><body>
<header><a href="/">トップ</a> サイト内検索</header>
<nav><ul><li>くらし</li><li>子育て</li></ul></nav>
<div class="breadcrumb" role="navigation">ホーム &gt; くらし</div>
<main><h1>ごみの出し方</h1><p>最終更新日：2025年4月1日</p>
<h2>燃やすごみ</h2><p>燃やすごみは月曜と木曜の朝8時までに出してください。</p>
<h2>資源ごみ</h2><p>びん・缶は第2水曜日です。</p></main>
<footer>お問い合わせ：環境衛生課 電話 0120-000-111　Copyright みどり川町</footer>
</body></html>"""


def doc(body, mime, kind="page", sid="x"):
    return SourceDocument(sid, sid, sid, body, mime, {"kind": kind})


def test_html_keeps_main_content_and_drops_boilerplate():
    p = parse(doc(HTML.encode("utf-8"), "text/html"))
    assert p.title == "ごみの出し方｜みどり川町"
    text = p.text
    assert "月曜と木曜" in text and "第2水曜日" in text
    for junk in ("サイト内検索", "くらし", "alert", "color:red", "Copyright", "ホーム"):
        assert junk not in text
    assert [s.heading for s in p.sections][-2:] == [
        "ごみの出し方｜みどり川町 > 燃やすごみ",
        "ごみの出し方｜みどり川町 > 資源ごみ",
    ]
    assert p.meta["department"] == "環境衛生課"
    assert p.meta["phone"] == "0120-000-111"
    assert p.meta["updated"].startswith("2025年4月1日")


def test_shift_jis_html_and_text_decode():
    p = parse(
        doc(HTML.replace('charset="utf-8"', 'charset="shift_jis"').encode("cp932"), "text/html")
    )
    assert "燃やすごみ" in p.text
    t = parse(doc("住民票の写しは窓口で。".encode("cp932"), "text/plain", kind="text"))
    assert t.text == "住民票の写しは窓口で。"


def test_markdown_sections_and_links():
    md = "# 防災ガイド\n\n本町の[避難所](http://x)一覧です。\n\n## 中央公民館\n\n- 収容200人\n- 駐車場あり\n"
    p = parse(doc(md.encode(), "text/markdown"))
    assert p.title == "防災ガイド"
    assert p.sections[0].text == "本町の避難所一覧です。"
    assert p.sections[1].heading == "防災ガイド > 中央公民館"
    assert "・収容200人" in p.sections[1].text


def _pdf(pages: list[str]) -> bytes:
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


def test_pdf_pages_become_sections():
    data = _pdf(["子育てガイド\n妊娠届は保健福祉課へ。", "乳幼児健診は4か月と1歳6か月です。"])
    p = parse(doc(data, "application/pdf", kind="pdf"))
    assert [s.page for s in p.sections] == [1, 2]
    assert "妊娠届" in p.sections[0].text
    assert "健診" in p.sections[1].text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a pdf at all", "not a readable PDF"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF", "PDF"),
    ],
)
def test_corrupt_pdf_is_a_parse_error(data, message):
    with pytest.raises(ParseError, match=message):
        parse(doc(data, "application/pdf", kind="pdf"))


def test_pdf_without_text_layer_is_reported():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(10, 10, 100, 100)
    c.showPage()
    c.save()
    with pytest.raises(ParseError, match="no text layer"):
        parse(doc(buf.getvalue(), "application/pdf", kind="pdf"))


def test_empty_text_is_a_parse_error():
    with pytest.raises(ParseError, match="empty"):
        parse(doc(b"  \n ", "text/plain", kind="text"))


def test_chunks_end_at_sentences_and_carry_headings():
    sentence = "住民票の写しは住民課の窓口で交付します。"
    md = "# 手続き\n\n## 住民票\n\n" + sentence * 60
    d = doc(md.encode(), "text/markdown", sid="p.md")
    chunks = chunk_document(d, parse(d), max_chars=200, overlap=0)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text.startswith("手続き > 住民票\n")
        assert c.text.endswith("。")
        assert len(c.text) <= 200 + len("手続き > 住民票\n")
        assert all(isinstance(v, str | int | float | bool) for v in c.meta.values())
    assert len({c.id for c in chunks}) == len(chunks)


def test_faq_row_is_exactly_one_chunk():
    q, a = "粗大ごみは？", "予約制です。" * 200
    d = SourceDocument(
        "f.csv#1",
        "f.csv#1",
        q,
        f"{q}\n{a}",
        "text/csv",
        {"kind": "faq", "question": q, "answer": a, "department": "環境衛生課"},
    )
    chunks = chunk_document(d, parse(d))
    assert len(chunks) == 1
    assert chunks[0].meta["question"] == q and chunks[0].meta["department"] == "環境衛生課"


def test_contact_block_full_width_phone():
    got = contact_from_text("本文。\n【お問い合わせ】子育て支援課 ０６－６４８９－６４０８")
    assert got == {"department": "子育て支援課", "phone": "０６－６４８９－６４０８"}
