"""The shipped multilingual glossary (kit/glossary/*.jsonl) is well formed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parents[2] / "kit" / "glossary"
FIELDS = {"key", "domain", "ja", "kana", "romaji", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko",
          "vi", "pt", "es", "tl", "ne", "id"}  # fmt: skip


def _concepts() -> list[dict]:
    return [
        json.loads(line)
        for f in sorted(GLOSSARY.glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_every_concept_has_every_language_and_a_unique_key():
    concepts = _concepts()
    assert len(concepts) >= 500
    for c in concepts:
        assert set(c) == FIELDS, c["key"]
        assert all(isinstance(c[f], list) and c[f] and all(isinstance(t, str) and t.strip()
                   for t in c[f]) for f in FIELDS - {"key", "domain"}), c["key"]  # fmt: skip
    assert max(Counter(c["key"] for c in concepts).values()) == 1


def test_a_japanese_term_belongs_to_one_concept():
    owners = Counter(t for c in concepts_terms() for t in c)
    assert [t for t, n in owners.items() if n > 1] == []


def concepts_terms() -> list[set[str]]:
    return [set(c["ja"]) for c in _concepts()]
