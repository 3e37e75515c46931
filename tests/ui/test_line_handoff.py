"""Hand-off from LINE, end to end against the fake LINE platform on 127.0.0.1
(tests/fakeline.py) with the clock injected: a request for a person answered with the
office's phone or its next opening, the 「職員にメッセージを送る」 button (also under a
refusal), the consent notice, a ticket in the town's inbox holding the LINE user id
(and only there), staff's reply pushed back once, retention."""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakeline import SECRET, TOKEN, FakeLine
from fastapi.testclient import TestClient

from madoguchi.connectors.line.messages import parse_handoff
from madoguchi.ingest.services import build_services
from madoguchi.kit.officehours import JST
from madoguchi.ui.admin_inbox import InboxActions
from madoguchi.ui.api import create_app
from madoguchi.ui.api.handoff import deliver_reply, inbox_for

REPO = Path(__file__).resolve().parents[2]
WEBHOOK = "/channels/line/webhook"
USER = "U" + "b" * 32
OTHER = "U" + "c" * 32
KEY = "admin-key-for-tests"
# a question the refusing town cannot answer, with a phone number in it
QUESTION = "粗大ごみの出し方を教えてください。連絡は090-1234-5678です"
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=JST)
WEDNESDAY_20 = datetime(2026, 12, 2, 20, 0, tzinfo=JST)
PUSH = "/v2/bot/message/push"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _services(tmp_path_factory, threshold: float):
    from madoguchi.kit.config import Settings

    base = Settings(
        data_dir=tmp_path_factory.mktemp("index"),
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
        answer={"answer_threshold": threshold},
    )
    s = build_services(base)
    s.ingest([str(REPO / "demo" / "faq.csv")])
    return s


@pytest.fixture(scope="module")
def refusing(tmp_path_factory):
    """The demo town refusing every question (no confidence reaches 1.01)."""
    s = _services(tmp_path_factory, 1.01)
    yield s
    s.close()


@pytest.fixture(scope="module")
def answering(tmp_path_factory):
    s = _services(tmp_path_factory, 0.0)
    yield s
    s.close()


@pytest.fixture
def platform():
    p = FakeLine().start()
    yield p
    p.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY_10)


@pytest.fixture
def conf(settings, platform):
    conf = settings.with_overrides(
        **{
            "line.channel_secret": SECRET,
            "line.channel_access_token": TOKEN,
            "line.api_base": platform.url,
            "line.retry_backoff": 0.01,
            # a key per test: its own conversations in the module's services
            "line.user_hash_key": f"user-id-digests-{settings.data_dir.parent.name}",
            "server.answer_cache_size": 0,
            "server.admin_key": KEY,
        }
    )
    conf.data_dir.mkdir(parents=True, exist_ok=True)
    (conf.data_dir / "departments.csv").write_bytes(
        (REPO / "demo" / "departments.csv").read_bytes()
    )
    return conf


def client_for(conf, svc, clock):
    return TestClient(create_app(settings=conf, services=svc, admin=False, clock=clock))


def send(c, platform, *events):
    body = platform.body(*events)
    r = c.post(WEBHOOK, content=body, headers=platform.headers(body))
    assert r.status_code == 200, r.text
    c.portal.call(c.app.state.line.drain)


def say(c, platform, text, user=USER):
    send(c, platform, platform.text(user, text))
    return platform.to(user)[-1][1]


def tap(c, platform, data, user=USER):
    send(c, platform, platform.event(user, "postback", postback={"data": data}))
    return platform.to(user)[-1][1]


def quick(messages):
    return [i["action"] for i in (messages[-1].get("quickReply") or {}).get("items", [])]


def handoff_actions(messages):
    return [a for a in quick(messages) if a["type"] == "postback" and "handoff=" in a["data"]]


def inbox_rows(conf):
    path = conf.data_dir / "handoff.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM messages")]
    finally:
        db.close()


def log_rows(conf):
    db = sqlite3.connect(conf.data_dir / "conversations.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM turns")]
    finally:
        db.close()


def admin(c, method, path, **kw):
    return c.request(method, path, headers={"x-api-key": KEY}, **kw)


def consented_ticket(c, platform, user=USER) -> str:
    """A refused question, the button, the consent: the ticket's id."""
    [offer] = handoff_actions(say(c, platform, QUESTION, user))
    [agree, _] = handoff_actions(tap(c, platform, offer["data"], user))
    assert agree["label"] == "同意して送る"
    sent = tap(c, platform, agree["data"], user)
    [row] = [r for r in inbox_rows(c.app.state.settings) if r["reply_to"] == user]
    assert row["id"] in sent[0]["text"]
    return str(row["id"])


def test_a_request_for_staff_inside_hours_gets_the_phone_and_the_button(
    conf, platform, answering, clock
):
    with client_for(conf, answering, clock) as c:
        first = say(c, platform, "職員")  # no conversation yet: the default department
        say(c, platform, "粗大ごみはどのように出せばよいですか")  # 環境衛生課's answer
        then = say(c, platform, "人と話したい")
        english = say(c, platform, "I want to talk to a human", OTHER)
        metrics = c.get("/metrics").text
    assert "総合窓口" in first[0]["text"] and "01234-5-1101" in first[0]["text"]
    assert "受付時間内" in first[0]["text"] and "17:15" in first[0]["text"]
    text = then[0]["text"]
    assert "環境衛生課は今、受付時間内です（17:15まで）" in text and "電話 01234-5-1103" in text
    [button] = handoff_actions(then)
    assert (
        button["label"] == "職員にメッセージを送る" and parse_handoff(button["data"])[0] == "offer"
    )
    assert "open now (until 17:15)" in english[0]["text"]
    assert "Message town staff" in [a["label"] for a in quick(english)]
    assert platform.violations == []
    # the requests were answered without the kit: one question in the log, one answer
    assert [r["question"] for r in log_rows(conf)] == ["粗大ごみはどのように出せばよいですか"]
    assert 'madoguchi_answers_total{mode="abstain"}' not in metrics


def test_a_request_for_staff_outside_hours_says_when_the_office_opens(
    conf, platform, answering, clock
):
    clock.now = WEDNESDAY_20
    with client_for(conf, answering, clock) as c:
        closed = say(c, platform, "窓口の人をお願いします")
        clock.now = datetime(2026, 12, 30, 10, 0, tzinfo=JST)  # 年末年始
        new_year = say(c, platform, "担当者")
    text = closed[0]["text"]
    assert "ただいま受付時間外です。総合窓口の次の受付開始は12月3日(木) 08:30です。" in text
    assert "01234" not in text  # no number to call while closed
    assert handoff_actions(closed)[0]["label"] == "職員にメッセージを送る"
    assert "1月4日(月) 08:30" in new_year[0]["text"]


def test_a_question_about_staff_is_still_a_question(conf, platform, answering, clock):
    with client_for(conf, answering, clock) as c:
        say(c, platform, "職員採用試験はいつですか")
    assert [r["question"] for r in log_rows(conf)] == ["職員採用試験はいつですか"]


def test_a_refusal_offers_the_button_and_an_answer_does_not(
    conf, platform, refusing, answering, clock
):
    with client_for(conf, refusing, clock) as c:
        refused = say(c, platform, QUESTION)
    with client_for(conf, answering, clock) as c:
        answered = say(c, platform, "粗大ごみはどのように出せばよいですか", OTHER)
    [button] = handoff_actions(refused)
    assert button["label"] == "職員にメッセージを送る" and button["data"] == "handoff=offer"
    assert handoff_actions(answered) == []
    assert platform.violations == []


def test_tapping_the_button_shows_what_is_kept_and_for_how_long(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        say(c, platform, QUESTION)
        notice = tap(c, platform, "handoff=offer")
    text = notice[0]["text"]
    assert QUESTION in text and "LINEのユーザーID" in text and "30日" in text
    agree, cancel = handoff_actions(notice)
    assert agree["label"] == "同意して送る" and parse_handoff(agree["data"])[0] == "send"
    assert cancel["label"] == "やめる" and cancel["data"] == "handoff=cancel"
    assert inbox_rows(conf) == []  # nothing kept before consent


def test_consent_opens_a_ticket_holding_the_user_id_only_in_the_inbox(
    conf, platform, refusing, clock
):
    with client_for(conf, refusing, clock) as c:
        ticket = consented_ticket(c, platform)
        [agree, _] = handoff_actions(tap(c, platform, "handoff=offer"))
        again = tap(c, platform, agree["data"])  # a second tap: the same ticket
        metrics = c.get("/metrics").text
        listed = admin(c, "GET", "/api/v1/admin/handoff").json()
    [row] = inbox_rows(conf)
    assert row["id"] == ticket and ticket in again[0]["text"]
    assert row["question"] == QUESTION  # consented: kept as written
    assert row["reply_channel"] == "line" and row["reply_to"] == USER
    assert row["consent"] == 1 and row["status"] == "open"
    assert row["conversation_id"].startswith("line-")
    assert row["department"] == "環境衛生課"
    # the conversation log: the question masked, the hand-off turn, never the user id
    turns = log_rows(conf)
    assert [t["mode"] for t in turns] == ["abstain", "handoff"]
    assert all("090-1234-5678" not in json.dumps(t, ensure_ascii=False) for t in turns)
    assert all(USER not in json.dumps(t, ensure_ascii=False) for t in turns)
    assert USER.encode() not in (conf.data_dir / "conversations.sqlite").read_bytes()
    # staff see that the message came by LINE, not the user id
    assert listed[0]["reply_channel"] == "line" and USER not in json.dumps(listed)
    assert "madoguchi_line_handoffs_opened_total 1.0" in metrics


def test_cancel_keeps_nothing(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        say(c, platform, QUESTION)
        tap(c, platform, "handoff=offer")
        cancelled = tap(c, platform, "handoff=cancel")
    assert "送信をやめました" in cancelled[0]["text"]
    assert inbox_rows(conf) == []
    assert [t["mode"] for t in log_rows(conf)] == ["abstain"]


def test_a_send_for_a_question_no_longer_the_last_shows_the_notice_again(
    conf, platform, refusing, clock
):
    with client_for(conf, refusing, clock) as c:
        say(c, platform, QUESTION)
        [agree, _] = handoff_actions(tap(c, platform, "handoff=offer"))
        say(c, platform, "犬の登録はどこでできますか")
        shown = tap(c, platform, agree["data"])
    assert "犬の登録はどこでできますか" in shown[0]["text"] and inbox_rows(conf) == []


def test_the_button_without_a_question_asks_for_one(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        out = tap(c, platform, "handoff=offer")
    assert "ご質問を文字で送ってから" in out[0]["text"] and inbox_rows(conf) == []


def test_a_staff_reply_is_pushed_to_the_user(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        ticket = consented_ticket(c, platform)
        r = admin(
            c,
            "POST",
            f"/api/v1/admin/handoff/{ticket}/reply",
            json={"reply": "予約は電話でどうぞ。"},
        )
        metrics = c.get("/metrics").text
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["status"] == "answered" and data["delivery"] == "sent"
    kind, messages = platform.to(USER)[-1]
    assert kind == "push"
    assert messages[0]["text"] == f"職員からの返事（受付番号 {ticket}）\n\n予約は電話でどうぞ。"
    [call] = platform.calls(PUSH)
    assert call["headers"].get("X-Line-Retry-Key")
    assert "madoguchi_line_staff_replies_total 1.0" in metrics


@pytest.mark.parametrize("accept", [False, True], ids=["failed-before", "failed-after-acting"])
def test_a_push_failing_with_500_then_succeeding_arrives_once(
    conf, platform, refusing, clock, accept
):
    with client_for(conf, refusing, clock) as c:
        ticket = consented_ticket(c, platform)
        platform.script[PUSH] = [{"status": 500, "accept": accept}]
        r = admin(c, "POST", f"/api/v1/admin/handoff/{ticket}/reply", json={"reply": "回答です"})
        metrics = c.get("/metrics").text
    assert r.json()["delivery"] == "sent"
    pushes = [m for k, m in platform.to(USER) if k == "push"]
    assert len(pushes) == 1 and "回答です" in pushes[0][0]["text"]
    calls = platform.calls(PUSH)
    assert len(calls) == 2 and len({x["headers"]["X-Line-Retry-Key"] for x in calls}) == 1
    assert "madoguchi_line_staff_reply_failures_total 0.0" in metrics


def test_a_failed_push_is_shown_to_staff_and_can_be_sent_again(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        ticket = consented_ticket(c, platform)
        platform.script[PUSH] = [{"status": 500}] * 4  # every attempt (line.max_attempts)
        r = admin(c, "POST", f"/api/v1/admin/handoff/{ticket}/reply", json={"reply": "回答です"})
        failed = r.json()
        metrics = c.get("/metrics").text
        again = admin(c, "POST", f"/api/v1/admin/handoff/{ticket}/resend").json()
    assert failed["status"] == "answered" and failed["delivery"] == "failed"
    assert failed["delivery_note"].startswith("LINEへの送信に失敗しました")
    assert "madoguchi_line_staff_reply_failures_total 1.0" in metrics
    assert again["delivery"] == "sent"
    assert len([m for k, m in platform.to(USER) if k == "push"]) == 1
    keys = {x["headers"]["X-Line-Retry-Key"] for x in platform.calls(PUSH)}
    assert len(keys) == 1  # the same reply, the same key


def test_a_reply_typed_in_the_inbox_tab_is_pushed_the_same_way(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        ticket = consented_ticket(c, platform)
        tab = InboxActions(conf, clock, functools.partial(deliver_reply, c.app, conf, ""))
        done = tab.reply(ticket, "窓口でお受けします。")
        platform.script[PUSH] = [{"status": 400}]
        refused = tab.reply(ticket, "訂正: 電話でお受けします。")
        row = tab.rows("すべて")[0]
        resent = tab.resend(ticket)
    assert "LINE で住民に送りました" in done
    assert "LINEへの送信に失敗しました" in refused and "LINEへの送信に失敗しました" in row[6]
    assert "LINE で住民に送りました" in resent
    pushed = [m[0]["text"] for k, m in platform.to(USER) if k == "push"]
    assert pushed == [
        f"職員からの返事（受付番号 {ticket}）\n\n窓口でお受けします。",
        f"職員からの返事（受付番号 {ticket}）\n\n訂正: 電話でお受けします。",
    ]


def test_a_widget_ticket_is_not_pushed(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        made = c.post("/api/v1/handoff", json={"question": "粗大ごみの予約"}).json()
        r = admin(c, "POST", f"/api/v1/admin/handoff/{made['id']}/reply", json={"reply": "はい"})
        resend = admin(c, "POST", f"/api/v1/admin/handoff/{made['id']}/resend")
    assert r.json()["delivery"] is None and r.json()["reply_channel"] is None
    assert resend.status_code == 400 and "LINE に送る返信がありません" in resend.json()["detail"]
    assert platform.calls(PUSH) == []


def test_retention_deletes_the_stored_user_id(conf, platform, refusing, clock):
    with client_for(conf, refusing, clock) as c:
        consented_ticket(c, platform)
    path = conf.data_dir / "handoff.sqlite"
    assert inbox_rows(conf)[0]["reply_to"] == USER
    clock.now = WEDNESDAY_10 + timedelta(days=29)
    with client_for(conf, refusing, clock) as c:
        assert len(admin(c, "GET", "/api/v1/admin/handoff").json()) == 1
        clock.now = WEDNESDAY_10 + timedelta(days=31)
        # staff opening the inbox is enough: no new message needs to come in
        assert admin(c, "GET", "/api/v1/admin/handoff").json() == []
    assert inbox_rows(conf) == [] and inbox_for(conf, clock).purge() == 0
    stored = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes()
        if path.with_name(path.name + "-wal").exists()
        else b""
    )
    assert USER.encode() not in stored


def test_a_towns_line_ticket_goes_to_its_inbox_and_its_reply_to_its_channel(
    conf, platform, clock, monkeypatch
):
    from madoguchi.ingest.towns import Town, TownLine, TownRegistry, add_town, town_settings

    monkeypatch.chdir(REPO)
    reg = TownRegistry(conf.data_dir)
    secret, token = "kawabe-channel-secret-abcdef0123", "kawabe-access-token"
    town, key = add_town(
        reg,
        Town(
            id="kawabe",
            name="川辺町",
            line=TownLine(channel_secret=secret, channel_access_token=token),
        ),
    )
    s = build_services(town_settings(conf, town))
    s.ingest(["demo/towns/kawabe/faq.csv"])
    s.close()
    platform.secret, platform.access_token = secret, token
    path = "/t/kawabe" + WEBHOOK
    with TestClient(create_app(settings=conf, admin=False, clock=clock)) as c:

        def to_town(ev):
            body = platform.body(ev)
            assert c.post(path, content=body, headers=platform.headers(body)).status_code == 200
            c.portal.call(c.app.state.line.drain)
            return platform.to(USER)[-1][1]

        to_town(platform.text(USER, "粗大ごみの処理券はいくら？"))
        [button] = handoff_actions(to_town(platform.text(USER, "職員")))
        [agree, _] = handoff_actions(
            to_town(platform.event(USER, "postback", postback={"data": button["data"]}))
        )
        to_town(platform.event(USER, "postback", postback={"data": agree["data"]}))
        kawabe = town_settings(conf, town)
        [row] = inbox_rows(kawabe)
        assert row["reply_to"] == USER and row["question"] == "粗大ごみの処理券はいくら？"
        assert inbox_rows(conf) == []  # not the service's inbox
        r = c.post(
            f"/t/kawabe/api/v1/admin/handoff/{row['id']}/reply",
            json={"reply": "川辺町役場です。"},
            headers={"x-api-key": key},
        )
    assert r.status_code == 200 and r.json()["delivery"] == "sent"
    kind, messages = platform.to(USER)[-1]
    assert kind == "push" and messages[0]["text"].endswith("川辺町役場です。")
    assert platform.calls(PUSH)[-1]["headers"]["Authorization"] == f"Bearer {token}"
