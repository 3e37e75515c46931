"""Item names of dictionary-like tables found inside a question.

A garbage-sorting table (5374's ``target.csv``), a list of facilities or of
districts is looked up by name: a resident asking "子供の自転車いらなくなった"
means the row named 自転車, not the one named 自転車の空気入れ that shares more
words, nor 子供用遊具 that shares more meaning. Dense and BM25 scores both
favour the longer, wordier rows; this signal says which row's *name* the
question contains.

A name is matched by its written form (NFKC, lower case, katakana as
hiragana: ごみ/ゴミ) with any bracketed qualifier dropped (煙突（袋に入らないもの）
→ 煙突), and, for names of three kana or more, by its Sudachi reading as well,
so 布団 in a question finds the row written ふとん, and, for a one-word name, by
Sudachi's synonym group (チャリ finds 自転車, デジカメ finds デジタルカメラ). Longer
names score higher:
"タイヤ" in "車のタイヤ" says more than "車"; a name contained in a longer
matched name (傘 inside ビニール傘, ボール inside the ダンボール read as 段ボール) is
dropped in favour of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from madoguchi.kit.lexical import kata_to_hira, reading_and_synonyms

# (…), （…）, 【…】, 「…」 qualifiers and a trailing ※ note are not part of the name
_BRACKETS = re.compile(r"[(（【［\[][^)）】］\]]*[)）】］\]]?")
_NOTE = re.compile(r"[※＊*].*$")
_ALTERNATIVES = re.compile(r"[・、,，/／]| または | or ")
_MAX_NAME = 24
_MIN_READING = 3


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return kata_to_hira("".join(text.split()))


def name_forms(title: str) -> dict[str, str]:
    """The written forms a row is looked up by, each with the text it came from: its
    name without qualifiers, and each alternative of a name like カセットボンベ・スプレー缶."""
    base = _NOTE.sub("", _BRACKETS.sub("", unicodedata.normalize("NFKC", title))).strip()
    if not base:
        return {}
    forms = {normalise(base): base}
    parts = [p.strip() for p in _ALTERNATIVES.split(base)]
    if len(parts) > 1:
        forms.update((normalise(p), p) for p in parts if normalise(p))
    return {k: v for k, v in forms.items() if 0 < len(k) <= _MAX_NAME}


def name_keys(title: str) -> set[str]:
    return set(name_forms(title))


class NameIndex:
    """Positions of table rows by the keys of their names."""

    def __init__(self, names: Iterable[tuple[int, str]]) -> None:
        self.written: dict[str, list[int]] = {}
        self.spoken: dict[str, list[int]] = {}
        # synonym-group token -> (name key, positions) of one-word names in that group
        self.synonyms: dict[str, dict[str, list[int]]] = {}
        self.reading_of: dict[str, str] = {}
        groups_of: dict[str, tuple[str, ...]] = {}
        for pos, title in names:
            for key, surface in name_forms(title).items():
                self.written.setdefault(key, []).append(pos)
                if key not in self.reading_of:
                    read, words = reading_and_synonyms(surface)
                    self.reading_of[key] = normalise(read)
                    groups_of[key] = words[0] if len(words) == 1 else ()
                for g in groups_of[key]:
                    self.synonyms.setdefault(g, {}).setdefault(key, []).append(pos)
                rk = self.reading_of[key]
                if len(rk) >= _MIN_READING:
                    self.spoken.setdefault(rk, []).append(pos)
        self.longest = max((len(k) for k in (*self.written, *self.spoken)), default=0)

    def __len__(self) -> int:
        return len(self.written)

    def search(self, query: str) -> list[tuple[int, float]]:
        """Rows whose name the query contains, best first, with a score in (0, 1):
        ``len / (len + 2)`` of the longest form matched (written or read), so 傘 scores
        0.33 and 自転車, matched by its reading じてんしゃ, 0.71."""
        if not self.written:
            return []
        query = query[:2000]
        q = normalise(query)
        # (key, its reading, positions)
        matches = [
            (k, self.reading_of[k], p)
            for k, p in outermost(find_spans(q, self.written, self.longest))
        ]
        read, words = reading_and_synonyms(query)  # one Sudachi pass for both
        if self.spoken:
            spoken = find_spans(normalise(read), self.spoken, self.longest)
            matches += [(k, k, p) for k, p in outermost(spoken)]
        if self.synonyms:
            for groups in words:
                for g in groups:
                    for k, p in self.synonyms.get(g, {}).items():
                        matches.append((k, self.reading_of[k], p))
        # a name read inside a longer matched name is not the name (ボール in だんぼーる)
        readings = {r for _, r, _ in matches if r}
        best: dict[int, float] = {}
        for key, r, positions in matches:
            if r and any(r in other and len(other) > len(r) for other in readings):
                continue
            score = len(key) / (len(key) + 2)
            for pos in positions:
                best[pos] = max(best.get(pos, 0.0), score)
        return sorted(best.items(), key=lambda x: (-x[1], x[0]))


def find_spans(
    text: str, table: dict[str, list[int]], longest: int
) -> list[tuple[int, int, str, list[int]]]:
    """Every (start, end, key, positions) of a key occurring in ``text``."""
    out = []
    for i in range(len(text)):
        for j in range(i + 1, min(len(text), i + longest) + 1):
            hit = table.get(text[i:j])
            if hit is not None:
                out.append((i, j, text[i:j], hit))
    return out


def outermost(spans: list[tuple[int, int, str, list[int]]]) -> list[tuple[str, list[int]]]:
    """Matches not strictly inside a longer match (傘 inside ビニール傘 is not the name)."""
    return [
        (key, pos)
        for s, e, key, pos in spans
        if not any(s2 <= s and e <= e2 and e2 - s2 > e - s for s2, e2, _, _ in spans)
    ]
