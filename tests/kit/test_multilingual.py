"""Foreign residents: language codes, translated FAQ entries, the Japanese-only fallback."""

from __future__ import annotations

import pytest
from factories import hit

from madoguchi.kit.answering import ExtractiveAnswerer
from madoguchi.kit.config import AnswerSettings
from madoguchi.kit.errors import InputError
from madoguchi.kit.lang import (
    CONTACT,
    FOLLOW_UP,
    GENERATED_NOTE,
    JAPANESE_ONLY_NOTE,
    LANGS,
    MACHINE_TRANSLATED_NOTE,
    REFUSAL,
    TRANSLATED_NOTE,
    detect_language,
    normalise_lang,
    phrase,
)

# thresholds independent of the confidence model's weights: every hit answers
SURE = AnswerSettings(faq_threshold=0.0, answer_threshold=0.0)

WIDGET_CODES = ["ja", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "ja-easy"]


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
    "table",
    [
        REFUSAL,
        JAPANESE_ONLY_NOTE,
        TRANSLATED_NOTE,
        MACHINE_TRANSLATED_NOTE,
        GENERATED_NOTE,
        CONTACT,
        FOLLOW_UP,
    ],
)
def test_every_answer_language_has_its_own_phrase(table):
    for code in LANGS:
        if code == "ja" and table in (JAPANESE_ONLY_NOTE, TRANSLATED_NOTE, MACHINE_TRANSLATED_NOTE):
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
    a = ExtractiveAnswerer(SURE).answer(
        "How do I throw away a sofa?", [hit("f.csv#1", **FAQ, **EN)], lang="en"
    )
    assert not a.refused
    assert a.text.startswith(EN["answer_en"])
    assert "Contact: 環境衛生課 (Environmental Sanitation Division, tel. 0120-000-111)" in a.text
    assert TRANSLATED_NOTE["en"] in a.text
    assert JAPANESE_ONLY_NOTE["en"] not in a.text
    assert a.original == FAQ["answer"]
    assert [c.source_id for c in a.citations] == ["f.csv#1"]
    assert a.citations[0].title == EN["question_en"]
    js = a.to_json()
    assert js["original"] == FAQ["answer"] and js["answer"] == a.text


def test_a_machine_translation_says_so_until_staff_approve_it():
    machine = hit("f.csv#1", **FAQ, **EN, machine_langs="en,vi")
    a = ExtractiveAnswerer(SURE).answer("How do I throw away a sofa?", [machine], lang="en")
    assert a.text.startswith(EN["answer_en"]) and a.text.endswith(MACHINE_TRANSLATED_NOTE["en"])
    assert TRANSLATED_NOTE["en"] not in a.text
    assert a.machine_translation and a.to_json()["machine_translation"] is True
    approved = hit("f.csv#1", **FAQ, **EN, machine_langs="vi")
    a = ExtractiveAnswerer(SURE).answer("How do I throw away a sofa?", [approved], lang="en")
    assert a.text.endswith(TRANSLATED_NOTE["en"]) and not a.machine_translation
    a = ExtractiveAnswerer(SURE).answer("ソファを捨てたい", [machine], lang="ja")
    assert not a.machine_translation and a.text == FAQ["answer"]


def test_other_language_without_translation_gets_japanese_note_phone_and_link():
    a = ExtractiveAnswerer(SURE).answer(
        "Làm thế nào để vứt ghế sofa?", [hit("f.csv#1", **FAQ, **EN)], lang="vi"
    )
    assert a.text.startswith(JAPANESE_ONLY_NOTE["vi"])
    assert FAQ["answer"] in a.text
    assert "Liên hệ: 環境衛生課 (Phòng Vệ sinh Môi trường, ĐT 0120-000-111)" in a.text
    assert "https://example.invalid/gomi" in a.text
    assert a.original == FAQ["answer"]
    assert a.citations[0].title == FAQ["question"]


def test_japanese_question_is_unchanged():
    a = ExtractiveAnswerer(SURE).answer(
        "ソファを捨てたい", [hit("f.csv#1", **FAQ, **EN)], lang="ja"
    )
    assert a.text == FAQ["answer"] and a.original is None
    assert a.to_json()["original"] is None


def test_easy_japanese_uses_its_translation_or_its_own_note():
    easy = {"answer_ja-easy": "大きい ごみは 電話で 申し込んで ください。500円の 券が いります。"}
    a = ExtractiveAnswerer(SURE).answer(
        "ソファを捨てたい", [hit("f.csv#1", **FAQ, **easy)], lang="ja-easy"
    )
    assert a.text.startswith(easy["answer_ja-easy"]) and a.original == FAQ["answer"]
    b = ExtractiveAnswerer(SURE).answer("ソファを捨てたい", [hit("f.csv#1", **FAQ)], lang="ja-easy")
    assert b.text.startswith(JAPANESE_ONLY_NOTE["ja-easy"]) and FAQ["answer"] in b.text


def test_refusals_in_easy_japanese_and_traditional_chinese():
    s = AnswerSettings(default_phone="01234-5-0000")
    easy = ExtractiveAnswerer(s).answer("？", [], lang="ja-easy")
    assert easy.refused and easy.text.startswith("ごめんなさい") and "01234-5-0000" in easy.text
    hant = ExtractiveAnswerer(s).answer("？", [], lang="zh-Hant")
    assert hant.refused and "沒有找到" in hant.text and "電話 01234-5-0000" in hant.text


def test_extractive_answer_keeps_one_language():
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
    s = AnswerSettings(faq_first=False, answer_threshold=0.0)
    # the best passage is translated: the translated entries only, the page still cited
    a = ExtractiveAnswerer(s).answer("sofa", [faq, page], lang="en")
    assert a.mode == "extractive"
    assert a.text.startswith(EN["answer_en"]) and "中央公民館" not in a.text
    assert JAPANESE_ONLY_NOTE["en"] not in a.text and TRANSLATED_NOTE["en"] in a.text
    assert [c.source_id for c in a.citations] == ["f.csv#1", "p.md"]
    assert "中央公民館" in (a.original or "")
    # the best passage is Japanese-only: Japanese text under the note, no half translation
    b = ExtractiveAnswerer(s).answer("shelter", [page, faq], lang="en")
    assert b.text.startswith(JAPANESE_ONLY_NOTE["en"]) and "中央公民館" in b.text
    assert EN["answer_en"] not in b.text and FAQ["answer"] in b.text


def test_ingested_translation_file_answers_in_the_residents_language(settings, tmp_path):
    from madoguchi.ingest.services import build_services

    (tmp_path / "faq.csv").write_text(
        "ID,質問,回答,所管部署,電話番号,URL\n"
        "1,粗大ごみの出し方は？,電話で予約して処理券（1点500円）を貼って出してください。,"
        "環境衛生課,0120-000-111,https://town.example.jp/sodai\n"
        "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。手数料は300円です。,"
        "住民課,0120-000-222,\n",
        encoding="utf-8",
    )
    (tmp_path / "faq_en.csv").write_text(
        "ID,Question,Answer\n1,How do I put out oversized garbage?,"
        "Book by phone and attach a ticket (500 yen per item).\n",
        encoding="utf-8",
    )
    svc = build_services(settings.with_overrides(**{"answer.answer_threshold": 0.0}))
    report = svc.ingest([tmp_path])
    ids = [r.source_id for r in svc.index.sources()]
    assert sorted(i.rsplit("#", 1)[1] for i in ids) == ["1", "2"]
    assert not any("faq_en.csv" in i for i in ids)
    assert any("faq_en.csv" in s for s, _ in report.skipped)

    res = svc.ask("How do I put out oversized garbage?", lang="en-US")
    a = res.answer
    assert a.lang == "en" and a.citations[0].source_id.endswith("faq.csv#1")
    assert a.text.startswith("Book by phone and attach a ticket")
    assert a.original and "処理券" in a.original
    # no translation of this entry: the Japanese answer, a note, whom to call, the link
    res2 = svc.ask("住民票の写しはどこで取れますか？", lang="en")
    assert res2.answer.citations[0].source_id.endswith("faq.csv#2")
    assert res2.answer.text.startswith(JAPANESE_ONLY_NOTE["en"])
    assert "住民課窓口で交付します。" in res2.answer.text
    assert "Contact: 住民課 (Residents Division, tel. 0120-000-222)" in res2.answer.text
    with pytest.raises(InputError):
        svc.ask("How do I put out oversized garbage?", lang="xx-nope")


def test_follow_up_without_llm_is_searched_with_the_previous_question(settings, tmp_path):
    from madoguchi.ingest.services import build_services

    (tmp_path / "faq.csv").write_text(
        "ID,質問,回答,所管部署,電話番号\n"
        "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課,0120-000-111\n"
        "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。手数料は300円です。,住民課,0120-000-222\n",
        encoding="utf-8",
    )
    svc = build_services(settings.with_overrides(**{"answer.answer_threshold": 0.0}))
    assert svc.generator is None
    svc.ingest([tmp_path / "faq.csv"])
    svc.ask("住民票の写しはどこで取れますか？", conversation_id="c1")
    follow = svc.ask("それはいくら？", conversation_id="c1")
    assert follow.hits[0].chunk.source_id.endswith("faq.csv#2")
    assert "300円" in follow.answer.text
    assert [t.question for t in svc.conversations.history("c1")] == [
        "住民票の写しはどこで取れますか？",
        "それはいくら？",
    ]
