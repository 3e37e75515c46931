"""The one decoder every source kind uses (kit.charset)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from madoguchi.kit.charset import decode, meta_charset
from madoguchi.kit.errors import ParseError

PAGE = "<html><head><meta charset='Shift_JIS'></head><body>住民票</body></html>"
PLAIN = "<html><body>犬の登録は三十日以内に行ってください。狂犬病予防注射も忘れずに。</body></html>"


def test_valid_utf8_wins_over_any_declaration():
    assert "住民票" in decode(PAGE.encode("utf-8"), "x", ("shift_jis",))
    assert decode("\ufeff住民票".encode(), "x") == "住民票"  # Excel's BOM is dropped


def test_a_declaration_is_taken_only_when_the_bytes_decode_under_it():
    raw = PAGE.encode("cp932")
    assert meta_charset(raw) == "Shift_JIS"
    assert "住民票" in decode(raw, "x", ("utf-8", meta_charset(raw)))
    assert "住民票" in decode(raw, "x", ("euc-jp", meta_charset(raw)))


def test_undeclared_or_latin1_declared_japanese_is_guessed():
    assert "狂犬病" in decode(PLAIN.encode("euc_jp"), "x")
    assert "狂犬病" in decode(PLAIN.encode("cp932"), "x", ("iso-8859-1",))
    assert "狂犬病" in decode(PLAIN.encode("cp932"), "x", (None, "latin-1"))


def test_utf16_with_a_bom_is_text_and_other_nul_bytes_are_binary():
    assert decode(codecs.BOM_UTF16_LE + "質問".encode("utf-16-le"), "x") == "質問"
    with pytest.raises(ParseError, match=r"^photo\.csv: binary data \(NUL"):
        decode(b"\x89PNG\x00\x00\x01", "photo.csv")
    with pytest.raises(ParseError, match="binary data"):
        decode(bytes(range(1, 32)) * 50, "x")


def test_real_shift_jis_table_decodes_as_cp932(shared_data: Path):
    """The Kameoka 5374 table (Shift_JIS, quoted newlines) reads as plain CP932 does."""
    raw = (shared_data / "kameoka_5374" / "target.csv").read_bytes()
    assert decode(raw, "target.csv") == raw.decode("cp932")


# ---------------------------------------------------------------- Japanese encodings

# kanji-only lists (no kana) are where EUC-JP read as CP932 turned into half-width katakana
DEPARTMENTS = "課名,係名,電話\n総務課,総務係,01656-5-3311\n住民課,戸籍係,01656-5-3312\n産業振興室,農林係,01656-5-3313\n"
SHORT = "産業振興室\n電話 01656-5-3313\n"
PROSE = "粗大ごみは電話で予約してください。（1）予約 （2）処理券の購入 ※年末は混み合います。"


@pytest.mark.parametrize("text", [DEPARTMENTS, SHORT, PROSE, "〒098-2501 音威子府村字音威子府"])
def test_undeclared_euc_jp_decodes_as_written(text):
    assert decode(text.encode("euc_jp"), "x") == text


@pytest.mark.parametrize("text", [DEPARTMENTS, SHORT, PROSE])
def test_shift_jis_and_utf8_still_decode_as_written(text):
    assert decode(text.encode("cp932"), "x") == text
    assert decode(text.encode("utf-8"), "x") == text


def test_euc_jp_with_nec_characters_reads_through_jis_2004():
    text = "①申請書 ②本人確認書類（㈱の場合は登記簿）"
    assert decode(text.encode("euc_jis_2004"), "x") == text


def test_a_shift_jis_declaration_over_euc_jp_is_not_believed():
    from madoguchi.kit.charset import decode_checked

    got = decode_checked(SHORT.encode("euc_jp"), "x", ("Shift_JIS",))
    assert got.text == SHORT and got.encoding.startswith("euc")
    assert got.warning and "declared Shift_JIS" in got.warning


def test_half_width_katakana_in_shift_jis_stays_shift_jis():
    text = "ｼﾞｭｳﾐﾝ ﾃﾞｰﾀﾃﾞｽ"
    assert decode(text.encode("cp932"), "x") == text


def test_chinese_is_not_taken_for_kanji_only_japanese():
    text = "我们的城市很美丽，欢迎来访。我们的城市很美丽，欢迎来访。这是一个很长的句子，用于测试编码检测。"
    assert decode(text.encode("gb18030"), "x") == text


def test_clean_text_has_no_warning():
    from madoguchi.kit.charset import decode_checked

    for raw in (
        PROSE.encode("euc_jp"),
        PROSE.encode("cp932"),
        PROSE.encode(),
        DEPARTMENTS.encode("euc_jp"),
    ):
        assert decode_checked(raw, "x").warning is None


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("住民票の写し\ufffd\ufffdについて".encode(), "replacement characters"),
        # UTF-8 once read as CP932 and saved again as UTF-8
        (("説明: " + "こんにちは".encode().decode("cp932")).encode(), "mojibake"),
        # EUC-JP with a broken byte: decoded, the byte shown as U+FFFD, and said so
        (
            PROSE.encode("euc_jp")[:20] + b"\xff" + PROSE.encode("euc_jp")[20:],
            "could not be decoded",
        ),
        # a user-defined character (外字) in Shift_JIS: private use, cannot be searched
        ("渡".encode("cp932") + b"\xf0\x40" + "さんの申請".encode("cp932"), "外字"),
    ],
    ids=["replacement", "mojibake", "broken-byte", "gaiji"],
)
def test_doubtful_text_comes_with_a_warning(raw, says):
    from madoguchi.kit.charset import decode_checked

    got = decode_checked(raw, "x")
    assert got.warning and says in got.warning
