"""Several towns on one service: each answers, logs and is administered apart."""

from __future__ import annotations

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
