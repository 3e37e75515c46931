"""The API's answer cache and micro-batched embedder: a cached answer never outlives an
ingest or a settings change, follow-ups are never served from it, every answer is logged."""

from __future__ import annotations

import sqlite3
import threading
import time

from fastapi.testclient import TestClient

from madoguchi.ingest.services import build_services
from madoguchi.kit.cache import (
    LRUCache,
    answer_key,
    index_version,
    normalise_question,
    settings_hash,
)
from madoguchi.kit.types import SourceDocument
from madoguchi.ui.api import create_app
from madoguchi.ui.api.deps import get_services
from tests.ui.test_api import Q, make_services, sse_events


def faq(answer: str) -> SourceDocument:
    return SourceDocument(
        "faq.csv#1",
        "faq.csv#1",
        Q,
        f"{Q}\n{answer}",
        "text/csv",
        {"kind": "faq", "question": Q, "answer": answer, "department": "環境衛生課"},
    )


def logged(settings) -> int:
    db = sqlite3.connect(settings.data_dir / "conversations.sqlite")
    try:
        return int(db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
    finally:
        db.close()


def test_lru_keeps_the_most_recent_entries():
    c: LRUCache[str, int] = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1  # a is now the most recent
    c.put("c", 3)
    assert c.get("b") is None and c.get("a") == 1 and c.get("c") == 3
    assert (c.hits, c.misses) == (3, 1)
    off: LRUCache[str, int] = LRUCache(0)
    off.put("a", 1)
    assert off.get("a") is None and len(off) == 0


def test_questions_are_compared_after_nfkc_and_whitespace():
    assert normalise_question("  粗大ごみの　出し方は？ ") == "粗大ごみの 出し方は?"
    assert normalise_question("ＡＢＣ\n\t１２３") == "ABC 123"


def test_the_key_moves_with_the_index_the_synonyms_and_the_settings(settings):
    svc = make_services(settings)
    before = index_version(svc.store, svc.synonyms)
    k1 = answer_key(Q, None, svc.settings, before)
    assert answer_key(f" {Q}", None, svc.settings, before) == k1
    assert answer_key(Q, "en", svc.settings, before) != k1
    svc.ingest([], documents=[faq("窓口へ持ち込んでください。")])
    assert index_version(svc.store, svc.synonyms).generation > before.generation
    svc.synonyms.add(["粗大ごみ", "大型ごみ"])
    after = index_version(svc.store, svc.synonyms)
    assert after.synonyms is not None and after.synonyms != before.synonyms
    other = svc.settings.with_overrides(**{"answer.answer_threshold": 0.5})
    assert settings_hash(other) != settings_hash(svc.settings)
    assert answer_key(Q, None, other, before) != k1


def test_a_repeated_question_is_answered_from_the_cache_and_still_logged(settings):
    with TestClient(create_app(services=make_services(settings), admin=False)) as client:
        answering = client.app.state.answering
        first = client.post("/api/v1/ask", json={"question": Q}).json()
        again = client.post("/api/v1/ask", json={"question": f"  {Q}"}).json()
        assert answering.cache.hits == 1
        assert again["answer"] == first["answer"]
        assert again["answer_id"] != first["answer_id"]
        assert again["conversation_id"] != first["conversation_id"]
        streamed = sse_events(client.post("/api/v1/ask/stream", json={"question": Q}).text)
        assert answering.cache.hits == 2
        final = streamed[-1][1]
        assert streamed[-1][0] == "final" and final["answer"] == first["answer"]
        assert "".join(d["text"] for e, d in streamed if e == "delta") == first["answer"]
    assert logged(settings) == 3  # one row per answer, cached or not


def test_a_question_asked_again_after_an_ingest_gets_the_new_answer(settings):
    svc = make_services(settings)
    with TestClient(create_app(services=svc, admin=False)) as client:
        old = client.post("/api/v1/ask", json={"question": Q}).json()
        assert "処理券" in old["answer"]
        assert client.post("/api/v1/ask", json={"question": Q}).json()["answer"] == old["answer"]
        hits = client.app.state.answering.cache.hits
        assert hits == 1
        svc.ingest([], documents=[faq("清掃センターへ直接持ち込んでください。")])
        new = client.post("/api/v1/ask", json={"question": Q}).json()
        assert "清掃センター" in new["answer"] and "処理券" not in new["answer"]
        assert client.app.state.answering.cache.hits == hits  # composed anew
        stream = sse_events(client.post("/api/v1/ask/stream", json={"question": Q}).text)
        assert "清掃センター" in stream[-1][1]["answer"]


def test_another_ingest_process_moves_the_key_too(chroma_settings):
    """The server reads the generation from the catalogue: an ingest by another process
    (here: other services on the same data dir, as ``madoguchi ingest`` would) is seen."""
    svc = make_services(chroma_settings)
    with TestClient(create_app(services=svc, admin=False)) as client:
        assert "処理券" in client.post("/api/v1/ask", json={"question": Q}).json()["answer"]
        assert "処理券" in client.post("/api/v1/ask", json={"question": Q}).json()["answer"]
        assert client.app.state.answering.cache.hits == 1
        other = build_services(svc.settings)
        other.ingest([], documents=[faq("清掃センターへ直接持ち込んでください。")])
        assert "清掃センター" in client.post("/api/v1/ask", json={"question": Q}).json()["answer"]


def test_a_settings_change_is_not_served_an_answer_cached_before_it(chroma_settings):
    svc = make_services(chroma_settings)
    app = create_app(services=svc, admin=False)
    with TestClient(app) as client:
        answered = client.post("/api/v1/ask", json={"question": Q}).json()
        assert not answered["refused"]
        # the same town and index, one setting changed (services built anew, as a restart
        # with another configuration or the admin screen would)
        strict = build_services(svc.settings.with_overrides(**{"answer.answer_threshold": 1.01}))
        app.dependency_overrides[get_services] = lambda: strict
        refused = client.post("/api/v1/ask", json={"question": Q}).json()
        assert refused["refused"], "answered from the cache of the old settings"


def test_a_follow_up_is_never_served_a_standalone_cached_answer(settings):
    svc = make_services(settings)
    with TestClient(create_app(services=svc, admin=False)) as client:
        answering = client.app.state.answering
        first = client.post("/api/v1/ask", json={"question": Q}).json()
        cid = first["conversation_id"]
        client.post("/api/v1/ask", json={"question": Q, "conversation_id": cid})
        client.post("/api/v1/ask/stream", json={"question": Q, "conversation_id": cid})
        assert answering.cache.hits == 0
        assert len(answering.cache) == 1  # only the standalone first question
        # a cached answer still starts the conversation: its follow-up finds it
        hit = client.post("/api/v1/ask", json={"question": Q}).json()
        assert answering.cache.hits == 1
        assert [t.question for t in svc.conversations.history(hit["conversation_id"])] == [Q]


def test_the_cache_can_be_switched_off(settings):
    conf = settings.with_overrides(**{"server.answer_cache_size": 0})
    with TestClient(create_app(services=make_services(conf), admin=False)) as client:
        for _ in range(2):
            assert client.post("/api/v1/ask", json={"question": Q}).status_code == 200
        assert client.app.state.answering.cache.hits == 0


def test_concurrent_questions_share_embedding_batches_and_get_their_own_answers(settings):
    svc = make_services(settings)
    docs = [
        SourceDocument(
            f"faq.csv#{i}",
            f"faq.csv#{i}",
            f"質問{i}",
            f"質問{i}\n回答{i}",
            "text/csv",
            {"kind": "faq", "question": f"{w}の手続き", "answer": f"{w}は窓口{i}番へ。"},
        )
        for i, w in enumerate(["転入", "転出", "出生", "婚姻", "印鑑登録", "国民健康保険"], 2)
    ]
    svc.ingest([], documents=docs)
    inner = svc.embedder
    gate = threading.Event()
    real = inner.embed_query

    def slow(text):  # the first question holds the engine, the others queue behind it
        gate.wait(5)
        return real(text)

    app = create_app(services=svc, admin=False)
    with TestClient(app) as client:
        batching = app.state.answering.batching
        assert batching is not None and svc.embedder is batching
        alone = {d.meta["question"]: client.post(
            "/api/v1/ask", json={"question": d.meta["question"] + "は？", "lang": "ja"}
        ).json() for d in docs}  # fmt: skip
        app.state.answering.cache.clear()
        batching.cache.clear()
        inner.embed_query = slow  # type: ignore[method-assign]
        got: dict = {}

        def ask(q):
            got[q] = client.post("/api/v1/ask", json={"question": q + "は？", "lang": "ja"}).json()

        threads = [threading.Thread(target=ask, args=(q,)) for q in alone]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(batching.batcher._queue) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        gate.set()
        for t in threads:
            t.join(timeout=60)
        assert {q: a["answer"] for q, a in got.items()} == {
            q: a["answer"] for q, a in alone.items()
        }
        assert batching.batcher.stats.largest > 1
    assert svc.embedder is inner  # given back on shut-down
