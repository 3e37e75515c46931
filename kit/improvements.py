"""The improvement loop: from a group of unanswered questions to a fix, and its effect.

A group of unanswered questions (``kit.usage.group_unanswered``) is closed by one of
three actions:

- **FAQ** (``add_faq``): staff write the answer. The entry is appended to a FAQ CSV in
  the open-data layout (自治体標準オープンデータセット「よくある質問」: the columns
  of ``demo/faq.csv``, ``FAQ_COLUMNS``) and that file is ingested at once, so the next
  resident asking gets the answer, cited as ``<file>#<ID>``. The file is the town's
  FAQ CSV when staff name one (its own header and encoding-neutral rewrite: the rows
  are kept, the new one appended, the file written back as UTF-8 with a BOM), else a
  file of entries written from the log (``faq_added.csv`` in the upload folder), which
  the town can publish as it is.
- **synonym** (``add_synonym``): residents' word for the documents' word, added to the
  town's list (``kit.synonyms``), used from the next question.
- **out of scope** (``mark_out_of_scope``): not the town's business (天気, 宝くじ): the
  group is stored and its questions are left out of later unanswered lists.

Every action is one JSON line in ``<data_dir>/improvements.jsonl`` (owner-only, like
the log): when, which group (its masked questions), and how often the group was asked
and left unanswered in the period it was found in. A later period's report compares:
``effects`` counts the turns of that period, asked after the action, similar to the
group's questions, and how many of them were still unanswered.

This module needs something that can ingest (``Ingester``: ``TownServices`` is one) but
imports nothing from ``ingest/``; the caller passes it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from madoguchi.kit.convlog import spreadsheet_cell
from madoguchi.kit.errors import InputError, StoreError
from madoguchi.kit.pii import mask_pii
from madoguchi.kit.usage import (
    GROUP_THRESHOLD,
    JST,
    Period,
    UnansweredGroup,
    turns_matching,
    unanswered,
)

if TYPE_CHECKING:
    from madoguchi.kit.convlog import Turn
    from madoguchi.kit.synonyms import SynonymFile, Synonyms

__all__ = [
    "FAQ_COLUMNS",
    "FAQ_FILENAME",
    "FILENAME",
    "Action",
    "Effect",
    "FaqEntry",
    "ImprovementStore",
    "Improvements",
    "append_faq_entry",
]

FILENAME = "improvements.jsonl"
FAQ_FILENAME = "faq_added.csv"
FAQ_COLUMNS = [
    "ID",
    "地方公共団体コード",
    "地方公共団体名",
    "質問",
    "回答",
    "所管部署",
    "電話番号",
    "URL",
]
KINDS = ("faq", "synonym", "out_of_scope")
KIND_LABELS = {"faq": "FAQ を追加", "synonym": "言い換えを追加", "out_of_scope": "対象外"}
# header names of the open-data layout and the spellings towns use (compared folded)
_ALIASES = {
    "id": ("id", "no", "番号", "faq_id", "通し番号"),
    "code": ("地方公共団体コード", "団体コード"),
    "town": ("地方公共団体名", "団体名"),
    "question": ("質問", "question", "q", "問い", "質問内容"),
    "answer": ("回答", "answer", "a", "答え", "回答内容"),
    "department": ("所管部署", "担当課", "担当部署", "部署", "department", "問い合わせ先"),
    "phone": ("電話番号", "電話", "tel", "phone"),
    "url": ("url", "参照url", "リンク"),
}
_PHONE = re.compile(r"^\+?[0-9][0-9\-() ]{5,18}[0-9]$")
MAX_QUESTION = 300
MAX_ANSWER = 5000


class Ingester(Protocol):
    """What can bring a file into the index (``TownServices.ingest``)."""

    def ingest(self, roots: Iterable[str | Path]) -> Any: ...


# ------------------------------------------------------------------ the actions


@dataclass(frozen=True)
class Action:
    kind: str
    ts: float
    key: str  # the group's key (kit.usage.UnansweredGroup.key)
    leader: str
    questions: tuple[str, ...]  # the group's masked questions
    period: str  # the period the group was found in
    before_asked: int
    before_unanswered: int
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def before_share(self) -> float:
        return self.before_unanswered / self.before_asked if self.before_asked else 0.0

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["questions"] = list(self.questions)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Action:
        return cls(
            kind=str(d["kind"]),
            ts=float(d["ts"]),
            key=str(d.get("key", "")),
            leader=str(d.get("leader", "")),
            questions=tuple(str(q) for q in d.get("questions", ())),
            period=str(d.get("period", "")),
            before_asked=int(d.get("before_asked", 0)),
            before_unanswered=int(d.get("before_unanswered", 0)),
            detail=dict(d.get("detail") or {}),
        )


class ImprovementStore:
    """The actions taken, one JSON line each, in the order taken."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path | str) -> ImprovementStore:
        return cls(Path(data_dir) / FILENAME)

    def add(self, action: Action) -> None:
        line = json.dumps(action.to_json(), ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as f:
                    f.write(line)
            except OSError as exc:
                raise StoreError(f"cannot write {self.path}: {exc}") from exc

    def actions(self) -> list[Action]:
        if not self.path.exists():
            return []
        out = []
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        for no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(Action.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"{self.path} line {no}: {exc}") from exc
        return out

    def out_of_scope(self) -> list[tuple[str, ...]]:
        """The question groups marked out of scope (for ``kit.usage.stats``)."""
        return [a.questions for a in self.actions() if a.kind == "out_of_scope"]

    def done_keys(self) -> dict[str, str]:
        """Group key -> the last action taken on it."""
        return {a.key: a.kind for a in self.actions()}


# ------------------------------------------------------------------ the FAQ file


@dataclass(frozen=True)
class FaqEntry:
    question: str
    answer: str
    department: str = ""
    phone: str = ""
    url: str = ""

    def checked(self) -> FaqEntry:
        """The entry with blanks trimmed; an unusable one raises ``InputError``."""
        q, a = _one_line(self.question), (self.answer or "").strip()
        dept, phone, url = _one_line(self.department), _one_line(self.phone), _one_line(self.url)
        if not q:
            raise InputError("質問を入力してください (the question is empty)")
        if not a:
            raise InputError("回答を入力してください (the answer is empty)")
        if len(q) > MAX_QUESTION:
            raise InputError(f"質問は {MAX_QUESTION} 文字までです ({len(q)} 文字)")
        if len(a) > MAX_ANSWER:
            raise InputError(f"回答は {MAX_ANSWER} 文字までです ({len(a)} 文字)")
        phone = unicodedata.normalize("NFKC", phone).replace("ー", "-").replace("−", "-")
        if phone and not _PHONE.match(phone):
            raise InputError(f"電話番号の形ではありません: {phone!r} (例: 01234-5-1103)")
        if url and not re.match(r"https?://[^\s]+$", url):
            raise InputError(f"URL は http:// か https:// で始めてください: {url!r}")
        return FaqEntry(q, a, dept, phone, url)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace(" ", "")


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        n = _fold(name.lstrip("\ufeff"))
        for field_name, names in _ALIASES.items():
            if field_name not in found and n in {_fold(x) for x in names}:
                found[field_name] = i
    return found


def append_faq_entry(
    path: Path, entry: FaqEntry, *, town_name: str = "", town_code: str = ""
) -> str:
    """Append ``entry`` to the FAQ CSV at ``path`` (made in the open-data layout when it
    does not exist) and return the new row's ID. The code and name of the town are the
    previous row's when the file has them, else the given ones."""
    with _FAQ_LOCK:  # two staff adding at once: neither row is lost
        return _append(path, entry.checked(), town_name, town_code)


_FAQ_LOCK = threading.Lock()


def _append(path: Path, e: FaqEntry, town_name: str, town_code: str) -> str:
    from madoguchi.kit.charset import decode

    if path.exists():
        try:
            text = decode(path.read_bytes(), path.name)
        except Exception as exc:  # ParseError and friends
            raise InputError(f"{path.name} を読めません: {exc}") from exc
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    else:
        rows = []
    if not rows:
        rows = [list(FAQ_COLUMNS)]
    header = rows[0]
    cols = _columns(header)
    if "question" not in cols or "answer" not in cols:
        raise InputError(
            f"{path.name} は FAQ の CSV ではありません（質問・回答の列がありません）"
            " (not a FAQ CSV: no question and answer columns)"
        )
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    last = body[-1] if body else []

    def cell(row: list[str], name: str) -> str:
        i = cols.get(name)
        return row[i] if i is not None and i < len(row) else ""

    new_id = ""
    if "id" in cols:
        ids = [cell(r, "id").strip() for r in body]
        numbers = [int(i) for i in ids if i.isdigit()]
        new_id = str(max(numbers, default=0) + 1)
        while new_id in ids:  # IDs that are not numbers: the next free number
            new_id = str(int(new_id) + 1)
    else:
        new_id = str(len(rows))  # the 1-based record number the connector will give it
    values = {
        "id": new_id,
        "code": cell(last, "code") or town_code,
        "town": cell(last, "town") or town_name,
        "question": e.question,
        "answer": e.answer,
        "department": e.department,
        "phone": e.phone,
        "url": e.url,
    }
    new = [""] * len(header)
    for name, i in cols.items():
        # free text that a spreadsheet would read as a formula (=HYPERLINK(…)) is quoted;
        # the phone and URL are checked shapes, kept as they are
        free = name in ("question", "answer", "department")
        new[i] = spreadsheet_cell(values[name]) if free else values[name]
    rows.append(new)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\ufeff" + buf.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, path)
    return new_id


# ------------------------------------------------------------------ the loop


@dataclass(frozen=True)
class Effect:
    """One action and what became of its group in a later period."""

    action: Action
    after_asked: int
    after_unanswered: int

    @property
    def after_share(self) -> float:
        return self.after_unanswered / self.after_asked if self.after_asked else 0.0

    def row(self) -> dict[str, Any]:
        a = self.action
        return {
            "action": a.kind,
            "taken": datetime.fromtimestamp(a.ts, JST).strftime("%Y-%m-%d"),
            "group": a.leader,
            "found_in": a.period,
            "before_asked": a.before_asked,
            "before_unanswered": a.before_unanswered,
            "before_share": round(a.before_share, 4),
            "after_asked": self.after_asked,
            "after_unanswered": self.after_unanswered,
            "after_share": round(self.after_share, 4),
            "detail": a.detail.get("source") or ", ".join(a.detail.get("words", [])),
        }


class Improvements:
    """The three actions on an unanswered group, and their effects."""

    def __init__(
        self,
        store: ImprovementStore,
        *,
        ingester: Ingester | None = None,
        synonyms: SynonymFile | None = None,
        faq_path: Path | None = None,
        source_id: Callable[[Path], str] = lambda p: p.as_posix(),
        town_name: str = "",
        threshold: float = GROUP_THRESHOLD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.store = store
        self.ingester = ingester
        self.synonyms = synonyms
        self.faq_path = faq_path
        self.source_id = source_id  # the path as the index names the file's rows
        self.town_name = town_name
        self.threshold = threshold

    def _action(
        self, kind: str, group: UnansweredGroup, period: str, detail: dict[str, Any]
    ) -> Action:
        action = Action(
            kind=kind,
            ts=self.clock(),
            key=group.key,
            leader=mask_pii(group.leader),
            questions=tuple(mask_pii(q) for q in group.texts()) or (mask_pii(group.leader),),
            period=period,
            before_asked=group.asked,
            before_unanswered=group.count,
            detail=detail,
        )
        self.store.add(action)
        return action

    def add_faq(
        self,
        group: UnansweredGroup,
        entry: FaqEntry,
        period: str = "",
        faq_file: Path | None = None,
    ) -> Action:
        """Append the entry to the FAQ file, index that file now, record the action."""
        path = faq_file or self.faq_path
        if path is None or self.ingester is None:
            raise InputError("FAQ の書き出し先がありません (no FAQ file to write to)")
        e = entry.checked()
        row_id = append_faq_entry(Path(path), e, town_name=self.town_name)
        root = self.source_id(Path(path))
        report = self.ingester.ingest([root])
        sid = f"{root}#{row_id}"
        done = set(getattr(report, "added", [])) | set(getattr(report, "updated", []))
        if sid not in done:
            why = "; ".join(f"{s}: {r}" for s, r in getattr(report, "skipped", [])) or "?"
            raise InputError(f"{sid} を索引に入れられませんでした (not indexed): {why}")
        return self._action(
            "faq", group, period, {"source": sid, "file": str(path), "question": e.question}
        )

    def add_synonym(
        self, group: UnansweredGroup, words: Sequence[str], period: str = ""
    ) -> Synonyms:
        """Add one group of words to the town's list (used from the next question)."""
        if self.synonyms is None:
            raise InputError("言い換え辞書がありません (no synonym list)")
        words = [w.strip() for w in words if w and w.strip()]
        syn = self.synonyms.add(words)
        self._action("synonym", group, period, {"words": words})
        return syn

    def mark_out_of_scope(self, group: UnansweredGroup, period: str = "", note: str = "") -> Action:
        return self._action("out_of_scope", group, period, {"note": mask_pii(note.strip())})

    def effects(self, turns: Sequence[Turn], period: Period) -> list[Effect]:
        """For each FAQ or synonym action taken before the period ended: the turns of the
        period asked after it that say what its group said, and how many were unanswered."""
        out = []
        for a in self.store.actions():
            if a.kind == "out_of_scope" or a.ts >= period.end_ts:
                continue
            after = [t for t in turns if period.contains(t.ts) and t.ts >= a.ts]
            same = turns_matching(after, list(a.questions), self.threshold)
            out.append(Effect(a, len(same), sum(1 for t in same if unanswered(t))))
        return out

    def taken_in(self, period: Period) -> Counter[str]:
        """How many actions of each kind were taken in the period."""
        return Counter(a.kind for a in self.store.actions() if period.contains(a.ts))
