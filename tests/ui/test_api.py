"""The HTTP API: answers, clear 4xx errors, health."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kit.services import build_services
from kit.types import SourceDocument
from ui.api import create_app


@pytest.fixture
def client(settings):
    svc = build_services(settings.with_overrides(**{"answer.answer_threshold": 0.0}))
    q, a = "粗大ごみの出し方は？", "電話で予約して処理券を貼って出してください。"
    doc = SourceDocument(
        "faq.csv#1",
        "faq.csv#1",
        q,
        f"{q}\n{a}",
        "text/csv",
        {"kind": "faq", "question": q, "answer": a, "department": "環境衛生課"},
    )
    svc.ingest([], documents=[doc])
    with TestClient(create_app(services=svc)) as c:
        yield c


def test_ask_returns_the_cli_json_shape(client):
    r = client.post("/api/v1/ask", json={"question": "粗大ごみの出し方は？"})
    assert r.status_code == 200
    data = r.json()
    assert {"answer", "refused", "lang", "follow_up", "citations"} <= set(data)
    assert data["citations"][0]["source"] == "faq.csv#1"
    assert data["lang"] == "ja"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": ""}, 400),
        ({"question": "   "}, 400),
        ({"question": "x" * 5000}, 400),
        ({"question": "x" * 30000}, 422),
        ({}, 422),
        ({"question": 12}, 422),
    ],
)
def test_bad_questions_are_clear_4xx_json(client, body, status):
    r = client.post("/api/v1/ask", json=body)
    assert r.status_code == status
    assert set(r.json()) == {"error", "detail"}


def test_malformed_json_is_422(client):
    r = client.post(
        "/api/v1/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"] == "InvalidRequest"


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "chunks": 1}
    assert client.get("/openapi.json").status_code == 200
