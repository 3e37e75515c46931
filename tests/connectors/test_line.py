"""The LINE connector's parts: the signature, the webhook body, the messages within the
platform's limits, the seen-event store, and the client's retries against the fake
LINE platform (tests/fakeline.py) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json

import httpx
import pytest
from fakeline import SECRET, TOKEN, FakeLine, limits_broken

from madoguchi.connectors.line import messages as msg
from madoguchi.connectors.line.client import LineClient, retry_after
from madoguchi.connectors.line.seen import SeenEvents
from madoguchi.connectors.line.webhook import parse_body, signature, verify
from madoguchi.kit.errors import InputError


@pytest.fixture
def platform():
    p = FakeLine().start()
    yield p
    p.stop()


# ---------------------------------------------------------------------------- signature


def test_the_signature_is_base64_hmac_sha256_of_the_raw_body():
    body = b'{"events":[]}'
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert signature(SECRET, body) == expected
    assert verify(SECRET, body, expected)
    assert not verify(SECRET, body + b" ", expected)  # the raw bytes, not the JSON
    assert not verify("another-secret", body, expected)
    for bad in (None, "", "x", expected[:-2], "ｘ" * 44):
        assert not verify(SECRET, body, bad)
    assert not verify("", body, signature("", body))  # no secret: never valid


# ---------------------------------------------------------------------------- the body


def test_events_are_typed_and_unknown_kinds_kept_as_such():
    body = {
        "destination": "U0",
        "events": [
            {
                "type": "message",
                "webhookEventId": "01ABC",
                "deliveryContext": {"isRedelivery": True},
                "replyToken": "r1",
                "timestamp": 1700000000000,
                "source": {"type": "user", "userId": "U1"},
                "message": {"id": "1", "type": "text", "text": "こんにちは", "quoteToken": "q"},
            },
            {"type": "membershipRenewed", "future": {"field": 1}},
        ],
    }
    parsed = parse_body(json.dumps(body).encode())
    ev, unknown = parsed.events
    assert ev.redelivered and ev.webhook_event_id == "01ABC" and ev.reply_token == "r1"
    assert ev.message is not None and ev.message.text == "こんにちは"
    assert ev.source is not None and ev.source.push_to == "U1"
    assert unknown.type == "membershipRenewed" and unknown.message is None


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b'"events"', b'{"events": {}}', b'{"events": [1]}', b'{"events": [{}]}'],
)
def test_a_body_that_is_not_a_webhook_is_an_input_error(raw):
    with pytest.raises(InputError):
        parse_body(raw)


# ---------------------------------------------------------------------------- messages


def answer(**over):
    base = {
        "answer": "粗大ごみは事前申込制です。",
        "refused": False,
        "lang": "ja",
        "follow_up": None,
        "citations": [
            {"source": "faq.csv#1", "title": "粗大ごみ", "url": "https://town.example.jp/sodai"}
        ],
        "related": [],
        "department": "環境衛生課",
        "department_label": "環境衛生課",
        "phone": "01234-5-1103",
        "answer_id": "a" * 32,
    }
    return {**base, **over}


def test_an_answer_becomes_text_sources_and_feedback_buttons():
    out = msg.answer_messages(answer())
    assert limits_broken(out) == []
    assert "01234-5-1103" in out[0]["text"]  # whom to call, the text not giving the phone
    assert out[1]["text"] == "出典\n・粗大ごみ\nhttps://town.example.jp/sodai"
    items = out[-1]["quickReply"]["items"]
    helpful, unhelpful = (i["action"] for i in items)
    assert msg.parse_feedback(helpful["data"]) == ("a" * 32, True)
    assert msg.parse_feedback(unhelpful["data"]) == ("a" * 32, False)


def test_clarifying_choices_become_quick_replies_that_ask_them():
    follow = "どちらについてお知りになりたいですか？\n・粗大ごみの出し方\n・家電リサイクル法の対象になる品目と引き取りの方法"
    out = msg.answer_messages(answer(follow_up=follow))
    assert out[-1]["text"] == follow and limits_broken(out) == []
    actions = [i["action"] for i in out[-1]["quickReply"]["items"]]
    assert actions[0] == {
        "type": "message",
        "label": "粗大ごみの出し方",
        "text": "粗大ごみの出し方",
    }
    # a long topic: the label is cut to 20, the text sent stays whole
    assert msg.units(actions[1]["label"]) <= 20 and actions[1]["label"].endswith("…")
    assert actions[1]["text"] == "家電リサイクル法の対象になる品目と引き取りの方法"


def test_a_refusal_offers_related_pages_and_the_suggested_questions():
    related = [{"source": "p", "title": "ごみカレンダー", "url": "https://town.example.jp/cal"}]
    suggestions = [f"質問その{i}はどうすればよいのでしょうか教えてください" for i in range(20)]
    out = msg.answer_messages(
        answer(refused=True, citations=[], related=related), suggestions=suggestions
    )
    assert out[1]["text"].startswith("参考になりそうなページ")
    items = out[-1]["quickReply"]["items"]
    assert len(items) == 13 and limits_broken(out) == []  # at most 13 buttons


def test_texts_are_cut_to_the_platforms_limits_counting_utf16():
    long = "👍" * 3000  # 6,000 UTF-16 units
    m = msg.text_message(long)
    assert msg.units(m["text"]) <= 5000 and m["text"].endswith("…")
    out = msg.with_quick_replies([msg.text_message(str(i)) for i in range(9)], [])
    assert len(out) == 5
    assert msg.clip("あいう", 3) == "あいう" and msg.clip("あいうえ", 3) == "あい…"


def test_fixed_texts_are_japanese_then_the_users_language():
    text = msg.bilingual(msg.TEXT_ONLY, "vi")
    ja, vi = text.split("\n\n")
    assert "文字で送ってください" in ja and "Hãy gõ" in vi
    assert msg.bilingual(msg.TEXT_ONLY, "ja") == msg.TEXT_ONLY["ja"]
    assert msg.bilingual(msg.TEXT_ONLY, None) == msg.TEXT_ONLY["ja"]
    assert msg.bilingual(msg.TEXT_ONLY, "ja-easy") == msg.TEXT_ONLY["ja-easy"]
    for table in (msg.GREETING, msg.TEXT_ONLY, msg.THANKS, msg.SLOW_DOWN, msg.TOO_LONG):
        assert set(table) == set(msg.SOURCES)  # the widget's twelve languages
    for table in (msg.HELPFUL, msg.NOT_HELPFUL):
        assert all(msg.units(v) <= 20 for v in table.values())


@pytest.mark.parametrize("data", ["", "fb=2&id=x", "fb=1", "id=x", "fb=1&fb=0&id=x", "x=y"])
def test_other_postback_data_is_not_feedback(data):
    assert msg.parse_feedback(data) is None


# ---------------------------------------------------------------------------- seen events


def test_an_event_id_is_claimed_once_and_forgotten_after_its_age(tmp_path):
    seen = SeenEvents(tmp_path / "seen.sqlite", max_age=100)
    assert seen.claim("e1", now=1000) and not seen.claim("e1", now=1001)
    seen.close()
    again = SeenEvents(tmp_path / "seen.sqlite", max_age=100)  # kept on disk
    assert not again.claim("e1", now=1050)
    assert again.purge(now=1200) == 1 and again.claim("e1", now=1200)
    again.release("e1")
    assert again.claim("e1", now=1201)
    assert (tmp_path / "seen.sqlite").stat().st_mode & 0o077 == 0
    again.close()


# ---------------------------------------------------------------------------- the client


def run(coro):
    return asyncio.run(coro)


async def _push(client: LineClient, key: str | None = None):
    try:
        return await client.push("U1", [msg.text_message("こんにちは")], retry_key=key)
    finally:
        await client.aclose()


def client_for(platform, waits=None, **kw):
    async def sleep(s: float) -> None:
        if waits is not None:
            waits.append(s)

    return LineClient(platform.url, TOKEN, backoff=0.5, sleep=sleep, **kw)


def test_a_push_retried_after_500_then_429_arrives_once_with_one_retry_key(platform):
    platform.script["/v2/bot/message/push"] = [
        {"status": 500, "accept": True},
        {"status": 429, "headers": {"Retry-After": "7"}},
    ]
    waits: list[float] = []
    sent = run(_push(client_for(platform, waits)))
    assert sent.ok and sent.accepted_before and sent.attempts == 3
    keys = [r["headers"]["X-Line-Retry-Key"] for r in platform.calls("/v2/bot/message/push")]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert len(platform.deliveries) == 1
    assert waits == [0.5, 7.0]  # the backoff, then the platform's Retry-After


def test_retries_are_bounded_and_a_4xx_is_final(platform):
    platform.script["/v2/bot/message/push"] = [{"status": 500}] * 10
    waits: list[float] = []
    sent = run(_push(client_for(platform, waits, max_attempts=3)))
    assert not sent.ok and sent.status == 500 and sent.attempts == 3
    assert waits == [0.5, 1.0] and platform.deliveries == []
    platform.script["/v2/bot/message/push"] = [{"status": 400}, {"status": 500}]
    sent = run(_push(client_for(platform)))
    assert not sent.ok and sent.status == 400 and sent.attempts == 1


def test_retry_after_is_capped_and_read_as_seconds_or_a_date(platform):
    platform.script["/v2/bot/message/push"] = [{"status": 429, "headers": {"Retry-After": "900"}}]
    waits: list[float] = []
    assert run(_push(client_for(platform, waits, max_retry_after=2.0))).ok
    assert waits == [2.0]
    assert retry_after("3") == 3.0 and retry_after("soon") is None and retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_a_reply_carries_no_retry_key_and_a_used_token_after_a_5xx_counts_as_delivered(
    platform,
):
    token = platform.issue_token("U1")
    platform.script["/v2/bot/message/reply"] = [{"status": 502, "accept": True}]

    async def go():
        client = client_for(platform)
        try:
            return await client.reply(token, [msg.text_message("こんにちは")])
        finally:
            await client.aclose()

    sent = run(go())
    assert not sent.ok and sent.invalid_reply_token and sent.probably_delivered
    assert all("X-Line-Retry-Key" not in r["headers"] for r in platform.requests)
    assert len(platform.deliveries) == 1
    # an unknown token with no failure before it: invalid, not delivered
    sent = run(go())
    assert sent.invalid_reply_token and not sent.probably_delivered


def test_a_lost_connection_is_retried_then_reported(platform):
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    waits: list[float] = []
    client = client_for(platform, waits, transport=httpx.MockTransport(refuse), max_attempts=2)
    sent = run(_push(client))
    assert not sent.ok and sent.status == 0 and len(calls) == 2 and not sent.uncertain
    assert "ConnectError" in sent.detail


def test_the_profile_language_and_a_bad_user_id(platform):
    platform.profiles["U1"] = "zh-TW"

    async def go(user):
        client = client_for(platform)
        try:
            return await client.profile(user)
        finally:
            await client.aclose()

    assert run(go("U1"))["language"] == "zh-TW"
    assert run(go("U2")) is None  # 404
    assert run(go("../message/push")) is None and len(platform.requests) == 2


@pytest.mark.parametrize(
    "text",
    ["職員", "担当者", "人と話したい", "窓口の人", "窓口の人をお願いします", "職員と話したいです。",
     "役場の人につないでください", "ＳＴＡＦＦ", "staff", "Operator", "human", "a human please",
     "I want to talk to a human", "Can I speak to a person?", "转人工", "人工客服", "找工作人员",
     "상담원 연결", "직원", "nhân viên", "falar com atendente", "Quiero hablar con una persona",
     "petugas", "kawani", "कर्मचारी"],
)  # fmt: skip
def test_a_request_for_a_person_is_recognised(text):
    assert msg.asks_for_staff(text)


@pytest.mark.parametrize(
    "text",
    ["職員採用試験はいつですか", "職員の給料は？", "担当者の電話番号", "人口は？", "粗大ごみ",
     "human rights", "staff room", "How many staff work at the town office?", "", "人" * 80],
)  # fmt: skip
def test_a_question_naming_staff_is_a_question(text):
    assert not msg.asks_for_staff(text)


def test_the_hand_off_messages_fit_the_platform_in_every_language():
    offer = {
        "open": True,
        "department": "環境衛生課",
        "department_label": "環境衛生課",
        "phone": "01234-5-1103",
        "closes_at": "2026-12-02T17:15+09:00",
        "next_open": "2026-12-02T10:00+09:00",
    }
    closed = {**offer, "open": False, "closes_at": None, "next_open": "2026-12-03T08:30+09:00"}
    for table in (msg.HANDOFF_BUTTON, msg.CONSENT_YES, msg.CONSENT_NO, msg.STAFF_OPEN,
                  msg.STAFF_CLOSED, msg.STAFF_LEAVE, msg.CONSENT_NOTICE, msg.HANDOFF_SENT,
                  msg.HANDOFF_CANCELLED, msg.HANDOFF_NOTHING, msg.HANDOFF_OFF,
                  msg.STAFF_REPLY):  # fmt: skip
        assert set(table) == set(msg.GREETING), table
    for lang in msg.GREETING:
        out = [
            msg.staff_offer(offer, lang),
            msg.staff_offer(closed, lang),
            msg.consent_messages("質問" * 600, "0123456789abcdef", 30, lang),
            msg.staff_reply_messages("0123456789abcdef", "返事" * 3000, lang),
        ]
        for messages in out:
            assert limits_broken(messages) == [], (lang, messages)
        assert "01234-5-1103" in out[0][0]["text"] and "08:30" in out[1][0]["text"]
    assert msg.when_text("2026-12-03T08:30+09:00", "ko") == "12월 3일(목) 08:30"
    assert msg.parse_handoff(msg.handoff_send_data("abc")) == ("send", "abc")
    assert msg.parse_handoff("handoff=offer") == ("offer", "")
    assert msg.parse_handoff("handoff=drop") is None and msg.parse_handoff("fb=1&id=x") is None
