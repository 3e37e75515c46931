import pytest

from madoguchi.kit.lang import REFUSAL, detect_language, phrase


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
