"""Bytes to text, for every source kind: one decoder, so FAQ CSVs, synonym lists, web
pages and files all meet the same rules.

Municipal files come in UTF-8 (with or without a BOM, as Excel writes it), UTF-16
with a BOM (Excel's "Unicode text"), Shift_JIS/CP932 and EUC-JP, and their
declarations lie often (a server-wide ``charset=UTF-8`` over Shift_JIS pages). So:

1. UTF-16 with a BOM is UTF-16; any other NUL byte means binary data;
2. valid UTF-8 is UTF-8, whatever is declared;
3. else each Japanese encoding (CP932, EUC-JP, ISO-2022-JP when the bytes have escapes)
   that decodes the bytes without error is scored by how much of its text ordinary
   Japanese is made of (kana, JIS level-1 kanji, punctuation) against what a wrong
   reading produces (half-width katakana, rare kanji, private-use characters). EUC-JP
   read as CP932 mostly turns into half-width katakana, which is how a kanji-only list
   of departments used to come out as "ｻｺｶﾈｿｶｶｽｼｼ";
4. a declared charset (an HTTP header, an HTML ``<meta charset>``) is taken when the
   bytes decode under it, never a Latin-1-like one (those decode anything), and not
   when it is a Japanese encoding that reads far worse than another one;
5. else the best Japanese reading if it is plausible, then one with a few broken bytes
   replaced, then charset-normalizer's guess among all encodings;
6. text full of control characters is binary data after all.

``decode_checked`` also says when the result is doubtful: replacement characters, a
poor Japanese score, or mojibake (UTF-8 once read as CP932 or Latin-1 and saved again);
the ingest report shows that as a warning rather than indexing garbage silently.
Every failure is a ``ParseError`` naming the document, so the batch goes on.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

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
JAPANESE = ("cp932", "euc_jp", "euc_jis_2004")
LABELS = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp932": "Shift_JIS (CP932)",
    "euc_jp": "EUC-JP",
    "euc_jis_2004": "EUC-JP",
    "iso2022_jp": "ISO-2022-JP",
}
#: a Japanese reading scoring below this is doubtful (correct text scores 0.9-1.0,
#: EUC-JP read as CP932 0.3-0.5)
PLAUSIBLE = 0.5
_SAMPLE = 200_000
_KANA = re.compile(r"[\u3041-\u309f\u30a1-\u30fa]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CONTROL_OK = frozenset("\t\n\r\f\v")


def meta_charset(raw: bytes) -> str | None:
    """The charset an HTML page declares in a ``<meta>`` tag of its first 4 KiB."""
    m = _META_CHARSET.search(raw[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python's codec name, e.g. "cp932", "euc_jp", "utf-8"
    warning: str | None = None  # why the text may not read as its author wrote it


def decode(raw: bytes, name: str, declared: Iterable[str | None] = ()) -> str:
    """The text of ``raw`` (a document called ``name``), by the rules above.

    ``declared`` are the charsets the document's container names, most trusted first
    (the HTTP header, the page's meta tag); ``None`` entries are skipped."""
    return decode_checked(raw, name, declared).text


def decode_checked(raw: bytes, name: str, declared: Iterable[str | None] = ()) -> Decoded:
    """As ``decode``, with the encoding found and a warning when the text is doubtful."""
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom):
            try:
                text = raw.decode("utf-16")
            except UnicodeDecodeError as exc:
                raise ParseError(f"{name}: broken UTF-16 text ({exc.reason})") from exc
            return Decoded(text, "utf-16", _doubt(text, "utf-16"))
    if b"\x00" in raw:
        raise ParseError(f"{name}: binary data (NUL bytes), not a text file")
    try:
        text, encoding, warning = raw.decode("utf-8-sig"), "utf-8", None
    except UnicodeDecodeError:
        found = _decode_legacy(raw, declared)
        if found is None:
            raise ParseError(
                f"{name}: binary data or unknown text encoding, cannot decode"
            ) from None
        text, encoding, warning = found
    if _looks_binary(text):
        raise ParseError(f"{name}: binary data (control characters), not a text file")
    return Decoded(text, encoding, warning or _doubt(text, encoding))


def _label(encoding: str) -> str:
    return LABELS.get(encoding, encoding)


def _japanese_readings(raw: bytes) -> list[tuple[float, str, str]]:
    """(score, codec, text) of each Japanese codec that decodes ``raw`` without error,
    best first (the earlier codec on a tie)."""
    codecs_ = JAPANESE + (("iso2022_jp",) if b"\x1b" in raw else ())
    out = []
    for i, enc in enumerate(codecs_):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        out.append((japanese_score(text), -i, enc, text))
    out.sort(reverse=True)
    return [(score, enc, text) for score, _, enc, text in out]


def _decode_legacy(
    raw: bytes, declared: Iterable[str | None]
) -> tuple[str, str, str | None] | None:
    readings = _japanese_readings(raw)
    best = readings[0] if readings else None
    found = _declared(raw, declared, best)
    if found is not None:
        return found
    if best is not None and best[0] >= PLAUSIBLE:
        if _KANA.search(best[2], 0, _SAMPLE) is None:
            chinese = _chinese(raw)  # Chinese read as EUC-JP is all kanji, without kana
            if chinese is not None:
                return chinese
        return best[2], best[1], None
    # a reading with replaced bytes must beat a clean one clearly
    floor = PLAUSIBLE if best is None else max(PLAUSIBLE, best[0] + 0.3)
    return _lenient_japanese(raw, floor) or _any_encoding(raw, best)


def _declared(
    raw: bytes, declared: Iterable[str | None], best: tuple[float, str, str] | None
) -> tuple[str, str, str | None] | None:
    """The first declared charset the bytes decode under, unless it is a Japanese one that
    reads clearly worse than the best Japanese reading (a Shift_JIS header over EUC-JP)."""
    for d in declared:
        enc = (d or "").strip().strip("\"'").lower()
        if not enc or enc in SINGLE_BYTE or enc in ("utf-8", "utf8"):
            continue
        codec = ALIASES.get(enc, enc)
        try:
            text = raw.decode(codec).removeprefix("\ufeff")
        except (LookupError, UnicodeDecodeError):
            continue  # a wrong declaration is common
        if (
            best is not None
            and _is_japanese_codec(codec)
            and best[1] != codec
            and japanese_score(text) + 0.3 <= best[0]
        ):
            label = _label(best[1])
            return best[2], best[1], f"declared {d} but reads as {label}; decoded as {label}"
        return text, codec, None
    return None


def _chinese(raw: bytes) -> tuple[str, str, str | None] | None:
    from charset_normalizer import from_bytes

    guess = from_bytes(raw).best()
    if (
        guess is not None
        and not _is_japanese_codec(guess.encoding)
        and guess.language == "Chinese"
        and guess.coherence >= 0.2
    ):
        return str(guess), guess.encoding, None
    return None


def _any_encoding(
    raw: bytes, best: tuple[float, str, str] | None
) -> tuple[str, str, str | None] | None:
    """charset-normalizer's guess among all encodings, unless the poor Japanese reading
    reads better; a guess over a text it finds messy comes with a warning."""
    from charset_normalizer import from_bytes

    guess = from_bytes(raw).best()
    if guess is not None and not _is_japanese_codec(guess.encoding):
        text = str(guess)
        if best is None or japanese_score(text) > best[0]:
            warning = None
            if best is not None or guess.chaos > 0.1:
                warning = (
                    f"the text encoding is a guess ({guess.encoding}); check that it reads"
                    " correctly (文字化け)"
                )
            return text, guess.encoding, warning
    if best is not None:
        return best[2], best[1], None  # _doubt() explains the low score
    if guess is not None:
        return str(guess), guess.encoding, None
    return None


def _is_japanese_codec(codec: str) -> bool:
    c = codecs.lookup(codec).name if codec else ""
    return c in ("cp932", "shift_jis", "euc_jp", "euc_jis_2004", "euc_jisx0213", "iso2022_jp")


def _lenient_japanese(raw: bytes, floor: float) -> tuple[str, str, str | None] | None:
    """A Japanese reading with a few undecodable bytes (a damaged file, a vendor-specific
    character) replaced by U+FFFD, when the rest reads as Japanese."""
    best: tuple[float, str, str, int] | None = None
    for enc in JAPANESE:
        text = raw.decode(enc, "replace")
        bad = text.count("\ufffd")
        wide = sum(1 for ch in text[:_SAMPLE] if ord(ch) > 0x7F)
        if bad > max(2, wide // 50):
            continue
        score = japanese_score(text)
        if score >= floor and (best is None or score > best[0]):
            best = (score, enc, text, bad)
    if best is None:
        return None
    score, enc, text, bad = best
    return (
        text,
        enc,
        f"{bad:,} byte sequence(s) could not be decoded as {_label(enc)} and show as \ufffd"
        " (文字化け); check the file",
    )


@cache
def _jis_levels() -> tuple[frozenset[str], frozenset[str]]:
    """JIS X 0208 level-1 and level-2 kanji (EUC-JP rows 16-47 and 48-84)."""

    def rows(first: int, last: int) -> frozenset[str]:
        out = set()
        for hi in range(first, last + 1):
            for lo in range(0xA1, 0xFF):
                with contextlib.suppress(UnicodeDecodeError):
                    out.add(bytes((hi, lo)).decode("euc_jp"))
        return frozenset(out)

    return rows(0xB0, 0xCF), rows(0xD0, 0xF4)


def _char_weight(ch: str, level1: frozenset[str], level2: frozenset[str]) -> float:
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E or ch in level1:
        return 1.0  # kana, CJK punctuation, full-width ASCII, common kanji
    if 0xFF61 <= o <= 0xFF9F:
        return 0.5  # half-width katakana: old systems write it, EUC-JP read as CP932 gives it
    if ch in level2:
        return 0.6
    cat = unicodedata.category(ch)
    if cat in ("Co", "Cc", "Cs", "Cn") or ch == "\ufffd" or 0xAC00 <= o <= 0xD7AF:
        return 0.0  # private use, controls, unassigned, replacement, Hangul
    if cat[0] in "PSNZ":
        return 1.0  # symbols and numbers: ①, ※, ○, 〒, box drawing
    if 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x3400 <= o <= 0x4DBF:
        return 0.3  # kanji outside JIS X 0208 (IBM extensions, JIS X 0212)
    return 0.5  # Greek, Cyrillic, accented Latin


def japanese_score(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` (its first 200,000 characters) that
    Japanese text is ordinarily made of, in [0, 1]; 1.0 when there are none."""
    level1, level2 = _jis_levels()
    total = n = 0.0
    for ch in text[:_SAMPLE]:
        if ord(ch) < 0x80:
            continue
        n += 1
        total += _char_weight(ch, level1, level2)
    return total / n if n else 1.0


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{3,}")


def _mojibake(text: str) -> tuple[str, str] | None:
    """(garbled, meant) when a run of the text is UTF-8 once read as CP932 or Latin-1."""
    for m in _NON_ASCII_RUN.finditer(text[:_SAMPLE]):
        run = m.group()
        for enc in ("cp932", "cp1252", "latin-1"):
            try:
                meant = run.encode(enc).decode("utf-8")
            except UnicodeError:
                continue
            if meant != run and japanese_score(meant) > japanese_score(run):
                return run[:12], meant[:12]
    return None


def _doubt(text: str, encoding: str) -> str | None:
    """Why ``text`` may not read as written, or None."""
    sample = text[:_SAMPLE]
    bad = sample.count("\ufffd")
    if bad:
        return (
            f"{bad:,} character(s) are U+FFFD replacement characters (文字化け): some text was"
            " lost before this file was saved; check it"
        )
    private = sum(1 for ch in sample if 0xE000 <= ord(ch) <= 0xF8FF)
    if private:
        return (
            f"{private:,} private-use character(s) (外字, user-defined): they show as blanks or"
            " boxes and cannot be searched; replace them with ordinary characters"
        )
    garbled = _mojibake(sample)
    if garbled:
        return (
            f"looks like mojibake (文字化け): {garbled[0]!r} reads as {garbled[1]!r} once"
            " re-decoded as UTF-8; save the file again from its original"
        )
    if _is_japanese_codec(encoding):
        score = japanese_score(sample)
        if score < PLAUSIBLE:
            return (
                f"decoded as {_label(encoding)} but reads poorly ({score:.0%} ordinary Japanese"
                " characters): possibly the wrong encoding (文字化け); save it as UTF-8"
            )
    return None


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in _CONTROL_OK)
    return bad > max(2, len(sample) // 100)
