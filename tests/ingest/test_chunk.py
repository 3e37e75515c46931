"""Chunking: FAQ/table rows whole, pages split at sentence ends with heading prefixes."""

from __future__ import annotations

import pytest

from madoguchi.ingest.chunk import chunk_document
from madoguchi.ingest.parse import ParsedDocument, Section, parse
from madoguchi.kit.types import Chunk, SourceDocument

SCALAR = (str, int, float, bool)


def page(md: str, sid: str = "pages/p.md") -> tuple[SourceDocument, ParsedDocument]:
    d = SourceDocument(sid, sid, "p", md.encode(), "text/markdown", {"kind": "page"})
    return d, parse(d)


def faq_doc(q: str, a: str, **meta: str) -> SourceDocument:
    return SourceDocument(
        "faq.csv#12",
        "faq.csv#12",
        q,
        f"{q}\n{a}",
        "text/csv",
        {"kind": "faq", "question": q, "answer": a, **meta},
    )


def test_faq_row_is_exactly_one_chunk_however_long():
    q, a = "粗大ごみの出し方は？", "電話で予約してください。" * 300
    d = faq_doc(q, a, department="環境衛生課", phone="0120-000-111", url="https://x.invalid/")
    chunks = chunk_document(d, parse(d), max_chars=200)
    assert len(chunks) == 1
    c = chunks[0]
    assert c.text == f"{q}\n{a}"
    assert (c.source_id, c.title, c.position) == ("faq.csv#12", q, 0)
    assert c.id == Chunk.make_id("faq.csv#12", c.text)
    assert {k: c.meta[k] for k in ("kind", "question", "answer", "department", "phone", "url")} == {
        "kind": "faq",
        "question": q,
        "answer": a,
        "department": "環境衛生課",
        "phone": "0120-000-111",
        "url": "https://x.invalid/",
    }


def test_table_row_is_one_chunk():
    d = SourceDocument(
        "t.csv#3",
        "t.csv",
        "スプレー缶",
        "name: スプレー缶\ntype: 有害ごみ",
        "text/csv",
        {"kind": "table", "columns": "type,name"},
    )
    chunks = chunk_document(d, parse(d))
    assert [c.text for c in chunks] == ["name: スプレー缶\ntype: 有害ごみ"]
    assert chunks[0].meta == {"kind": "table", "columns": "type,name"}


SENTENCES = [f"住民票の写しは第{i}窓口で交付します。" for i in range(1, 61)]


@pytest.mark.parametrize(("max_chars", "overlap"), [(120, 0), (200, 40), (500, 60)])
def test_page_chunks_fit_and_end_at_sentences(max_chars, overlap):
    d, parsed = page("# 手続き\n\n## 住民票\n\n" + "".join(SENTENCES))
    chunks = chunk_document(d, parsed, max_chars=max_chars, overlap=overlap)
    assert len(chunks) > 1
    heading = "手続き > 住民票"
    for c in chunks:
        assert len(c.text) <= max_chars
        assert c.text.startswith(heading + "\n")
        body = c.text.removeprefix(heading + "\n")
        assert body.endswith("。")
        assert body.startswith("住民票の写しは第"), "never starts mid-sentence"
    # every sentence survives, in order
    seen = "".join(c.text.removeprefix(heading + "\n") for c in chunks)
    for s in SENTENCES:
        assert s in seen
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


def test_overlap_repeats_whole_sentences():
    d, parsed = page("# 手続き\n\n" + "".join(SENTENCES))
    a, b = (c.text.removeprefix("手続き\n") for c in chunk_document(d, parsed, 150, 40)[:2])
    # b starts with the last whole sentence(s) of a, at most 40 characters of them
    shared = [k for k in range(1, 41) if b[:k].endswith("。") and a.endswith(b[:k])]
    assert shared, (a, b)
    assert b[: shared[-1]].startswith("住民票の写しは第")


def test_sentence_longer_than_a_chunk_is_cut_at_commas():
    long = "、".join(f"書類{i}" for i in range(80)) + "を持参してください。"
    d, parsed = page("# 持ち物\n\n" + long)
    chunks = chunk_document(d, parsed, max_chars=100, overlap=0)
    assert len(chunks) > 1
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.removeprefix("持ち物\n").endswith(("、", "。")) for c in chunks)


def test_paragraphs_are_preferred_split_points():
    p1 = "燃やすごみは月曜と木曜です。" * 3
    p2 = "資源ごみは第2水曜日です。" * 3
    d, parsed = page(f"# ごみ\n\n{p1}\n\n{p2}")
    chunks = chunk_document(d, parsed, max_chars=60, overlap=0)
    assert [c.text for c in chunks] == [f"ごみ\n{p1}", f"ごみ\n{p2}"]


def test_each_section_is_chunked_with_its_heading_and_meta():
    md = "# 防災ガイド\n\n前書き。\n\n## 避難所一覧\n\n中央公民館。\n\nお問い合わせ 総務課 電話 0123-45-6789\n"
    d, parsed = page(md)
    chunks = chunk_document(d, parsed)
    assert [c.text for c in chunks] == [
        "防災ガイド\n前書き。",
        "防災ガイド > 避難所一覧\n中央公民館。\n\nお問い合わせ 総務課 電話 0123-45-6789",
    ]
    for c in chunks:
        assert c.title == "防災ガイド"
        assert c.meta["kind"] == "page"
        assert c.meta["department"] == "総務課" and c.meta["phone"] == "0123-45-6789"
        assert "page" not in c.meta and "url" not in c.meta
        assert all(isinstance(v, SCALAR) for v in c.meta.values())
    assert chunks[1].meta["heading"] == "防災ガイド > 避難所一覧"


def test_pdf_page_numbers_reach_the_chunk_meta():
    d = SourceDocument("g.pdf", "g.pdf", "g", b"", "application/pdf", {"kind": "pdf"})
    parsed = ParsedDocument(
        "ガイド",
        [Section("ガイド", "一頁目。", 1), Section("ガイド p.2", "二頁目。", 2)],
        {"kind": "pdf", "updated": "2025年4月1日", "nested": {"x": 1}, "empty": ""},
    )
    chunks = chunk_document(d, parsed)
    assert [(c.text, c.meta["page"]) for c in chunks] == [
        ("ガイド\n一頁目。", 1),
        ("ガイド p.2\n二頁目。", 2),
    ]
    # only Chroma-safe scalars, nothing empty
    assert chunks[0].meta == {
        "kind": "pdf",
        "updated": "2025年4月1日",
        "heading": "ガイド",
        "page": 1,
    }


def test_ids_are_stable_and_follow_content():
    d, parsed = page("# A\n\n本文です。")
    first = chunk_document(d, parsed)
    assert [c.id for c in first] == [c.id for c in chunk_document(d, parsed)]
    d2, parsed2 = page("# A\n\n本文を変えました。")
    assert first[0].id != chunk_document(d2, parsed2)[0].id


def test_long_heading_still_leaves_room_for_text():
    heading = "とても長い見出し" * 10  # 80 characters
    d, parsed = page(f"# {heading}\n\n" + "".join(SENTENCES[:10]))
    chunks = chunk_document(d, parsed, max_chars=100, overlap=0)
    assert all(c.text.startswith(heading + "\n") for c in chunks)
    assert all(len(c.text) - len(heading) - 1 >= 17 for c in chunks)
