"""A town of a shared service answers exactly as the same town on a service of its own.

Three towns (the demo town, 川辺町 and 山の上村) each ingest their own documents through
the multi-town app; the demo town's evaluation details (``eval.run``, every question of
demo/eval.jsonl) equal those of the single-town service over the same documents, latency
aside, and so do its answers through ``/t/demo/api/v1/ask`` against ``/api/v1/ask``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.eval.dataset import load_dataset
from madoguchi.eval.run import run_items
from madoguchi.ingest.services import build_services
from madoguchi.ingest.towns import Town, TownRegistry, add_town
from madoguchi.kit.config import Settings
from madoguchi.ui.api import create_app

REPO = Path(__file__).resolve().parents[2]
DEMO = ["demo/faq.csv", "demo/pages", "demo/pdf"]
CORPORA = {
    "demo": DEMO,
    "kawabe": ["demo/towns/kawabe/faq.csv"],
    "yamanoue": ["demo/towns/yamanoue/faq.csv"],
}


def _settings(data_dir: Path) -> Settings:
    # the embedded store (SQLite + Chroma), as a town runs it; no rate limits for the test;
    # no abstention (the fake embedder's confidences are near 0): every question gets an
    # answer and its citations, so that answers, not refusal templates, are compared
    return Settings(
        data_dir=data_dir,
        embedder={"kind": "fake", "dim": 256},
        answer={"answer_threshold": 0.0},
        server={"rate_limit_per_minute": 0, "daily_cap": 0},
    )


def _town_files(data_dir: Path) -> None:
    """What ./run demo adds beside the index: the synonym list and the departments table."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "demo" / "synonyms.csv", data_dir / "synonyms.csv")
    shutil.copy(REPO / "demo" / "departments.csv", data_dir / "departments.csv")


def _without_latency(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "latency_ms"} for r in rows]


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _seen(answer: dict) -> dict:
    """What a resident sees of an API answer (not its ids, timings or cache state)."""
    keep = ("answer", "refused", "lang", "follow_up", "citations", "related", "mode")
    return {k: answer.get(k) for k in keep}


def _figures(run) -> dict:
    data = run.to_dict()
    data["figures"] = {k: v for k, v in data["figures"].items() if "latency" not in k}
    return data


@pytest.fixture
def demo_items():
    return load_dataset(REPO / "demo" / "eval.jsonl")


def test_demo_town_of_a_shared_service_equals_the_single_town_run(
    tmp_path, monkeypatch, demo_items
):
    monkeypatch.chdir(REPO)  # source ids are paths relative to the current folder
    questions = [i.question for i in demo_items[:: max(1, len(demo_items) // 12)]]

    # the single-town service of demo/
    single = _settings(tmp_path / "single")
    _town_files(single.data_dir)
    svc = build_services(single)
    svc.ingest(DEMO)
    single_run = run_items(svc, demo_items, details_path=tmp_path / "single.jsonl")
    svc.close()
    with TestClient(create_app(settings=single, admin=False)) as c:
        single_api = [_seen(c.post("/api/v1/ask", json={"question": q}).json()) for q in questions]

    # three towns on one service, each filled through the app's own town services
    base = _settings(tmp_path / "root")
    reg = TownRegistry(base.data_dir)
    for tid in CORPORA:
        add_town(reg, Town(id=tid, name=base.town_name if tid == "demo" else tid))
    _town_files(reg.path("demo"))
    app = create_app(settings=base, admin=False)
    with TestClient(app) as c:
        hub = app.state.towns
        for tid, paths in CORPORA.items():
            ctx = hub.acquire(tid)
            try:
                report = ctx.services.ingest(paths)
                assert report.counts()["added"] > 0 and not report.skipped, report.skipped
                assert ctx.services.embedder is not None
            finally:
                hub.release(ctx)
        shared = app.state.services.embedder  # the micro-batcher over the service's model
        assert getattr(shared, "inner", shared) is hub.embedder  # one model for every town
        ctx = hub.acquire("demo")
        try:
            town_run = run_items(ctx.services, demo_items, details_path=tmp_path / "town.jsonl")
        finally:
            hub.release(ctx)
        town_api = [
            _seen(c.post("/t/demo/api/v1/ask", json={"question": q}).json()) for q in questions
        ]
        # the other towns answer from their own corpora, not the demo town's
        other = c.post("/t/kawabe/api/v1/ask", json={"question": questions[0]}).json()
        assert all(
            x["source"].startswith("demo/towns/kawabe/")
            for x in other["citations"] + other["related"]
        )

    single_rows = _read(tmp_path / "single.jsonl")
    town_rows = _read(tmp_path / "town.jsonl")
    assert len(single_rows) == len(demo_items) > 50
    assert _without_latency(town_rows) == _without_latency(single_rows)
    assert _figures(town_run) == _figures(single_run)
    assert town_api == single_api
    assert sum(bool(r["citations"]) for r in town_rows) > 50
    assert any(not a["refused"] and a["citations"] for a in town_api)
