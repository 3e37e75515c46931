"""Foreign residents: language codes, translated FAQ entries, the Japanese-only fallback."""

from __future__ import annotations

import pytest

from kit.answering import ExtractiveAnswerer
from kit.config import AnswerSettings
from kit.errors import InputError
from kit.lang import (
    CONTACT,
    FOLLOW_UP,
    GENERATED_NOTE,
    JAPANESE_ONLY_NOTE,
    LANGS,
    REFUSAL,
    TRANSLATED_NOTE,
    detect_language,
    normalise_lang,
    phrase,
)
from kit.types import Chunk, ScoredChunk

WIDGET_CODES = ["ja", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "ja-easy"]


def hit(sid, *, dense=0.93, kind="faq", score=0.03, **meta):
    text = f"{meta.get('question', '')}\n{meta.get('answer', '')}"
    chunk = Chunk(
        Chunk.make_id(sid, 0, text), sid, text, meta.get("question", sid), 0, {"kind": kind, **meta}
    )
    return ScoredChunk(chunk, score, {"dense": 1, "bm25": 1}, {"dense": dense, "coverage": 0.8})


FAQ = dict(
    question="粗大ごみの出し方",
    answer="粗大ごみは電話で予約し、処理券（1点500円）を貼って出してください。",
    department="環境衛生課",
    phone="0120-000-111",
    url="https://example.invalid/gomi",
)
EN = dict(
    question_en="How do I put out oversized garbage?",
    answer_en="Book by phone and attach a collection ticket (500 yen per item).",
)


@pytest.mark.parametrize("code", WIDGET_CODES)
def test_every_widget_code_is_accepted_as_is(code):
    assert normalise_lang(code) == code


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh_cn", "zh-Hans"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-hant-tw", "zh-Hant"),
        ("pt-BR", "pt"),
        ("en-US", "en"),
        ("fil", "tl"),
        ("JA", "ja"),
        ("ja-JP", "ja"),
        ("easy-ja", "ja-easy"),
        ("やさしい日本語", "ja-easy"),
        ("English", "en"),
        ("韓国語", "ko"),
        ("", None),
        (None, None),
    ],
)
def test_spellings_are_normalised(given, want):
    assert normalise_lang(given) == want


def test_unknown_code_is_a_clear_input_error():
    with pytest.raises(InputError, match="unknown language 'klingon'"):
        normalise_lang("klingon")
    assert normalise_lang("klingon", strict=False) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("我想扔掉旧沙发，应该怎么办？", "zh-Hans"),
        ("請問舊沙發要怎麼丟？", "zh-Hant"),
        ("मलाई पुरानो सोफा फाल्नु छ", "ne"),
        ("Paano ko itatapon ang lumang sopa?", "tl"),
        ("¿Cómo puedo tirar un sofá viejo?", "es"),
    ],
)
def test_detection_returns_widget_codes(text, lang):
    assert detect_language(text) == lang
    assert detect_language(text) in LANGS


@pytest.mark.parametrize(
    "table", [REFUSAL, JAPANESE_ONLY_NOTE, TRANSLATED_NOTE, GENERATED_NOTE, CONTACT, FOLLOW_UP]
)
def test_every_answer_language_has_its_own_phrase(table):
    for code in LANGS:
        if code == "ja" and table in (JAPANESE_ONLY_NOTE, TRANSLATED_NOTE):
            continue  # plain Japanese needs no note
        assert code in table, (code, table)
    # やさしい日本語 and traditional Chinese have their own text, not a fallback
    assert phrase(table, "ja-easy") != table.get("ja")
    assert phrase(table, "zh-Hant") != phrase(table, "zh-Hans")


def test_phrase_accepts_any_spelling():
    assert phrase(REFUSAL, "zh") == REFUSAL["zh-Hans"]
    assert phrase(REFUSAL, "zh-TW") == REFUSAL["zh-Hant"]
    assert phrase(REFUSAL, "easy-ja") == REFUSAL["ja-easy"]


def test_translated_entry_is_returned_with_japanese_original():
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "How do I throw away a sofa?", [hit("f.csv#1", **FAQ, **EN)], lang="en"
    )
    assert not a.refused
    assert a.text.startswith(EN["answer_en"])
    assert "Contact: 環境衛生課 0120-000-111" in a.text
    assert TRANSLATED_NOTE["en"] in a.text
    assert JAPANESE_ONLY_NOTE["en"] not in a.text
    assert a.original == FAQ["answer"]
    assert [c.source_id for c in a.citations] == ["f.csv#1"]
    assert a.citations[0].title == EN["question_en"]
    js = a.to_json()
    assert js["original"] == FAQ["answer"] and js["answer"] == a.text


def test_other_language_without_translation_gets_japanese_note_phone_and_link():
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "Làm thế nào để vứt ghế sofa?", [hit("f.csv#1", **FAQ, **EN)], lang="vi"
    )
    assert a.text.startswith(JAPANESE_ONLY_NOTE["vi"])
    assert FAQ["answer"] in a.text
    assert "Liên hệ: 環境衛生課 0120-000-111" in a.text
    assert "https://example.invalid/gomi" in a.text
    assert a.original == FAQ["answer"]
    assert a.citations[0].title == FAQ["question"]


def test_japanese_question_is_unchanged():
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "ソファを捨てたい", [hit("f.csv#1", **FAQ, **EN)], lang="ja"
    )
    assert a.text == FAQ["answer"] and a.original is None
    assert a.to_json()["original"] is None


def test_easy_japanese_uses_its_translation_or_its_own_note():
    easy = {"answer_ja-easy": "大きい ごみは 電話で 申し込んで ください。500円の 券が いります。"}
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "ソファを捨てたい", [hit("f.csv#1", **FAQ, **easy)], lang="ja-easy"
    )
    assert a.text.startswith(easy["answer_ja-easy"]) and a.original == FAQ["answer"]
    b = ExtractiveAnswerer(AnswerSettings()).answer(
        "ソファを捨てたい", [hit("f.csv#1", **FAQ)], lang="ja-easy"
    )
    assert b.text.startswith(JAPANESE_ONLY_NOTE["ja-easy"]) and FAQ["answer"] in b.text


def test_refusals_in_easy_japanese_and_traditional_chinese():
    s = AnswerSettings(default_phone="01234-5-0000")
    easy = ExtractiveAnswerer(s).answer("？", [], lang="ja-easy")
    assert easy.refused and easy.text.startswith("ごめんなさい") and "01234-5-0000" in easy.text
    hant = ExtractiveAnswerer(s).answer("？", [], lang="zh-Hant")
    assert hant.refused and "沒有找到" in hant.text and "電話 01234-5-0000" in hant.text


def test_extractive_answer_mixes_translated_and_japanese_passages():
    page = hit(
        "p.md",
        kind="page",
        dense=0.80,
        score=0.029,
        question="避難所",
        answer="中央公民館は指定避難所です。",
        department="総務課",
    )
    faq = hit("f.csv#1", dense=0.80, **FAQ, **EN)
    a = ExtractiveAnswerer(AnswerSettings(faq_first=False, answer_threshold=0.0)).answer(
        "sofa", [faq, page], lang="en"
    )
    assert a.mode == "extractive"
    assert EN["answer_en"] in a.text and "中央公民館" in a.text
    # something is still in Japanese only: the note says so
    assert a.text.startswith(JAPANESE_ONLY_NOTE["en"])
