"""The residents' chat widget in headless Chromium, against the real API on loopback.

The API (``ui.api.create_app``) runs in uvicorn on 127.0.0.1 with fake-embedder services
that ingested a small FAQ CSV (one row translated into English, one carrying HTML/script
markup) and know the demo town's departments (``demo/departments.csv``). Host pages
(``fixtures/``) are served by the same process under ``http://localhost:<port>``, a
different origin from the API's ``http://127.0.0.1:<port>``, so every call is a real
cross-origin (CORS) call, as on a town's web site. Screenshots go to ``screenshot_dir``.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings
from madoguchi.ui.api import create_app

FIXTURES = Path(__file__).parent / "fixtures"
DEPARTMENTS = Path(__file__).resolve().parents[2] / "demo" / "departments.csv"

HOSTILE_Q = "町のお知らせ掲示板の書き方を教えてください。"
SODAI_Q = "粗大ごみはどのように出せばよいですか。"
SODAI_URL = "https://www.town.midorikawa.example.jp/kurashi/gomi/sodai.html"
SODAI_EN_Q = "How do I put out oversized garbage?"
SODAI_EN_A = "Oversized garbage is collected by appointment. Call the Environment and Sanitation"
FAQ_CSV = (
    "ID,質問,回答,所管部署,電話番号,URL,質問_en,回答_en\n"
    f"1,{SODAI_Q},粗大ごみは事前申込制です。環境衛生課（01234-5-1103）へ電話で申し込み、"
    f"粗大ごみ処理券を貼って出してください。,環境衛生課,01234-5-1103,{SODAI_URL},"
    f"{SODAI_EN_Q},{SODAI_EN_A} Section (01234-5-1103) and attach a ticket.\n"
    "2,住民票の写しはコンビニで取れますか。,マイナンバーカードがあれば全国のコンビニで"
    "住民票の写しを取得できます。手数料は1通200円です。,住民課,01234-5-1102,"
    "https://www.town.midorikawa.example.jp/kurashi/koseki/conveni.html,,\n"
    f'3,{HOSTILE_Q},"掲示には<script>window.__pwned=1</script>や'
    '<img src=x onerror=""window.__pwned=2"">のようなタグは使えません。",'
    "総務課,01234-5-1101,javascript:window.__pwned=3,,\n"
    "4,役場の開庁時間は何時までですか。,平日の午前8時30分から午後5時15分までです。,"
    "総務課,01234-5-1101,,,\n"
)


class LoopbackServer:
    """uvicorn in a background thread on a free 127.0.0.1 port."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page(self, name: str) -> str:
        """A host page on another origin than the API (localhost vs 127.0.0.1)."""
        return f"http://localhost:{self.port}/_test/host/{name}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def serve_host_pages(app: FastAPI, server: LoopbackServer) -> None:
    """Test-only route: the fixture pages, with the API's address filled in."""

    def host_page(name: str) -> HTMLResponse:
        path = (FIXTURES / name).resolve()
        if path.parent != FIXTURES.resolve() or path.suffix != ".html":
            return HTMLResponse("not found", status_code=404)
        return HTMLResponse(path.read_text(encoding="utf-8").replace("__API__", server.api))

    app.add_api_route("/_test/host/{name}", host_page, include_in_schema=False)


def build_app(tmp: Path, threshold: float = 0.0, faq: str = FAQ_CSV, **server: Any) -> FastAPI:
    settings = Settings(
        data_dir=tmp / "data",
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
        server={"rate_limit_per_minute": 0, "daily_cap": 0, **server},
    ).with_overrides(**{"answer.answer_threshold": threshold})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPARTMENTS, settings.departments_path)  # the demo town's table
    svc = build_services(settings)
    csv = tmp / "faq.csv"
    csv.write_text(faq, encoding="utf-8")
    report = svc.ingest([csv])
    assert report.added, report
    return create_app(settings, svc, admin=False)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LoopbackServer, FastAPI]]:
    app = build_app(tmp_path_factory.mktemp("widget"))
    server = LoopbackServer(app)
    serve_host_pages(app, server)
    with server:
        yield server, app


@pytest.fixture
def server(served: tuple[LoopbackServer, FastAPI]) -> LoopbackServer:
    return served[0]


@pytest.fixture
def app(served: tuple[LoopbackServer, FastAPI]) -> FastAPI:
    return served[1]


@pytest.fixture
def page_errors() -> list[str]:
    return []


def open_page(
    browser, url: str, errors: list[str], width: int = 1280, height: int = 800, **options: Any
):
    options.setdefault("locale", "ja-JP")
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.set_default_timeout(60_000)  # a busy shared CI machine, not a slow widget
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.locator("madoguchi-widget .launch").wait_for(state="visible")
    return context, page


def focused(page) -> dict[str, str]:
    """What has the keyboard focus inside the widget's shadow root."""
    return page.evaluate(
        """() => {
            const root = document.querySelector('madoguchi-widget').shadowRoot;
            const a = root.activeElement;
            return a ? {tag: a.tagName.toLowerCase(), cls: a.className || '',
                        label: a.getAttribute('aria-label') || ''} : {tag: '', cls: '', label: ''};
        }"""
    )


def ask_by_keyboard(page, question: str) -> None:
    box = page.locator("madoguchi-widget .compose textarea")
    box.press_sequentially(question)  # typed, not pasted
    box.press("Enter")


def last_answer(page):
    """The answer to the question just sent, once complete (the log is no longer busy)."""
    page.wait_for_function(
        """() => {
            const log = document.querySelector('madoguchi-widget').shadowRoot
                .querySelector('[role=log]');
            return log.getAttribute('aria-busy') === 'false'
                && log.lastElementChild && log.lastElementChild.matches('.msg.bot');
        }"""
    )
    return page.locator("madoguchi-widget [role=log] > .msg.bot").last


# ---------------------------------------------------------------- the main path


def test_hostile_page_question_answer_source_feedback(
    browser, server, app, screenshot_dir, page_errors
):
    context, page = open_page(browser, server.page("hostile.html"), page_errors)
    try:
        launch = page.locator("madoguchi-widget .launch")
        # the page's CSS neither hides nor shrinks the widget, and its banner at the top
        # z-index does not cover the button (click() fails if another element would get it)
        style = launch.evaluate(
            "e => { const s = getComputedStyle(e); return [s.fontSize, s.display, s.direction,"
            " s.writingMode, getComputedStyle(e.getRootNode().host).display] }"
        )
        assert style == ["16px", "flex", "ltr", "horizontal-tb", "block"]
        box = launch.bounding_box()
        assert box and box["width"] > 80 and box["height"] >= 44
        assert launch.text_content() == "AIに質問"
        launch.click()
        panel = page.locator("madoguchi-widget [role=dialog]")
        assert panel.is_visible()
        assert focused(page)["tag"] == "textarea"  # focus moved into the panel
        assert panel.get_attribute("aria-modal") == "true"

        # town name, disclaimer, phone and suggested questions from GET /api/v1/config
        page.locator("madoguchi-widget .intro .chip").first.wait_for()
        title_id = panel.get_attribute("aria-labelledby")
        assert page.locator(f"madoguchi-widget #{title_id}").text_content() == "みどり川町 AI案内"
        town = app.state.settings.widget
        assert page.locator("madoguchi-widget .note").text_content() == town.disclaimer
        tel = page.locator("madoguchi-widget .tel a")
        assert tel.text_content() == town.phone
        assert tel.get_attribute("href") == "tel:+81-1234-5-1101"  # reachable from any phone
        chips = page.locator("madoguchi-widget .intro .chip")
        assert chips.all_text_contents() == town.suggestions

        ask_by_keyboard(page, SODAI_Q)
        bubble = last_answer(page)
        assert "事前申込制" in bubble.locator(".text").first.text_content()
        link = bubble.locator(".src a")
        assert link.get_attribute("href") == SODAI_URL
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in link.get_attribute("rel")
        assert link.inner_text().startswith(SODAI_Q)
        # the phone number in the answer is a tap-to-call link; no second contact line
        assert bubble.locator(".text a").get_attribute("href") == "tel:+81-1234-5-1103"
        assert bubble.locator(".contact").count() == 0
        # the question is in the log (role=log, polite live region) as the resident's message
        log = page.locator("madoguchi-widget [role=log]")
        assert log.get_attribute("aria-live") == "polite"
        assert SODAI_Q in log.locator(".msg.user").last.text_content()
        page.screenshot(path=str(screenshot_dir / "widget-1280-hostile.png"))

        # thumbs down with the keyboard, then a comment; both reach the conversation log
        down = bubble.locator(".fbtn").nth(1)
        assert down.get_attribute("aria-label") == "役に立たなかった"
        down.focus()
        page.keyboard.press("Space")
        comment = bubble.locator(".cm textarea")
        comment.wait_for()
        assert focused(page)["tag"] == "textarea"
        comment.fill("土日の申し込み方法が知りたい 090-1234-5678")
        bubble.locator(".cm button").click()
        bubble.locator(".cm").wait_for(state="detached")
        assert bubble.locator(".fbmsg").text_content() == "ご協力ありがとうございます。"
        assert down.get_attribute("aria-pressed") == "true"
        turns = app.state.log.turns(feedback=0)
        assert [t.question for t in turns] == [SODAI_Q]
        assert turns[0].comment == "土日の申し込み方法が知りたい [電話]"  # masked by the API

        # Escape closes the panel and gives the focus back to the button
        page.keyboard.press("Escape")
        assert not panel.is_visible()
        assert focused(page)["cls"] == "launch"
        assert launch.get_attribute("aria-expanded") == "false"
        assert page_errors == []
    finally:
        context.close()


def test_document_markup_is_shown_as_text_and_never_runs(
    browser, server, screenshot_dir, page_errors
):
    context, page = open_page(
        browser, server.page("hostile.html"), page_errors, width=360, height=740
    )
    try:
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, HOSTILE_Q)
        bubble = last_answer(page)
        text = bubble.locator(".text").first.text_content()
        assert "<script>window.__pwned=1</script>" in text
        assert '<img src=x onerror="window.__pwned=2">' in text
        assert page.evaluate("() => window.__pwned") is None
        counts = page.evaluate(
            """() => {
                const root = document.querySelector('madoguchi-widget').shadowRoot;
                return [root.querySelectorAll('script').length,
                        root.querySelectorAll('img').length,
                        [...root.querySelectorAll('a')].filter(
                            a => !/^(https?|tel):/.test(a.getAttribute('href'))).length];
            }"""
        )
        assert counts == [0, 0, 0]
        # a javascript: source URL is listed as plain text, never as a link
        src = bubble.locator(".src li").first
        assert src.locator("a").count() == 0
        assert src.text_content() == HOSTILE_Q
        page.wait_for_timeout(300)  # give an onerror handler the chance it must not get
        assert page.evaluate("() => window.__pwned") is None
        page.screenshot(path=str(screenshot_dir / "widget-360-hostile.png"))
        assert page_errors == []
    finally:
        context.close()


def test_language_switch_changes_labels_and_is_sent(browser, server, page_errors):
    context, page = open_page(browser, server.page("plain.html"), page_errors)
    try:
        page.locator("madoguchi-widget .launch").click()
        page.locator("madoguchi-widget .intro .chip").first.wait_for()  # config loaded
        select = page.locator("madoguchi-widget select")
        options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        assert options == [
            "ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "id"
        ]  # fmt: skip
        labels: dict[str, tuple[str, ...]] = {}
        for code in options:
            select.select_option(code)
            labels[code] = (
                page.locator("madoguchi-widget .launch").text_content(),
                page.locator("madoguchi-widget textarea").get_attribute("placeholder"),
                page.locator("madoguchi-widget .hbtn").nth(1).get_attribute("aria-label"),
                page.locator("madoguchi-widget .note").text_content(),
                page.locator("madoguchi-widget .sendb").get_attribute("aria-label"),
            )
            assert page.locator("madoguchi-widget .w").get_attribute("lang") == (
                "ja" if code == "ja-easy" else code
            )
        # every language has its own wording for every label
        for i in range(5):
            assert len({v[i] for v in labels.values()}) >= 11, [v[i] for v in labels.values()]
        assert labels["en"][:3] == ("Ask us", "Type your question", "Close")
        assert labels["ja-easy"][1] == "質問を 書いて ください"
        assert labels["pt"][2] == "Fechar"

        select.select_option("en")
        with page.expect_request("**/api/v1/ask/stream") as req:
            ask_by_keyboard(page, SODAI_Q)
        body = req.value.post_data_json
        assert body["lang"] == "en" and body["question"] == SODAI_Q
        assert "conversation_id" not in body
        # a Japanese question is answered in Japanese, the labels of its answer too
        bubble = last_answer(page)
        assert bubble.get_attribute("lang") == "ja"
        assert bubble.locator(".src h3").text_content() == "出典"
        assert bubble.locator(".fbtn").first.get_attribute("aria-label") == "役に立った"
        final = page.evaluate(
            "k => JSON.parse(sessionStorage.getItem(k))",
            f"madoguchi-widget:{server.api}",
        )
        cid = final["cid"]
        assert cid and final["lang"] == "en" and final["open"] is True

        # a follow-up question carries the conversation id the API gave
        with page.expect_request("**/api/v1/ask/stream") as req2:
            page.locator("madoguchi-widget .intro .chip").first.click()  # a suggested question
        assert req2.value.post_data_json["conversation_id"] == cid
        last_answer(page)

        # switching the menu re-labels the widget, not the answers already shown
        select.select_option("ko")
        assert page.locator("madoguchi-widget .launch").text_content() == "질문하기"
        assert page.locator("madoguchi-widget .src h3").first.text_content() == "出典"

        # reload: open state, language and the conversation come back (sessionStorage)
        page.reload()
        page.locator("madoguchi-widget [role=dialog]").wait_for(state="visible")
        assert page.locator("madoguchi-widget .launch").text_content() == "질문하기"
        assert page.locator("madoguchi-widget .msg.bot").count() == 2
        with page.expect_request("**/api/v1/ask/stream") as req3:
            ask_by_keyboard(page, "役場の開庁時間は何時までですか。")
        assert req3.value.post_data_json["conversation_id"] == cid
        assert req3.value.post_data_json["lang"] == "ko"
        last_answer(page)
        # a new conversation forgets the id
        page.locator("madoguchi-widget .hbtn").first.click()
        assert page.locator("madoguchi-widget .msg").count() == 0
        with page.expect_request("**/api/v1/ask/stream") as req4:
            ask_by_keyboard(page, SODAI_Q)
        assert "conversation_id" not in req4.value.post_data_json
        last_answer(page)
        assert page_errors == []
    finally:
        context.close()


def test_keyboard_only_focus_stays_in_the_dialog(browser, server, page_errors):
    context, page = open_page(browser, server.page("plain.html"), page_errors)
    try:
        # reach the button with Tab from the page, open it with Enter
        page.locator("#page-button").focus()
        page.keyboard.press("Tab")
        assert focused(page)["cls"] == "launch"
        page.keyboard.press("Enter")
        assert focused(page)["tag"] == "textarea"
        page.locator("madoguchi-widget .intro .chip").first.wait_for()  # config loaded
        seen = []
        for _ in range(12):
            page.keyboard.press("Tab")
            f = focused(page)
            seen.append(f["tag"] + ":" + (f["label"] or f["cls"]))
        # send, the town's phone link (the last), then around to the top of the dialog
        assert seen[:5] == ["button:送信", "a:", "button:新しい会話", "button:閉じる", "select:"]
        assert seen[5] == "button:hom"  # 職員に問い合わせる (hand-off to staff)
        assert seen[6:10] == ["button:chip"] * 4  # the suggested questions
        assert seen[10:] == ["textarea:", "button:送信"]
        # Enter that confirms a Japanese IME conversion must not send the half-typed question
        box = page.locator("madoguchi-widget .compose textarea")
        box.fill("そだいごみ")
        box.evaluate(
            "e => e.dispatchEvent(new KeyboardEvent('keydown',"
            " {key: 'Enter', isComposing: true, bubbles: true, cancelable: true}))"
        )
        assert box.input_value() == "そだいごみ"
        assert page.locator("madoguchi-widget .msg").count() == 0
        box.fill("")
        page.locator("madoguchi-widget .hbtn").first.focus()
        page.keyboard.press("Shift+Tab")  # Shift+Tab on the first goes to the last
        assert page.evaluate(
            "() => document.querySelector('madoguchi-widget').shadowRoot.activeElement.href"
        ).startswith("tel:")
        page.keyboard.press("Escape")
        assert focused(page)["cls"] == "launch"
        assert not page.locator("madoguchi-widget [role=dialog]").is_visible()
        assert page_errors == []
    finally:
        context.close()


def test_phone_width_full_screen_panel(browser, server, screenshot_dir, page_errors):
    # reduced motion: the panel appears without its slide-in, so its box can be measured
    context, page = open_page(
        browser,
        server.page("plain.html"),
        page_errors,
        width=360,
        height=740,
        reduced_motion="reduce",
    )
    try:
        launch = page.locator("madoguchi-widget .launch")
        box = launch.bounding_box()
        assert box and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 740
        page.screenshot(path=str(screenshot_dir / "widget-360-closed.png"))
        launch.click()
        panel = page.locator("madoguchi-widget [role=dialog]")
        assert panel.evaluate("e => e.getAnimations().length") == 0
        assert panel.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 740}
        page.locator("madoguchi-widget .intro .chip").first.wait_for()  # config loaded
        page.screenshot(path=str(screenshot_dir / "widget-360-open.png"))
        ask_by_keyboard(page, SODAI_Q)
        last_answer(page)
        overflow = page.evaluate(
            """() => {
                const root = document.querySelector('madoguchi-widget').shadowRoot;
                return [...root.querySelectorAll('.panel *')]
                    .filter(e => e.getBoundingClientRect().right > 360.5)
                    .map(e => e.className || e.tagName);
            }"""
        )
        assert overflow == []
        send = page.locator("madoguchi-widget .sendb").bounding_box()
        assert send and send["width"] >= 44 and send["height"] >= 44  # touch target
        page.screenshot(path=str(screenshot_dir / "widget-360.png"))
        page.locator("madoguchi-widget .hbtn").nth(1).click()  # close
        assert launch.is_visible()
        assert page_errors == []
    finally:
        context.close()


def test_desktop_screenshot_plain_page(browser, server, screenshot_dir, page_errors):
    context, page = open_page(browser, server.page("plain.html"), page_errors)
    try:
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, "住民票の写しはコンビニで取れますか。")
        bubble = last_answer(page)
        # department and phone the answer text does not mention: a contact line
        assert bubble.locator(".contact").text_content() == "お問い合わせ：住民課 電話 01234-5-1102"
        assert bubble.locator(".contact a").get_attribute("href") == "tel:+81-1234-5-1102"
        panel = page.locator("madoguchi-widget [role=dialog]").bounding_box()
        assert panel and panel["x"] + panel["width"] <= 1280 - 16 and panel["width"] == 400
        page.screenshot(path=str(screenshot_dir / "widget-1280.png"))
        # the page behind stays usable: its own button still gets clicks
        page.locator("#page-button").click()
        assert page_errors == []
    finally:
        context.close()


# ---------------------------------------------------------------- failures


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    return {
        "status": status,
        "content_type": "application/json",
        "headers": {"Access-Control-Allow-Origin": "*", **(headers or {})},
        "body": json.dumps(body),
    }


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("abort", "サーバーに接続できませんでした"),
        (_json(503, {"error": "ModelUnavailable", "detail": "starting"}), "ただいまサービスを"),
        (
            _json(
                429,
                {"error": "RateLimited", "detail": "too many questions"},
                {"Retry-After": "42", "Access-Control-Expose-Headers": "Retry-After"},
            ),
            "42秒ほど待ってから",
        ),
        (
            _json(429, {"error": "RateLimited", "detail": "the daily limit of 300 questions"}),
            "本日の質問の上限",
        ),
        (_json(400, {"error": "InputError", "detail": "the limit is 2,000"}), "長すぎます"),
        (
            {
                "status": 200,
                "content_type": "text/event-stream",
                "headers": {"Access-Control-Allow-Origin": "*"},
                "body": 'event: delta\ndata: {"text": "途中まで"}\n\n',
            },
            "途中で途切れました",
        ),
    ],
)
def test_errors_are_clear_and_keep_the_question(browser, server, page_errors, reply, message):
    context, page = open_page(browser, server.page("plain.html"), page_errors)
    try:
        if reply == "abort":
            page.route("**/api/v1/ask/stream", lambda route: route.abort("connectionrefused"))
        else:
            page.route("**/api/v1/ask/stream", lambda route: route.fulfill(**reply))
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, SODAI_Q)
        alert = page.locator("madoguchi-widget .msg.err[role=alert]")
        alert.wait_for()
        assert message in alert.text_content()
        # nothing lost: the question is back in the box, ready to send again
        assert page.locator("madoguchi-widget .compose textarea").input_value() == SODAI_Q
        assert page.locator("madoguchi-widget .sendb").is_enabled()
        # the notice is for now: after a reload the conversation is back, the notice is not
        page.reload()
        page.locator("madoguchi-widget [role=dialog]").wait_for(state="visible")
        assert page.locator("madoguchi-widget .msg.user").count() == 1
        assert page.locator("madoguchi-widget .msg.err").count() == 0
        assert page_errors == []
    finally:
        context.close()


def test_real_rate_limit_message(browser, tmp_path, page_errors):
    app = build_app(tmp_path, rate_limit_per_minute=1)
    server = LoopbackServer(app)
    serve_host_pages(app, server)
    with server:
        context, page = open_page(browser, server.page("plain.html"), page_errors)
        try:
            page.locator("madoguchi-widget .launch").click()
            ask_by_keyboard(page, SODAI_Q)
            last_answer(page)
            ask_by_keyboard(page, "役場の開庁時間は何時までですか。")
            alert = page.locator("madoguchi-widget .msg.err")
            alert.wait_for()
            # with or without a readable Retry-After: a clear "wait, then send again"
            assert "待ってから、もう一度送信してください" in alert.text_content()
        finally:
            context.close()


def serve_stream(page, body: str) -> None:
    """Answer the widget's questions with a canned event stream."""
    page.route(
        "**/api/v1/ask/stream",
        lambda route: route.fulfill(
            status=200,
            content_type="text/event-stream",
            headers={"Access-Control-Allow-Origin": "*"},
            body=body,
        ),
    )


def test_follow_up_options_and_original_render_safely(browser, server, page_errors):
    """A canned final event: follow-up options become buttons, URLs are vetted."""
    final = {
        "answer": "Translated answer. Details: https://town.example.jp/a.html.",
        "refused": False,
        "lang": "en",
        "follow_up": "Which of these do you mean?\n・<b>粗大ごみ</b>\n・住民票",
        "citations": [
            {"source": "faq.csv#1", "title": "<i>A</i>", "url": "javascript:alert(1)"},
            {"source": "faq.csv#2", "title": "Relative", "url": "/kurashi/a.html"},
            {"source": "faq.csv#3", "title": "", "url": None},
        ],
        "department": None,
        "phone": None,
        "original": "元の回答です。",
        "answer_id": "a1",
        "conversation_id": "c1",
    }
    body = (
        ": keep-alive comment\r\n\r\n"
        'event: delta\r\ndata: {"text": "Translated answer. "}\r\n\r\n'
        f"event: final\r\ndata: {json.dumps(final, ensure_ascii=False)}\r\n\r\n"
    )
    context, page = open_page(browser, server.page("plain.html"), page_errors)
    try:
        serve_stream(page, body)
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, "test")
        bubble = last_answer(page)
        assert page.locator("madoguchi-widget .msg.bot").count() == 1  # the streamed one, once
        inline = bubble.locator(".text a").first
        assert inline.get_attribute("href") == "https://town.example.jp/a.html"  # no final "."
        assert bubble.locator(".follow .chip").all_text_contents() == ["<b>粗大ごみ</b>", "住民票"]
        assert bubble.locator(".src li").all_text_contents() == [
            "<i>A</i>",
            "Relative",
            "faq.csv#3",
        ]
        assert bubble.locator(".src a").count() == 0
        # an English answer in a Japanese widget: its own labels are English
        assert bubble.locator("details summary").text_content() == "Japanese original"
        assert bubble.locator(".fbtn").first.get_attribute("aria-label") == "Helpful"
        assert bubble.locator(".contact").count() == 0
        with page.expect_request("**/api/v1/ask/stream") as req:
            bubble.locator(".follow .chip").nth(1).click()
        assert req.value.post_data_json["question"] == "住民票"
        assert req.value.post_data_json["conversation_id"] == "c1"
        assert page_errors == []
    finally:
        context.close()


def test_a_refusal_offers_the_pages_that_may_help(browser, server, screenshot_dir, page_errors):
    """A canned refusal with related documents: listed under their own heading (not as
    sources), links vetted like citations."""
    final = {
        "answer": "申し訳ありません。確かな回答を見つけられませんでした。住民課にお問い合わせください。",
        "refused": True,
        "lang": "ja",
        "follow_up": None,
        "citations": [],
        "department": "住民課",
        "phone": "01234-5-1101",
        "related": [
            {"source": "pages/gomi.md", "title": "ごみの分け方", "url": "https://town.example.jp/gomi.html"},
            {"source": "pages/x.md", "title": "<img src=x onerror=alert(1)>", "url": "javascript:alert(1)"},
        ],
        "answer_id": "a2",
        "conversation_id": "c2",
    }  # fmt: skip
    body = f"event: final\r\ndata: {json.dumps(final, ensure_ascii=False)}\r\n\r\n"
    context, page = open_page(browser, server.page("plain.html"), page_errors)
    try:
        serve_stream(page, body)
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, "スマホの捨て方")
        bubble = last_answer(page)
        assert "refused" in (bubble.get_attribute("class") or "")
        assert bubble.locator(".src").count() == 0  # no sources: nothing was answered
        assert bubble.locator(".related h3").text_content() == "参考になりそうな資料"
        assert bubble.locator(".related li").all_text_contents() == [
            "ごみの分け方（新しいタブで開きます）",  # an external link says it opens a tab
            "<img src=x onerror=alert(1)>",
        ]
        assert [a.get_attribute("href") for a in bubble.locator(".related a").all()] == [
            "https://town.example.jp/gomi.html"
        ]
        page.screenshot(path=str(screenshot_dir / "widget-refusal-related.png"))
        assert page_errors == []
    finally:
        context.close()


RECORD_CSP_VIOLATIONS = """document.addEventListener('securitypolicyviolation', e =>
    (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI))"""


def test_the_services_own_home_page_embeds_the_widget(browser, server, page_errors):
    """``GET /`` shows the embed tag and carries it: same origin, ``defer``, ``data-api``;
    under the page's CSP (scripts from the server only) the widget loads, asks and
    answers, and nothing it does is blocked."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    try:
        response = page.goto(server.api + "/")
        assert response and "script-src 'self'" in response.headers["content-security-policy"]
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, SODAI_Q)
        assert "事前申込制" in last_answer(page).locator(".text").first.text_content()
        assert page_errors == []
        assert page.evaluate("window.__csp || []") == []
        # the policy is enforced: an inline script the page did not ship does not run
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }"
        )
        assert page.evaluate("window.__ran") is None
        assert any("script-src" in v for v in page.evaluate("window.__csp"))
    finally:
        context.close()


def test_data_attributes_and_a_double_tag(browser, server, page_errors):
    context, page = open_page(browser, server.page("options.html"), page_errors)
    try:
        page.wait_for_load_state("load")
        assert page.locator("madoguchi-widget").count() == 1
        launch = page.locator("madoguchi-widget .launch")
        assert launch.text_content() == "Ask us"
        box = launch.bounding_box()
        assert box and box["x"] < 40  # data-position="left"
        assert launch.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(29, 78, 216)"
        launch.click()
        page.locator("madoguchi-widget .intro .chip").first.wait_for()
        assert page.locator("madoguchi-widget .title").text_content() == "Midorikawa help desk"
        # the town's Japanese disclaimer is replaced by the widget's English one
        assert (
            page.locator("madoguchi-widget .note")
            .text_content()
            .startswith("Answers are generated automatically")
        )
        with page.expect_request("**/api/v1/ask/stream") as req:
            ask_by_keyboard(page, SODAI_Q)
        assert req.value.url == server.api + "/api/v1/ask/stream"  # data-api's "/" trimmed
        last_answer(page)
        assert page_errors == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("locale", "page_name", "label"),
    [("pt-BR", "plain.html", "Pergunte"), ("zh-TW", "plain.html", "線上諮詢"),
     ("pt-BR", "hostile.html", "AIに質問")],  # data-lang="ja" wins over the browser
)  # fmt: skip
def test_first_language_from_the_browser(browser, server, page_errors, locale, page_name, label):
    context, page = open_page(browser, server.page(page_name), page_errors, locale=locale)
    try:
        assert page.locator("madoguchi-widget .launch").text_content() == label
    finally:
        context.close()


# ---------------------------------------------------------------- the resident's language


def phone_shot(page, name: str, tmp_path: Path, screenshot_dir: Path) -> Path:
    """A screenshot of the phone-width page, in the test's folder and the screenshot one."""
    path = tmp_path / name
    page.screenshot(path=str(path))
    shutil.copy(path, screenshot_dir / name)
    return path


def assert_fits(page, width: int = 360) -> None:
    """Nothing of the panel reaches past the screen's edge, no text is cut inside a link."""
    overflow = page.evaluate(
        """w => {
            const root = document.querySelector('madoguchi-widget').shadowRoot;
            return [...root.querySelectorAll('.panel *')]
                .filter(e => e.getBoundingClientRect().right > w + 0.5
                          || (e.matches('a, .text, .contact, .call')
                              && e.scrollWidth > e.clientWidth + 1))
                .map(e => e.className || e.tagName);
        }""",
        width,
    )
    assert overflow == []


# the town without its hostile row, whose markup the fake embedder finds close to any
# English question: these tests are about the answer's language, not about ranking
TOWN_FAQ = "".join(line for line in FAQ_CSV.splitlines(True) if not line.startswith("3,"))
KONBINI_EN_Q = "Can I get a copy of my residence certificate at a convenience store?"


def _serve(tmp: Path, threshold: float) -> Iterator[LoopbackServer]:
    app = build_app(tmp, threshold=threshold, faq=TOWN_FAQ)
    server = LoopbackServer(app)
    serve_host_pages(app, server)
    with server:
        yield server


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackServer]:
    yield from _serve(tmp_path_factory.mktemp("town"), 0.0)


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackServer]:
    """The same town, refusing every question (the confidence never reaches 1.01)."""
    yield from _serve(tmp_path_factory.mktemp("refusing"), 1.01)


def test_an_english_question_in_the_japanese_widget_is_answered_in_english(
    browser, town, tmp_path, screenshot_dir, page_errors
):
    context, page = open_page(
        browser, town.page("hostile.html"), page_errors, width=360, height=740
    )  # data-lang="ja" and a Japanese browser: the menu says 日本語
    try:
        page.locator("madoguchi-widget .launch").click()
        assert page.locator("madoguchi-widget select").input_value() == "ja"
        with page.expect_request("**/api/v1/ask/stream") as req:
            ask_by_keyboard(page, SODAI_EN_Q)
        assert req.value.post_data_json["lang"] == "ja"  # the menu is sent as it is
        bubble = last_answer(page)
        assert bubble.get_attribute("lang") == "en"
        text = bubble.locator(".text").first.inner_text()
        assert text.startswith(SODAI_EN_A)
        # whom to call: the Japanese name to say at the counter, its English name, the phone
        assert "Contact: 環境衛生課 (Environment and Sanitation Section, tel. 01234-5-1103)" in text
        assert "Translation of the town's official answer" in text
        calls = [a.get_attribute("href") for a in bubble.locator(".text a").all()]
        assert calls and set(calls) == {"tel:+81-1234-5-1103"}
        # the labels attached to the answer follow it; the widget's own stay Japanese
        assert bubble.locator(".src h3").text_content() == "Sources"
        assert bubble.locator("details summary").text_content() == "Japanese original"
        assert "事前申込制" in bubble.locator("details .text").text_content()
        assert bubble.locator(".fb .q").text_content() == "Was this answer helpful?"
        assert (
            page.locator("madoguchi-widget .compose textarea").get_attribute("placeholder")
            == "質問を入力してください"
        )
        assert_fits(page)
        phone_shot(page, "i15-widget-en-in-ja.png", tmp_path, screenshot_dir)

        # an entry with no English translation: the official Japanese text under a note
        # in English, whom to call and the source link; the Japanese paragraph is marked
        ask_by_keyboard(page, KONBINI_EN_Q)
        bubble = last_answer(page)
        assert bubble.get_attribute("lang") == "en"
        text = bubble.locator(".text").first.inner_text()
        assert text.startswith("This is the town's official answer, available in Japanese only.")
        assert "住民票の写しを取得できます" in text
        assert "Contact: 住民課 (Residents Section, tel. 01234-5-1102)" in text
        assert "https://www.town.midorikawa.example.jp/kurashi/koseki/conveni.html" in text
        assert bubble.locator("details").count() == 0  # the original is what is shown
        japanese = bubble.locator(".text span[lang=ja]")
        assert "住民票の写しを取得できます" in japanese.first.text_content()
        assert "tel:+81-1234-5-1102" in [a.get_attribute("href") for a in bubble.locator("a").all()]
        assert_fits(page)
        phone_shot(page, "i15-widget-en-japanese-only.png", tmp_path, screenshot_dir)
        assert page_errors == []
    finally:
        context.close()


def test_a_japanese_question_in_the_english_widget_is_answered_in_japanese(
    browser, town, tmp_path, screenshot_dir, page_errors
):
    context, page = open_page(
        browser, town.page("plain.html"), page_errors, width=360, height=740, locale="en-US"
    )
    try:
        launch = page.locator("madoguchi-widget .launch")
        assert launch.text_content() == "Ask us"  # the browser's language
        launch.click()
        page.locator("madoguchi-widget .intro .chip").first.wait_for()  # config loaded
        with page.expect_request("**/api/v1/ask/stream") as req:
            ask_by_keyboard(page, "粗大ごみはどうやって出せばいい？")
        assert req.value.post_data_json["lang"] == "en"
        bubble = last_answer(page)
        assert bubble.get_attribute("lang") == "ja"
        text = bubble.locator(".text").first.inner_text()
        assert "事前申込制" in text and "This is the town's official answer" not in text
        assert bubble.locator(".src h3").text_content() == "出典"
        assert bubble.locator(".fbtn").first.get_attribute("aria-label") == "役に立った"
        assert bubble.locator(".text a").get_attribute("href") == "tel:+81-1234-5-1103"
        assert (
            page.locator("madoguchi-widget .compose textarea").get_attribute("placeholder")
            == "Type your question"
        )
        assert_fits(page)
        phone_shot(page, "i15-widget-ja-in-en.png", tmp_path, screenshot_dir)
        assert page_errors == []
    finally:
        context.close()


CONTACT = re.compile(r"Please contact (\S+) \(([^,()]+), tel\. (01234-5-\d{4})\)\.")


def test_a_refusal_names_the_department_in_english_with_a_call_button(
    browser, refusing, tmp_path, screenshot_dir, page_errors
):
    import csv

    names = {r["name"]: r for r in csv.DictReader(DEPARTMENTS.open(encoding="utf-8"))}
    context, page = open_page(
        browser, refusing.page("plain.html"), page_errors, width=360, height=740, locale="en-US"
    )
    try:
        page.locator("madoguchi-widget .launch").click()
        ask_by_keyboard(page, "Can I get a parking permit for my visitors?")
        bubble = last_answer(page)
        assert "refused" in (bubble.get_attribute("class") or "")
        assert bubble.get_attribute("lang") == "en"
        text = bubble.locator(".text").first.inner_text()
        found = CONTACT.search(text)
        assert found, text
        dept, english, phone = found.groups()
        # the Japanese name to say at the counter, and its name from the town's table
        assert english == names[dept]["en"]
        href = "tel:+81-" + phone[1:]
        assert bubble.locator(".text a").get_attribute("href") == href
        call = bubble.locator(".call a")
        assert call.get_attribute("href") == href and call.inner_text() == f"Tel. {phone}"
        box = call.bounding_box()
        assert box and box["height"] >= 44  # a touch target
        assert_fits(page)
        phone_shot(page, "i15-widget-refusal-en.png", tmp_path, screenshot_dir)
        assert page_errors == []
    finally:
        context.close()


def test_a_refusal_in_chinese_and_in_easy_japanese(
    browser, refusing, tmp_path, screenshot_dir, page_errors
):
    context, page = open_page(
        browser, refusing.page("plain.html"), page_errors, width=360, height=740, locale="ja-JP"
    )
    try:
        page.locator("madoguchi-widget .launch").click()
        page.locator("madoguchi-widget .intro .chip").first.wait_for()  # config loaded
        ask_by_keyboard(page, "我想办停车许可证，应该怎么办？")
        zh = last_answer(page)
        assert zh.get_attribute("lang") == "zh-Hans"
        text = zh.locator(".text").first.inner_text()
        # 「请联系住民课…」: the Japanese name, its Chinese name and the phone in one bracket
        assert re.search(r"请联系\S+（[^（）]+，电话 01234-5-\d{4}）。", text), text
        assert zh.locator(".call a").get_attribute("href").startswith("tel:+81-1234-5-")
        # a number is never broken over two lines
        for a in zh.locator("a[href^='tel:']").all():
            assert len(a.evaluate("e => [...e.getClientRects()].map(r => r.top)")) == 1
        page.locator("madoguchi-widget select").select_option("ja-easy")
        ask_by_keyboard(page, "ちゅうしゃじょうの きょかは どう しますか")
        easy = last_answer(page)
        assert easy.get_attribute("lang") == "ja"  # やさしい日本語 is Japanese to the browser
        text = easy.locator(".text").first.inner_text()
        assert text.startswith("ごめんなさい") and "に 聞いて ください" in text
        assert re.search(r"（[^（）]+まどぐち、電話 01234-5-\d{4}）", text), text
        assert_fits(page)
        phone_shot(page, "i15-widget-refusal-zh-easy.png", tmp_path, screenshot_dir)
        assert page_errors == []
    finally:
        context.close()


def test_suggested_questions_follow_the_menu_language(
    browser, town, tmp_path, screenshot_dir, page_errors
):
    from madoguchi.kit.config import DEFAULT_SUGGESTIONS, DEFAULT_SUGGESTIONS_TRANSLATED

    context, page = open_page(browser, town.page("plain.html"), page_errors, width=360, height=740)
    try:
        page.locator("madoguchi-widget .launch").click()
        chips = page.locator("madoguchi-widget .intro .chip")
        chips.first.wait_for()
        select = page.locator("madoguchi-widget select")
        select.select_option("ja")
        assert chips.all_text_contents() == list(DEFAULT_SUGGESTIONS)
        select.select_option("en")
        english = list(DEFAULT_SUGGESTIONS_TRANSLATED["en"])
        assert chips.all_text_contents() == english
        assert_fits(page)
        phone_shot(page, "i15-widget-en-suggestions.png", tmp_path, screenshot_dir)
        select.select_option("ja-easy")
        assert chips.all_text_contents() == list(DEFAULT_SUGGESTIONS_TRANSLATED["ja-easy"])
        select.select_option("en")
        # the button asks its own text, and the answer comes back in the menu's language
        with page.expect_request("**/api/v1/ask/stream") as req:
            chips.first.click()
        assert req.value.post_data_json["question"] == english[0]
        assert req.value.post_data_json["lang"] == "en"
        assert last_answer(page).get_attribute("lang") == "en"
        assert page_errors == []
    finally:
        context.close()
