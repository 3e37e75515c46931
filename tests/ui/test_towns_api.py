"""Several towns on one service: each answers, logs and is administered apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.ingest.services import build_services
from madoguchi.ingest.towns import (
    Town,
    TownRegistry,
    add_town,
    export_town,
    remove_town,
    town_settings,
)
from madoguchi.ui.api import create_app

REPO = Path(__file__).resolve().parents[2]
ORIGINS = {
    "kawabe": "https://www.town.kawabe.example.jp",
    "yamanoue": "https://www.vill.yamanoue.example.jp",
}


@pytest.fixture
def towns(settings, monkeypatch):
    monkeypatch.chdir(REPO)
    base = settings.with_overrides(**{"server.rate_limit_per_minute": 0, "server.daily_cap": 0})
    reg = TownRegistry(base.data_dir)
    keys = {}
    for tid in ORIGINS:
        town, keys[tid] = add_town(reg, Town(id=tid, name=tid, origins=[ORIGINS[tid]]))
        svc = build_services(town_settings(base, town))
        svc.ingest([f"demo/towns/{tid}/faq.csv"])
        svc.close()
    return base, reg, keys


def test_each_town_answers_from_its_own_documents_only(towns):
    base, _, keys = towns
    with TestClient(create_app(settings=base, admin=False)) as c:
        for tid, fee in (("kawabe", "300円"), ("yamanoue", "800円")):
            r = c.post(f"/t/{tid}/api/v1/ask", json={"question": "粗大ごみの処理券はいくら？"})
            assert r.status_code == 200, r.text
            data = r.json()
            cited = [x["source"] for x in data["citations"]] + [
                x["source"] for x in data["related"]
            ]
            assert all(s.startswith(f"demo/towns/{tid}/") for s in cited), cited
            if not data["refused"]:
                assert fee in data["answer"]
        # only kawabe has a ferry: yamanoue never cites kawabe
        r = c.post("/t/yamanoue/api/v1/ask", json={"question": "渡し船は何時に出ますか"}).json()
        assert not any("kawabe" in x["source"] for x in r["citations"] + r["related"])
        # town A's page calling town B: 403; its own: allowed
        o = {"origin": ORIGINS["kawabe"]}
        assert (
            c.post("/t/yamanoue/api/v1/ask", json={"question": "住民票"}, headers=o).status_code
            == 403
        )
        assert (
            c.post("/t/kawabe/api/v1/ask", json={"question": "住民票"}, headers=o).status_code
            == 200
        )
        # a town's key sees only its town
        k = {"x-api-key": keys["kawabe"]}
        assert c.get("/t/kawabe/api/v1/admin/sources", headers=k).status_code == 200
        assert c.get("/t/yamanoue/api/v1/admin/sources", headers=k).status_code == 401
        assert c.get("/t/yamanoue/api/v1/admin/turns", headers=k).status_code == 401
        turns = c.get("/t/kawabe/api/v1/admin/turns", headers=k).json()
        assert turns and all("渡し船" not in t["question"] for t in turns)
        assert c.post("/t/nowhere/api/v1/ask", json={"question": "x"}).status_code == 404
        # the single-town path still works
        assert c.post("/api/v1/ask", json={"question": "住民票"}).status_code == 200


def test_remove_needs_an_export_and_leaves_nothing(towns, tmp_path):
    base, reg, _ = towns
    with pytest.raises(Exception, match="exported"):
        remove_town(reg, "kawabe")
    rep = export_town(base, reg, "kawabe", tmp_path / "out")
    assert rep.files["sources.csv"] == 24
    assert (tmp_path / "out" / "conversations.jsonl").exists()
    gone = remove_town(reg, "kawabe")
    assert gone.chunks > 0 and gone.left == 0
    assert not (Path(base.data_dir) / "towns" / "kawabe").exists()
    assert reg.ids() == ["yamanoue"]


# ---------------------------------------------------------------------------- isolation

SERVICE_KEY = "service-admin-key-0123456789abcdef"
PREFECTURE_KEY = "prefecture-key-0123456789abcdef"


def _faq_questions(tid: str) -> list[str]:
    import csv

    with (REPO / "demo" / "towns" / tid / "faq.csv").open(encoding="utf-8-sig") as fh:
        return [row["質問"] for row in csv.DictReader(fh)]


@pytest.fixture
def shared(chroma_settings, monkeypatch):
    """Two towns on the embedded store (SQLite + Chroma), a service admin key and a
    prefecture key; no abstention, so every question is answered and cites something."""
    monkeypatch.chdir(REPO)
    base = chroma_settings.with_overrides(
        **{
            "server.rate_limit_per_minute": 0,
            "server.daily_cap": 0,
            "server.admin_key": SERVICE_KEY,
            "server.prefecture_key": PREFECTURE_KEY,
            "answer.answer_threshold": 0.0,
            # the test tries many wrong keys: no throttling (429) in the way of the 401s
            "server.login_failures_per_client": 1000,
            "server.login_failures_overall": 1000,
        }
    )
    reg = TownRegistry(base.data_dir)
    keys = {}
    for tid in ORIGINS:
        town, keys[tid] = add_town(reg, Town(id=tid, name=tid, origins=[ORIGINS[tid]]))
        svc = build_services(town_settings(base, town))
        svc.ingest([f"demo/towns/{tid}/faq.csv"])
        svc.close()
    return base, reg, keys


def test_a_town_never_cites_another_towns_documents(shared):
    base, _, _ = shared
    with TestClient(create_app(settings=base, admin=False)) as c:
        for asked, other in (("yamanoue", "kawabe"), ("kawabe", "yamanoue")):
            # every FAQ question of the other town, in its own wording, asked to this one
            for q in _faq_questions(other):
                data = c.post(f"/t/{asked}/api/v1/ask", json={"question": q}).json()
                sources = [x["source"] for x in data["citations"] + data["related"]]
                assert sources, data  # answered (no abstention): it cites something
                assert all(s.startswith(f"demo/towns/{asked}/") for s in sources), (q, sources)
                assert other not in data["answer"]
            hits = c.post(
                f"/t/{asked}/api/v1/admin/try",
                json={"question": _faq_questions(other)[0]},
                headers={"x-api-key": shared[2][asked]},
            ).json()["hits"]
            assert hits and all(h["source"].startswith(f"demo/towns/{asked}/") for h in hits)


def test_origins_keys_and_logs_stay_with_their_town(shared, tmp_path):
    base, reg, keys = shared
    with TestClient(create_app(settings=base, admin=False)) as c:
        kawabe_page = {"origin": ORIGINS["kawabe"]}
        for path, kw in (
            ("/t/yamanoue/api/v1/ask", {"json": {"question": "住民票"}}),
            ("/t/yamanoue/api/v1/config", {}),
        ):
            method = c.post if "json" in kw else c.get
            assert method(path, headers=kawabe_page, **kw).status_code == 403
            assert (
                method(path.replace("yamanoue", "kawabe"), headers=kawabe_page, **kw).status_code
                == 200
            )
        # a CORS preflight from town A's page to town B is not granted
        pre = c.options(
            "/t/yamanoue/api/v1/ask",
            headers={**kawabe_page, "access-control-request-method": "POST"},
        )
        assert pre.headers.get("access-control-allow-origin") != ORIGINS["kawabe"]

        # residents of each town ask, with words only their town uses
        asked = {
            "kawabe": "川辺の渡し船は何時ですか 090-1234-5678",
            "yamanoue": "山の上の雪囲いの補助は",
        }
        for tid, q in asked.items():
            assert c.post(f"/t/{tid}/api/v1/ask", json={"question": q}).status_code == 200
        # no key of another town, of the service or of the prefecture opens a town's data
        for tid, other in (("kawabe", "yamanoue"), ("yamanoue", "kawabe")):
            for key in (keys[other], SERVICE_KEY, PREFECTURE_KEY, "wrong"):
                for path in ("sources", "turns", "unanswered.csv"):
                    r = c.get(f"/t/{tid}/api/v1/admin/{path}", headers={"x-api-key": key})
                    assert r.status_code in (401, 403), (tid, path, r.status_code)
            own = {"x-api-key": keys[tid]}
            turns = c.get(f"/t/{tid}/api/v1/admin/turns", headers=own).json()
            # its own questions (kawabe's page also asked 住民票 above), masked; none of the other's
            mine = {asked[tid].replace("090-1234-5678", "[電話]")} | (
                {"住民票"} if tid == "kawabe" else set()
            )
            assert {t["question"] for t in turns} == mine
            assert "090-1234-5678" not in json.dumps(turns, ensure_ascii=False)
            csv_text = c.get(f"/t/{tid}/api/v1/admin/unanswered.csv", headers=own).text
            assert asked[other][:6] not in csv_text
            sources = c.get(f"/t/{tid}/api/v1/admin/sources", headers=own).json()
            assert sources and all(s["source"].startswith(f"demo/towns/{tid}/") for s in sources)
        # the service's own log has none of the towns' questions
        assert c.get("/api/v1/admin/turns", headers={"x-api-key": SERVICE_KEY}).json() == []
        # a town key does not open the prefecture's routes
        assert c.get(
            "/api/v1/prefecture/towns", headers={"x-api-key": keys["kawabe"]}
        ).status_code in (401, 403)
        figures = c.get("/api/v1/prefecture/towns", headers={"x-api-key": PREFECTURE_KEY}).json()
        assert {t["id"]: t["questions"] for t in figures["towns"]} == {"kawabe": 2, "yamanoue": 1}
        assert asked["kawabe"][:6] not in json.dumps(figures, ensure_ascii=False)  # counts only

    # the export of a town's log holds its own rows only
    rep = export_town(base, reg, "kawabe", tmp_path / "kawabe-out")
    assert rep.files["conversations.jsonl"] == 2
    exported = (tmp_path / "kawabe-out" / "conversations.jsonl").read_text(encoding="utf-8")
    assert "渡し船" in exported and "雪囲い" not in exported and "090-1234-5678" not in exported


def test_a_town_removed_through_the_prefecture_leaves_nothing_behind(shared):
    import sqlite3

    base, _, keys = shared
    root = Path(base.data_dir)
    with TestClient(create_app(settings=base, admin=False)) as c:
        pk = {"x-api-key": PREFECTURE_KEY}
        # its context is open (it has answered) when it is removed
        assert c.post("/t/kawabe/api/v1/ask", json={"question": "渡し船"}).status_code == 200
        r = c.delete("/api/v1/prefecture/towns/kawabe", headers=pk)
        assert r.status_code == 409 and "exported" in r.json()["detail"]
        r = c.delete("/api/v1/prefecture/towns/kawabe", params={"force": True}, headers=pk)
        assert r.status_code == 200, r.text
        gone = r.json()
        assert gone["chunks"] == 24 and gone["vectors"] >= 24 and gone["turns"] == 1
        assert gone["left"] == 0
        assert not (root / "towns" / "kawabe").exists()
        assert c.post("/t/kawabe/api/v1/ask", json={"question": "渡し船"}).status_code == 404
        assert (
            c.get(
                "/t/kawabe/api/v1/admin/sources", headers={"x-api-key": keys["kawabe"]}
            ).status_code
            == 404
        )
        assert c.get("/api/v1/prefecture/towns/kawabe", headers=pk).status_code == 404
        # the other town and the service hold no row or vector of it
        left = [p for p in root.rglob("*") if "kawabe" in p.name]
        assert left == []
        for db in root.rglob("*.sqlite*"):
            if db.suffix in (".sqlite", ".sqlite3"):
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                try:
                    dump = "\n".join(con.iterdump())
                finally:
                    con.close()
                assert "demo/towns/kawabe/" not in dump, db
        # the same id again: a new, empty town
        r = c.post("/api/v1/prefecture/towns", json={"id": "kawabe", "name": "川辺町"}, headers=pk)
        assert r.status_code == 201
        assert (
            c.get(
                "/t/kawabe/api/v1/admin/sources", headers={"x-api-key": r.json()["admin_key"]}
            ).json()
            == []
        )


def test_a_running_service_sees_another_process_import_remove_and_add_a_town(tmp_path, monkeypatch):
    """``madoguchi towns`` run beside ``madoguchi serve``: the server's next request for the
    town opens the files the other process wrote, not a cached client of the old ones."""
    import os
    import subprocess
    import sys

    from madoguchi.kit.config import Settings

    monkeypatch.chdir(REPO)
    single = Settings(
        data_dir=tmp_path / "single", embedder={"kind": "fake"}, answer={"answer_threshold": 0.0}
    )
    svc = build_services(single)
    svc.ingest(["demo/towns/kawabe/faq.csv"])
    svc.close()
    base = single.model_copy(update={"data_dir": tmp_path / "root"}).with_overrides(
        **{"server.rate_limit_per_minute": 0, "server.daily_cap": 0}
    )
    reg = TownRegistry(base.data_dir)
    _, key = add_town(reg, Town(id="kawabe", name="川辺町"))
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(base.data_dir),
        "MADOGUCHI_EMBEDDER__KIND": "fake",
        "PYTHONPATH": str(REPO),
    }

    def cli(*args: str) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "madoguchi.ui.cli", "towns", *args],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        return r.stdout

    def cited(c: TestClient, question: str) -> list[str]:
        r = c.post("/t/kawabe/api/v1/ask", json={"question": question})
        assert r.status_code == 200, r.text
        return [x["source"] for x in r.json()["citations"]]

    with TestClient(create_app(settings=base, admin=False)) as c:
        # the server opens the town's empty index (a staff member's try, not logged)
        k = {"x-api-key": key}
        assert c.get("/t/kawabe/api/v1/admin/sources", headers=k).json() == []
        assert c.post("/t/kawabe/api/v1/admin/try", headers=k, json={"question": "渡し船"}).json()[
            "refused"
        ]
        assert (
            json.loads(cli("import", "kawabe", "--from", str(single.data_dir), "--json"))["chunks"]
            == 24
        )
        assert cited(c, "渡し船は何時に出ますか") == ["demo/towns/kawabe/faq.csv#21"]
        # removed and added again with another town's documents, by the other process
        cli("remove", "kawabe", "--force")
        assert c.post("/t/kawabe/api/v1/ask", json={"question": "渡し船"}).status_code == 404
        cli("add", "kawabe", "--name", "川辺町")
        cli("ingest", "kawabe", "demo/towns/yamanoue/faq.csv")
        sources = cited(c, "粗大ごみの出し方を教えてください")
        assert sources and all(s.startswith("demo/towns/yamanoue/") for s in sources), sources
