import pytest

from madoguchi.kit.lang import (
    LANGS,
    REFUSAL,
    TEL,
    answer_language,
    contact_line,
    contact_text,
    detect,
    detect_language,
    phrase,
)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("粗大ごみの出し方を教えて", "ja"),
        ("住民票", "ja"),
        ("国民健康保険", "ja"),
        ("How do I throw away a sofa?", "en"),
        ("我想扔掉沙发", "zh-Hans"),
        ("請問垃圾怎麼丟", "zh-Hant"),
        ("소파를 버리고 싶어요", "ko"),
        ("Tôi muốn vứt ghế sofa", "vi"),
        ("Como jogar fora um sofá?", "pt"),
        ("Quiero tirar un sofá viejo", "es"),
        ("", "ja"),
        ("？？", "ja"),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_phrase_falls_back():
    assert phrase(REFUSAL, "zh-Hant") == REFUSAL["zh-Hant"]
    assert phrase(REFUSAL, "pt-BR") == REFUSAL["pt"]
    assert phrase(REFUSAL, "xx") == REFUSAL["en"]


# ---------------------------------------------------------------- how sure, and the answer's


@pytest.mark.parametrize(
    ("text", "lang", "confident"),
    [
        ("粗大ごみはどうやって出せばいい？", "ja", True),
        ("TVを捨てたい", "ja", True),  # a Japanese sentence with an English word
        ("How do I get a 住民票?", "en", True),  # an English sentence quoting a term
        ("マイナンバーカード how to apply for it online", "en", True),
        ("住民票", "ja", False),  # kanji alone: Japanese or Chinese
        ("教育委員会", "ja", False),  # 会 is Japanese too, not a sign of Chinese
        ("被保険者証", "ja", False),
        ("垃圾", "zh-Hans", True),  # characters Japanese does not write
        ("我想扔掉旧沙发，应该怎么办？", "zh-Hans", True),
        ("請問舊沙發要怎麼丟？", "zh-Hant", True),
        ("소파를 버리고 싶어요", "ko", True),
        ("मलाई पुरानो सोफा फाल्नु छ", "ne", True),
        ("Tôi muốn vứt ghế sofa", "vi", True),
        ("thuế", "vi", True),  # one word, but letters only Vietnamese writes
        ("Paano magtapon ng sofa?", "tl", True),
        ("Bagaimana cara membuang sofa?", "id", True),
        ("Di mana kantor kota?", "id", True),
        ("Como jogar fora um sofá?", "pt", True),
        ("Quiero tirar un sofá viejo", "es", True),
        ("How do I throw away a sofa?", "en", True),
        ("oversized garbage", "en", False),  # a Latin-script language, unsure which
    ],
)
def test_detection_and_how_sure_it_is(text, lang, confident):
    found = detect(text)
    assert (found.lang, found.confident) == (lang, confident), found


@pytest.mark.parametrize(
    "text", ["OK", "TV", "sofa", "juminhyo", "sodai gomi no dashikata", "maina kaado", "👍", "2",
             "0120-000-000", "住民票 where", "", "？？"]
)  # fmt: skip
def test_text_that_says_too_little_could_be_anything(text):
    assert detect(text).could_be == frozenset()


@pytest.mark.parametrize(
    ("text", "menu", "answer"),
    [
        # the question's language wins when it is clear
        ("How do I throw away a sofa?", "ja", "en"),
        ("粗大ごみはどうやって出せばいい？", "en", "ja"),
        ("소파를 버리고 싶어요", "zh-Hans", "ko"),
        ("Tôi muốn vứt ghế sofa", "en", "vi"),
        ("Como jogar fora um sofá?", "es", "pt"),
        ("¿Cómo puedo tirar un sofá viejo?", "pt", "es"),
        ("Paano magtapon ng sofa?", "id", "tl"),
        ("Bagaimana cara membuang sofa?", "tl", "id"),
        ("मलाई पुरानो सोफा फाल्नु छ", "ja", "ne"),
        # the menu picks among the variants of the language written
        ("粗大ごみはどうやって出せばいい？", "ja-easy", "ja-easy"),
        ("垃圾", "zh-Hant", "zh-Hant"),  # no form of either script: the menu's
        ("我想扔掉旧沙发", "zh-Hant", "zh-Hans"),  # simplified forms: simplified
        # kanji alone: Japanese or Chinese as the menu says, never English
        ("住民票", "zh-Hans", "zh-Hans"),
        ("住民票", "ja-easy", "ja-easy"),
        ("住民票", "en", "ja"),
        # too little to tell: the menu
        ("OK", "ko", "ko"),
        ("TV", "ja", "ja"),
        ("juminhyo", "vi", "vi"),
        ("sodai gomi no dashikata", "en", "en"),
        ("👍", "ne", "ne"),
        ("01234-5-1101", "pt", "pt"),
        # a Latin-script text detection is unsure of: the menu when it writes Latin script
        ("oversized garbage", "pt", "pt"),
        ("oversized garbage", "ja", "en"),
        # no menu: detection; spellings of the menu are normalised
        ("How do I throw away a sofa?", None, "en"),
        ("OK", None, "en"),
        ("OK", "zh-TW", "zh-Hant"),
        ("OK", "easy-ja", "ja-easy"),
    ],
)
def test_answer_language(text, menu, answer):
    assert answer_language(text, menu) == answer


# ---------------------------------------------------------------- whom to call, in words


@pytest.mark.parametrize(
    ("lang", "want"),
    [
        ("en", "総合窓口 (General information counter, tel. 01234-5-1101)"),
        ("zh-Hans", "総合窓口（综合服务窗口，电话 01234-5-1101）"),
        ("ko", "総合窓口 (종합 안내 창구, 전화 01234-5-1101)"),
        ("ja-easy", "総合窓口（なんでも きける まどぐち、電話 01234-5-1101）"),
        ("pt-BR", "総合窓口 (Balcão de atendimento geral, tel. 01234-5-1101)"),
    ],
)
def test_contact_text_gives_the_japanese_name_its_rendering_and_the_phone(lang, want):
    names = {
        "en": "General information counter",
        "zh-Hans": "综合服务窗口",
        "ko": "종합 안내 창구",
        "ja-easy": "なんでも きける まどぐち",
        "pt-BR": "Balcão de atendimento geral",
    }
    assert contact_text(lang, "総合窓口", names[lang], "01234-5-1101") == want


def test_contact_text_without_a_rendering_or_a_phone():
    assert contact_text("ja", "住民課", None, "01234-5-1101") == "住民課（電話 01234-5-1101）"
    assert contact_text("en", "住民課", None, None) == "住民課"
    assert contact_text("en", "住民課", "住民課", None) == "住民課"  # no rendering to add
    assert contact_text("vi", None, None, "01234-5-1101") == "ĐT 01234-5-1101"
    assert contact_text("en", None, None, None) == ""
    assert contact_line("id", "税務課", "01234-5-1102", "Seksi Pajak") == (
        "Kontak: 税務課 (Seksi Pajak, telp. 01234-5-1102)"
    )


def test_every_answer_language_has_a_phone_word_and_a_refusal_with_the_contact():
    for code in LANGS:
        assert code in TEL and "{contact}" in REFUSAL[code], code


@pytest.mark.parametrize(
    ("text", "kana"),
    [
        ("sodai gomi no dashikata wa?", "そだい ごみ の だしかた わ?"),
        ("Jūminhyō wa doko", "じゅうみんひょう わ どこ"),
        ("kokumin kenkou hoken", "こくみん けんこう ほけん"),
        ("Where is juminhyo", None),  # a word of English: not romaji through and through
        ("住民票", None),
        ("ok", None),
        ("", None),
    ],
)
def test_romanised_japanese_is_written_in_hiragana(text, kana):
    from madoguchi.kit.lang import romaji_kana

    assert romaji_kana(text) == kana
