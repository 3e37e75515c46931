"""The municipal glossary: a foreign resident's words for town life, to Japanese terms.

The town's documents are Japanese; a resident asks "Where can I throw away an old TV?",
「旧电视怎么扔？」 or "how to get juminhyo". The bundled multilingual embedder crosses
languages only weakly for short Japanese texts (item names, FAQ questions), so the kit
brings its own knowledge of the domain: ``kit/glossary/*.jsonl``, 768 concepts with
their Japanese terms, readings, the romanised forms residents type, やさしい日本語 and
renderings in ten languages (see its README).

``Glossary.terms(question)`` finds the glossary's phrases in a question — whole words
in scripts that separate them (Latin, Vietnamese, Devanagari, Hangul), anywhere in
Chinese and Japanese, longest first and never overlapping — and returns each concept's
Japanese term. Retrieval searches the question once more as those Japanese terms (a
variant, like the town's synonym list), so the dense signal compares Japanese with
Japanese and the lexical signals can match the documents' own words.

Matching folds case and width (NFKC). A question typed without any accent is matched
with the accents of the glossary's Latin letters dropped too ("lampada" finds
"lâmpada", "giay chung nhan" finds "giấy chứng nhận"); a question that has accents is
matched as written, since they tell words apart (Vietnamese "giấy cư trú", residence
paper, is not "giấy cũ", old paper).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GLOSSARY_DIR = Path(__file__).resolve().parent / "glossary"
#: the fields holding what residents type, by whom (the Japanese fields are targets)
FOREIGN_FIELDS = ("en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "id", "romaji")
#: phrases shorter than this (after folding) are left out: "tv" yes, "ac" no
MIN_PHRASE = 2
MAX_TERMS = 4
#: languages whose words carry accents (a question in them is matched as written)
ACCENTED = frozenset({"vi", "pt", "es", "tl"})
#: the languages the widget offers that are not Japanese, compiled at warm-up
WARM_LANGS = ("en", "zh-Hans", "ko", "vi", "pt", "es", "tl", "ne")


@dataclass(frozen=True)
class Match:
    """A glossary phrase found in a question, and the concept's Japanese term."""

    phrase: str
    key: str
    japanese: str


def fold(text: str, *, accents: bool = False) -> str:
    """NFKC, lower case, runs of space as one; with ``accents``, Latin accents dropped."""
    text = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    if not accents:
        return text
    # the accents of Latin letters (Portuguese, Spanish, Vietnamese) are the combining
    # diacritical marks block; kana voicing marks and Devanagari signs lie elsewhere
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not _accent(ch))
    return unicodedata.normalize("NFC", text).replace("đ", "d")


def _accent(ch: str) -> bool:
    return "\u0300" <= ch <= "\u036f"


def has_accents(text: str) -> bool:
    """Whether a Latin letter of ``text`` carries an accent (đ counts)."""
    return "đ" in text.lower() or any(_accent(c) for c in unicodedata.normalize("NFD", text))


def _spaced(phrase: str) -> bool:
    """Whether the phrase is written in a script with spaces between words."""
    return not any(
        "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"
        for ch in phrase
    )


class Glossary:
    """Phrases of the bundled glossary (and any extra files), matched in questions."""

    def __init__(self, concepts: Iterable[dict[str, object]]) -> None:
        self._japanese: dict[str, str] = {}
        self._written: dict[str, list[tuple[str, str]]] = {f: [] for f in FOREIGN_FIELDS}
        for c in concepts:
            key = str(c["key"])
            ja = [str(t) for t in c.get("ja", []) or []]  # type: ignore[attr-defined]
            if not ja:
                continue
            self._japanese[key] = ja[0]
            for field in FOREIGN_FIELDS:
                self._written[field] += [(str(p), key) for p in c.get(field, []) or []]  # type: ignore[attr-defined]
        self._compiled: dict[tuple[tuple[str, ...], bool], _Phrases] = {}

    def _phrases(self, lang: str | None, folded: bool) -> _Phrases:
        """The phrases of the question's language, English and romaji (all languages when
        it is not known): a word of one language is often another's ("got" is Indonesian
        for a gutter), so each question meets only the words its language could mean."""
        base = (lang or "").split("-")[0].lower()
        fields = tuple(
            f
            for f in FOREIGN_FIELDS
            if not base or f in ("en", "romaji") or f.split("-")[0] == base
        )
        if base and len(fields) == 2 and base not in ("en",):
            fields = FOREIGN_FIELDS  # a language the glossary has no field for: every one
        key = (fields, folded)
        if key not in self._compiled:
            written = [w for f in fields for w in self._written[f]]
            # as written (for questions with accents), or with the accents dropped
            self._compiled[key] = _Phrases(written, accents=folded)
        return self._compiled[key]

    def __len__(self) -> int:
        return len(self._japanese)

    def warm_up(self, langs: Iterable[str] = ()) -> None:
        """Compile the phrase patterns of these languages now (a few tenths of a second
        each), not at the first question in each: the unaccented form for every one, and
        the accented one too where the language writes accents."""
        for lang in langs:
            self._phrases(lang, True)
            if lang.split("-")[0] in ACCENTED:
                self._phrases(lang, False)

    def matches(self, question: str, lang: str | None = None) -> list[Match]:
        """The glossary phrases in ``question`` (asked in ``lang``, when known), longest
        first, never overlapping."""
        folded = not has_accents(question)
        phrases = self._phrases(lang, folded)
        out: list[Match] = []
        seen: set[str] = set()
        for phrase, key in phrases.find(fold(question, accents=folded)):
            if key not in seen:
                seen.add(key)
                out.append(Match(phrase, key, self._japanese[key]))
        return out

    def terms(self, question: str, lang: str | None = None) -> list[str]:
        """The Japanese terms of the concepts the question names (at most ``MAX_TERMS``)."""
        return [m.japanese for m in self.matches(question, lang)][:MAX_TERMS]

    @staticmethod
    def load(paths: Iterable[Path] | None = None) -> Glossary:
        """The bundled glossary (``kit/glossary/*.jsonl``), or the given JSON Lines files."""
        files = sorted(GLOSSARY_DIR.glob("*.jsonl")) if paths is None else list(paths)
        concepts = [
            json.loads(line)
            for f in files
            for line in Path(f).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        return Glossary(concepts)


class _Phrases:
    """Phrases folded one way, compiled into one pattern (longest first)."""

    def __init__(self, written: Iterable[tuple[str, str]], *, accents: bool) -> None:
        self.key_of: dict[str, str] = {}
        for p, key in written:
            f = fold(p, accents=accents)
            if len(f.replace(" ", "")) >= MIN_PHRASE:
                self.key_of.setdefault(f, key)
        ordered = sorted(self.key_of, key=len, reverse=True)
        spaced = [re.escape(p) for p in ordered if _spaced(p)]
        solid = [re.escape(p) for p in ordered if not _spaced(p)]
        # a word-script phrase must not start or end inside a word; CJK phrases anywhere
        alternatives = [f"(?<![\\w])(?:{'|'.join(spaced)})(?![\\w])"] * bool(spaced)
        alternatives += [f"(?:{'|'.join(solid)})"] * bool(solid)
        self.pattern = re.compile("|".join(alternatives) or r"(?!x)x")

    def find(self, text: str) -> list[tuple[str, str]]:
        return [(m.group(0), self.key_of[m.group(0)]) for m in self.pattern.finditer(text)]


@cache
def bundled() -> Glossary:
    """The bundled glossary, loaded once per process."""
    return Glossary.load()
