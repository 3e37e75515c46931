"""The HTTP API: answers, streams, feedback, widget config and script, clear 4xx errors."""

from __future__ import annotations

import json
import sqlite3

import pytest
from fastapi.testclient import TestClient

from madoguchi.ingest.services import build_services
from madoguchi.kit.types import SourceDocument
from madoguchi.ui.api import create_app
from madoguchi.ui.api import residents as api_module

Q = "粗大ごみの出し方は？"
A = "電話で予約して処理券を貼って出してください。01234-5-1103 まで。"


def make_services(settings):
    svc = build_services(settings.with_overrides(**{"answer.answer_threshold": 0.0}))
    doc = SourceDocument(
        "faq.csv#1",
        "faq.csv#1",
        Q,
        f"{Q}\n{A}",
        "text/csv",
        {"kind": "faq", "question": Q, "answer": A, "department": "環境衛生課"},
    )
    svc.ingest([], documents=[doc])
    return svc


@pytest.fixture
def svc(settings):
    return make_services(settings)


@pytest.fixture
def client(svc):
    with TestClient(create_app(services=svc, admin=False)) as c:
        yield c


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if name:
            events.append((name, json.loads("\n".join(data))))
    return events


def test_ask_returns_the_cli_json_shape_plus_ids(client):
    r = client.post("/api/v1/ask", json={"question": Q})
    assert r.status_code == 200
    data = r.json()
    assert {"answer", "refused", "lang", "follow_up", "citations", "latency_ms"} <= set(data)
    assert {"department", "phone", "confidence", "mode"} <= set(data)
    assert data["citations"][0] == {"source": "faq.csv#1", "title": Q, "url": None}
    assert data["lang"] == "ja"
    assert len(data["answer_id"]) == 32 and len(data["conversation_id"]) == 32
    again = client.post(
        "/api/v1/ask", json={"question": Q, "conversation_id": data["conversation_id"]}
    ).json()
    assert again["conversation_id"] == data["conversation_id"]
    assert again["answer_id"] != data["answer_id"]


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "ja-easy", "ja"])
def test_ask_takes_the_widget_language_codes(client, lang):
    r = client.post("/api/v1/ask", json={"question": Q, "lang": lang})
    assert r.status_code == 200, r.text
    assert r.json()["answer"]


@pytest.mark.parametrize(
    ("question", "menu", "answered_in"),
    [
        ("How do I throw away a sofa?", "ja", "en"),  # the resident's language wins
        (Q, "en", "ja"),  # a Japanese question in an English widget
        (Q, "ja-easy", "ja-easy"),  # Japanese text: the menu's kind of Japanese
        ("我想扔掉旧沙发，应该怎么办？", "ko", "zh-Hans"),
        ("소파를 버리고 싶어요", "en", "ko"),
        ("OK", "ko", "ko"),  # says too little: the menu decides
        ("juminhyo", "pt", "pt"),  # romanised Japanese: the menu decides
        ("粗大ごみ", "zh-Hant", "ja"),  # kana: Japanese, whatever the menu
        ("住民票", "zh-Hant", "zh-Hant"),  # kanji alone: Japanese or Chinese, the menu's
        ("住民票", "en", "ja"),  # ... but not English
        ("How do I throw away a sofa?", None, "en"),  # no menu: detected
    ],
)
def test_the_answer_is_in_the_questions_language_the_menu_is_the_prior(
    client, question, menu, answered_in
):
    body = {"question": question, **({"lang": menu} if menu else {})}
    assert client.post("/api/v1/ask", json=body).json()["lang"] == answered_in
    with client.stream("POST", "/api/v1/ask/stream", json=body) as s:
        text = "".join(s.iter_text())
    final = json.loads(text.split("event: final")[1].split("data: ", 1)[1].split("\r\n")[0])
    assert final["lang"] == answered_in


def test_an_unknown_menu_language_is_a_clear_400(client):
    r = client.post("/api/v1/ask", json={"question": Q, "lang": "klingon"})
    assert r.status_code == 400 and "unknown language" in r.json()["detail"]


def test_a_refusal_names_the_department_in_the_residents_language(settings):
    svc = make_services(settings)
    strict = svc.settings.with_overrides(**{"answer.answer_threshold": 1.01})
    svc.answerer = type(svc.answerer)(strict.answer, svc.answerer.departments)
    with TestClient(create_app(services=svc, admin=False)) as c:
        r = c.post("/api/v1/ask", json={"question": "How do I throw away a sofa?"}).json()
    assert r["refused"] is True and r["lang"] == "en"
    assert r["department"] == "環境衛生課"
    assert r["department_label"] == "環境衛生課 (Environmental Sanitation Division)"
    assert "Please contact 環境衛生課 (Environmental Sanitation Division)." in r["answer"]


def test_ask_is_logged_masked_with_the_contract_schema(client, settings):
    r = client.post(
        "/api/v1/ask", json={"question": "粗大ごみ 090-1234-5678 taro@example.jp に連絡を"}
    )
    answer_id = r.json()["answer_id"]
    db = sqlite3.connect(settings.data_dir / "conversations.sqlite")
    cols = [row[1] for row in db.execute("PRAGMA table_info(turns)")]
    assert cols == [
        "id", "conversation_id", "ts", "question", "lang", "answer", "citations",
        "refused", "mode", "confidence", "latency_ms", "feedback", "comment", "follow_up",
    ]  # fmt: skip
    q, cits, fb = db.execute(
        "SELECT question, citations, feedback FROM turns WHERE id = ?", (answer_id,)
    ).fetchone()
    assert "090" not in q and "taro" not in q and "[電話]" in q and "[メール]" in q
    assert json.loads(cits)[0]["source"] == "faq.csv#1"
    assert fb is None


def test_stream_sends_deltas_then_the_final_answer(client):
    r = client.post("/api/v1/ask/stream", json={"question": Q, "conversation_id": "c1"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    kinds = [e for e, _ in events]
    assert kinds[-1] == "final" and kinds[:-1] and set(kinds[:-1]) == {"delta"}
    final = events[-1][1]
    assert "".join(d["text"] for e, d in events if e == "delta") == final["answer"]
    assert final["conversation_id"] == "c1" and final["answer_id"]
    assert final["citations"][0]["source"] == "faq.csv#1"
    # the streamed answer is logged like any other and takes feedback
    ok = client.post("/api/v1/feedback", json={"answer_id": final["answer_id"], "helpful": True})
    assert ok.json() == {"status": "ok"}


def test_stream_of_a_bad_question_is_a_400_before_the_stream(client):
    r = client.post("/api/v1/ask/stream", json={"question": "  "})
    assert r.status_code == 400 and r.json()["error"] == "InputError"


def test_stream_error_event_when_answering_fails(client, svc, monkeypatch):
    from madoguchi.kit.errors import StoreError

    def broken(*a, **k):
        raise StoreError("the index is being rebuilt")
        yield  # pragma: no cover

    monkeypatch.setattr(svc, "ask_stream", broken)
    r = client.post("/api/v1/ask/stream", json={"question": Q})
    assert sse_events(r.text) == [
        ("error", {"error": "StoreError", "detail": "the index is being rebuilt"})
    ]
    # the concurrency slot was given back: normal questions still work
    assert client.post("/api/v1/ask", json={"question": Q}).status_code == 200


def test_feedback_is_stored_and_unknown_ids_are_404(client, settings):
    aid = client.post("/api/v1/ask", json={"question": Q}).json()["answer_id"]
    r = client.post(
        "/api/v1/feedback",
        json={"answer_id": aid, "helpful": False, "comment": "電話 03-1234-5678 に書いてない"},
    )
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    db = sqlite3.connect(settings.data_dir / "conversations.sqlite")
    fb, comment = db.execute("SELECT feedback, comment FROM turns WHERE id=?", (aid,)).fetchone()
    assert fb == 0 and "03-1234" not in comment and "[電話]" in comment
    r = client.post("/api/v1/feedback", json={"answer_id": "nope", "helpful": True})
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    r = client.post(
        "/api/v1/feedback", json={"answer_id": aid, "helpful": True, "comment": "x" * 1001}
    )
    assert r.status_code == 422 and set(r.json()) == {"error", "detail"}
    r = client.post("/api/v1/feedback", json={"answer_id": aid, "helpful": "maybe"})
    assert r.status_code == 422


def test_feedback_without_a_log_still_knows_recent_answers(settings):
    svc = make_services(settings.with_overrides(**{"server.log_conversations": False}))
    with TestClient(create_app(services=svc, admin=False)) as c:
        aid = c.post("/api/v1/ask", json={"question": Q}).json()["answer_id"]
        assert (
            c.post("/api/v1/feedback", json={"answer_id": aid, "helpful": True}).status_code == 200
        )
        assert (
            c.post("/api/v1/feedback", json={"answer_id": "x", "helpful": True}).status_code == 404
        )
    assert not (settings.data_dir / "conversations.sqlite").exists()


def test_widget_config_defaults_fit_the_demo_town(client):
    r = client.get("/api/v1/config")
    assert r.status_code == 200
    data = r.json()
    assert data["town"] == "みどり川町"
    assert data["phone"] == "01234-5-1101"
    assert data["disclaimer"] and len(data["suggestions"]) >= 3
    assert set(data["languages"]) == {
        "ja", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "id", "ja-easy"
    }  # fmt: skip


def test_widget_config_comes_from_settings(settings):
    custom = settings.with_overrides(
        **{"widget.town": "さくら村", "widget.phone": None, "widget.suggestions": ["ごみの日は？"]}
    )
    with TestClient(create_app(services=make_services(custom), admin=False)) as c:
        data = c.get("/api/v1/config").json()
    assert data["town"] == "さくら村" and data["phone"] is None
    assert data["suggestions"] == ["ごみの日は？"]


def test_widget_js_served_with_cache_headers_or_404(client, tmp_path, monkeypatch):
    monkeypatch.setattr(api_module, "WIDGET_DIR", tmp_path)
    r = client.get("/widget.js")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    (tmp_path / "widget.js").write_text("console.log('窓口');", encoding="utf-8")
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "max-age" in r.headers["cache-control"] and r.headers["etag"]
    assert r.text == "console.log('窓口');"
    again = client.get("/widget.js", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/widget/..%2Fsecret.js").status_code == 404
    assert client.get("/widget/widget.py").status_code == 404


def test_home_page_shows_the_embed_tag(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'src="http://testserver/widget.js"' in r.text
    assert "&lt;script src=&quot;http://testserver/widget.js&quot;" in r.text
    assert "みどり川町" in r.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": ""}, 400),
        ({"question": "   "}, 400),
        ({"question": "x" * 5000}, 400),
        ({}, 422),
        ({"question": 12}, 422),
        ({"question": None}, 422),
        ({"question": Q, "lang": "x" * 40}, 422),
        ([1, 2], 422),
        ("just a string", 422),
    ],
)
def test_bad_questions_are_clear_4xx_json(client, body, status):
    r = client.post("/api/v1/ask", json=body)
    assert r.status_code == status
    assert set(r.json()) == {"error", "detail"}


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"question=hello", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b'{"question": "a"', "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_json(client, content, ctype):
    for path in ("/api/v1/ask", "/api/v1/ask/stream", "/api/v1/feedback"):
        r = client.post(path, content=content, headers={"content-type": ctype})
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert set(r.json()) == {"error", "detail"}


def test_oversized_bodies_are_413_json(client):
    r = client.post("/api/v1/ask", json={"question": "x" * 30000})
    assert r.status_code == 413 and r.json()["error"] == "TooLarge"

    def chunks():
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 1000
        yield b'"}'

    r = client.post("/api/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "TooLarge"


def test_unknown_paths_and_methods_are_json(client):
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    r = client.get("/api/v1/ask")
    assert r.status_code == 405 and set(r.json()) == {"error", "detail"}


def test_health_ready_metrics_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["chunks"] == 1
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    client.post("/api/v1/ask", json={"question": Q})
    client.post("/api/v1/ask", json={"question": ""})
    text = client.get("/metrics").text
    assert 'madoguchi_http_requests_total{method="POST",route="/api/v1/ask",status="200"}' in text
    assert 'route="/api/v1/ask",status="400"' in text
    assert 'madoguchi_http_request_seconds_bucket{le="0.01",route="/api/v1/ask"}' in text
    assert "madoguchi_refusals_total" in text and "madoguchi_answers_total{" in text


def test_refusals_are_counted(settings):
    svc = make_services(settings)
    strict = svc.settings.with_overrides(**{"answer.answer_threshold": 1.01})
    svc.answerer = type(svc.answerer)(strict.answer)
    with TestClient(create_app(services=svc, admin=False)) as c:
        r = c.post("/api/v1/ask", json={"question": "宇宙船の免許はどこで取れますか"}).json()
        assert r["refused"] is True
        assert "madoguchi_refusals_total 1.0" in c.get("/metrics").text


def test_a_refusal_carries_related_documents_in_both_endpoints(settings):
    svc = make_services(settings)
    strict = svc.settings.with_overrides(**{"answer.answer_threshold": 1.01})
    svc.answerer = type(svc.answerer)(strict.answer)
    with TestClient(create_app(services=svc, admin=False)) as c:
        r = c.post("/api/v1/ask", json={"question": Q}).json()
        assert r["refused"] is True and r["citations"] == []
        assert r["related"] == [{"source": "faq.csv#1", "title": Q, "url": None}]
        assert "original" in r  # declared in the response model, so it is not dropped
        with c.stream("POST", "/api/v1/ask/stream", json={"question": Q}) as s:
            text = "".join(s.iter_text())
        final = json.loads(text.split("event: final")[1].split("data: ", 1)[1].split("\r\n")[0])
        assert final["related"] == r["related"]
        ok = c.post("/api/v1/ask", json={"question": "宇宙船の免許はどこで取れますか"}).json()
        assert ok["refused"] is True and ok["related"] == []  # nothing close enough


def test_not_ready_is_503_json(svc):
    app = create_app(services=svc, admin=False)
    c = TestClient(app)  # no lifespan: services never set
    r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["error"] == "ModelUnavailable"
    assert c.post("/api/v1/ask", json={"question": Q}).status_code == 503


def test_stream_forwards_a_reset(client, svc, monkeypatch):
    from madoguchi.kit.services import StreamEvent

    real = svc.ask(Q)

    def with_reset(*a, **k):
        yield StreamEvent("delta", text="生成された文")
        yield StreamEvent("reset")
        yield StreamEvent("delta", text=real.answer.text)
        yield StreamEvent("final", result=real)

    monkeypatch.setattr(svc, "ask_stream", with_reset)
    events = sse_events(client.post("/api/v1/ask/stream", json={"question": Q}).text)
    assert [e for e, _ in events] == ["delta", "reset", "delta", "final"]
    assert events[1][1] == {} and events[3][1]["answer"] == real.answer.text


def test_questions_run_on_the_few_answering_threads(client, svc, monkeypatch):
    """Per-thread state in the kit (a Sudachi dictionary each) must not spread over 40 threads."""
    import threading

    names: set[str] = set()
    real_ask = svc.ask

    def spy(*a, **k):
        names.add(threading.current_thread().name)
        return real_ask(*a, **k)

    monkeypatch.setattr(svc, "ask", spy)
    for _ in range(6):
        assert client.post("/api/v1/ask", json={"question": Q}).status_code == 200
        assert client.post("/api/v1/ask/stream", json={"question": Q}).status_code == 200
    assert names and all(n.startswith("madoguchi-answer") for n in names)
    assert len(names) <= svc.settings.server.max_concurrent_asks


def test_home_page_escapes_the_host_header(client):
    r = client.get("/", headers={"host": 'evil"><img src=x onerror=alert(1)>'})
    assert r.status_code in (200, 400)
    assert "<img src=x" not in r.text


@pytest.mark.parametrize("path", ["/api/v1/ask", "/api/v1/ask/stream"])
def test_first_turn_is_remembered_under_the_returned_conversation_id(client, svc, path):
    """A request without an id gets one before it is answered, so the follow-up that
    sends the returned id is searched with the first question."""
    r = client.post(path, json={"question": Q})
    assert r.status_code == 200
    if path.endswith("stream"):
        final = next(d for ev, d in sse_events(r.text) if ev == "final")
        cid = final["conversation_id"]
    else:
        cid = r.json()["conversation_id"]
    assert cid and svc.conversations.history(cid), "the first turn is stored under its id"


def test_widget_config_gives_the_suggestions_in_other_languages(client, settings) -> None:
    from madoguchi.kit.config import DEFAULT_SUGGESTIONS, DEFAULT_SUGGESTIONS_TRANSLATED

    data = client.get("/api/v1/config").json()
    assert data["suggestions_translated"]["en"] == list(DEFAULT_SUGGESTIONS_TRANSLATED["en"])
    assert set(data["suggestions_translated"]) == {
        "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "id"
    }  # fmt: skip
    # a town's own question has no translation: every language shows it in Japanese
    own = settings.with_overrides(**{"widget.suggestions": ["児童手当はいつ振り込まれますか"]})
    with TestClient(create_app(services=make_services(own), admin=False)) as c:
        assert c.get("/api/v1/config").json()["suggestions_translated"] == {}
    # ... until the town gives them (its table replaces the kit's)
    mixed = settings.with_overrides(
        **{
            "widget.suggestions": ["児童手当はいつ振り込まれますか", DEFAULT_SUGGESTIONS[0]],
            "widget.suggestions_translated": {
                "児童手当はいつ振り込まれますか": {"en": "When is the child allowance paid?"},
                DEFAULT_SUGGESTIONS[0]: {"en": "Large garbage?"},
            },
        }
    )
    assert mixed.widget.suggestions_in("en") == [
        "When is the child allowance paid?",
        "Large garbage?",
    ]
    assert mixed.widget.suggestions_in("ko") == [
        "児童手当はいつ振り込まれますか",
        DEFAULT_SUGGESTIONS[0],
    ]
    assert mixed.widget.suggestions_in("zh-Hans")[0] == "児童手当はいつ振り込まれますか"
