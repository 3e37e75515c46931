"""The shared back-ends: PostgreSQL for the rows, a ``chroma run`` server for the vectors.

Each test runs on the session's throwaway cluster and server (tests/conftest.py,
tests/shared_backends.py) in a namespace of its own. The names say ``postgres`` and
``chroma_server`` so ``pytest -k postgres`` / ``-k chroma_server`` pick them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import StoreError
from madoguchi.kit.types import SourceDocument
from madoguchi.ui.api import create_app

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
Q = "粗大ごみの出し方は？"
A = "電話で予約して処理券を貼って出してください。01234-5-1103 まで。"


def faq_doc(sid: str = "faq.csv#1", q: str = Q, a: str = A) -> SourceDocument:
    return SourceDocument(
        sid, sid, q, f"{q}\n{a}", "text/csv", {"kind": "faq", "question": q, "answer": a}
    )


def pg_count(settings: Settings, table: str) -> int:
    """Rows of ``table`` in the namespace's schema, read apart from the kit."""
    with psycopg.connect(settings.store.database_url) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (settings.store.pg_schema, table),
        ).fetchone()
        if not found:
            return 0
        row = conn.execute(f'SELECT COUNT(*) FROM "{settings.store.pg_schema}".{table}').fetchone()
        assert row is not None
        return int(row[0])


def chroma_vectors(settings: Settings) -> dict[str, int]:
    """The namespace's collections on the Chroma server and their sizes."""
    import chromadb

    server = settings.store.chroma_server
    assert server is not None
    client = chromadb.HttpClient(host=server[0], port=server[1])
    prefix = f"{settings.store.namespace}."
    return {c.name: c.count() for c in client.list_collections() if c.name.startswith(prefix)}


def wait_for(check, seconds: float = 20.0, step: float = 0.2):
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(step)


def questions(n: int) -> list[str]:
    lines = (DEMO / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


# ---------------------------------------------------------------------------- same answers


def test_ingest_and_ask_postgres_chroma_server_match_embedded(
    shared_settings, chroma_settings, monkeypatch
):
    """The demo's FAQ and pages ingested into both stores: the same rows, the same
    vectors, and every answer the same (text, citations, mode, confidence, hits)."""
    monkeypatch.chdir(REPO)
    roots = ["demo/faq.csv", "demo/pages"]
    # the fake embedder's similarities are low: answer whatever is found
    loose = {"answer.answer_threshold": 0.0}
    embedded = build_services(chroma_settings.with_overrides(**loose))
    shared = build_services(shared_settings.with_overrides(**loose))
    rep_e, rep_s = embedded.ingest(roots), shared.ingest(roots)
    assert rep_e.added == rep_s.added and len(rep_s.added) > 60
    assert shared.index.health()["catalogue"] == "postgresql"
    assert shared.index.health()["vectors"] == "chroma-server"
    n_chunks = embedded.index.chunk_count()
    assert pg_count(shared_settings, "chunks") == n_chunks
    assert pg_count(shared_settings, "sources") == len(rep_e.added)
    cols = chroma_vectors(shared_settings)
    assert len(cols) == 3 and max(cols.values()) == n_chunks
    assert [c.id for c in shared.index.view().chunks()] == [
        c.id for c in embedded.index.view().chunks()
    ]
    answered = 0
    for q in questions(25):
        e, s = embedded.ask(q), shared.ask(q)
        assert s.answer.text == e.answer.text, q
        assert s.answer.citations == e.answer.citations, q
        assert (s.answer.mode, s.answer.refused) == (e.answer.mode, e.answer.refused), q
        assert s.answer.confidence == pytest.approx(e.answer.confidence, abs=1e-9), q
        assert [h.chunk.id for h in s.hits] == [h.chunk.id for h in e.hits], q
        answered += not e.answer.refused
    assert answered >= 5  # the comparison covers answers, not only refusals
    # a second ingest of the same files is a no-op on both
    again = shared.ingest(roots)
    assert not again.added and not again.updated
    # and a removal: its rows and vectors go
    gone = [sid for sid in rep_e.added if sid.startswith("demo/pages/")][:1]
    assert embedded.index.remove(gone) == shared.index.remove(gone) == 1
    left = embedded.index.chunk_count()
    assert pg_count(shared_settings, "chunks") == left < n_chunks
    assert chroma_vectors(shared_settings)[shared.index.vectors.name] == left
    embedded.close()
    shared.close()


def test_conversation_log_and_feedback_postgres(shared_settings):
    log = ConversationLog.in_data_dir(shared_settings.data_dir, 90, store=shared_settings.store)
    turns = [
        log.record(
            question=f"粗大ごみ {i} 電話は090-1234-5678",
            lang="ja",
            answer="予約制です",
            citations=[{"source": "faq.csv#1", "title": "t", "url": None}],
            refused=i % 2 == 0,
            mode="abstain" if i % 2 == 0 else "faq",
            confidence=0.5,
            latency_ms=3.25,
        )
        for i in range(4)
    ]
    assert log.count() == 4 == pg_count(shared_settings, "turns")
    assert "090-1234-5678" not in json.dumps([t.to_json() for t in log.turns()])
    assert log.feedback(turns[1].id, False, "わかりにくい")
    assert not log.feedback("no-such-turn", True)
    got = log.get(turns[1].id)
    assert got is not None and got.feedback == 0 and got.comment == "わかりにくい"
    assert got.ts == turns[1].ts  # a timestamp keeps its precision (DOUBLE, not REAL)
    assert log.count(refused=True) == 2 and log.count(feedback=0) == 1
    unanswered = log.unanswered()
    assert sum(r["count"] for r in unanswered) == 3  # 2 refused + 1 thumbs-down
    assert "わかりにくい" in log.unanswered_csv()
    from madoguchi.eval.starter import items_from_log

    starter = items_from_log(shared_settings.data_dir, shared_settings.store)
    assert len(starter) == 3 and all(item["needs_label"] for item in starter)
    assert log.purge(now=time.time() + 91 * 86400) == 4
    assert pg_count(shared_settings, "turns") == 0


# ---------------------------------------------------------------------------- replicas


def test_two_replicas_postgres_chroma_server_see_each_others_ingest(shared_settings, tmp_path):
    """Replica A ingests, replica B answers within a few seconds (no restart); a
    document ingested by the CLI, another process, is answered by both; feedback sent
    to one replica reaches the turn another logged."""
    conf = shared_settings.with_overrides(**{"answer.answer_threshold": 0.0})
    a_conf = conf.with_overrides(data_dir=str(tmp_path / "replica-a"))
    b_conf = conf.with_overrides(data_dir=str(tmp_path / "replica-b"))
    with (
        TestClient(create_app(a_conf, admin=False)) as a,
        TestClient(create_app(b_conf, admin=False)) as b,
    ):
        first = b.post("/api/v1/ask", json={"question": Q}).json()
        assert first["refused"] and first["citations"] == []
        t0 = time.monotonic()
        a.app.state.services.ingest([], documents=[faq_doc()])

        def b_answers():
            r = b.post("/api/v1/ask", json={"question": Q}).json()
            return r if not r["refused"] else None

        got = wait_for(b_answers, 10)
        seen_after = time.monotonic() - t0
        assert got, "replica B never saw replica A's ingest"
        assert got["citations"][0]["source"] == "faq.csv#1"
        assert seen_after < 5, seen_after
        # feedback through A on B's turn, and B's turn in A's log
        r = a.post("/api/v1/feedback", json={"answer_id": got["answer_id"], "helpful": False})
        assert r.status_code == 200, r.text
        turn = a.app.state.log.get(got["answer_id"])
        assert turn is not None and turn.feedback == 0

        # the CLI, in a process of its own, on the same back-ends
        doc = tmp_path / "docs" / "kosodate.md"
        doc.parent.mkdir()
        doc.write_text(
            "# 児童手当の申請\n\n児童手当は子育て支援課の窓口で申請してください。"
            "必要なものは通帳と保険証です。\n",
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "MADOGUCHI_DATA_DIR": str(tmp_path / "cli"),
            "MADOGUCHI_EMBEDDER__KIND": "fake",
            "MADOGUCHI_EMBEDDER__DIM": "256",
            "MADOGUCHI_STORE__DATABASE_URL": conf.store.database_url,
            "MADOGUCHI_STORE__CHROMA_URL": conf.store.chroma_url,
            "MADOGUCHI_STORE__NAMESPACE": conf.store.namespace,
        }
        env.pop("MADOGUCHI_CONFIG", None)
        done = subprocess.run(
            [sys.executable, "-m", "madoguchi.ui.cli", "ingest", str(doc)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        t0 = time.monotonic()
        for replica in (a, b):

            def answers(replica=replica):
                r = replica.post("/api/v1/ask", json={"question": "児童手当の申請に必要なものは？"})
                body = r.json()
                sources = [c["source"] for c in body["citations"]]
                return body if any(s.endswith("kosodate.md") for s in sources) else None

            assert wait_for(answers, 10), "a replica never saw the CLI's ingest"
        assert time.monotonic() - t0 < 5
        assert pg_count(conf, "turns") >= 3


# ---------------------------------------------------------------------------- outages


def test_postgres_outage_gives_503_and_recovers_postgres(shared_settings, pg_cluster):
    """PostgreSQL stopped mid-run: /readyz and /ask answer 503 with one JSON error
    (no traceback); started again: both recover by themselves, and every turn logged
    before the outage and after it is there."""
    conf = shared_settings.with_overrides(**{"answer.answer_threshold": 0.0})
    with TestClient(create_app(conf, admin=False), raise_server_exceptions=False) as c:
        c.app.state.services.ingest([], documents=[faq_doc()])
        ok = [c.post("/api/v1/ask", json={"question": Q}) for _ in range(3)]
        assert all(r.status_code == 200 and not r.json()["refused"] for r in ok)
        assert c.get("/readyz").status_code == 200
        pg_cluster.stop()
        try:
            ready = c.get("/readyz")
            assert ready.status_code == 503
            body = ready.json()
            assert body["error"] == "StoreError" and "PostgreSQL" in body["detail"]
            asked = c.post("/api/v1/ask", json={"question": Q})
            assert asked.status_code == 503, asked.text
            assert set(asked.json()) == {"error", "detail"}
            assert "Traceback" not in asked.text
        finally:
            pg_cluster.start()
        assert wait_for(lambda: c.get("/readyz").status_code == 200, 30)
        after = c.post("/api/v1/ask", json={"question": Q})
        assert after.status_code == 200 and not after.json()["refused"]
        answered = [r.json()["answer_id"] for r in [*ok, after]]
        log = c.app.state.log
        assert all(log.get(i) is not None for i in answered)
        assert pg_count(conf, "turns") == 4  # the refused-with-503 question was never answered


def test_chroma_server_outage_gives_503_and_recovers(shared_settings, chroma_server):
    conf = shared_settings.with_overrides(**{"answer.answer_threshold": 0.0})
    with TestClient(create_app(conf, admin=False), raise_server_exceptions=False) as c:
        svc = c.app.state.services
        svc.ingest([], documents=[faq_doc()])
        assert c.get("/readyz").status_code == 200
        assert c.post("/api/v1/ask", json={"question": Q}).status_code == 200
        chroma_server.stop()
        try:
            ready = c.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"] == "StoreError"
            assert "vector store" in ready.json()["detail"]
            # the view in memory is current: questions are still answered from it
            r = c.post("/api/v1/ask", json={"question": Q})
            assert r.status_code == 200 and r.json()["citations"][0]["source"] == "faq.csv#1"
            # an ingest needs the server: it fails with the reason, the catalogue unchanged
            with pytest.raises(StoreError, match="vector store"):
                svc.ingest([], documents=[faq_doc("faq.csv#2", "住民票は？", "窓口で。")])
            assert pg_count(conf, "sources") == 1
        finally:
            chroma_server.start()
        assert wait_for(lambda: c.get("/readyz").status_code == 200, 30)
        svc.ingest([], documents=[faq_doc("faq.csv#2", "住民票は？", "窓口で。")])
        r = c.post("/api/v1/ask", json={"question": "住民票は？"})
        assert r.status_code == 200 and r.json()["citations"][0]["source"] == "faq.csv#2"


def test_replica_started_while_postgres_is_down_serves_503_then_answers_postgres(
    shared_settings, pg_cluster
):
    """A replica started during an outage starts all the same, answers 503 with one JSON
    error, and is ready once the database is back, without a restart."""
    conf = shared_settings.with_overrides(**{"answer.answer_threshold": 0.0})
    build_services(conf).ingest([], documents=[faq_doc()])
    pg_cluster.stop()
    try:
        app = create_app(conf, admin=False)
        with TestClient(app, raise_server_exceptions=False) as c:
            ready = c.get("/readyz")
            assert ready.status_code == 503 and "unreachable" in ready.json()["detail"]
            asked = c.post("/api/v1/ask", json={"question": Q})
            assert asked.status_code == 503 and set(asked.json()) == {"error", "detail"}
            pg_cluster.start()
            assert wait_for(lambda: c.get("/readyz").status_code == 200, 30)
            r = c.post("/api/v1/ask", json={"question": Q})
            assert r.status_code == 200 and r.json()["citations"][0]["source"] == "faq.csv#1"
            assert c.app.state.log.get(r.json()["answer_id"]) is not None
    finally:
        if not (Path(pg_cluster.data) / "postmaster.pid").exists():
            pg_cluster.start()


# ---------------------------------------------------------------------------- namespaces


def test_namespaces_postgres_chroma_server_keep_towns_apart(pg_cluster, chroma_server, tmp_path):
    """Town A's rows and vectors are never read through town B; removing town A deletes
    all of its rows and vectors and nothing of B's."""
    from madoguchi.ingest.towns import Town, TownRegistry, remove_town, town_settings

    base = Settings(
        data_dir=tmp_path / "root",
        embedder={"kind": "fake", "dim": 256},
        store={"database_url": pg_cluster.url, "chroma_url": chroma_server.url},
    )
    registry = TownRegistry(base.data_dir)
    towns = {}
    for tid, name in (("nsa-town", "甲町"), ("nsb-town", "乙村")):
        registry.add(Town(id=tid, name=name))
        towns[tid] = town_settings(base, registry.get(tid))
    a, b = towns["nsa-town"], towns["nsb-town"]
    assert (a.store.namespace, b.store.namespace) == ("nsa-town", "nsb-town")
    svc_a, svc_b = build_services(a), build_services(b)
    svc_a.ingest([], documents=[faq_doc("a.csv#1", "甲町の粗大ごみは？", "甲町は月曜日です。")])
    svc_b.ingest(
        [],
        documents=[
            faq_doc("b.csv#1", "乙村の住民票は？", "乙村役場で。"),
            faq_doc("b.csv#2", "乙村の図書館は？", "火曜休館。"),
        ],
    )
    assert {c.source_id for c in svc_a.index.view().chunks()} == {"a.csv#1"}
    assert {c.source_id for c in svc_b.index.view().chunks()} == {"b.csv#1", "b.csv#2"}
    r = svc_b.ask("甲町の粗大ごみは？")
    assert all(c.source_id.startswith("b.csv") for c in r.answer.citations)
    assert all(h.chunk.source_id.startswith("b.csv") for h in r.hits)
    log_a = ConversationLog.in_data_dir(a.data_dir, store=a.store)
    log_b = ConversationLog.in_data_dir(b.data_dir, store=b.store)
    turn = log_a.record(
        question="甲町の質問",
        lang="ja",
        answer="x",
        citations=[],
        refused=False,
        mode="faq",
        confidence=1.0,
        latency_ms=1.0,
    )
    assert log_b.get(turn.id) is None and log_b.count() == 0 and log_a.count() == 1
    assert not log_b.feedback(turn.id, False)  # B cannot touch A's turn
    assert pg_count(a, "chunks") == 1 and pg_count(b, "chunks") == 2
    assert sum(chroma_vectors(a).values()) > 0

    report = remove_town(registry, "nsa-town", force=True, store=base.store)
    assert (report.sources, report.chunks, report.turns) == (1, 1, 1)
    assert report.vectors == 3  # its passage, title and lead
    assert pg_count(a, "chunks") == 0 and pg_count(a, "turns") == 0
    with psycopg.connect(pg_cluster.url) as conn:
        schemas = {
            r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata")
        }
    assert a.store.pg_schema not in schemas and b.store.pg_schema in schemas
    assert chroma_vectors(a) == {}
    # town B is whole
    assert pg_count(b, "chunks") == 2 and sum(chroma_vectors(b).values()) > 0
    assert {c.source_id for c in build_services(b).index.view().chunks()} == {
        "b.csv#1",
        "b.csv#2",
    }


# ---------------------------------------------------------------------------- doctor


def test_consistency_check_reads_postgres_and_chroma_server(shared_settings):
    """``madoguchi doctor``'s check compares the shared catalogue with the server's
    vectors, and finds a vector lost on the server."""
    from madoguchi.ingest.consistency import check_index

    assert not check_index(shared_settings).exists
    svc = build_services(shared_settings)
    svc.ingest([], documents=[faq_doc(), faq_doc("faq.csv#2", "住民票は？", "窓口で。")])
    check = check_index(shared_settings)
    assert check.exists and check.consistent and (check.sources, check.chunks) == (2, 2)
    assert [f.wanted for f in check.fields] == [2, 2, 2] and check.dim == 256
    lost = svc.index.view().chunks()[0].id
    svc.index.vectors.delete([lost])
    check = check_index(shared_settings)
    passages = check.fields[0]
    assert not check.consistent and passages.missing == [lost] and passages.n_missing == 1
    assert svc.index.reconcile()["missing_embedded"] == 1
    assert check_index(shared_settings).consistent


# ---------------------------------------------------------------------------- group commit


def test_group_commit_on_postgres_keeps_each_row_and_fails_a_bad_one_alone(shared_settings):
    """The log's group commit on PostgreSQL: 16 answers finishing together share
    transactions, each ``record`` returns once its row is visible to another
    connection, and a row that cannot be written (a duplicate id) fails alone."""
    import threading

    log = ConversationLog.in_data_dir(shared_settings.data_dir, store=shared_settings.store)

    def rec(i: int, turn_id: str | None = None):
        return log.record(
            question=f"質問{i}",
            lang="ja",
            answer=f"回答{i}",
            citations=[],
            refused=False,
            mode="faq",
            confidence=0.9,
            latency_ms=1.0,
            turn_id=turn_id,
        )

    def committed() -> set[str]:
        with psycopg.connect(shared_settings.store.database_url) as conn:
            rows = conn.execute(f'SELECT id FROM "{shared_settings.store.pg_schema}".turns')
            return {r[0] for r in rows}

    def together(ids: range, bad: int | None) -> dict[int, object]:
        outcome: dict[int, object] = {}

        def one(i: int) -> None:
            try:
                turn = rec(i, turn_id="taken" if i == bad else None)
                outcome[i] = (turn.id, turn.id in committed())
            except StoreError as exc:
                outcome[i] = exc

        threads = [threading.Thread(target=one, args=(i,)) for i in ids]
        with log._lock:  # hold the connection while they queue
            for t in threads:
                t.start()
            deadline = time.monotonic() + 20
            while len(log._queued) < len(threads) - 1 and time.monotonic() < deadline:
                time.sleep(0.002)
        for t in threads:
            t.join(timeout=30)
        return outcome

    first = together(range(16), None)
    assert all(isinstance(v, tuple) and v[1] for v in first.values())
    assert log.commits <= 3  # one leader waited on the lock, the rest went in one or two
    rec(99, turn_id="taken")
    second = together(range(100, 108), 103)
    assert isinstance(second[103], StoreError) and "duplicate key" in str(second[103])
    good = [v for k, v in second.items() if k != 103]
    assert len(good) == 7 and all(isinstance(v, tuple) and v[1] for v in good)
    every = [v[0] for v in [*first.values(), *good]]  # type: ignore[index]
    assert committed() == {*every, "taken"}


# ---------------------------------------------------------------------------- towns


def test_towns_served_on_postgres_and_chroma_server_answer_apart_and_are_removed(
    shared_settings, monkeypatch, tmp_path
):
    """Two towns of one service on the shared back-ends: each answers from its own
    documents under /t/<town>/, logs to its own schema, and the prefecture's removal
    deletes its rows and vectors."""
    from madoguchi.ingest.towns import Town, TownRegistry, add_town, export_town, town_settings

    monkeypatch.chdir(REPO)
    base = shared_settings.with_overrides(
        **{
            "store.namespace": "",
            "server.rate_limit_per_minute": 0,
            "server.daily_cap": 0,
            "server.prefecture_key": "p" * 32,
            "answer.answer_threshold": 0.0,
        }
    )
    reg = TownRegistry(base.data_dir)
    per_town = {}
    for tid in ("kawabe", "yamanoue"):
        town, _ = add_town(reg, Town(id=tid, name=tid))
        per_town[tid] = town_settings(base, town)
        svc = build_services(per_town[tid])
        svc.ingest([f"demo/towns/{tid}/faq.csv"])
        svc.close()
    assert pg_count(per_town["kawabe"], "sources") > 0
    with TestClient(create_app(settings=base, admin=False)) as c:
        for tid in per_town:
            r = c.post(f"/t/{tid}/api/v1/ask", json={"question": "粗大ごみの処理券はいくら？"})
            assert r.status_code == 200, r.text
            data = r.json()
            cited = [x["source"] for x in data["citations"] + data["related"]]
            assert cited and all(s.startswith(f"demo/towns/{tid}/") for s in cited), cited
        assert pg_count(per_town["kawabe"], "turns") == 1
        assert pg_count(per_town["yamanoue"], "turns") == 1
        key = {"x-api-key": "p" * 32}
        listed = c.get("/api/v1/prefecture/towns", headers=key)
        assert listed.status_code == 200, listed.text
        figures = {t["id"]: t for t in listed.json()["towns"]}
        n_sources = pg_count(per_town["kawabe"], "sources")
        assert figures["kawabe"]["sources"] == n_sources and figures["kawabe"]["questions"] == 1
        # the export takes the shared rows: sources and the log
        dest = tmp_path / "export"
        exported = export_town(base, reg, "kawabe", dest)
        assert exported.files["sources.csv"] == n_sources
        lines = (dest / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1 and "粗大ごみ" in lines[0]
        # a question after the export: removal without force is refused
        c.post("/t/kawabe/api/v1/ask", json={"question": "住民票は？"})
        refused = c.delete("/api/v1/prefecture/towns/kawabe", headers=key)
        assert refused.status_code == 409 and "after its last export" in refused.json()["detail"]
        gone = c.delete(
            "/api/v1/prefecture/towns/kawabe",
            params={"force": True},
            headers={"x-api-key": "p" * 32},
        )
        assert gone.status_code == 200, gone.text
        report = gone.json()
        assert report["turns"] == 2 and report["sources"] == n_sources and report["vectors"] > 0
    assert pg_count(per_town["kawabe"], "sources") == 0
    assert chroma_vectors(per_town["kawabe"]) == {}
    assert pg_count(per_town["yamanoue"], "sources") > 0
    assert sum(chroma_vectors(per_town["yamanoue"]).values()) > 0


def test_another_embedder_on_the_same_postgres_namespace_is_refused(shared_settings):
    from madoguchi.ingest.embed import HashingEmbeddings
    from madoguchi.kit.errors import ConfigError

    class Other(HashingEmbeddings):
        name = "other"

    build_services(shared_settings).ingest([], documents=[faq_doc()])
    with pytest.raises(ConfigError, match=r"built with the embedder 'fake'.*NAMESPACE"):
        build_services(shared_settings, embedder=Other(256)).index.chunk_count()


# ---------------------------------------------------------------------------- the manifest


def test_sync_manifest_on_postgres_and_chroma_server(shared_settings, site, tmp_path):
    """A crawl's manifest (validators, links) kept in PostgreSQL: the second sync asks
    with the validators and embeds nothing; a changed page re-embeds that page only."""
    from localsite import html

    from madoguchi.ingest.sync import parse_config, run_sync
    from madoguchi.kit.config import WebSettings

    web = WebSettings(rate_limit=0, timeout=0.5, retries=0, max_bytes=100_000)
    conf = parse_config(
        {"web": {"allow_private_network": True}, "sources": [{"url": site.url("/")}]}, web
    )
    svc = build_services(shared_settings)
    first = run_sync(svc.index, conf)
    assert len(first.added) == 9 and first.chunks_embedded > 0
    fetched = svc.index.fetch_states()[site.url("/gomi.html")]
    assert fetched.etag and fetched.fetched_at and pg_count(shared_settings, "sources") == 9
    # a fresh replica reads the same manifest
    other = build_services(shared_settings.with_overrides(data_dir=str(tmp_path / "r2")))
    again = run_sync(other.index, conf)
    assert again.chunks_embedded == 0 and again.not_modified == 9
    site.put("/gomi.html", html("ごみの出し方", "<p>粗大ごみの処理券は400円になりました。</p>"))
    changed = run_sync(other.index, conf)
    assert changed.updated == [site.url("/gomi.html")] and len(changed.unchanged) == 8
    assert "400円" in svc.ask("粗大ごみの処理券はいくら").hits[0].chunk.text


def test_backup_of_a_postgres_index_says_to_use_pg_dump(tmp_path):
    from madoguchi.ingest.backup import backup
    from madoguchi.kit.errors import InputError

    conf = Settings(
        data_dir=tmp_path / "data",
        embedder={"kind": "fake", "dim": 256},
        store={"database_url": "postgresql://madoguchi@127.0.0.1:1/madoguchi"},
    )
    with pytest.raises(InputError, match="pg_dump"):
        backup(conf, tmp_path / "out")


def test_towns_import_refuses_a_postgres_service(tmp_path):
    """Importing copies SQLite files and an embedded Chroma folder, which a shared service
    does not read: refused with the reason, nothing written."""
    from madoguchi.ingest.embed import HashingEmbeddings
    from madoguchi.ingest.towns import Town, TownRegistry, import_town
    from madoguchi.kit.errors import ConfigError

    base = Settings(
        data_dir=tmp_path / "root",
        embedder={"kind": "fake", "dim": 256},
        store={"database_url": "postgresql://madoguchi@127.0.0.1:1/madoguchi"},
    )
    reg = TownRegistry(base.data_dir)
    reg.add(Town(id="kawabe", name="川辺町"))
    with pytest.raises(ConfigError, match="database_url"):
        import_town(base, reg, "kawabe", tmp_path / "elsewhere", HashingEmbeddings(256))
    assert not (reg.path("kawabe") / "catalogue.sqlite").exists()


def test_doctor_reads_the_log_and_index_on_postgres_and_chroma_server(shared_settings):
    from madoguchi.ingest.doctor import check_index_health, check_log

    build_services(shared_settings).ingest([], documents=[faq_doc()])
    log = ConversationLog.in_data_dir(shared_settings.data_dir, store=shared_settings.store)
    old = time.time() - 100 * 86400
    for ts in (None, old):  # the first turn recorded purges; the second is past retention
        log.record(
            question="q", lang="ja", answer="a", citations=[], refused=True, mode="abstain",
            confidence=0.1, latency_ms=1.0, ts=ts,
        )  # fmt: skip
    got = check_log(shared_settings)
    assert got.status == "warning" and got.data["rows"] == 2 and got.data["oldest"] == old
    assert check_index_health(shared_settings).status == "ok"
    down = shared_settings.with_overrides(
        **{"store.database_url": "postgresql://postgres@127.0.0.1:1/postgres"}
    )
    assert check_log(down).status == "error"
