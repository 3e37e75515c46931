"""Hand-off to staff in headless Chromium: from a refusal inside and outside office hours,
the message sent, the staff reply shown in the open conversation (phone width, 360 px).

The API runs on loopback as in ``test_widget_browser`` (host pages on another origin),
refusing every question, with the app's clock injected (``create_app(clock=...)``) so
the office is open or closed as the test says. Staff answer through the admin API.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings
from madoguchi.kit.officehours import JST
from madoguchi.ui.api import create_app
from tests.ui.test_widget_browser import (
    DEPARTMENTS,
    FAQ_CSV,
    LoopbackServer,
    ask_by_keyboard,
    assert_fits,
    last_answer,
    open_page,
    phone_shot,
    serve_host_pages,
)

KEY = "admin-key-for-tests"
QUESTION = "犬の散歩コースの看板を立てたいのですが"
EMAIL = "hanako@example.jp"
PHONE = "090-8765-4321"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 10, 0, tzinfo=JST)  # a Wednesday morning

    def __call__(self) -> datetime:
        return self.now


def build(tmp: Path, clock: Clock, enabled: bool = True) -> FastAPI:
    settings = Settings(
        data_dir=tmp / "data",
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
        server={"rate_limit_per_minute": 0, "daily_cap": 0, "admin_key": KEY},
        handoff={"poll_seconds": 0.3, "enabled": enabled},
    ).with_overrides(**{"answer.answer_threshold": 1.01})  # every question is refused
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPARTMENTS, settings.departments_path)
    svc = build_services(settings)
    csv = tmp / "faq.csv"
    csv.write_text(FAQ_CSV, encoding="utf-8")
    assert svc.ingest([csv]).added
    return create_app(settings, svc, admin=False, clock=clock)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[LoopbackServer]:
    app = build(tmp_path_factory.mktemp("handoff"), clock)
    srv = LoopbackServer(app)
    serve_host_pages(app, srv)
    with srv:
        yield srv


@pytest.fixture
def page_errors() -> list[str]:
    return []


def inbox(page, server: LoopbackServer) -> list[dict]:
    r = page.request.get(f"{server.api}/api/v1/admin/handoff", headers={"x-api-key": KEY})
    assert r.ok, r.text()
    return r.json()


def staff_reply(page, server: LoopbackServer, ticket: str, text: str) -> None:
    r = page.request.post(
        f"{server.api}/api/v1/admin/handoff/{ticket}/reply",
        headers={"x-api-key": KEY},
        data={"reply": text},
    )
    assert r.ok, r.text()


def card(page):
    return page.locator("madoguchi-widget .msg.ho").last


def test_inside_hours_a_refusal_offers_the_phone_and_a_message(
    browser, server, clock, tmp_path, screenshot_dir, page_errors
):
    clock.now = datetime(2026, 12, 2, 10, 0, tzinfo=JST)
    context, page = open_page(browser, server.page("plain.html"), page_errors, 360, 740)
    try:
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, QUESTION)
        bubble = last_answer(page)
        assert "refused" in (bubble.get_attribute("class") or "")
        button = bubble.locator("button.hob")
        assert button.inner_text() == "職員に問い合わせる"
        box = button.bounding_box()
        assert box and box["height"] >= 44  # a touch target
        phone_shot(page, "handoff-refusal-360.png", tmp_path, screenshot_dir)
        button.click()
        offer = card(page)
        offer.wait_for()
        state = offer.locator(".hostate").inner_text()
        assert "受付時間内" in state and "17:15" in state
        call = offer.locator("a.callb")
        assert call.get_attribute("href", timeout=5000).startswith("tel:+81-")
        assert offer.locator(".hoform").is_hidden()
        assert_fits(page)
        phone_shot(page, "handoff-open-360.png", tmp_path, screenshot_dir)

        # the message form: the question prefilled, a contact, no consent
        offer.get_by_role("button", name="メッセージを送る").click()
        area = offer.locator(".hoform textarea")
        assert area.input_value() == QUESTION
        area.fill(f"{QUESTION}。返事は {EMAIL} にお願いします。")
        offer.get_by_label("返信先のメールアドレスまたは電話番号（任意）").fill(EMAIL)
        notice = offer.locator(".hoform .note").inner_text()
        assert "30日" in notice and "伏せた形で保存" in notice
        assert_fits(page)
        phone_shot(page, "handoff-form-360.png", tmp_path, screenshot_dir)
        with page.expect_request("**/api/v1/handoff") as req:
            offer.get_by_role("button", name="送信する").click()
        sent = req.value.post_data_json
        assert sent["consent"] is False and sent["contact"] == EMAIL
        ticket = page.locator("madoguchi-widget .msg.ticket").last
        ticket.wait_for()
        assert "メッセージを受け付けました" in ticket.inner_text()
        assert page.locator("madoguchi-widget .msg.ho").count() == 0  # the form is gone

        # no consent: the inbox keeps the message and the contact masked
        (msg,) = [m for m in inbox(page, server) if QUESTION in m["question"]]
        assert EMAIL not in msg["question"] and "[メール]" in msg["question"]
        assert msg["contact"] == "[メール]" and msg["status"] == "open"
        assert msg["id"] in ticket.inner_text()

        # staff reply; the widget shows it in the open conversation
        staff_reply(page, server, msg["id"], "看板の設置は建設課への申請が必要です。")
        reply = page.locator("madoguchi-widget .msg.staff").last
        reply.wait_for(timeout=20000)
        assert reply.locator("h3").inner_text() == "職員からの返事"
        assert "建設課への申請" in reply.inner_text()
        assert "職員の返事を待っています" not in ticket.inner_text()
        assert_fits(page)
        phone_shot(page, "handoff-reply-360.png", tmp_path, screenshot_dir)

        # kept over a page load, and not asked for again
        page.reload()
        page.locator("madoguchi-widget .msg.staff").last.wait_for()
        assert page.locator("madoguchi-widget .msg.staff").count() == 1
        assert page_errors == []
    finally:
        context.close()


def test_outside_hours_the_menu_says_when_the_office_opens(
    browser, server, clock, tmp_path, screenshot_dir, page_errors
):
    clock.now = datetime(2026, 12, 30, 19, 0, tzinfo=JST)  # 年末年始
    context, page = open_page(browser, server.page("plain.html"), page_errors, 360, 740)
    try:
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, "粗大ごみの出し方")
        last_answer(page)
        # from the header, not the refusal
        page.locator("madoguchi-widget .langrow .hom").click()
        offer = card(page)
        offer.wait_for()
        state = offer.locator(".hostate").inner_text()
        assert "受付時間外" in state and "1月4日" in state and "08:30" in state, state
        assert offer.locator("a.callb").count() == 0  # closed: no number to call now
        assert_fits(page)
        phone_shot(page, "handoff-closed-card-360.png", tmp_path, screenshot_dir)
        offer.get_by_role("button", name="メッセージを送る").click()
        area = offer.locator(".hoform textarea")
        assert area.input_value() == "粗大ごみの出し方"  # the last question, prefilled
        # an empty message is caught before sending
        area.fill("  ")
        offer.get_by_role("button", name="送信する").click()
        assert offer.locator(".hostatus").inner_text() == "お問い合わせ内容を入力してください。"
        text = f"粗大ごみを年明けに出したいです。{PHONE} に電話ください。{EMAIL}"
        area.fill(text)
        offer.get_by_label("返信先のメールアドレスまたは電話番号（任意）").fill(PHONE)
        offer.get_by_label("内容と連絡先を、返事のために職員が保存することに同意します").check()
        assert_fits(page)
        phone_shot(page, "handoff-closed-360.png", tmp_path, screenshot_dir)
        offer.get_by_role("button", name="送信する").click()
        page.locator("madoguchi-widget .msg.ticket").last.wait_for()
        # consent: kept as written
        (msg,) = [m for m in inbox(page, server) if "年明け" in m["question"]]
        assert msg["question"] == text and msg["contact"] == PHONE and msg["consent"]
        assert msg["department"] == "総合窓口"
        assert page_errors == []
    finally:
        context.close()


def test_the_card_in_english(browser, server, clock, tmp_path, screenshot_dir, page_errors):
    clock.now = datetime(2026, 12, 5, 11, 0, tzinfo=JST)  # a Saturday
    context, page = open_page(
        browser, server.page("plain.html"), page_errors, 360, 740, locale="en-US"
    )
    try:
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, "Can I put up a sign for my dog walking route?")
        bubble = last_answer(page)
        bubble.locator("button.hob").click()
        offer = card(page)
        offer.wait_for()
        assert offer.locator("h3").inner_text() == "Contact town staff"
        state = offer.locator(".hostate").inner_text()
        assert state.startswith("The office is closed now.") and "December 7" in state, state
        assert "(" in state  # the department named in Japanese and English
        offer.get_by_role("button", name="Send a message").click()
        assert "kept for 30 days" in offer.locator(".hoform .note").inner_text()
        assert_fits(page)
        phone_shot(page, "handoff-closed-en-360.png", tmp_path, screenshot_dir)
        offer.get_by_role("button", name="Cancel").click()
        assert page.locator("madoguchi-widget .msg.ho").count() == 0
        assert page_errors == []
    finally:
        context.close()


def test_switched_off_no_button_anywhere(browser, tmp_path, clock, page_errors):
    app = build(tmp_path, clock, enabled=False)
    srv = LoopbackServer(app)
    serve_host_pages(app, srv)
    with srv:
        context, page = open_page(browser, srv.page("plain.html"), page_errors, 360, 740)
        try:
            page.locator("madoguchi-widget .launch").click()
            page.locator("madoguchi-widget .intro .chip").first.wait_for()  # config loaded
            assert page.locator("madoguchi-widget .langrow .hom").is_hidden()
            ask_by_keyboard(page, QUESTION)
            bubble = last_answer(page)
            assert "refused" in (bubble.get_attribute("class") or "")
            assert bubble.locator("a.callb").count() == 1  # the call button stays
            assert bubble.locator("button.hob").count() == 0
            assert page_errors == []
        finally:
            context.close()
