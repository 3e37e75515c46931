"""The staff screen's inbox tab: a resident's message arrives, staff answer it, and it
becomes an FAQ draft; as Python actions and in Chromium (with a screenshot)."""

from __future__ import annotations

import csv
import threading
import time

import pytest

from madoguchi.kit.errors import InputError
from madoguchi.kit.handoff import HandoffInbox
from madoguchi.ui.admin_inbox import InboxActions
from madoguchi.ui.api import create_app
from tests.ui.test_admin import KEY, _free_port
from tests.ui.test_api import make_services

MESSAGE = "公民館の和室を夜に借りたいです。連絡は 090-1111-2222 へ。"


@pytest.fixture
def conf(settings):
    return settings.with_overrides(**{"server.admin_key": KEY})


def test_message_answered_and_made_a_faq_draft(conf):
    inbox = HandoffInbox.in_data_dir(conf.data_dir)
    msg, token = inbox.open(MESSAGE, department="総合窓口", contact="090-1111-2222")
    actions = InboxActions(conf)
    (row,) = actions.rows("未回答")
    assert row[0] == msg.id and row[2] == "総合窓口" and row[3] == "未回答"
    assert "090-1111-2222" not in row[4] and "[電話]" in row[4]  # no consent: masked
    assert row[5] == "[電話]（同意なし: 伏せ字）"
    tid, shown, dept, reply = actions.pick(msg.id)
    assert tid == msg.id and dept == "総合窓口" and reply == ""
    assert "連絡先: [電話]" in shown
    assert "生涯学習課" in actions.assign(msg.id, "生涯学習課")
    with pytest.raises(InputError, match="返信していない"):
        actions.faq_draft(msg.id)
    assert "返信しました" in actions.reply(msg.id, "和室は夜9時まで借りられます。")
    assert actions.rows("未回答") == []
    assert actions.rows("回答済み")[0][6] == "和室は夜9時まで借りられます。"
    done = actions.faq_draft(msg.id)
    assert "FAQ 案 1" in done and "faq_drafts.csv" in done
    rows = list(csv.DictReader(conf.faq_drafts_path.open(encoding="utf-8-sig")))
    assert rows[0]["質問"] == "公民館の和室を夜に借りたいです。連絡は [電話] へ。"
    assert rows[0]["回答"] == "和室は夜9時まで借りられます。"
    assert rows[0]["所管部署"] == "生涯学習課"
    assert actions.rows("すべて")[0][7] == "済"
    assert "未回答 0 件 / 回答済み 1 件" in actions.summary()
    # the resident sees the reply
    seen = inbox.check(msg.id, token)
    assert seen is not None and seen.reply == "和室は夜9時まで借りられます。"
    with pytest.raises(InputError, match="選んでください"):
        actions.pick("")


def test_the_tab_builds_within_the_screen(conf):
    import gradio as gr

    from madoguchi.ui.admin import AdminActions, build_admin

    svc = make_services(conf)
    blocks = build_admin(AdminActions(lambda: svc, lambda: None, conf))
    assert isinstance(blocks, gr.Blocks)
    labels = [getattr(b, "label", None) for b in blocks.blocks.values()]
    assert "問い合わせ" in labels


def test_inbox_tab_in_the_browser(browser, screenshot_dir, conf, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import uvicorn

    app = create_app(services=make_services(conf))
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
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        # a resident's message arrives (through the widget's API)
        r = page.request.post(
            f"{base}/api/v1/handoff",
            data={"question": MESSAGE, "department": "総合窓口", "contact": "090-1111-2222",
                  "consent": True},
        )  # fmt: skip
        assert r.status == 201, r.text()
        ticket = r.json()
        page.goto(f"{base}/admin/")
        page.fill("#key", KEY)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/")
        page.get_by_role("tab", name="問い合わせ").click()
        cell = page.get_by_text(ticket["id"], exact=True).filter(visible=True).first
        cell.wait_for(timeout=20000)
        page.get_by_text("未回答 1 件").wait_for()
        cell.click()
        box = page.get_by_label("メッセージ", exact=True).filter(visible=True)
        page.wait_for_function(
            "id => [...document.querySelectorAll('textarea')].some(t => t.value.includes(id))",
            arg="090-1111-2222",
            timeout=20000,
        )
        assert "連絡先: 090-1111-2222" in box.input_value()  # consented: as written
        page.get_by_label("返信", exact=True).filter(visible=True).fill(
            "和室は夜9時まで借りられます。公民館へお電話ください。"
        )
        page.get_by_role("button", name="返信する").click()
        page.get_by_text("返信しました").wait_for(timeout=20000)
        page.get_by_role("button", name="FAQ 案にする").click()
        page.get_by_text("FAQ 案 1 を faq_drafts.csv に書きました").wait_for(timeout=20000)
        page.get_by_role("radio", name="すべて").check()
        page.get_by_text("回答済み 1 件").wait_for(timeout=20000)
        page.screenshot(path=str(screenshot_dir / "admin_inbox_1280.png"), full_page=True)
        # the resident's widget gets the reply; the draft is in the FAQ columns
        poll = page.request.get(
            f"{base}/api/v1/handoff/{ticket['id']}", params={"token": ticket["token"]}
        ).json()
        assert poll["status"] == "answered" and "夜9時" in poll["reply"]
        rows = list(csv.DictReader(conf.faq_drafts_path.open(encoding="utf-8-sig")))
        assert rows[0]["回答"].startswith("和室は夜9時まで") and rows[0]["所管部署"] == "総合窓口"
        assert "090-1111-2222" not in rows[0]["質問"]  # a FAQ is public: masked anyway
        page.close()
    finally:
        server.should_exit = True
        th.join(timeout=10)
