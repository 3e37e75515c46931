"""Evaluation datasets: the JSON Lines format of docs/ARCHITECTURE.md, validated line by line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from madoguchi.kit.errors import InputError


class DatasetError(InputError):
    """A dataset line that does not follow the format; the message names file and line."""


class UnlabelledError(DatasetError):
    """An item written by ``madoguchi eval starter --from-log`` that nobody labelled yet."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    lang: str = "ja"
    answerable: bool = True
    expected_sources: tuple[str, ...] = ()
    expected_answer_contains: tuple[str, ...] = ()
    relevance: dict[str, int] = field(default_factory=dict)
    note: str = ""
    # earlier questions of the same conversation, oldest first, replayed before this one
    history: tuple[str, ...] = ()
    # an optional label of the item's kind ("followup", "switch", ...): figures per kind
    kind: str = ""


def _strs(value: Any, name: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(f"{where}: field '{name}' must be a list of non-empty strings")
    return tuple(value)


def parse_item(data: Any, where: str) -> EvalItem:
    """One dataset record; ``where`` ("file:line") starts every error message.

    ``answerable`` is required: a forgotten flag silently scoring an
    unanswerable question as answerable would be worse than a clear error.
    Unknown fields are ignored, so datasets can carry their own bookkeeping.
    """
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: each line must be a JSON object")
    if data.get("needs_label"):
        raise UnlabelledError(
            f"{where}: item {data.get('id')!r} still needs a label: set 'answerable' (and "
            "'expected_sources' when answerable), then delete 'needs_label'"
        )
    for key in ("id", "question"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise DatasetError(f"{where}: field '{key}' is required and must be a non-empty string")
    answerable = data.get("answerable")
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: field 'answerable' must be true or false")
    lang = data.get("lang", "ja")
    if not isinstance(lang, str) or not lang.strip():
        raise DatasetError(f"{where}: field 'lang' must be a non-empty string such as \"ja\"")
    expected = _strs(data.get("expected_sources"), "expected_sources", where)
    contains = _strs(data.get("expected_answer_contains"), "expected_answer_contains", where)
    if not answerable and expected:
        raise DatasetError(f"{where}: an unanswerable item must have expected_sources: []")
    rel = data.get("relevance") or {}
    if not isinstance(rel, dict) or not all(
        isinstance(k, str) and k.strip() and type(v) is int and v >= 0 for k, v in rel.items()
    ):
        raise DatasetError(f"{where}: field 'relevance' must map source ids to integer grades >= 0")
    note = data.get("note") or ""
    history = _strs(data.get("history"), "history", where)
    kind = data.get("kind") or ""
    if not isinstance(kind, str):
        raise DatasetError(f"{where}: field 'kind' must be a string such as \"followup\"")
    return EvalItem(
        id=data["id"],
        question=data["question"],
        lang=lang,
        answerable=answerable,
        expected_sources=expected,
        expected_answer_contains=contains,
        relevance=dict(rel),
        note=str(note),
        history=history,
        kind=kind.strip(),
    )


def load_dataset(path: str | Path) -> list[EvalItem]:
    """Every question of a JSON Lines file, or a ``DatasetError`` naming file and line.

    Blank lines and a leading BOM are accepted. Lines are split on "\\n" only
    (not ``str.splitlines``), so a U+2028 inside a question, which
    ``json.dumps(ensure_ascii=False)`` leaves unescaped, cannot shift line numbers.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{p}: cannot read as UTF-8 text: {exc}") from exc
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    unlabelled: list[UnlabelledError] = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{p}:{n}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from None
        if not items and not seen and not unlabelled and _is_provenance(data):
            continue  # who wrote the set, how, and from what: for people, not scored
        try:
            item = parse_item(data, where)
        except UnlabelledError as exc:
            unlabelled.append(exc)  # report them all at once, after the other checks
            continue
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id '{item.id}' (first on line {seen[item.id]})")
        seen[item.id] = n
        items.append(item)
    if unlabelled:
        total = len(unlabelled) + len(items)
        raise UnlabelledError(
            f"{len(unlabelled)} of {total} items still need labels; the first: {unlabelled[0]}"
        )
    if not items:
        raise DatasetError(f"{p}: no questions in the file")
    return items


def _is_provenance(data: Any) -> bool:
    """A set's first record may be ``{"provenance": {...}}`` alone: who wrote the
    questions and how (a blind set records that it was written without running the
    system), the corpus, its origin and licence."""
    return isinstance(data, dict) and set(data) == {"provenance"}


def load_provenance(path: str | Path) -> dict[str, Any] | None:
    """The provenance record of a set, if its first line holds one."""
    for line in Path(path).read_text(encoding="utf-8-sig").split("\n"):
        if line.strip():
            data = json.loads(line)
            return dict(data["provenance"]) if _is_provenance(data) else None
    return None


def select_half(items: list[EvalItem], split_file: str | Path, half: str) -> list[EvalItem]:
    """The items of one half ("tune" or "report") of a committed split file."""
    try:
        split = json.loads(Path(split_file).read_text(encoding="utf-8"))
        ids = set(split[half])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(f"{split_file}: no '{half}' list of ids ({exc})") from exc
    chosen = [it for it in items if it.id in ids]
    if not chosen:
        raise DatasetError(f"{split_file}: none of its '{half}' ids are in the dataset")
    return chosen


def source_matches(expected: str, retrieved: str) -> bool:
    """Equal, or one ends with the other at a "/" boundary (docs/ARCHITECTURE.md).

    The boundary rule lets a dataset written relative to one directory
    ("data/town/faq.csv#12") match ids ingested from another
    ("../shared/data/town/faq.csv#12", "/abs/data/town/faq.csv#12") while
    "faq.csv#1" never matches "faq.csv#12" nor "xfaq.csv#12" matches "faq.csv#12".
    """
    if expected == retrieved:
        return True
    short, long = sorted((expected, retrieved), key=len)
    return bool(short) and long.endswith("/" + short)


def dataset_from_faq_csv(rows: Iterable[tuple[str, str]]) -> list[EvalItem]:
    """A starter set from FAQ rows: each row's own question must find that row."""
    return [
        EvalItem(id=f"faq-{i}", question=q, expected_sources=(sid,), relevance={sid: 2})
        for i, (sid, q) in enumerate(rows, start=1)
        if q.strip()
    ]


def write_dataset(items: Iterable[EvalItem], path: str | Path) -> None:
    lines = []
    for it in items:
        lines.append(
            json.dumps(
                {
                    "id": it.id,
                    "question": it.question,
                    "lang": it.lang,
                    "answerable": it.answerable,
                    "expected_sources": list(it.expected_sources),
                    "expected_answer_contains": list(it.expected_answer_contains),
                    **({"relevance": it.relevance} if it.relevance else {}),
                    "note": it.note,
                },
                ensure_ascii=False,
            )
        )
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
