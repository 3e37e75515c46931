"""The LINE webhook end to end, against a fake LINE platform on 127.0.0.1 (tests/fakeline.py):
signed deliveries answered in the background by reply or push, redeliveries answered
once, retries that never duplicate, feedback, context, other kinds of messages, towns."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from fakeline import SECRET, TOKEN, FakeLine
from fastapi.testclient import TestClient

from madoguchi.ingest.services import build_services
from madoguchi.ingest.towns import (
    Town,
    TownLine,
    TownRegistry,
    add_town,
    export_town,
    town_settings,
)
from madoguchi.kit.convlog import ConversationLog
from madoguchi.ui.api import create_app

REPO = Path(__file__).resolve().parents[2]
WEBHOOK = "/channels/line/webhook"
USER = "U" + "a" * 32
SODAI = "粗大ごみはどのように出せばよいですか"
SODAI_URL = "https://www.town.midorikawa.example.jp/kurashi/gomi/sodai.html"


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    from madoguchi.kit.config import Settings

    base = Settings(
        data_dir=tmp_path_factory.mktemp("index"),
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
        answer={"answer_threshold": 0.0},  # the fake embedder: no refusal on confidence
    )
    s = build_services(base)
    s.ingest([str(REPO / "demo" / "faq.csv")])
    yield s
    s.close()


@pytest.fixture
def platform():
    p = FakeLine().start()
    yield p
    p.stop()


def line_conf(settings, platform, **more):
    return settings.with_overrides(
        **{
            "line.channel_secret": SECRET,
            "line.channel_access_token": TOKEN,
            "line.api_base": platform.url,
            "line.retry_backoff": 0.01,
            "line.user_hash_key": "a-key-for-the-user-id-digests-0123",
            "server.answer_cache_size": 0,
            **more,
        }
    )


def app_for(settings, platform, svc, **more):
    return create_app(settings=line_conf(settings, platform, **more), services=svc, admin=False)


def post(client, platform, *events, path=WEBHOOK):
    body = platform.body(*events)
    return client.post(path, content=body, headers=platform.headers(body))


def drain(client):
    client.portal.call(client.app.state.line.drain)


def texts(messages):
    return [m["text"] for m in messages]


def quick(messages):
    return (messages[-1].get("quickReply") or {}).get("items", [])


def log_of(client) -> ConversationLog:
    return client.app.state.log


def test_a_signed_message_is_answered_by_reply_with_sources_and_feedback_buttons(
    settings, platform, svc
):
    with TestClient(app_for(settings, platform, svc)) as c:
        r = post(c, platform, platform.text(USER, SODAI))
        assert r.status_code == 200 and r.json() == {}
        drain(c)
        metrics = c.get("/metrics").text
    [(kind, messages)] = platform.to(USER)
    assert kind == "reply" and platform.violations == []
    assert "500円" in messages[0]["text"]
    assert any(SODAI_URL in t for t in texts(messages))
    actions = [i["action"] for i in quick(messages)]
    assert [a["type"] for a in actions[:2]] == ["postback", "postback"]
    assert actions[0]["label"].startswith("👍") and actions[1]["label"].startswith("👎")
    [turn] = log_of_settings(settings).turns()
    assert turn.question == SODAI and turn.conversation_id.startswith("line-")
    assert USER not in json.dumps(turn.to_json())  # the user id is never stored
    assert 'madoguchi_line_events_total{type="message"} 1.0' in metrics
    assert "madoguchi_line_replies_total 1.0" in metrics


def log_of_settings(settings) -> ConversationLog:
    return ConversationLog.in_data_dir(settings.data_dir)


@pytest.mark.parametrize("signature", [None, "", "bm90IHRoZSBzaWduYXR1cmU=", "wrong"])
def test_a_bad_or_missing_signature_is_401_and_nothing_is_processed(
    settings, platform, svc, signature
):
    body = platform.body(platform.text(USER, SODAI))
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    with TestClient(app_for(settings, platform, svc)) as c:
        r = c.post(WEBHOOK, content=body, headers=headers)
        # a signature of another body does not do either
        other = platform.body(platform.text(USER, "別の質問"))
        r2 = c.post(WEBHOOK, content=body, headers={"X-Line-Signature": platform.sign(other)})
        drain(c)
        metrics = c.get("/metrics").text
    assert r.status_code == 401 and r.json()["error"] == "InvalidSignature"
    assert r2.status_code == 401
    assert platform.requests == []
    assert log_of_settings(settings).count() == 0
    assert "madoguchi_line_rejected_total 2.0" in metrics
    assert 'madoguchi_line_events_total{type="message"}' not in metrics


def test_a_redelivered_event_is_answered_once_even_after_a_restart(settings, platform, svc):
    ev = platform.text(USER, SODAI)
    again = {**ev, "deliveryContext": {"isRedelivery": True}}
    with TestClient(app_for(settings, platform, svc)) as c:
        assert post(c, platform, ev, ev).status_code == 200  # the same event twice in one body
        assert post(c, platform, again).status_code == 200
        drain(c)
        assert "madoguchi_line_duplicates_total 2.0" in c.get("/metrics").text
    with TestClient(app_for(settings, platform, svc)) as c:  # the ids outlive the process
        assert post(c, platform, again).status_code == 200
        drain(c)
    assert len(platform.to(USER)) == 1
    assert log_of_settings(settings).count() == 1


def test_a_redelivery_of_an_event_never_taken_is_answered_by_push(settings, platform, svc):
    """A redelivery the service never saw (it was down): its reply token dates from the
    first delivery, so the answer is pushed."""
    old = platform.text(USER, SODAI, redelivery=True, timestamp=time.time() - 600)
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, old)
        drain(c)
    [(kind, messages)] = platform.to(USER)
    assert kind == "push" and "500円" in messages[0]["text"]
    assert platform.calls("/v2/bot/message/reply") == []


def test_a_slow_answer_is_acknowledged_at_once_then_pushed(settings, platform, svc, monkeypatch):
    ask = svc.ask
    release = threading.Event()

    def slow(*args, **kwargs):
        assert release.wait(30), "the webhook never returned"
        return ask(*args, **kwargs)

    monkeypatch.setattr(svc, "ask", slow)
    with TestClient(app_for(settings, platform, svc, **{"line.reply_within_seconds": 0.5})) as c:
        # the answer cannot start before the webhook has returned: acknowledged at once
        r = post(c, platform, platform.text(USER, SODAI))
        assert r.status_code == 200 and platform.to(USER) == []
        time.sleep(0.6)  # the reply token is now older than the channel's reply window
        release.set()
        assert platform.wait(lambda: len(platform.deliveries) == 1)
        drain(c)
        metrics = c.get("/metrics").text
    [(kind, messages)] = platform.to(USER)
    assert kind == "push" and "500円" in messages[0]["text"]
    assert platform.calls("/v2/bot/message/reply") == []  # the stale token was not tried
    assert "madoguchi_line_pushes_total 1.0" in metrics


def test_a_reply_token_the_platform_calls_invalid_falls_back_to_push(settings, platform, svc):
    platform.token_ttl = -1.0  # every token has expired by the time it is used
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
    assert [k for k, _ in platform.to(USER)] == ["push"]
    assert len(platform.calls("/v2/bot/message/reply")) == 1


def test_without_push_fallback_a_late_answer_is_dropped_and_counted(settings, platform, svc):
    platform.token_ttl = -1.0
    conf = {"line.push_fallback": False}
    with TestClient(app_for(settings, platform, svc, **conf)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
        metrics = c.get("/metrics").text
    assert platform.deliveries == [] and platform.calls("/v2/bot/message/push") == []
    assert 'madoguchi_line_failures_total{stage="expired"} 1.0' in metrics


def test_a_quick_reply_follow_up_is_answered_in_context(settings, platform, svc):
    first = "住民票の写しはどこで取れますか"
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, first))
        drain(c)
        post(c, platform, platform.text(USER, "必要なものは？"))  # names no topic of its own
        drain(c)
    turns = sorted(log_of_settings(settings).turns(), key=lambda t: t.ts)
    assert [t.question for t in turns] == [first, "必要なものは？"]
    assert turns[0].conversation_id == turns[1].conversation_id
    history = svc.conversations.history(turns[0].conversation_id)
    assert history[-1].query.startswith(first)  # read with the first question's topic
    assert turns[1].citations and turns[1].citations[0] == turns[0].citations[0]
    # another user asking the same follow-up has no such context
    other = "U" + "b" * 32
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(other, "必要なものは？"))
        drain(c)
    cid = [
        t
        for t in log_of_settings(settings).turns()
        if t.conversation_id != turns[0].conversation_id
    ]
    assert svc.conversations.history(cid[0].conversation_id)[-1].query == "必要なものは？"


def test_a_thumbs_down_postback_lands_in_the_log_as_feedback(settings, platform, svc):
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
        [(_, messages)] = platform.to(USER)
        down = next(i["action"] for i in quick(messages) if i["action"]["label"].startswith("👎"))
        # another user sending the same data changes nothing
        stranger = "U" + "c" * 32
        post(c, platform, platform.event(stranger, "postback", postback={"data": down["data"]}))
        drain(c)
        [turn] = log_of(c).turns()
        assert turn.feedback is None and platform.to(stranger) == []
        post(c, platform, platform.event(USER, "postback", postback={"data": down["data"]}))
        drain(c)
        assert log_of(c).get(turn.id).feedback == 0
        metrics = c.get("/metrics").text
    thanks = platform.to(USER)[-1][1][0]["text"]
    assert "ありがとうございます" in thanks
    assert 'madoguchi_feedback_total{helpful="no"} 1.0' in metrics


def test_5xx_then_429_from_the_platform_is_retried_without_a_duplicate_push(
    settings, platform, svc
):
    platform.token_ttl = -1.0  # the answer goes by push
    platform.script["/v2/bot/message/push"] = [
        {"status": 500, "accept": True},  # delivered, then failed: a retry must not repeat it
        {"status": 429, "headers": {"Retry-After": "0"}},
    ]
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
        metrics = c.get("/metrics").text
    pushes = platform.calls("/v2/bot/message/push")
    assert len(pushes) == 3
    keys = {p["headers"].get("X-Line-Retry-Key") for p in pushes}
    assert len(keys) == 1 and None not in keys
    assert len(platform.to(USER)) == 1  # the 409 to the last try: accepted once
    assert 'madoguchi_line_retries_total{call="push"} 2.0' in metrics
    assert "madoguchi_line_pushes_total 1.0" in metrics


def test_a_reply_retried_after_a_5xx_is_not_pushed_again(settings, platform, svc):
    platform.script["/v2/bot/message/reply"] = [
        {"status": 500, "accept": True},  # the reply arrived, the platform said 500
    ]
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
    assert len(platform.calls("/v2/bot/message/reply")) == 2  # the retry: token already used
    assert platform.calls("/v2/bot/message/push") == []
    assert len(platform.to(USER)) == 1


def test_a_reply_refused_with_429_then_500_is_retried_and_arrives_once(settings, platform, svc):
    platform.script["/v2/bot/message/reply"] = [
        {"status": 429, "headers": {"Retry-After": "0"}},
        {"status": 503},
    ]
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
    assert len(platform.calls("/v2/bot/message/reply")) == 3
    assert [k for k, _ in platform.to(USER)] == ["reply"]


@pytest.mark.parametrize(
    "message",
    [
        {"type": "sticker", "packageId": "446", "stickerId": "1988"},
        {"type": "image", "contentProvider": {"type": "line"}},
        {"type": "location", "title": "役場", "latitude": 43.0, "longitude": 141.0},
        {"type": "audio", "duration": 1200, "contentProvider": {"type": "line"}},
    ],
)
def test_other_kinds_of_message_get_the_helpful_text_in_japanese_and_the_users_language(
    settings, platform, svc, message
):
    platform.profiles[USER] = "en"
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.event(USER, message={"id": "1", **message}))
        drain(c)
    [(kind, messages)] = platform.to(USER)
    text = messages[0]["text"]
    assert kind == "reply" and "文字で送ってください" in text and "Please type" in text
    assert quick(messages) and platform.violations == []
    assert log_of_settings(settings).count() == 0


def test_follow_is_greeted_with_suggestions_and_unfollow_is_quiet(settings, platform, svc):
    platform.profiles[USER] = "pt"
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.event(USER, "follow"))
        drain(c)
        post(c, platform, platform.event(USER, "unfollow"))
        drain(c)
        post(c, platform, platform.event(USER, "follow"))  # back: the language asked anew
        drain(c)
        metrics = c.get("/metrics").text
    greetings = platform.to(USER)
    assert len(greetings) == 2
    messages = greetings[0][1]
    text = messages[0]["text"]
    assert "友だち追加ありがとうございます" in text and "Obrigado por nos adicionar" in text
    labels = [i["action"]["label"] for i in quick(messages)]
    assert labels and all(len(x) <= 20 for x in labels) and platform.violations == []
    assert len(platform.calls(f"/v2/bot/profile/{USER}")) == 2
    assert "madoguchi_line_failures_total{" not in metrics
    assert 'madoguchi_line_events_total{type="unfollow"} 1.0' in metrics


def test_the_message_language_wins_then_the_profile_language(settings, platform, svc):
    platform.profiles[USER] = "ko"
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, "How do I throw away a large sofa?"))
        drain(c)
        post(c, platform, platform.text(USER, "OK"))  # says too little: the app's language
        drain(c)
    langs = [t.lang for t in sorted(log_of_settings(settings).turns(), key=lambda t: t.ts)]
    assert langs == ["en", "ko"]
    assert len(platform.calls(f"/v2/bot/profile/{USER}")) == 1  # asked once, then cached


def test_bodies_that_are_not_deliveries(settings, platform, svc):
    with TestClient(app_for(settings, platform, svc, **{"line.max_body_bytes": 4096})) as c:
        big = platform.body(platform.text(USER, "あ" * 3000))
        r = c.post(WEBHOOK, content=big, headers=platform.headers(big))
        assert r.status_code == 413
        for bad in (b"{not json", b"[]", b'{"events": [{"no": "type"}]}', b"\xff\xfe"):
            r = c.post(WEBHOOK, content=bad, headers=platform.headers(bad))
            assert r.status_code == 400, bad
        unknown = platform.event(USER, "videoPlayComplete", videoPlayComplete={"trackingId": "t"})
        assert post(c, platform, unknown).status_code == 200
        assert post(c, platform).status_code == 200  # the console's "Verify": no events
        drain(c)
        metrics = c.get("/metrics").text
    assert platform.requests == [] and log_of_settings(settings).count() == 0
    assert 'madoguchi_line_events_total{type="other"} 1.0' in metrics


def test_the_default_body_limit_admits_a_long_message(settings, platform, svc):
    """The service's 16 kB limit is not the webhook's: two long messages in one delivery fit."""
    with TestClient(app_for(settings, platform, svc)) as c:
        events = [platform.text(USER, "粗大ごみ" * 750) for _ in range(2)]
        body = platform.body(*events)
        assert len(body) > settings.server.max_body_bytes
        assert c.post(WEBHOOK, content=body, headers=platform.headers(body)).status_code == 200
        drain(c)
    got = platform.to(USER)
    assert len(got) == 2 and all("2,000" in m[0]["text"] for _, m in got)  # over the limit: said


def test_without_a_channel_the_webhook_is_404(settings, svc):
    with TestClient(create_app(settings=settings, services=svc, admin=False)) as c:
        r = c.post(WEBHOOK, content=b"{}", headers={"X-Line-Signature": "x"})
    assert r.status_code == 404 and "MADOGUCHI_LINE__CHANNEL_SECRET" in r.json()["detail"]


def test_each_town_has_its_own_channel(settings, platform, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    base = line_conf(settings, platform)
    reg = TownRegistry(base.data_dir)
    kawabe_secret = "kawabe-channel-secret-abcdef0123"
    town, _ = add_town(
        reg,
        Town(
            id="kawabe",
            name="川辺町",
            line=TownLine(channel_secret=kawabe_secret, channel_access_token=TOKEN),
        ),
    )
    s = build_services(town_settings(base, town))
    s.ingest(["demo/towns/kawabe/faq.csv"])
    s.close()
    add_town(reg, Town(id="yamanoue", name="山の上村"))
    with TestClient(create_app(settings=base, admin=False)) as c:
        # the service's secret does not open the town's channel
        assert (
            post(c, platform, platform.text(USER, "x"), path="/t/kawabe" + WEBHOOK).status_code
            == 401
        )
        platform.secret = kawabe_secret
        ev = platform.text(USER, "粗大ごみの処理券はいくら？")
        assert post(c, platform, ev, path="/t/kawabe" + WEBHOOK).status_code == 200
        drain(c)
        # a town without a channel of its own has none (not the service's)
        assert (
            post(c, platform, platform.text(USER, "x"), path="/t/yamanoue" + WEBHOOK).status_code
            == 404
        )
    [(_, messages)] = platform.to(USER)
    assert "300円" in messages[0]["text"]
    kawabe_log = ConversationLog.in_data_dir(town_settings(base, town).data_dir)
    assert kawabe_log.count() == 1 and log_of_settings(base).count() == 0
    # the channel's secrets stay with the town: an export does not carry them
    export_town(base, reg, "kawabe", tmp_path / "export")
    exported = (tmp_path / "export" / "town.toml").read_text(encoding="utf-8")
    assert kawabe_secret not in exported and TOKEN not in exported


def test_a_user_over_the_limit_is_asked_to_wait(settings, platform, svc):
    with TestClient(app_for(settings, platform, svc, **{"line.rate_limit_per_minute": 1})) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
        post(c, platform, platform.text(USER, "燃やすごみの収集日はいつですか"))
        drain(c)
    first, second = (m for _, m in platform.to(USER))
    assert "500円" in first[0]["text"] and "時間をおいて" in second[0]["text"]
    assert log_of_settings(settings).count() == 1


def test_a_reply_failing_after_every_retry_is_not_pushed(settings, platform, svc):
    platform.script["/v2/bot/message/reply"] = [{"status": 500}] * 4
    with TestClient(app_for(settings, platform, svc)) as c:
        post(c, platform, platform.text(USER, SODAI))
        drain(c)
        metrics = c.get("/metrics").text
    assert len(platform.calls("/v2/bot/message/reply")) == 4  # line.max_attempts
    assert platform.calls("/v2/bot/message/push") == []  # it may have arrived: not twice
    assert 'madoguchi_line_failures_total{stage="reply"} 1.0' in metrics


def test_a_full_queue_answers_503_and_the_redelivery_is_answered(
    settings, platform, svc, monkeypatch
):
    ask = svc.ask

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return ask(*args, **kwargs)

    monkeypatch.setattr(svc, "ask", slow)
    users = ["U" + ch * 32 for ch in "def"]
    conf = {"line.queue_size": 1, "line.workers": 1}
    with TestClient(app_for(settings, platform, svc, **conf)) as c:
        events = [platform.text(u, SODAI) for u in users]
        statuses = [post(c, platform, ev).status_code for ev in events]
        assert statuses[-1] == 503, statuses  # one answering, one waiting, no room
        drain(c)
        for ev in events:
            again = {**ev, "deliveryContext": {"isRedelivery": True}}
            # the platform redelivers what got 503; a redelivery of a taken event is dropped
            assert post(c, platform, again).status_code == 200
        drain(c)
    assert [len(platform.to(u)) for u in users] == [1, 1, 1]


def test_a_clarifying_question_offers_its_topics_as_buttons_that_ask_them(settings, platform):
    """聞き返し: two topics nearly tied (rank fusion puts them side by side); each is a
    quick-reply button, and tapping one asks it in the same conversation."""
    from madoguchi.kit.types import SourceDocument

    conf = settings.with_overrides(**{"answer.answer_threshold": 0.0, "retrieval.fusion": "rrf"})
    dogs = build_services(conf)
    entries = [
        ("犬の登録", "犬を飼い始めたら30日以内に環境衛生課で登録してください。"),
        ("犬の注射", "毎年4月に町内の公民館で狂犬病の集合注射を行います。"),
    ]
    dogs.ingest(
        [],
        documents=[
            SourceDocument(
                f"faq.csv#{i}",
                f"faq.csv#{i}",
                q,
                f"{q}\n{a}",
                "text/csv",
                {"kind": "faq", "question": q, "answer": a},
            )
            for i, (q, a) in enumerate(entries, 1)
        ],
    )
    with TestClient(app_for(conf, platform, dogs)) as c:
        post(c, platform, platform.text(USER, "犬のこと"))
        drain(c)
        [(_, messages)] = platform.to(USER)
        assert messages[-1]["text"].startswith("どちらについて") and platform.violations == []
        asks = [i["action"] for i in quick(messages) if i["action"]["type"] == "message"]
        assert [a["text"] for a in asks] == ["犬の登録", "犬の注射"]
        post(c, platform, platform.text(USER, asks[1]["text"]))  # the resident taps one
        drain(c)
    second = platform.to(USER)[1][1]
    assert "集合注射" in second[0]["text"]
    turns = sorted(log_of_settings(conf).turns(), key=lambda t: t.ts)
    assert len({t.conversation_id for t in turns}) == 1
    assert turns[1].citations[0]["source"] == "faq.csv#2"
    dogs.close()
