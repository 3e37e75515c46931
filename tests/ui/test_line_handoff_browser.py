"""The inbox tab with a message from LINE, in Chromium: staff reply, the push fails,
「LINEへの送信に失敗しました」 is shown, 「LINE に再送」 sends it once (screenshots)."""

from __future__ import annotations

import threading
import time

import httpx

from madoguchi.ui.api import create_app
from tests.ui.test_admin import _free_port
from tests.ui.test_line_handoff import (  # fixtures and helpers, not tests
    KEY,
    PUSH,
    QUESTION,
    USER,
    WEBHOOK,
    clock,
    conf,
    handoff_actions,
    inbox_rows,
    platform,
    refusing,
)

__all__ = ["clock", "conf", "platform", "refusing"]  # fixtures used by name


def test_a_line_reply_that_failed_is_shown_and_sent_again(
    browser, screenshot_dir, conf, platform, refusing, clock, tmp_path, monkeypatch
):
    import uvicorn

    monkeypatch.chdir(tmp_path)
    app = create_app(settings=conf, services=refusing, clock=clock)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"

        def deliver(ev):
            before = len(platform.deliveries)
            body = platform.body(ev)
            with httpx.Client(trust_env=False) as h:
                r = h.post(base + WEBHOOK, content=body, headers=platform.headers(body))
            assert r.status_code == 200, r.text
            # wait() holds the platform's lock while it checks: no platform.to() in there
            assert platform.wait(lambda: len(platform.deliveries) > before)
            return platform.to(USER)[-1][1]

        [offer] = handoff_actions(deliver(platform.text(USER, QUESTION)))
        [agree, _] = handoff_actions(
            deliver(platform.event(USER, "postback", postback={"data": offer["data"]}))
        )
        deliver(platform.event(USER, "postback", postback={"data": agree["data"]}))
        [row] = inbox_rows(conf)
        platform.script[PUSH] = [{"status": 500}] * 4  # every attempt of the first push

        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{base}/admin/")
        page.fill("#key", KEY)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/")
        page.get_by_role("tab", name="問い合わせ").click()
        cell = page.get_by_text(row["id"], exact=True).filter(visible=True).first
        cell.wait_for(timeout=20000)
        cell.click()
        page.wait_for_function(
            "q => [...document.querySelectorAll('textarea')].some(t => t.value.includes(q))",
            arg="090-1234-5678",  # consented on LINE: as written
            timeout=20000,
        )
        page.get_by_label("返信", exact=True).filter(visible=True).fill(
            "粗大ごみは電話で予約できます。"
        )
        page.get_by_role("button", name="返信する").click()
        page.get_by_text("LINEへの送信に失敗しました").first.wait_for(timeout=20000)
        page.screenshot(path=str(screenshot_dir / "line-handoff-failed-1280.png"), full_page=True)
        assert [k for k, _ in platform.to(USER)].count("push") == 0
        page.get_by_role("button", name="LINE に再送").click()
        page.get_by_text("LINE で住民に送りました").wait_for(timeout=20000)
        page.screenshot(path=str(screenshot_dir / "line-handoff-resent-1280.png"), full_page=True)
        page.close()
    finally:
        server.should_exit = True
        th.join(timeout=10)
    pushes = [m for k, m in platform.to(USER) if k == "push"]
    assert len(pushes) == 1 and pushes[0][0]["text"].endswith("粗大ごみは電話で予約できます。")
    assert inbox_rows(conf)[0]["delivery"] == "sent"
