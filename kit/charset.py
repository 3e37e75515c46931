"""Bytes to text, for every source kind: one decoder, so FAQ CSVs, synonym lists, web
pages and files all meet the same rules.

Municipal files come in UTF-8 (with or without a BOM, as Excel writes it), UTF-16
with a BOM (Excel's "Unicode text"), Shift_JIS/CP932 and EUC-JP, and their
declarations lie often (a server-wide ``charset=UTF-8`` over Shift_JIS pages). So:

1. UTF-16 with a BOM is UTF-16; any other NUL byte means binary data;
2. valid UTF-8 is UTF-8, whatever is declared;
3. a declared charset (an HTTP header, an HTML ``<meta charset>``) is taken only when
   the bytes decode under it without error, and never a Latin-1-like one, since
   those decode anything;
4. else charset-normalizer's guess among the Japanese encodings, then CP932, then
   its guess among all encodings;
5. text full of control characters is binary data after all.

Every failure is a ``ParseError`` naming the document, so the batch goes on.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable

from madoguchi.kit.errors import ParseError

#: declarations that decode any bytes, so they prove nothing
SINGLE_BYTE = frozenset(
    ["iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "us-ascii", "ascii"]
)
#: names sites and servers use, to Python's codec for what they mean
ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "euc-jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
}
JAPANESE = ("cp932", "euc_jp", "iso2022_jp", "utf_8")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CONTROL_OK = frozenset("\t\n\r\f\v")


def meta_charset(raw: bytes) -> str | None:
    """The charset an HTML page declares in a ``<meta>`` tag of its first 4 KiB."""
    m = _META_CHARSET.search(raw[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def decode(raw: bytes, name: str, declared: Iterable[str | None] = ()) -> str:
    """The text of ``raw`` (a document called ``name``), by the rules above.

    ``declared`` are the charsets the document's container names, most trusted first
    (the HTTP header, the page's meta tag); ``None`` entries are skipped."""
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom):
            try:
                return raw.decode("utf-16")
            except UnicodeDecodeError as exc:
                raise ParseError(f"{name}: broken UTF-16 text ({exc.reason})") from exc
    if b"\x00" in raw:
        raise ParseError(f"{name}: binary data (NUL bytes), not a text file")
    text = _decode(raw, declared)
    if text is None:
        raise ParseError(f"{name}: binary data or unknown text encoding, cannot decode")
    if _looks_binary(text):
        raise ParseError(f"{name}: binary data (control characters), not a text file")
    return text


def _decode(raw: bytes, declared: Iterable[str | None]) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for d in declared:
        enc = (d or "").strip().strip("\"'").lower()
        if not enc or enc in SINGLE_BYTE or enc in ("utf-8", "utf8"):
            continue
        try:
            return raw.decode(ALIASES.get(enc, enc)).removeprefix("\ufeff")
        except (LookupError, UnicodeDecodeError):
            continue  # a wrong declaration is common
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=list(JAPANESE)).best()
    if best is not None:
        return str(best)
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    return None if best is None else str(best)


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in _CONTROL_OK)
    return bad > max(2, len(sample) // 100)
