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
