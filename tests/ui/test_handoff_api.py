"""Hand-off over HTTP: the status a refusal offers, a resident's message and its ticket,
the staff inbox behind the admin key, FAQ drafts, metrics, and each town apart."""

from __future__ import annotations

import csv
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.ingest.services import build_services
from madoguchi.ingest.towns import Town, TownRegistry, add_town, town_settings
from madoguchi.kit.errors import InputError
from madoguchi.kit.officehours import JST
from madoguchi.kit.types import SourceDocument
from madoguchi.ui.api import create_app
from tests.ui.test_api import A, Q, make_services

KEY = "admin-key-for-tests"
DEPARTMENTS = Path(__file__).resolve().parents[2] / "demo" / "departments.csv"
MESSAGE = "粗大ごみの予約をしたいです。連絡は taro@example.jp か 090-1234-5678 にください。"
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=JST)
WEDNESDAY_20 = datetime(2026, 12, 2, 20, 0, tzinfo=JST)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def conf(settings):
    conf = settings.with_overrides(
        **{
            "server.admin_key": KEY,
            "server.rate_limit_per_minute": 0,
            "server.daily_cap": 0,
            "office_hours.departments": {"住民課": {"weekdays": "08:30-19:00"}},
        }
    )
    conf.data_dir.mkdir(parents=True, exist_ok=True)
    (conf.data_dir / "departments.csv").write_bytes(DEPARTMENTS.read_bytes())
    return conf


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY_10)


@pytest.fixture
def client(conf, clock):
    svc = make_services(conf)
    with TestClient(create_app(services=svc, admin=False, clock=clock)) as c:
        yield c


def faq_document() -> SourceDocument:
    meta = {"kind": "faq", "question": Q, "answer": A, "department": "環境衛生課"}
    return SourceDocument("faq.csv#1", "faq.csv#1", Q, f"{Q}\n{A}", "text/csv", meta)


def admin(c: TestClient, method: str, path: str, **kw):
    return c.request(method, path, headers={"x-api-key": KEY}, **kw)


def test_status_inside_and_outside_office_hours(client, clock):
    r = client.get("/api/v1/handoff/status", params={"department": "環境衛生課", "lang": "en"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["open"] is True and data["phone"] == "01234-5-1103"
    assert data["department"] == "環境衛生課"
    assert data["department_label"] == "環境衛生課 (Environment and Sanitation Section)"
    assert data["closes_at"] == "2026-12-02T17:15+09:00" and data["today"] == "08:30-17:15"
    clock.now = WEDNESDAY_20
    data = client.get("/api/v1/handoff/status", params={"department": "環境衛生課"}).json()
    assert data["open"] is False and data["next_open"] == "2026-12-03T08:30+09:00"
    # a department with its own hours; none given: the default department
    clock.now = datetime(2026, 12, 2, 18, 30, tzinfo=JST)
    assert client.get("/api/v1/handoff/status", params={"department": "住民課"}).json()["open"]
    data = client.get("/api/v1/handoff/status").json()
    assert data["department"] == "総合窓口" and not data["open"]
    # 年末年始
    clock.now = datetime(2026, 12, 30, 10, 0, tzinfo=JST)
    data = client.get("/api/v1/handoff/status").json()
    assert data["closed_reason"] == "年末年始" and data["next_open"] == "2027-01-04T08:30+09:00"


def test_a_refusal_offers_the_handoff_and_an_answer_does_not(client, conf, clock):
    answered = client.post("/api/v1/ask", json={"question": "粗大ごみの出し方は？"}).json()
    assert not answered["refused"] and answered["handoff"] is None
    # the same town refusing every question (no confidence reaches 1.01)
    svc = build_services(conf.with_overrides(**{"answer.answer_threshold": 1.01}))
    svc.ingest([], documents=[faq_document()])
    with TestClient(create_app(services=svc, admin=False, clock=clock)) as c:
        clock.now = WEDNESDAY_20
        refused = c.post("/api/v1/ask", json={"question": "粗大ごみの出し方は？"}).json()
        assert refused["refused"]
        offer = refused["handoff"]
        assert offer["open"] is False and offer["next_open"] == "2026-12-03T08:30+09:00"
        assert offer["department"] == refused["department"]
        assert offer["phone"] and offer["retention_days"] == 30
        clock.now = WEDNESDAY_10  # read at the time of the answer, not cached with it
        again = c.post("/api/v1/ask", json={"question": "粗大ごみの出し方は？"}).json()
        assert again["handoff"]["open"] is True
        # the stream's final event carries it too
        r = c.post("/api/v1/ask/stream", json={"question": "粗大ごみの出し方は？"})
        assert '"handoff": {"open": true' in r.text


def test_message_masked_in_the_log_kept_only_with_consent(client, conf):
    plain = client.post(
        "/api/v1/handoff",
        json={"question": MESSAGE, "contact": "taro@example.jp", "department": "環境衛生課",
              "conversation_id": "c1"},
    )  # fmt: skip
    assert plain.status_code == 201, plain.text
    t1 = plain.json()
    assert t1["status"] == "open" and t1["contact_kept"] is False and len(t1["token"]) >= 24
    agreed = client.post(
        "/api/v1/handoff",
        json={"question": MESSAGE, "contact": "taro@example.jp", "consent": True,
              "conversation_id": "c2"},
    ).json()  # fmt: skip
    assert agreed["contact_kept"] is True
    # the conversation log: masked in both cases
    with sqlite3.connect(conf.data_dir / "conversations.sqlite") as db:
        rows = db.execute(
            "SELECT conversation_id, question, mode FROM turns ORDER BY conversation_id"
        ).fetchall()
    assert [(r[0], r[2]) for r in rows] == [("c1", "handoff"), ("c2", "handoff")]
    for _, question, _ in rows:
        assert "taro@example.jp" not in question and "090-1234-5678" not in question
        assert "[メール]" in question and "[電話]" in question
    # the inbox: as written only with consent
    inbox = {m["id"]: m for m in admin(client, "GET", "/api/v1/admin/handoff").json()}
    assert "taro@example.jp" not in inbox[t1["id"]]["question"]
    assert inbox[t1["id"]]["contact"] == "[メール]"
    assert inbox[agreed["id"]]["question"] == MESSAGE
    assert inbox[agreed["id"]]["contact"] == "taro@example.jp"


def test_ticket_reply_and_faq_draft(client, conf, clock):
    t = client.post("/api/v1/handoff", json={"question": "犬の登録の手続きを教えてください"}).json()
    poll = client.get(f"/api/v1/handoff/{t['id']}", params={"token": t["token"]})
    assert poll.status_code == 200
    assert poll.json()["status"] == "open" and poll.json()["reply"] is None
    # a wrong token and an unknown ticket look the same
    for tid, token in ((t["id"], "x" * 32), ("0" * 16, t["token"])):
        r = client.get(f"/api/v1/handoff/{tid}", params={"token": token})
        assert r.status_code == 404 and r.json()["error"] == "NotFound"
    # staff: listed as open, assigned, answered
    listed = admin(client, "GET", "/api/v1/admin/handoff", params={"status": "open"}).json()
    assert [m["id"] for m in listed] == [t["id"]] and listed[0]["department"] == "総合窓口"
    r = admin(client, "POST", f"/api/v1/admin/handoff/{t['id']}/assign",
              json={"department": "環境衛生課"})  # fmt: skip
    assert r.status_code == 200 and r.json()["department"] == "環境衛生課"
    # a draft before a reply is refused
    r = admin(client, "POST", f"/api/v1/admin/handoff/{t['id']}/faq-draft", json={})
    assert r.status_code == 400 and "返信" in r.json()["detail"]
    clock.now = datetime(2026, 12, 2, 11, 30, tzinfo=JST)
    reply = "環境衛生課の窓口で登録できます。手数料は3,000円です。"
    r = admin(client, "POST", f"/api/v1/admin/handoff/{t['id']}/reply", json={"reply": reply})
    assert r.status_code == 200 and r.json()["status"] == "answered"
    assert r.json()["answer_seconds"] == 5400
    poll = client.get(f"/api/v1/handoff/{t['id']}", params={"token": t["token"]}).json()
    assert poll["status"] == "answered" and poll["reply"] == reply
    assert poll["replied_at"] == "2026-12-02T11:30:00+09:00"
    assert admin(client, "GET", "/api/v1/admin/handoff", params={"status": "open"}).json() == []
    # the FAQ draft: question, the reply, the department, in demo/faq.csv's columns
    r = admin(client, "POST", f"/api/v1/admin/handoff/{t['id']}/faq-draft",
              json={"question": "犬の登録はどこでできますか。"})  # fmt: skip
    assert r.status_code == 201, r.text
    rows = list(csv.DictReader((conf.data_dir / "faq_drafts.csv").open(encoding="utf-8-sig")))
    assert rows == [
        {
            "ID": "1",
            "地方公共団体コード": "",
            "地方公共団体名": conf.widget.town,
            "質問": "犬の登録はどこでできますか。",
            "回答": reply,
            "所管部署": "環境衛生課",
            "電話番号": "01234-5-1103",
            "URL": "",
        }
    ]
    assert admin(client, "GET", "/api/v1/admin/handoff").json()[0]["faq_draft"] is True
    # the metrics
    text = client.get("/metrics").text
    assert 'madoguchi_handoffs{status="opened"} 1.0' in text
    assert 'madoguchi_handoffs{status="answered"} 1.0' in text
    assert 'madoguchi_handoff_answer_seconds{stat="median"} 5400.0' in text


def test_the_inbox_needs_the_admin_key(client):
    assert client.get("/api/v1/admin/handoff").status_code == 401
    r = client.post("/api/v1/admin/handoff/abc/reply", json={"reply": "x"})
    assert r.status_code == 401
    r = admin(client, "POST", "/api/v1/admin/handoff/abc/reply", json={"reply": "x"})
    assert r.status_code == 400 and "ありません" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"question": ""}, 400, "メッセージが空です"),
        ({"question": " \n\t "}, 400, "メッセージが空です"),
        ({"question": "あ" * 2001}, 400, "長すぎます"),
        ({"question": "質問", "contact": "a" * 300}, 400, "連絡先が長すぎます"),
        ({"contact": "x"}, 422, "question"),
    ],
)
def test_bad_messages_get_a_clear_4xx(client, body, status, detail):
    r = client.post("/api/v1/handoff", json=body)
    assert r.status_code == status, r.text
    assert detail in r.json()["detail"]


def test_a_5_mb_message_is_refused_before_it_is_read(client):
    r = client.post(
        "/api/v1/handoff",
        content=b'{"question": "' + b"a" * (5 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]


def test_handoff_off(conf, clock):
    off = conf.with_overrides(**{"handoff.enabled": False})
    with TestClient(create_app(services=make_services(off), admin=False, clock=clock)) as c:
        assert c.get("/api/v1/handoff/status").status_code == 400
        assert c.post("/api/v1/handoff", json={"question": "q"}).status_code == 400
        assert c.get("/api/v1/config").json()["handoff"] is False  # the widget hides it


def test_each_town_has_its_own_inbox_and_hours(settings, clock):
    base = settings.with_overrides(**{"server.rate_limit_per_minute": 0, "server.daily_cap": 0})
    reg = TownRegistry(base.data_dir)
    keys = {}
    for tid, hours in (("kawabe", None), ("yamanoue", {"weekdays": "09:00-09:30"})):
        town, keys[tid] = add_town(reg, Town(id=tid, name=tid, office_hours=hours))
        build_services(town_settings(base, town)).close()
    with TestClient(create_app(settings=base, admin=False, clock=clock)) as c:
        assert c.get("/t/kawabe/api/v1/handoff/status").json()["open"] is True
        assert c.get("/t/yamanoue/api/v1/handoff/status").json()["open"] is False
        t = c.post("/t/kawabe/api/v1/handoff", json={"question": "川辺町への質問"}).json()
        assert (base.data_dir / "towns" / "kawabe" / "handoff.sqlite").exists()
        assert not (base.data_dir / "towns" / "yamanoue" / "handoff.sqlite").exists()
        kawabe = {"x-api-key": keys["kawabe"]}
        listed = c.get("/t/kawabe/api/v1/admin/handoff", headers=kawabe).json()
        assert [m["id"] for m in listed] == [t["id"]]
        # another town's key and another town's ticket
        r = c.get("/t/yamanoue/api/v1/admin/handoff", headers=kawabe)
        assert r.status_code == 401
        r = c.get(f"/t/yamanoue/api/v1/handoff/{t['id']}", params={"token": t["token"]})
        assert r.status_code == 404
        r = c.get("/t/yamanoue/api/v1/admin/handoff", headers={"x-api-key": keys["yamanoue"]})
        assert r.json() == []


def test_messages_per_day_per_client(conf, clock):
    capped = conf.with_overrides(**{"handoff.messages_per_day": 2})
    with TestClient(create_app(services=make_services(capped), admin=False, clock=clock)) as c:
        for _ in range(2):
            assert c.post("/api/v1/handoff", json={"question": "質問です"}).status_code == 201
        r = c.post("/api/v1/handoff", json={"question": "質問です"})
        assert r.status_code == 429 and r.headers["retry-after"]


def test_office_hours_in_town_toml_round_trip():
    from madoguchi.ingest.towns import dump_town, parse_town

    town = Town(
        id="minami",
        name="南町",
        office_hours={"sat": "09:00-12:00", "departments": {"住民課": {"thu": "08:30-19:00"}}},
        handoff={"retention_days": 14},
    )
    again = parse_town(dump_town(town))
    assert again.office_hours == town.office_hours and again.handoff == town.handoff
    with pytest.raises(InputError, match="ends before it starts"):
        parse_town('id = "minami"\nname = "南町"\n[office_hours]\nweekdays = "17:00-08:30"\n')
