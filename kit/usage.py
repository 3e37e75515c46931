"""利用状況: what residents asked, per day, week or month, from the conversation log.

Staff want to know how the assistant is used and where it fails, so that they can
fix what fails (``kit.improvements``). ``PeriodStats`` holds one period's figures:

- questions, conversations, and the shares answered / refused / 聞き返し (an answer
  that ends with a clarifying question: ``follow_up`` in the log, or mode ``clarify``)
  / 職員へ (a message to staff, mode ``handoff``);
- 👍 / 👎 counts, languages, response time p50 / p95 (nearest rank, milliseconds);
- the most asked topics: answered turns counted by their first cited source, with
  the title the citation carried (the FAQ entry's question, the page's title);
- the unanswered questions (refused or 👎, as ``ConversationLog.unanswered``) grouped
  by similarity.

**Grouping.** Residents ask the same thing in many words (「ペットの火葬」「ペットの
火葬はできますか」), so unanswered questions are grouped: texts are folded (NFKC,
lower case, no blanks or punctuation, kana as hiragana, common question endings such
as ですか cut), cut into character bigrams, and two questions are similar when the
Jaccard index of their bigram sets reaches ``GROUP_THRESHOLD``. Questions are taken
most asked first (ties by text), each joining the first group whose leader it is
similar to, else leading a new one: deterministic, no model, linear in groups ×
questions. A group also counts every turn of the period similar to its leader,
answered or not, so its unanswered share can be compared before and after a fix.

**Masking.** The log stores masked text already; every question and comment that
leaves this module is passed through ``kit.pii.mask_pii`` once more, so a row written
by an older version, or by hand, cannot show a phone number or an address.

Days, weeks (ISO, from Monday) and months are Japan's (UTC+9, no daylight saving).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from madoguchi.kit.errors import InputError
from madoguchi.kit.pii import mask_pii

if TYPE_CHECKING:
    from madoguchi.kit.convlog import ConversationLog, Turn

__all__ = [
    "GROUP_THRESHOLD",
    "JST",
    "Period",
    "PeriodStats",
    "TopicCount",
    "UnansweredGroup",
    "group_unanswered",
    "load_turns",
    "outcome",
    "percentile",
    "series",
    "similarity",
    "stats",
]

JST = timezone(timedelta(hours=9), "JST")
KINDS = ("day", "week", "month")
GROUP_THRESHOLD = 0.4
OUTCOMES = ("answered", "clarify", "refused", "handoff")
OUTCOME_LABELS = {
    "answered": "回答",
    "clarify": "聞き返し",
    "refused": "回答できず",
    "handoff": "職員へ",
}


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """A day, an ISO week or a month in Japan's time: ``[start, end)``."""

    kind: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "week":
            y, w, _ = self.start.isocalendar()
            return f"{y}-W{w:02d}"
        return self.start.strftime("%Y-%m-%d")

    @property
    def label_ja(self) -> str:
        s = self.start
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "week":
            last = self.end - timedelta(days=1)
            return f"{s.month}月{s.day}日〜{last.month}月{last.day}日の週"
        return f"{s.year}年{s.month}月{s.day}日"

    @property
    def start_ts(self) -> float:
        return self.start.timestamp()

    @property
    def end_ts(self) -> float:
        return self.end.timestamp()

    def contains(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts

    def previous(self) -> Period:
        return Period.containing(self.start_ts - 1, self.kind)

    def next(self) -> Period:
        return Period.containing(self.end_ts, self.kind)

    def split(self, kind: str) -> list[Period]:
        """The days (weeks, months) that overlap this period, whole (a week may begin
        in the month before)."""
        out: list[Period] = []
        p = Period.containing(self.start_ts, kind)
        while p.start < self.end:
            out.append(p)
            p = p.next()
        return out

    @classmethod
    def containing(cls, ts: float, kind: str) -> Period:
        if kind not in KINDS:
            raise InputError(f"期間は day / week / month のどれかです (got {kind!r})")
        t = datetime.fromtimestamp(ts, JST)
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        if kind == "day":
            return cls(kind, day, day + timedelta(days=1))
        if kind == "week":
            start = day - timedelta(days=day.weekday())
            return cls(kind, start, start + timedelta(days=7))
        start = day.replace(day=1)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else (start.replace(month=start.month + 1))
        )
        return cls(kind, start, end)

    @classmethod
    def month(cls, text: str) -> Period:
        """``2026-11`` (or ``2026/11``, ``202611``) as a month."""
        m = re.fullmatch(r"\s*(\d{4})[-/]?(\d{1,2})\s*", text or "")
        if not m or not 1 <= int(m[2]) <= 12:
            raise InputError(f"月は YYYY-MM の形で指定してください (e.g. 2026-11; got {text!r})")
        start = datetime(int(m[1]), int(m[2]), 1, tzinfo=JST)
        return cls.containing(start.timestamp(), "month")


# ------------------------------------------------------------------ reading the log


def load_turns(log: ConversationLog, start: float, end: float, page: int = 5000) -> list[Turn]:
    """The log's turns with ``start <= ts < end``, oldest first (through the log's API)."""
    found: dict[str, Turn] = {}  # by id: a turn written while paging shifts the pages
    offset = 0
    while True:
        rows = log.turns(since=start, limit=page, offset=offset)
        found.update((t.id, t) for t in rows if t.ts < end)
        if len(rows) < page:
            break
        offset += page
    return sorted(found.values(), key=lambda t: (t.ts, t.id))


def outcome(turn: Turn) -> str:
    """answered / clarify (聞き返し) / refused / handoff (a message the resident sent to
    staff through the widget's 職員に問い合わせる, logged with mode ``handoff``)."""
    if turn.mode == "handoff":
        return "handoff"
    if turn.refused:
        return "refused"
    if turn.mode == "clarify" or getattr(turn, "follow_up", None):
        return "clarify"
    return "answered"


def unanswered(turn: Turn) -> bool:
    """What staff are to look at: refused, or answered and marked not helpful."""
    return bool(turn.refused) or turn.feedback == 0


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values): p95 of 20 values is the 19th."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[k - 1])


# ------------------------------------------------------------------ similarity

_ENDINGS = re.compile(
    r"(ですか|ますか|でしょうか|ください|下さい|したい|たい|ですが|んですけど|けど|"
    r"について|を教えて|教えて|知りたい|どうすればいい|どうすればよい|どうしたらいい)$"
)
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """The text as questions are compared: NFKC, lower case, kana as hiragana, no
    blanks or punctuation, and common question endings cut."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in t)
    t = _DROP.sub("", t)
    for _ in range(3):
        cut = _ENDINGS.sub("", t)
        if cut == t or len(cut) < 2:
            break
        t = cut
    return t


def _grams(text: str) -> frozenset[str]:
    t = fold(text)
    if len(t) < 2:
        return frozenset([t]) if t else frozenset()
    return frozenset(t[i : i + 2] for i in range(len(t) - 1))


def similarity(a: str, b: str) -> float:
    """Jaccard index of the two questions' character bigrams (after ``fold``)."""
    return _jaccard(_grams(a), _grams(b))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class Matcher:
    """Which of a set of questions a text is similar to, with the bigrams cached."""

    def __init__(self, threshold: float = GROUP_THRESHOLD) -> None:
        self.threshold = threshold
        self._cache: dict[str, frozenset[str]] = {}

    def grams(self, text: str) -> frozenset[str]:
        g = self._cache.get(text)
        if g is None:
            g = self._cache[text] = _grams(text)
        return g

    def similar(self, a: str, b: str) -> bool:
        return a == b or _jaccard(self.grams(a), self.grams(b)) >= self.threshold

    def any_similar(self, text: str, others: Iterable[str]) -> bool:
        return any(self.similar(text, o) for o in others)


# ------------------------------------------------------------------ figures


@dataclass(frozen=True)
class TopicCount:
    source: str
    title: str
    count: int


@dataclass
class UnansweredGroup:
    """Unanswered questions that say the same thing; ``leader`` is the most asked."""

    leader: str
    questions: list[tuple[str, int]] = field(default_factory=list)  # (text, unanswered times)
    count: int = 0  # unanswered turns
    asked: int = 0  # every turn of the period similar to the leader, answered or not
    refused: int = 0
    not_helpful: int = 0
    langs: Counter[str] = field(default_factory=Counter)
    last_ts: float = 0.0
    comments: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """A stable id for the group: a hash of its folded leader."""
        return hashlib.sha256(fold(self.leader).encode()).hexdigest()[:12]

    @property
    def share(self) -> float:
        """Of the group's questions this period, the share left unanswered."""
        return self.count / self.asked if self.asked else 0.0

    def texts(self) -> list[str]:
        return [q for q, _ in self.questions]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "leader": self.leader,
            "count": self.count,
            "asked": self.asked,
            "share": round(self.share, 3),
            "refused": self.refused,
            "not_helpful": self.not_helpful,
            "langs": dict(sorted(self.langs.items())),
            "last_asked": datetime.fromtimestamp(self.last_ts, JST).strftime("%Y-%m-%d %H:%M")
            if self.last_ts
            else "",
            "questions": [{"question": q, "count": n} for q, n in self.questions],
            "comments": self.comments,
        }


@dataclass
class PeriodStats:
    period: Period
    questions: int = 0
    conversations: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    thumbs_up: int = 0
    thumbs_down: int = 0
    langs: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    topics: list[TopicCount] = field(default_factory=list)
    latency_p50: float = 0.0
    latency_p95: float = 0.0
    unanswered: list[UnansweredGroup] = field(default_factory=list)
    excluded: int = 0  # unanswered turns left out as out of scope

    def share(self, name: str) -> float:
        return self.outcomes[name] / self.questions if self.questions else 0.0

    @property
    def unanswered_turns(self) -> int:
        return sum(g.count for g in self.unanswered)

    def row(self) -> dict[str, Any]:
        """One line of the period table (CSV, ``stats show``)."""
        return {
            "period": self.period.label,
            "questions": self.questions,
            "conversations": self.conversations,
            "answered": self.outcomes["answered"],
            "clarify": self.outcomes["clarify"],
            "refused": self.outcomes["refused"],
            "handoff": self.outcomes["handoff"],
            "answered_share": round(self.share("answered"), 4),
            "clarify_share": round(self.share("clarify"), 4),
            "refused_share": round(self.share("refused"), 4),
            "handoff_share": round(self.share("handoff"), 4),
            "thumbs_up": self.thumbs_up,
            "thumbs_down": self.thumbs_down,
            "latency_p50_ms": round(self.latency_p50, 1),
            "latency_p95_ms": round(self.latency_p95, 1),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.row(),
            "langs": dict(self.langs.most_common()),
            "modes": dict(self.modes.most_common()),
            "topics": [t.__dict__ for t in self.topics],
            "unanswered": [g.to_json() for g in self.unanswered],
            "excluded_out_of_scope": self.excluded,
        }


def stats(
    turns: Iterable[Turn],
    period: Period,
    *,
    topics: int = 20,
    groups: int | None = 50,
    out_of_scope: Sequence[Sequence[str]] = (),
    threshold: float = GROUP_THRESHOLD,
) -> PeriodStats:
    """The figures of the turns inside ``period``. ``out_of_scope``: groups of questions
    staff marked as not the town's business; unanswered questions similar to one are
    left out of the unanswered list (and counted in ``excluded``). ``groups=None``
    keeps every group."""
    inside = [t for t in turns if period.contains(t.ts)]
    s = PeriodStats(period)
    s.questions = len(inside)
    s.conversations = len({t.conversation_id for t in inside})
    latencies = []
    topic_counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    ja_title: set[str] = set()  # sources whose title comes from a Japanese answer
    for t in inside:
        s.outcomes[outcome(t)] += 1
        s.modes[t.mode] += 1
        s.langs[t.lang or "?"] += 1
        if t.feedback == 1:
            s.thumbs_up += 1
        elif t.feedback == 0:
            s.thumbs_down += 1
        if t.mode != "handoff":  # a message to staff is not answered by the assistant
            latencies.append(float(t.latency_ms))
        if not t.refused and t.citations:
            src = str(t.citations[0].get("source") or "")
            if src:
                topic_counts[src] += 1
                # the title as a Japanese answer cites it, else the first one seen
                if src not in ja_title and (src not in titles or t.lang == "ja"):
                    titles[src] = mask_pii(str(t.citations[0].get("title") or src))
                    if t.lang == "ja":
                        ja_title.add(src)
    s.latency_p50 = percentile(latencies, 50)
    s.latency_p95 = percentile(latencies, 95)
    s.topics = [
        TopicCount(src, titles[src], n)
        for src, n in sorted(topic_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:topics]
    ]
    if groups == 0:  # the figures only (a day of a series)
        return s
    found = group_unanswered(inside, threshold=threshold)
    matcher = Matcher(threshold)
    kept = []
    for g in found:
        if any(matcher.any_similar(g.leader, texts) for texts in out_of_scope):
            s.excluded += g.count
        else:
            kept.append(g)
    s.unanswered = kept if groups is None else kept[:groups]
    return s


def series(turns: Sequence[Turn], period: Period, kind: str) -> list[PeriodStats]:
    """The figures of each day (week, month) of ``period``, without topics or groups."""
    out = []
    for p in period.split(kind):
        out.append(stats(turns, p, topics=0, groups=0))
    return out


def group_unanswered(
    turns: Iterable[Turn], threshold: float = GROUP_THRESHOLD
) -> list[UnansweredGroup]:
    """Unanswered turns grouped by similarity (see the module docstring), most
    unanswered first; ``asked`` counts every given turn similar to a group's leader."""
    all_turns = list(turns)
    masked: dict[str, str] = {}  # the same wording is masked once

    def mask(q: str) -> str:
        m = masked.get(q)
        if m is None:
            m = masked[q] = mask_pii(q)
        return m

    by_text: dict[str, list[Turn]] = {}
    for t in all_turns:
        if unanswered(t):
            by_text.setdefault(mask(t.question), []).append(t)
    leaders = _Leaders(Matcher(threshold))
    groups: list[UnansweredGroup] = []
    for text, ts in sorted(by_text.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        i = leaders.first_similar(text)
        if i is None:
            i = leaders.add(text)
            groups.append(UnansweredGroup(leader=text))
        home = groups[i]
        home.questions.append((text, len(ts)))
        home.count += len(ts)
        for t in ts:
            home.refused += int(bool(t.refused))
            home.not_helpful += int(t.feedback == 0)
            home.langs[t.lang or "?"] += 1
            home.last_ts = max(home.last_ts, t.ts)
            if t.comment:
                c = mask_pii(t.comment)
                if c not in home.comments:
                    home.comments.append(c)
    # every turn asked in the period that says the same, answered or not
    member_of = {q: i for i, g in enumerate(groups) for q in g.texts()}
    for text, n in Counter(mask(t.question) for t in all_turns).items():
        hit = set(leaders.all_similar(text))
        if text in member_of:
            hit.add(member_of[text])
        for i in hit:
            groups[i].asked += n
    groups.sort(key=lambda g: (-g.count, -g.asked, g.leader))
    return groups


class _Leaders:
    """Group leaders indexed by their bigrams, so a question is compared only with the
    leaders it shares a bigram with (the same answer as comparing with all of them, in
    the same order, without the quadratic cost on a busy town's month)."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.texts: list[str] = []
        self._by_gram: dict[str, list[int]] = {}

    def _keys(self, text: str) -> frozenset[str]:
        return self.matcher.grams(text) or frozenset(["\0"])  # texts that fold to nothing

    def add(self, text: str) -> int:
        i = len(self.texts)
        self.texts.append(text)
        for g in self._keys(text):
            self._by_gram.setdefault(g, []).append(i)
        return i

    def all_similar(self, text: str) -> list[int]:
        found: set[int] = set()
        for g in self._keys(text):
            found.update(self._by_gram.get(g, ()))
        return [i for i in sorted(found) if self.matcher.similar(text, self.texts[i])]

    def first_similar(self, text: str) -> int | None:
        found = self.all_similar(text)
        return found[0] if found else None


def turns_matching(turns: Iterable[Turn], texts: Sequence[str], threshold: float) -> list[Turn]:
    """The turns whose question is one of ``texts`` or similar to one of them."""
    matcher = Matcher(threshold)
    wanted = set(texts)
    return [
        t for t in turns if (q := mask_pii(t.question)) in wanted or matcher.any_similar(q, texts)
    ]


def now_period(kind: str, now: float | None = None) -> Period:
    return Period.containing(datetime.now(UTC).timestamp() if now is None else now, kind)
