"""A question is read with the conversation's earlier topic only on evidence: it names
nothing of its own, or only the reading with the topic is answered confidently and holds
the question's own words."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from factories import hit

from madoguchi.ingest.embed import HashingEmbeddings
from madoguchi.kit.config import Settings
from madoguchi.kit.conversation import Turn, names_its_topic, with_context
from madoguchi.kit.retrieval import RetrievalTrace
from madoguchi.kit.services import Services

SURE = {"dense": 0.95, "coverage": 1.0}
UNSURE = {"dense": 0.55, "coverage": 0.1}


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("必要なものは？", False),
        ("いくらですか", False),
        ("土日もやってる？", False),
        ("それはどこで？", False),
        ("町長の給料はいくらですか？", True),
        ("出生届って何がいるの", True),
        ("図書館は何時まで開いていますか", True),
    ],
)
def test_whether_a_japanese_question_names_its_own_topic(question, names):
    assert names_its_topic(question, "ja") is names


def test_a_short_question_in_another_language_that_refers_back_names_nothing():
    assert not names_its_topic("How much is it?", "en")
    assert names_its_topic("How do I register my dog?", "en")


@dataclass
class ScriptedRetriever:
    """Answers each query text with the hits scripted for it (best first)."""

    script: dict[str, tuple[str, dict[str, float]]]
    queries: list[str] = field(default_factory=list)

    def search(self, query: str, k: int | None = None, *, lang: str | None = None):
        self.queries.append(query)
        sid, signals = self.script.get(query, ("faq.csv#0", UNSURE))
        return [hit(sid, "本文", **signals)], RetrievalTrace()

    def warm_up(self) -> None:
        return None


@dataclass
class CoverageView:
    own_words: float

    def coverage(self, tokens, chunk_id) -> float:
        return self.own_words


@dataclass
class FixedStore:
    own_words: float = 1.0

    def view(self) -> CoverageView:
        return CoverageView(self.own_words)

    def close(self) -> None:
        return None


def services(tmp_path, script, own_words=1.0) -> tuple[Services, ScriptedRetriever]:
    s = Settings(data_dir=tmp_path, embedder={"kind": "fake", "dim": 16}, store={"kind": "memory"})
    svc = Services(s, HashingEmbeddings(16), FixedStore(own_words))  # type: ignore[arg-type]
    retriever = ScriptedRetriever(script)
    svc.retriever = retriever  # type: ignore[assignment]
    return svc, retriever


HISTORY = [
    Turn("児童手当ってどこで申請するの？", "…", "ja", query="児童手当ってどこで申請するの？")
]


def test_a_question_naming_nothing_is_read_with_the_topic(tmp_path):
    svc, r = services(tmp_path, {})
    query, _, _ = svc._search_in_context("必要なものは？", HISTORY, "ja", "ja")
    assert query == with_context("必要なものは？", HISTORY) and r.queries == [query]


def test_a_question_answered_confidently_alone_stays_alone(tmp_path):
    svc, r = services(tmp_path, {"図書館は何時まで開いていますか": ("faq.csv#49", SURE)})
    query, hits, _ = svc._search_in_context("図書館は何時まで開いていますか", HISTORY, "ja", "ja")
    assert query == "図書館は何時まで開いていますか" and hits[0].chunk.source_id == "faq.csv#49"
    assert r.queries == [query]  # the reading with the topic is not even searched


def test_the_topic_reading_needs_confidence_and_the_questions_own_words(tmp_path):
    q = "コンビニでも取れる？"
    followup = with_context(q, HISTORY)
    svc, _ = services(tmp_path, {followup: ("faq.csv#10", SURE)}, own_words=0.8)
    assert svc._search_in_context(q, HISTORY, "ja", "ja")[0] == followup
    # the best passage of the topic reading lacks the question's own words: stay alone
    svc, _ = services(tmp_path, {followup: ("faq.csv#54", SURE)}, own_words=0.2)
    assert svc._search_in_context(q, HISTORY, "ja", "ja")[0] == q
    # neither reading is confident: alone, so a refusal is about this question
    svc, _ = services(tmp_path, {}, own_words=1.0)
    assert svc._search_in_context(q, HISTORY, "ja", "ja")[0] == q


def test_a_chain_of_follow_ups_keeps_the_first_topic(tmp_path):
    svc, _ = services(tmp_path, {})
    first = svc.ask("住民票ってどこで取れるの？", conversation_id="c")
    assert first.answer is not None
    svc.ask("必要なものは？", conversation_id="c")
    turns = svc.conversations.history("c")
    assert turns[-1].query.startswith("住民票ってどこで取れるの？")
    svc.ask("いくら？", conversation_id="c")
    assert svc.conversations.history("c")[-1].query.startswith("住民票ってどこで取れるの？")
