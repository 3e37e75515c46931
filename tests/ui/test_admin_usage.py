"""The admin screen's 利用状況 tab: its actions as Python, then the screen in Chromium on a
synthetic month of 1,000+ conversations, with a FAQ entry written from an unanswered group."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from madoguchi.eval.synthlog import generate, read_sets, services_ask
from madoguchi.ingest.services import build_services
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError
from madoguchi.kit.usage import Period
from madoguchi.ui.admin import AdminActions
from madoguchi.ui.admin_usage import UsageActions

REPO = Path(__file__).resolve().parents[2]
SETS = [REPO / "demo" / "eval.jsonl", REPO / "demo" / "eval_multilingual.jsonl"]
KEY = "admin-key-for-usage-tests"
# an unanswerable question of the demo set, which the synthetic month asks in several wordings
PET_ANSWER = "町ではペットの火葬は行っていません。民間のペット霊園にご相談ください。"
ANSWER = "この質問への町の回答です。詳しくは総合窓口（01234-5-1101）へお問い合わせください。"


def last_month() -> Period:
    """The month before this one: inside the log's retention whatever the date."""
    return Period.containing(datetime.now(UTC).timestamp(), "month").previous()


def demo_settings(settings, tmp_path):
    return settings.with_overrides(
        **{
            "server.upload_dir": str(tmp_path / "uploads"),
            "server.admin_key": KEY,
            # the fake embedder's similarities run lower than a real model's (eval/synthlog)
            "answer.min_similarity": 0.0,
            "answer.conf_sim_center": 0.3,
        }
    )


@pytest.fixture
def town(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = demo_settings(settings, tmp_path)
    svc = build_services(conf)
    svc.ingest([str(REPO / "demo" / "faq.csv")])
    log = ConversationLog.in_data_dir(conf.data_dir)
    generate(log, services_ask(svc), read_sets(SETS), last_month(), n=300, seed=3)
    admin = AdminActions(lambda: svc, lambda: log, conf, incoming_dir=tmp_path / "incoming")
    (tmp_path / "incoming").mkdir()
    yield UsageActions.of(admin), svc, log, tmp_path
    log.close()


def test_overview_has_the_figures_plots_and_groups(town):
    actions, _svc, _log, _ = town
    month = last_month().label
    assert actions.latest_month() == month and month in actions.months()
    html, rows = actions.overview(month)
    assert html.count("<svg") == 3 and "質問数" in html and "聞き返し" in html
    assert rows and all(len(r) == 8 for r in rows)
    counts = [r[2] for r in rows]
    assert counts == sorted(counts, reverse=True)


def test_the_three_actions_from_the_tab(town):
    actions, svc, _log, tmp = town
    month = last_month().label
    _, rows = actions.overview(month)
    first, second = rows[0][0], rows[1][0]
    key, question, _words = actions.pick(month, first)
    assert key == first and question == rows[0][1]
    msg = actions.add_faq(month, key, question, PET_ANSWER, "環境衛生課", "01234-5-1103")
    assert "FAQ を追加しました" in msg and "uploads/faq_added.csv#1" in msg
    assert svc.ask(question).answer.citations[0].source_id == "uploads/faq_added.csv#1"
    _, rows = actions.overview(month)
    assert next(r for r in rows if r[0] == first)[7] == "FAQ 追加済み"
    msg = actions.out_of_scope(month, second, "町の業務ではない")
    assert "対象外にしました" in msg
    _, rows = actions.overview(month)
    assert second not in [r[0] for r in rows]
    third = rows[1][0]
    assert "言い換えを追加しました" in actions.add_synonym(month, third, "ワンちゃん、犬")
    assert svc.synonyms.current().expand("ワンちゃんの登録")
    path = Path(actions.export_report(month))
    assert path.is_relative_to(tmp / "incoming") and "利用状況レポート" in path.read_text("utf-8")


def test_bad_input_from_the_tab(town):
    actions, _svc, _log, _ = town
    month = last_month().label
    with pytest.raises(InputError, match="グループを選んで"):
        actions.add_faq(month, "", "q", "a", "", "")
    with pytest.raises(InputError, match=r"このグループ .* はありません"):
        actions.out_of_scope(month, "000000000000")
    _, rows = actions.overview(month)
    with pytest.raises(InputError, match="書き出し先にできません"):
        actions.add_faq(month, rows[0][0], "q", "a", "", "", target="/etc/passwd")
    with pytest.raises(InputError, match="YYYY-MM"):
        actions.overview("last month")


def test_without_a_log(settings, tmp_path):
    admin = AdminActions(lambda: None, lambda: None, settings)  # type: ignore[arg-type,return-value]
    actions = UsageActions.of(admin)
    assert len(actions.months()) == 1
    with pytest.raises(InputError, match="会話ログは無効"):
        actions.overview(actions.months()[0])


# ------------------------------------------------------------------ the screen


def test_usage_tab_in_chromium(browser, screenshot_dir, settings, tmp_path, monkeypatch):
    """1,000+ synthetic conversations of last month: the tab's plots and groups, then a FAQ
    entry written from the most asked unanswered group, answered at once through the API."""
    import uvicorn

    from madoguchi.ui.api import create_app
    from tests.ui.test_admin import _free_port

    monkeypatch.chdir(tmp_path)
    conf = demo_settings(settings, tmp_path)
    svc = build_services(conf)
    svc.ingest([str(REPO / "demo" / "faq.csv")])
    log = ConversationLog.in_data_dir(conf.data_dir)
    summary = generate(log, services_ask(svc), read_sets(SETS), last_month(), n=1000, seed=11)
    log.close()
    assert summary["conversations"] == 1000 and summary["turns"] >= 1000

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services=svc), host="127.0.0.1", port=port, log_level="warning")
    )
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/admin/")
        page.fill("#key", KEY)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/")
        page.get_by_role("tab", name="利用状況").click()
        page.locator(".madoguchi-usage svg").first.wait_for(timeout=30000)
        assert page.locator(".madoguchi-usage svg").count() == 3
        page.locator(".madoguchi-usage svg text").filter(has_text="日別の質問数").wait_for()
        page.screenshot(path=str(screenshot_dir / "admin_usage_1280.png"), full_page=True)

        # the most asked unanswered group: pick it, write the answer, index it
        grid = page.locator('[aria-label^="回答できなかった質問（"]')
        cell = grid.locator('[data-testid="cell-0-1"]')
        try:
            cell.click(timeout=20000)
        except Exception:
            page.screenshot(path=str(screenshot_dir / "admin_usage_failed.png"), full_page=True)
            (screenshot_dir / "admin_usage_failed.html").write_text(page.content())
            raise
        key_box = page.get_by_label("選んだグループ", exact=True).filter(visible=True)
        page.wait_for_function(
            "el => el.value.length === 12", arg=key_box.element_handle(), timeout=20000
        )
        question = page.get_by_label("質問", exact=True).filter(visible=True).input_value()
        assert question
        page.get_by_label("回答", exact=True).filter(visible=True).fill(ANSWER)
        page.get_by_label("所管部署", exact=True).filter(visible=True).fill("環境衛生課")
        page.get_by_label("電話番号", exact=True).filter(visible=True).fill("01234-5-1103")
        page.get_by_role("button", name="FAQ に追加して索引に入れる").click()
        page.get_by_text("FAQ を追加しました").wait_for(timeout=30000)
        grid.locator("[role=gridcell]").filter(has_text="FAQ 追加済み").first.wait_for(
            timeout=30000
        )
        page.screenshot(path=str(screenshot_dir / "admin_usage_faq_1280.png"), full_page=True)

        # a resident asks the same now: answered from the new entry
        r = page.request.post(f"{base}/api/v1/ask", data={"question": question})
        assert r.ok and not r.json()["refused"]
        assert r.json()["citations"][0]["source"] == "uploads/faq_added.csv#1"
        # this month: the action taken, and its group asked once since, answered
        this_month = Period.containing(datetime.now(UTC).timestamp(), "month")
        page.get_by_label("月", exact=True).filter(visible=True).click()
        page.get_by_role("option", name=this_month.label).click()
        page.get_by_text(this_month.label_ja + "の利用状況").wait_for(timeout=30000)
        page.get_by_text("FAQ を追加 1 件").wait_for(timeout=30000)
        effect = page.locator(".madoguchi-usage table tr").filter(
            has_text="uploads/faq_added.csv#1"
        )
        assert "0 / 1" in effect.inner_text()  # after: none of 1 unanswered
        page.wait_for_function("!document.body.innerText.includes('processing |')")
        page.screenshot(path=str(screenshot_dir / "admin_usage_effect_1280.png"), full_page=True)
        page.close()
    finally:
        server.should_exit = True
        th.join(timeout=10)
    rows = (tmp_path / "uploads" / "faq_added.csv").read_text("utf-8-sig").splitlines()
    assert rows[0].startswith("ID,地方公共団体コード,地方公共団体名,質問,回答")
    assert ANSWER in rows[1]


def test_the_api_logs_the_clarifying_question(settings, monkeypatch):
    """聞き返し counts come from the log's follow_up, which the API records."""
    import dataclasses

    from fastapi.testclient import TestClient

    from madoguchi.ui.api import create_app
    from tests.ui.test_api import Q, make_services

    svc = make_services(settings)
    plain = svc.answerer.answer

    def asking_back(*args, **kwargs):
        return dataclasses.replace(plain(*args, **kwargs), follow_up="どちらの地区ですか？")

    monkeypatch.setattr(svc.answerer, "answer", asking_back)
    with TestClient(create_app(services=svc, admin=False)) as c:
        r = c.post("/api/v1/ask", json={"question": Q})
        assert r.status_code == 200 and r.json()["follow_up"] == "どちらの地区ですか？"
        log = c.app.state.log
        turn = log.get(r.json()["answer_id"])
        assert turn is not None and turn.follow_up == "どちらの地区ですか？"
