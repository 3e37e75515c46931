"""Short conversation memory, so a follow-up ("それはどこで？") is understood.

Kept in memory only (a resident's questions are personal; nothing is written
to disk), bounded in the number of conversations, turns per conversation and
age: an idle conversation is forgotten after ``ttl_seconds``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    lang: str
    sources: tuple[str, ...] = ()
    # what was searched for the question: itself, or it read with the earlier topic
    query: str = ""
    # the department the answer named (a hand-off asked for next goes to it)
    department: str | None = None


class ConversationStore:
    """Recent turns per conversation id, least recently used conversations dropped first."""

    def __init__(
        self,
        max_conversations: int = 1000,
        max_turns: int = 6,
        ttl_seconds: float = 1800.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_conversations = max_conversations
        self.max_turns = max_turns
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, list[Turn]]] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, conversation_id: str | None) -> list[Turn]:
        if not conversation_id:
            return []
        with self._lock:
            self._expire()
            entry = self._data.get(conversation_id)
            return list(entry[1]) if entry else []

    def add(self, conversation_id: str | None, turn: Turn) -> None:
        if not conversation_id:
            return
        with self._lock:
            self._expire()
            _, turns = self._data.pop(conversation_id, (0.0, []))
            turns = [*turns, turn][-self.max_turns :]
            self._data[conversation_id] = (self._clock(), turns)
            while len(self._data) > self.max_conversations:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._data)

    def _expire(self) -> None:
        cutoff = self._clock() - self.ttl_seconds
        while self._data:
            cid, (seen, _) = next(iter(self._data.items()))
            if seen >= cutoff:
                break
            del self._data[cid]


# Words that point back at the previous question ("それは", "there", "那个" ...): for
# questions in languages without a Japanese analysis.
_REFERRING = re.compile(
    r"(それ|そこ|その|そちら|あれ|これ|この|ここ|どこで|いつ|いくら|何時|何が|何を"
    r"|\b(it|its|that|there|this|they|them|those)\b"
    r"|那|这|它|那裡|這|그것|거기|그거|이것|nó|đó|isso|isto|lá|eso|allí|ahí|iyon|doon)",
    re.IGNORECASE,
)
#: the longest earlier context carried into a follow-up's search
MAX_CONTEXT_CHARS = 200


def previous_query(history: Sequence[Turn]) -> str:
    """What the last turn was about: the text it was searched with (a follow-up's
    includes its own earlier topic), else its question."""
    last = history[-1]
    return (last.query or last.question)[-MAX_CONTEXT_CHARS:]


def with_context(question: str, history: Sequence[Turn]) -> str:
    """A follow-up read with the conversation's topic: the previous search, then it."""
    return f"{previous_query(history)}\n{question}"


def names_its_topic(question: str, lang: str) -> bool:
    """Whether the question names a thing of its own (Sudachi: a common or proper noun
    that is not a counter, a time, a manner or an adjectival word), so that it may stand
    alone: 「出生届って何がいるの」 does, 「必要なものは？」「土日もやってる？」 do not.
    A question in another language names one unless it is short and refers back
    ("How much is it?")."""
    if lang.split("-")[0] != "ja":
        q = question.strip()
        return not (len(q) <= 40 and _REFERRING.search(q))
    from madoguchi.kit.lexical import topic_nouns

    return bool(topic_nouns(question))
