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


def test_phrases_are_found_in_every_script_and_fold_accents():
    from madoguchi.kit.glossary import bundled

    g = bundled()
    cases = {
        "Where can I throw away an old TV?": "テレビ",
        "Como descartar lâmpada fluorescente?": "蛍光灯",
        "Como descartar lampada fluorescente?": "蛍光灯",
        "Saan puwedeng itapon ang lumang aircon?": "エアコン",
        "how to get juminhyo": "住民票",
        "toi muon xin giay chung nhan cu tru": "住民票",
        "बाल भत्ता कसरी पाउने?": "児童手当",
        "대형 쓰레기 버리는 방법": "粗大ごみ",
    }
    for question, term in cases.items():
        assert term in g.terms(question), question


def test_a_phrase_never_matches_inside_a_word():
    from madoguchi.kit.glossary import Glossary

    g = Glossary([{"key": "tv", "ja": ["テレビ"], "en": ["tv"]}])
    assert g.terms("my old TV broke") == ["テレビ"]
    assert g.terms("a tvset and ctv") == []
    assert g.terms("How much is it?") == []


def test_a_question_meets_only_the_words_its_language_could_mean():
    from madoguchi.kit.glossary import Glossary

    g = Glossary([{"key": "sokko", "ja": ["側溝"], "id": ["got", "selokan"], "en": ["gutter"]}])
    assert g.terms("I just got a puppy", "en") == []  # "got" is Indonesian for a gutter
    assert g.terms("got depan rumah tersumbat", "id") == ["側溝"]
    assert g.terms("the gutter is blocked", "en") == ["側溝"]
    assert g.terms("I just got a puppy") == ["側溝"]  # language unknown: every field
