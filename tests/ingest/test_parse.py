"""Parsing: HTML without boilerplate, Markdown sections, text encodings, PDF, contact blocks."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from madoguchi.ingest.parse import (
    ParsedDocument,
    Section,
    contact_from_text,
    parse,
    updated_from_text,
)
from madoguchi.kit.errors import ParseError
from madoguchi.kit.types import SourceDocument

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="{charset}"><title>子育て支援｜みどり川町</title>
<style>.x{{color:red}}</style><script>var tracking = 1;</script></head>
<body>
<header><p>文字サイズ 拡大 標準</p></header>
<nav><ul><li>ホーム</li><li>観光案内</li></ul></nav>
<div id="side"><aside>関連リンク 町長室</aside></div>
<form><input name="q"><p>サイト内検索</p></form>
<main>
  <h1>子育て支援</h1>
  <p>更新日：2025年3月10日</p>
  <h2>児童手当</h2>
  <p>中学生までの子どもを養育している方に支給します。</p>
  <h3>申請方法</h3>
  <p>出生の翌日から15日以内に
     申請してください。</p>
  <h2>乳幼児健診</h2>
  <ul><li>4か月健診</li><li>1歳6か月健診</li></ul>
  <div><h4>持ち物</h4><p>母子健康手帳&amp;問診票</p></div>
  <div class="contact"><h2>お問い合わせ</h2>
  <p>こども家庭課 子育て支援係<br>電話：0123-45-6789　ファクス：0123-45-6790</p></div>
</main>
<footer><p>みどり川町役場 〒000-0000 電話 0123-45-0000</p><p>Copyright 2025</p></footer>
</body></html>"""


def doc(body: bytes | str, mime: str, kind: str = "page", sid: str = "town/p") -> SourceDocument:
    return SourceDocument(sid, sid, "fallback-title", body, mime, {"kind": kind})


def html(charset: str = "utf-8", encoding: str = "utf-8") -> SourceDocument:
    return doc(PAGE.format(charset=charset).encode(encoding), "text/html")


# ---------------------------------------------------------------- HTML


def test_html_drops_boilerplate_and_keeps_main():
    p = parse(html())
    assert isinstance(p, ParsedDocument) and all(isinstance(s, Section) for s in p.sections)
    text = p.text
    for kept in ("中学生までの子ども", "申請してください", "4か月健診", "母子健康手帳&問診票"):
        assert kept in text
    for junk in (
        "文字サイズ",
        "観光案内",
        "町長室",
        "サイト内検索",
        "tracking",
        "color",
        "Copyright",
    ):
        assert junk not in text
    assert "\n     " not in text and "15日以内に 申請" in text


def test_html_title_sections_and_heading_paths():
    p = parse(html())
    assert p.title == "子育て支援｜みどり川町"
    assert [s.heading for s in p.sections] == [
        "子育て支援｜みどり川町",  # the h1 is the title's own heading
        "子育て支援｜みどり川町 > 児童手当",
        "子育て支援｜みどり川町 > 児童手当 > 申請方法",
        "子育て支援｜みどり川町 > 乳幼児健診",
        "子育て支援｜みどり川町 > 乳幼児健診 > 持ち物",
        "子育て支援｜みどり川町 > お問い合わせ",
    ]
    assert p.sections[0].text == "更新日：2025年3月10日"
    assert all(s.page is None for s in p.sections)


def test_html_contact_and_updated_meta():
    p = parse(html())
    assert p.meta["kind"] == "page"
    assert p.meta["updated"] == "2025年3月10日"
    assert p.meta["department"] == "こども家庭課 子育て支援係"
    assert p.meta["phone"] == "0123-45-6789"


def test_article_is_kept_when_there_is_no_main():
    page = (
        "<html><body><div class='menu'><ul><li>メニュー</li></ul></div>"
        "<article><h2>お知らせ</h2><p>本文です。</p></article><p>外の宣伝</p></body></html>"
    )
    p = parse(doc(page.encode(), "text/html"))
    assert p.text == "本文です。"
    assert p.title == "お知らせ"


def test_html_without_main_keeps_body_text():
    p = parse(
        doc(b"<html><body><p>one</p><script>x()</script><p>two</p></body></html>", "text/html")
    )
    assert p.text == "one\ntwo"
    assert p.title == "fallback-title"


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [("shift_jis", "cp932"), ("Shift_JIS", "cp932"), ("euc-jp", "euc_jp"), ("utf-8", "utf-8")],
)
def test_html_declared_charset(charset, encoding):
    p = parse(html(charset, encoding))
    assert "中学生までの子ども" in p.text


def test_html_with_a_wrong_declaration_is_still_read():
    p = parse(html("iso-8859-1", "cp932"))
    assert "中学生までの子ども" in p.text


def test_html_with_no_text_is_a_parse_error():
    with pytest.raises(ParseError, match="town/p: no text"):
        parse(doc(b"<html><body><nav>menu</nav></body></html>", "text/html"))


# ---------------------------------------------------------------- Markdown

MD = """---
layout: page
---
# 防災ガイド

本町の[避難所](https://example.invalid/a)一覧です。![地図](map.png)

## 避難所一覧

| 名称 | 収容 |
|------|-----:|
| 中央公民館 | 200 |

### 中央公民館

- 駐車場あり
- **ペット同伴可**

```
# not a heading
```

---

## 非常持出品

水と食料。

## お問い合わせ

総務課 防災係
- 電話: 0123-45-1111
- FAX: 0123-45-1112
"""


def test_markdown_sections_by_heading():
    p = parse(doc(MD.encode(), "text/markdown"))
    assert p.title == "防災ガイド"
    assert [s.heading for s in p.sections] == [
        "防災ガイド",
        "防災ガイド > 避難所一覧",
        "防災ガイド > 避難所一覧 > 中央公民館",
        "防災ガイド > 非常持出品",
        "防災ガイド > お問い合わせ",
    ]
    assert p.sections[0].text == "本町の避難所一覧です。"
    assert "|------" not in p.sections[1].text and "中央公民館 | 200" in p.sections[1].text
    assert "・駐車場あり\n・ペット同伴可" in p.sections[2].text
    assert "# not a heading" in p.sections[2].text
    assert "layout" not in p.text and "---" not in p.text
    assert p.meta == {
        "kind": "page",
        "department": "総務課 防災係",
        "phone": "0123-45-1111",
    }


def test_markdown_without_headings_uses_the_document_title():
    p = parse(doc("ただの本文。\n二行目。".encode(), "text/markdown"))
    assert p.title == "fallback-title"
    assert p.sections == [Section("fallback-title", "ただの本文。\n二行目。")]


def test_empty_markdown_is_a_parse_error():
    with pytest.raises(ParseError, match="empty"):
        parse(doc(b"# \n\n", "text/markdown"))


# ---------------------------------------------------------------- text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "euc_jp"])
def test_text_encodings(encoding):
    body = "住民票の写しは住民課の窓口で交付します。\n手数料は１通３００円です。"
    p = parse(doc(body.encode(encoding), "text/plain", kind="text"))
    assert p.text == body
    assert len(p.sections) == 1 and p.sections[0].heading == "fallback-title"


def test_text_whitespace_is_tidied_but_text_kept():
    p = parse(
        doc("  全角　スペース\t\tと\r\n\r\n\r\n\r\nＡＢＣ１２３  ".encode(), "text/plain", "text")
    )
    assert p.text == "全角 スペース と\n\nＡＢＣ１２３"  # no NFKC: full-width stays


def test_binary_text_file_is_a_parse_error():
    with pytest.raises(ParseError, match="town/p: binary"):
        parse(doc(b"\x00\x01\x02abc", "text/plain", kind="text"))


def test_faq_and_table_rows_are_one_section():
    meta = {"kind": "faq", "question": "Q？", "answer": "A。", "department": "住民課"}
    p = parse(SourceDocument("f.csv#1", "f.csv#1", "Q？", "Q？\nA。", "text/csv", meta))
    assert p.sections == [Section("Q？", "Q？\nA。")]
    assert p.meta == meta
    t = parse(
        SourceDocument("t.csv#1", "t.csv", "びん", "name: びん", "text/csv", {"kind": "table"})
    )
    assert t.text == "name: びん" and t.title == "びん"


# ---------------------------------------------------------------- PDF


def make_pdf(pages: list[str], **canvas_args) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, **canvas_args)
    for text in pages:
        c.setFont("HeiseiKakuGo-W5", 12)
        for i, line in enumerate(text.split("\n")):
            c.drawString(50, 800 - 20 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_round_trips_japanese_text_per_page():
    data = make_pdf(
        [
            "子育てガイド\n妊娠届は保健福祉課へ提出してください。",
            "乳幼児健診は4か月と1歳6か月です。\nお問い合わせ 保健福祉課 電話 0120-000-123",
        ]
    )
    p = parse(doc(data, "application/pdf", kind="pdf", sid="pdf/guide.pdf"))
    assert [s.page for s in p.sections] == [1, 2]
    assert p.title == "子育てガイド"
    assert "妊娠届は保健福祉課へ提出してください。" in p.sections[0].text
    assert "乳幼児健診は4か月と1歳6か月です。" in p.sections[1].text
    assert p.sections[1].heading == "子育てガイド p.2"
    assert p.meta["department"] == "保健福祉課"
    assert p.meta["phone"] == "0120-000-123"


def test_pdf_title_from_metadata():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setTitle("防災マップ")
    c.drawString(50, 800, "Evacuation map")
    c.save()
    p = parse(doc(buf.getvalue(), "application/pdf", kind="pdf"))
    assert p.title == "防災マップ" and p.text == "Evacuation map"


@pytest.mark.parametrize(
    "data",
    [b"not a pdf at all", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF", bytes(range(256)) * 8],
)
def test_corrupt_pdf_is_a_parse_error(data):
    with pytest.raises(ParseError, match=r"^pdf/x\.pdf: .*PDF"):
        parse(doc(data, "application/pdf", kind="pdf", sid="pdf/x.pdf"))


def test_pypdf_does_not_print_over_the_ingest_report(tmp_path):
    """Its "EOF marker not found" went to stderr through logging's last resort; a fresh
    process, because pytest's own log capture would hide it here."""
    import subprocess
    import sys

    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\nbroken")
    code = (
        "from ingest.parse import parse; from kit.types import SourceDocument\n"
        "d = SourceDocument('bad.pdf', 'bad.pdf', 'bad', open('bad.pdf', 'rb').read(),"
        " 'application/pdf', {'kind': 'pdf'})\n"
        "try:\n    parse(d)\nexcept Exception as e:\n    print(type(e).__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert r.stdout.strip() == "ParseError"
    assert r.stderr == ""


def test_truncated_pdf_is_a_parse_error():
    data = make_pdf(["途中で切れたファイル"])
    with pytest.raises(ParseError, match="PDF"):
        parse(doc(data[: len(data) // 3], "application/pdf", kind="pdf"))


def test_password_protected_pdf_is_a_parse_error():
    data = make_pdf(["秘密"], encrypt="secret-password")
    with pytest.raises(ParseError, match="password"):
        parse(doc(data, "application/pdf", kind="pdf"))


def test_pdf_without_text_layer_is_reported():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(10, 10, 100, 100, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(ParseError, match=r"no text layer \(scanned\?\)"):
        parse(doc(buf.getvalue(), "application/pdf", kind="pdf"))


# ---------------------------------------------------------------- contact blocks


@pytest.mark.parametrize(
    ("text", "department", "phone"),
    [
        (
            "本文。\n【お問い合わせ】子育て支援課 ０６－６４８９－６４０８",
            "子育て支援課",
            "０６－６４８９－６４０８",
        ),
        ("お問い合わせ：環境衛生課 電話 0120-000-111　Copyright", "環境衛生課", "0120-000-111"),
        (
            "【お問い合わせ】。資産統括局税務管理部。税務管理課（窓口）。電話０６－６４８９－６２８４。",
            "資産統括局税務管理部 税務管理課（窓口）",
            "０６－６４８９－６２８４",
        ),
        (
            "【お問い合わせ】。経済環境局環境部。クリーンセンター。尼崎市東海岸町１６番地の１。電話０６－６４０９－０１０１。",
            "経済環境局環境部 クリーンセンター",
            "０６－６４０９－０１０１",
        ),
        (
            "## お問い合わせ先\n\n会計課 会計係\n- 電話: 01656-5-3311（内線 27、28）\n- FAX: 01656-5-3837",
            "会計課 会計係",
            "01656-5-3311",
        ),
        (
            "問い合わせ先\n上川北部消防事務組合 音威子府支署\nFAX 01656-5-3837\nTEL 01656-5-3119",
            "上川北部消防事務組合 音威子府支署",
            "01656-5-3119",
        ),
        (
            "詳しくはお問い合わせください。\nお問合せ先：税務課 ファクス 0123-45-0001 0123-45-0002",
            "税務課",
            "0123-45-0002",
        ),
    ],
)
def test_contact_block(text, department, phone):
    assert contact_from_text(text) == {"department": department, "phone": phone}


def test_contact_label_in_the_body_is_not_a_block():
    text = (
        "手続きは住民課へ。\nお問い合わせ\n住民課 電話 0123-45-2222\n不明点はお問い合わせください。"
    )
    assert contact_from_text(text) == {"department": "住民課", "phone": "0123-45-2222"}


def test_no_contact_block():
    assert contact_from_text("ごみは朝8時までに出してください。") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("最終更新日：2025年4月1日", "2025年4月1日"),
        ("更新日 令和7年4月1日", "令和7年4月1日"),
        ("公開日 2024/01/05 最終更新日 2025/02/03", "2025/02/03"),
        ("最終更新 2025-04-01", "2025-04-01"),
        ("運転免許の更新は警察署で。", None),
    ],
)
def test_updated_date(text, expected):
    assert updated_from_text(text) == expected


def test_short_h2_inside_the_title_keeps_its_own_section():
    page = "<title>町営バスの時刻と運賃｜みどり川町</title><main><h1>町営バスの時刻と運賃</h1><p>a</p><h2>運賃</h2><p>大人200円。</p></main>"
    p = parse(doc(page.encode(), "text/html"))
    assert [s.heading for s in p.sections] == [
        "町営バスの時刻と運賃｜みどり川町",
        "町営バスの時刻と運賃｜みどり川町 > 運賃",
    ]
