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
from madoguchi.kit.types import Chunk

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

    script: dict[str, tuple]  # query -> (source id, signals[, the hit's text])
    queries: list[str] = field(default_factory=list)

    def search(self, query: str, k: int | None = None, *, lang: str | None = None):
        self.queries.append(query)
        sid, signals, *text = self.script.get(query, ("faq.csv#0", UNSURE))
        return [hit(sid, text[0] if text else "本文", **signals)], RetrievalTrace()

    def warm_up(self) -> None:
        return None


@dataclass
class CoverageView:
    own_words: float
    by_chunk: dict[str, float] = field(default_factory=dict)

    def coverage(self, tokens, chunk_id) -> float:
        return self.by_chunk.get(chunk_id, self.own_words)


@dataclass
class FixedStore:
    own_words: float = 1.0
    by_chunk: dict[str, float] = field(default_factory=dict)

    def view(self) -> CoverageView:
        return CoverageView(self.own_words, self.by_chunk)

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
    assert r.queries == [query, with_context(query, HISTORY)]  # the topic reading lost


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


CITED = [
    Turn(
        "町民プールっていつから？",
        "…",
        "ja",
        sources=("faq.csv#51",),
        query="町民プールっていつから？",
    )
]


def test_a_confident_reading_alone_yields_to_the_topic_the_previous_answer_cited(tmp_path):
    q = "子どもはいくら？"
    followup = with_context(q, CITED)
    script = {q: ("faq.csv#31", SURE), followup: ("faq.csv#51", SURE)}
    svc, _ = services(tmp_path, script, own_words=0.8)
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == followup
    # the topic reading lands elsewhere than the cited entry: the question stands alone
    script[followup] = ("faq.csv#7", SURE)
    svc, _ = services(tmp_path, script, own_words=0.8)
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == q
    # the cited entry lacks the question's own words: alone too
    script[followup] = ("faq.csv#51", SURE)
    svc, _ = services(tmp_path, script, 0.2)
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == q
    # the entry found alone was cited by the previous answer too: it continues as well
    two = [Turn(CITED[0].question, "…", "ja", ("faq.csv#51", "faq.csv#31"), CITED[0].query)]
    svc, _ = services(tmp_path, script, 0.8)
    assert svc._search_in_context(q, two, "ja", "ja")[0] == q
    # the entry found alone holds them better (a neighbouring row of a garbage table)
    svc, _ = services(tmp_path, script, 0.6)
    svc.store.by_chunk[Chunk.make_id("faq.csv#31", "本文")] = 0.9  # type: ignore[attr-defined]
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == q


def test_a_kind_of_fact_the_cited_entry_holds_carries_the_topic(tmp_path):
    q = "何時まで？"  # Sudachi reads 何時 as a noun: the question "names" something
    followup = with_context(q, CITED)
    hours = ("faq.csv#51", SURE, "町民プールは7月から9月、午前9時から午後5時まで開いています。")
    svc, _ = services(tmp_path, {followup: hours}, own_words=0.0)
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == followup
    # the entry holds no clock time: the question is not read with the topic
    no_hours = ("faq.csv#51", SURE, "町民プールは7月に開きます。")
    svc, _ = services(tmp_path, {followup: no_hours}, own_words=0.0)
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == q
    # the entry was not the one the previous answer cited
    svc, _ = services(tmp_path, {followup: ("faq.csv#3", *hours[1:])}, own_words=0.0)
    assert svc._search_in_context(q, CITED, "ja", "ja")[0] == q


def test_a_thing_the_question_names_must_be_in_the_entry_for_the_fact_to_count(tmp_path):
    dog = [Turn("犬の登録は？", "…", "ja", sources=("faq.csv#54",), query="犬の登録は？")]
    q = "町長の給料っていくら？"
    followup = with_context(q, dog)
    fee = ("faq.csv#54", SURE, "犬の登録の手数料は3,000円です。")
    svc, _ = services(tmp_path, {followup: fee}, own_words=0.0)
    assert svc._search_in_context(q, dog, "ja", "ja")[0] == q
