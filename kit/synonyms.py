"""The town's own list of words that mean the same thing (言い換え辞書).

Residents name things their own way: スマホ for the table's 携帯電話, ガス缶 for
カセットボンベ, キャリーケース for スーツケース. Sudachi's synonym dictionary knows
general Japanese, not the words a town's documents happen to use, so staff keep a
list: each line one group of words separated by commas (or 、 or tabs), ``#``
starting a comment::

    # 言い換え辞書: 1 行に 1 グループ
    スマホ, スマートフォン, 携帯電話
    ガス缶, カセットボンベ

A question containing a word of a group is searched as written and once more
with that word replaced by each other word of its group (at most
``MAX_REWRITES`` variants): every signal takes the best variant, so the row
named 携帯電話 is found by its name, its words and its meaning. Words are matched
after NFKC, lower case and katakana-as-hiragana (スマホ = すまほ = ｽﾏﾎ); a word
inside a longer matched word does not count (油 inside 揚げ油).

The list lives in ``<data_dir>/synonyms.csv`` (``retrieval.synonyms_file``) and is
re-read when the file changes, so an edit takes effect at the next question.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madoguchi.kit.errors import InputError
from madoguchi.kit.names import find_spans, normalise, outermost

if TYPE_CHECKING:
    from madoguchi.kit.convlog import ConversationLog
    from madoguchi.kit.protocols import Embedder
    from madoguchi.kit.store import SearchView

MAX_REWRITES = 4
MAX_WORD = 40
MAX_GROUPS = 20000
_SEPARATORS = re.compile(r"[,、，\t]")
HEADER = (
    "# madoguchi 言い換え辞書 (synonyms): 1 行に 1 グループ、語はカンマ区切り\n"
    "# one group of words that mean the same per line, separated by commas\n"
)


# the same folding as table names (kit.names): NFKC, lower case, no spaces, kana as hiragana
_key = normalise


@dataclass(frozen=True)
class Expansion:
    """A word of the list found in a question, and the words it stands for."""

    word: str  # as the question has it
    alternatives: tuple[str, ...]


class Synonyms:
    """Groups of interchangeable words, looked up inside questions."""

    def __init__(self, groups: Iterable[Sequence[str]] = ()) -> None:
        self.groups: list[tuple[str, ...]] = []
        self._group_of: dict[str, list[int]] = {}  # key -> [its group], as kit.names indexes
        for group in groups:
            words = tuple(dict.fromkeys(w.strip() for w in group if _key(w)))
            if len(words) < 2:
                continue
            self.groups.append(words)
            for w in words:
                self._group_of.setdefault(_key(w), [len(self.groups) - 1])
        self._longest = max((len(k) for k in self._group_of), default=0)

    def __len__(self) -> int:
        return len(self.groups)

    @classmethod
    def parse(cls, text: str, name: str = "synonyms") -> Synonyms:
        """Read the list; a line that is not a group of two or more words is an error
        naming the line, so a typo does not silently do nothing."""
        groups: list[list[str]] = []
        problems: list[str] = []
        for no, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = [w.strip() for w in _SEPARATORS.split(line) if w.strip()]
            long = [w for w in words if len(w) > MAX_WORD]
            if long:
                problems.append(f"line {no}: a word over {MAX_WORD} characters ({long[0][:20]}…)")
            elif len({_key(w) for w in words}) < 2:
                problems.append(f"line {no}: a group needs two or more different words")
            else:
                groups.append(words)
        if len(groups) > MAX_GROUPS:
            problems.append(f"{len(groups):,} groups; the limit is {MAX_GROUPS:,}")
        if problems:
            shown = "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
            raise InputError(f"{name}: {shown}")
        return cls(groups)

    def to_text(self) -> str:
        return HEADER + "".join(", ".join(g) + "\n" for g in self.groups)

    def expand(self, query: str) -> list[Expansion]:
        """The list's words in ``query`` (longest first where they overlap) with the
        other words of their groups."""
        if not self._group_of:
            return []
        q = _key(query[:2000])
        out: list[Expansion] = []
        seen: set[int] = set()
        for found, (g,) in outermost(find_spans(q, self._group_of, self._longest)):
            if g in seen:
                continue
            seen.add(g)
            alts = tuple(w for w in self.groups[g] if _key(w) != found)
            out.append(Expansion(_surface(query, found) or found, alts))
        return out

    def rewrites(self, query: str) -> tuple[list[Expansion], list[str]]:
        """The expansions of ``query`` and the query rewritten with each alternative
        (the word replaced where the question writes it as listed, else added)."""
        found = self.expand(query)
        out: list[str] = []
        for ex in found:
            for alt in ex.alternatives:
                if len(out) >= MAX_REWRITES:
                    return found, out
                out.append(query.replace(ex.word, alt) if ex.word in query else f"{query} {alt}")
        return found, out


def _surface(query: str, key: str) -> str | None:
    """The stretch of ``query`` whose key is ``key`` (the question's own spelling)."""
    n = len(query)
    for i in range(n):
        if query[i].isspace():
            continue
        for j in range(i + 1, min(n, i + 3 * len(key) + 2) + 1):
            k = _key(query[i:j])
            if k == key:
                return query[i:j]
            if not key.startswith(k):
                break
    return None


class SynonymFile:
    """The list in a file, re-read when the file changes; no file: an empty list.

    A file that no longer parses keeps the last good list (and ``error`` says why),
    so a half-saved edit does not switch the town's synonyms off."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.error: str | None = None
        self._stamp: tuple[int, int] | None = None
        self._current = Synonyms()
        self._lock = threading.Lock()

    def current(self) -> Synonyms:
        try:
            st = self.path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._stamp:
            return self._current
        with self._lock:
            if stamp != self._stamp:
                self._load(stamp)
        return self._current

    def _load(self, stamp: tuple[int, int] | None) -> None:
        self._stamp = stamp
        if stamp is None:
            self._current, self.error = Synonyms(), None
            return
        try:
            self._current = Synonyms.parse(read_text(self.path), self.path.name)
            self.error = None
        except (InputError, OSError) as exc:
            self.error = str(exc)

    def text(self) -> str:
        return read_text(self.path) if self.path.exists() else HEADER

    def save_text(self, text: str, name: str | None = None) -> Synonyms:
        """Check and write the list (atomically); a bad list raises and writes nothing.
        ``name`` is what an error calls the text (default: the file's name)."""
        syn = Synonyms.parse(text, name or self.path.name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".synonyms-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return syn

    def add(self, words: Sequence[str]) -> Synonyms:
        """Append one group to the list."""
        Synonyms.parse(", ".join(words), "the new group")
        return self.save_text(self.text().rstrip("\n") + "\n" + ", ".join(words) + "\n")


_HIRAGANA = re.compile(r"[ぁ-ゖー]+")
# nouns of the question itself, not of its topic
_QUESTION_NOUNS = {"捨て方", "出し方", "やり方", "仕方", "方法", "場合", "手続", "料金"}


@dataclass(frozen=True)
class Suggestion:
    """A word of unanswered questions that the documents never use."""

    word: str  # the question's noun phrase holding it (キャリーケース)
    unknown: str  # the words of it no document uses (キャリー)
    questions: int  # unanswered questions containing it (counting repeats)
    example: str
    nearest: tuple[str, ...]  # titles (FAQ questions, item names) nearest in meaning


def suggest(
    questions: Iterable[tuple[str, int]],
    view: SearchView,
    embedder: Embedder,
    synonyms: Synonyms,
    limit: int = 30,
) -> list[Suggestion]:
    """Candidates for the synonym list from unanswered questions ((text, times asked)):
    nouns no indexed document contains, neither as written nor through Sudachi's
    synonyms nor through the town's list, most asked first, each with the indexed
    titles nearest in meaning (where the word the documents use is usually found:
    スマホ → 携帯電話). Staff decide; nothing is added by itself."""
    from madoguchi.kit.lexical import noun_phrases

    found: dict[str, dict[str, Any]] = {}
    for text, times in questions:
        for run in noun_phrases(text):
            phrase = "".join(surface for surface, _, _ in run)
            if synonyms.expand(phrase):
                continue  # the town's list covers it already
            unknown = [
                surface
                for surface, form, groups in run
                if len(surface) >= 2
                and surface not in _QUESTION_NOUNS
                and not _HIRAGANA.fullmatch(surface)  # いくら, やつ: not a thing's name
                and not view.document_frequency(form)
                and not any(view.document_frequency(g) for g in groups)
            ]
            if not unknown:
                continue
            entry = found.setdefault(
                phrase, {"unknown": "・".join(unknown), "n": 0, "example": text, "qs": set()}
            )
            if text not in entry["qs"]:
                entry["qs"].add(text)
                entry["n"] += times
    ranked = sorted(found.items(), key=lambda kv: (-kv[1]["n"], kv[0]))[:limit]
    out = []
    for phrase, e in ranked:
        nearest: list[str] = []
        if len(view):
            qvec = embedder.embed_query(phrase)
            for ids, _ in view.title_search([qvec], 10):
                for cid in ids[:1]:
                    t = view.chunk(cid).title
                    if t and t not in nearest:
                        nearest.append(t)
                if len(nearest) >= 3:
                    break
        out.append(Suggestion(phrase, e["unknown"], e["n"], e["example"], tuple(nearest)))
    return out


def suggest_from_log(
    log: ConversationLog, view: SearchView, embedder: Embedder, synonyms: Synonyms, limit: int = 30
) -> list[Suggestion]:
    """``suggest`` over the conversation log's unanswered Japanese questions."""
    qs = [
        (str(r["question"]), int(r["count"]))
        for r in log.unanswered()
        if not r["langs"] or "ja" in str(r["langs"]).split(",")
    ]
    return suggest(qs, view, embedder, synonyms, limit=limit)


def read_text(path: Path) -> str:
    from madoguchi.kit.charset import decode

    try:
        return decode(Path(path).read_bytes(), Path(path).name)
    except Exception as exc:  # ParseError and friends: one clear message
        raise InputError(str(exc)) from exc
