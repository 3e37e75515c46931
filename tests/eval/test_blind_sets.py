"""The held-out sets in eval/datasets/blind load, say who wrote them, and point at
sources that exist (the demo's always; ../shared/data's when present)."""

from __future__ import annotations

import csv
import io
from functools import cache
from pathlib import Path

import pytest

from madoguchi.eval.dataset import load_dataset, load_provenance
from madoguchi.kit.charset import decode

REPO = Path(__file__).resolve().parents[2]
BLIND = sorted((REPO / "eval" / "datasets" / "blind").glob("*.jsonl"))


@cache
def _records(path: Path) -> int:
    text = decode(path.read_bytes(), path.name)
    return len(list(csv.reader(io.StringIO(text, newline="")))) - 1


@cache
def _faq_ids(path: Path) -> set[str]:
    text = decode(path.read_bytes(), path.name)
    return {r["ID"] for r in csv.DictReader(io.StringIO(text, newline=""))}


@pytest.mark.parametrize("path", BLIND, ids=lambda p: p.name)
def test_a_blind_set_loads_and_records_its_provenance(path: Path):
    prov = load_provenance(path)
    assert prov and prov.get("blind") is True and "never ran the system" in prov["written_by"]
    items = load_dataset(path)
    assert items and all(it.answerable == bool(it.expected_sources) for it in items)


def _exists(sid: str, root: Path) -> bool | None:
    """Whether a source id names something that exists; None when its corpus is absent."""
    path, _, rec = sid.partition("#")
    base = REPO if path.startswith("demo/") else root
    f = base / path
    if not f.exists():
        return None if not path.startswith("demo/") else False
    if not rec:
        return True
    if f.name == "faq.csv":
        return rec in _faq_ids(f)
    return 1 <= int(rec) <= _records(f)


@pytest.mark.parametrize("path", BLIND, ids=lambda p: p.name)
def test_every_expected_source_exists(path: Path):
    shared = REPO.parent / "shared"
    missing, absent = [], 0
    for it in load_dataset(path):
        for sid in {*it.expected_sources, *it.relevance}:
            found = _exists(sid, shared)
            if found is None:
                absent += 1
            elif not found:
                missing.append(f"{it.id}: {sid}")
    assert not missing, missing
    if absent and not any(
        _exists(s, shared) for it in load_dataset(path) for s in it.expected_sources
    ):
        pytest.skip("this set's corpus is not present here")
