"""The staff screen: its actions as Python functions, /admin behind the key, one screenshot."""

from __future__ import annotations

import contextlib
import csv
import re
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError
from madoguchi.ui.admin import (
    AdminActions,
    IngestCancelled,
    build_admin,
    failure,
    natural_key,
    upload_dir_for,
)
from madoguchi.ui.admin_messages import say
from madoguchi.ui.api import create_app
from tests.ui.test_api import Q, make_services

KEY = "admin-key-for-tests"

FAQ = (
    "ID,質問,回答,所管部署,電話番号\n"
    "1,犬の登録はどうすればいいですか。,役場の環境衛生課で登録してください。手数料は3000円です。,環境衛生課,01234-5-1103\n"
    "2,図書館は何時まで開いていますか。,町立図書館は午前9時から午後6時までです。,生涯学習課,01234-5-1109\n"
)


@pytest.fixture
def setup(settings, tmp_path):
    conf = settings.with_overrides(**{"server.upload_dir": str(tmp_path / "uploads")})
    svc = make_services(conf)
    log = ConversationLog.in_data_dir(conf.data_dir)
    actions = AdminActions(lambda: svc, lambda: log, conf, incoming_dir=tmp_path / "incoming")
    (tmp_path / "incoming").mkdir()
    return actions, svc, log, tmp_path


def test_upload_dir_default_is_beside_the_data_dir(settings):
    assert upload_dir_for(settings) == settings.data_dir.parent / "data-uploads"


def test_upload_ingest_list_and_remove(setup, monkeypatch):
    actions, _svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    incoming = tmp / "incoming"
    (incoming / "faq.csv").write_text(FAQ, encoding="utf-8")
    (incoming / "virus.exe").write_bytes(b"MZ")
    seen: list[int] = []
    text = actions.upload_and_ingest(
        [str(incoming / "faq.csv"), str(incoming / "virus.exe")], lambda n, _d: seen.append(n)
    )
    assert "追加 2 件" in text and seen == [1, 2]
    assert "virus.exe: この種類のファイル（.exe）は取り込めません" in text
    assert (tmp / "uploads" / "faq.csv").is_file()
    assert not (tmp / "uploads" / "virus.exe").exists()
    rows = actions.sources()
    assert [r[0] for r in rows] == ["faq.csv#1", "uploads/faq.csv#1", "uploads/faq.csv#2"]
    assert rows[1][1] == "FAQ" and rows[1][3] == "犬の登録はどうすればいいですか。"
    assert [r[0] for r in actions.sources("uploads/")] == ["uploads/faq.csv#1", "uploads/faq.csv#2"]
    # re-sync: unchanged files are skipped
    assert "変更なし 2 件" in actions.resync()
    assert actions.remove("uploads/faq.csv") == "2 件の出典を削除しました。"
    assert not (tmp / "uploads" / "faq.csv").exists()  # the uploaded copy goes too
    assert [r[0] for r in actions.sources()] == ["faq.csv#1"]
    with pytest.raises(InputError, match=r"「uploads/none\.csv」という出典は索引にありません"):
        actions.remove("uploads/none.csv")
    with pytest.raises(InputError, match="削除する出典が入っていません"):
        actions.remove("  ")
    with pytest.raises(InputError, match="ファイルが選ばれていません"):
        actions.upload_and_ingest([])


def test_any_file_is_accepted_and_an_unreadable_one_is_explained_in_japanese(setup, monkeypatch):
    """The upload box takes any file; a .doc gets the kit's advice (save it as .docx) in
    Japanese, and nothing of it is kept."""
    actions, _svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    (tmp / "incoming" / "古い案内.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp / "incoming" / "memo.md").write_text("# 見出し\n本文です。", encoding="utf-8")
    text = actions.upload_and_ingest(
        [str(tmp / "incoming" / n) for n in ("古い案内.doc", "memo.md")]
    )
    assert "古い案内.doc: 古い Word 形式（.doc）のファイルは読めません" in text
    assert ".docx" in text and "追加 1 件" in text
    assert not (tmp / "uploads" / "古い案内.doc").exists()
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,} [a-z]{3,}", text.split("<details>")[0])


def test_the_filter_matches_any_part_and_ids_sort_naturally(setup, monkeypatch):
    actions, svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    rows = "".join(f"{i},質問{i}ですか。,回答{i}です。,総務課,01234-5-1101\n" for i in range(1, 13))
    Path("many.csv").write_text("ID,質問,回答,所管部署,電話番号\n" + rows, encoding="utf-8")
    svc.ingest(["many.csv"])
    ids = [r[0] for r in actions.sources("many")]
    assert ids == [f"many.csv#{i}" for i in range(1, 13)]  # #2 before #10
    assert [r[0] for r in actions.sources("ANY.CSV#1")] == ["many.csv#1", "many.csv#10",
                                                            "many.csv#11", "many.csv#12"]  # fmt: skip
    assert [r[0] for r in actions.sources("質問7")] == ["many.csv#7"]  # by title too
    assert actions.sources("どこにもない") == []
    assert natural_key("a#2") < natural_key("a#10") < natural_key("b#1")


def test_cancel_stops_an_ingest_between_documents(setup, monkeypatch):
    actions, svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    started, go = threading.Event(), threading.Event()
    outcome: list[object] = []

    def report(n, _desc):
        if n == 1:
            started.set()
            go.wait(10)

    def run():
        try:
            outcome.append(actions.ingest_paths([Path("faq.csv")], report))
        except Exception as exc:
            outcome.append(exc)

    assert actions.cancel_ingest() == "実行中の取り込みはありません。"
    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(10)
    with pytest.raises(InputError, match="別の取り込みが実行中です"):
        actions.ingest_paths([Path("faq.csv")])
    said: list[str] = []
    canceller = threading.Thread(target=lambda: said.append(actions.cancel_ingest()))
    canceller.start()
    while not actions._cancel.is_set():
        time.sleep(0.01)
    go.set()
    worker.join(10)
    canceller.join(10)
    assert isinstance(outcome[0], IngestCancelled) and "中止しました" in str(outcome[0])
    assert said[0].startswith("取り込みを中止しました")
    assert "faq.csv#2" not in [s.source_id for s in svc.index.sources()]
    # the next run takes everything in
    assert "取り込みが終わりました" in actions.ingest_paths([Path("faq.csv")])
    assert "faq.csv#2" in [s.source_id for s in svc.index.sources()]


def test_kit_messages_are_said_in_japanese():
    ja, original = say("unsupported: old Word format '.doc'; save it as .docx")
    assert "Word" in ja and ".docx" in ja and original and "old Word" in original
    ja, _ = say("synonyms.csv: line 3: a group needs two or more different words; line 5: "
                "a word over 40 characters (あいう…)")  # fmt: skip
    assert ja.splitlines()[0].startswith("3 行目: ") and ja.splitlines()[1].startswith("5 行目: ")
    assert say("the question is empty")[0] == "質問が空です。質問を入力してから押してください。"
    assert say("すでに日本語です。") == ("すでに日本語です。", None)
    ja, original = say("案内.pdf: something nobody foresaw")
    assert "処理できませんでした" in ja and original == "案内.pdf: something nobody foresaw"
    ja, original = say("something nobody foresaw")
    assert "処理できませんでした" in ja and original == "something nobody foresaw"


def test_a_failing_handler_changes_only_its_status_area():
    """What keeps the screen usable: a failure updates the status, never the tables."""
    from madoguchi.ui.admin import _reports_to

    status = object()

    @_reports_to(status)
    def works(x):
        return "ok", [[x]]

    @_reports_to(status)
    def fails(_x):
        raise InputError("the question is empty")

    @_reports_to(status)
    def crashes(_x):
        raise RuntimeError("boom")

    assert works(1) == ("ok", [[1]])
    out = fails(1)
    assert (
        list(out) == [status]
        and "質問が空です" in out[status]
        and "できませんでした" in out[status]
    )
    assert "<details><summary>詳細</summary>" in out[status]
    out = crashes(1)
    assert "思いがけないエラー" in out[status] and "RuntimeError: boom" in out[status]
    assert "the question is empty" in failure(InputError("the question is empty"))


def test_the_popup_guard_speaks_japanese_too():
    """``_guard`` (for a handler without a status area) raises Gradio's message with a
    Japanese title and text, not "Error" and the kit's English."""
    import gradio as gr

    from madoguchi.ui.admin import _guard

    @_guard
    def fails():
        raise InputError("the question is empty")

    with pytest.raises(gr.Error) as got:
        fails()
    assert got.value.title == "できませんでした" and got.value.message.startswith("質問が空です")


def test_upload_names_cannot_escape_the_folder(setup, monkeypatch):
    actions, _svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    src = tmp / "incoming" / "x.md"
    src.write_text("# 見出し\n本文です。", encoding="utf-8")
    weird = tmp / "incoming" / "..?evil.md"
    weird.write_text("# 見出し\n本文です。", encoding="utf-8")
    saved, refused = actions.save_uploads([str(src), str(weird)])
    assert not refused
    assert all(p.parent == tmp / "uploads" for p in saved)


def test_only_files_from_the_incoming_folder_are_taken(setup, monkeypatch):
    """An upload event names a path; one outside the folder Gradio uploads to, or a link
    from inside it to a file outside, is refused and nothing is indexed."""
    actions, svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    outside = tmp / "secret.csv"
    outside.write_text(FAQ, encoding="utf-8")
    link = tmp / "incoming" / "link.csv"
    link.symlink_to(outside)
    sneaky = tmp / "incoming" / ".." / "secret.csv"
    before = [s.source_id for s in svc.index.sources()]
    text = actions.upload_and_ingest([str(outside), str(link), str(sneaky)])
    # secret.csv twice (by two paths), said once
    assert text.count("アップロードされたファイルではありません") == 2
    assert [s.source_id for s in svc.index.sources()] == before
    assert not (tmp / "uploads" / "secret.csv").exists()


def test_try_question_shows_passages_and_scores_without_logging(setup):
    actions, _svc, log, _ = setup
    md, rows = actions.try_question(Q)
    assert "### 回答" in md and "確からしさ" in md and "faq.csv#1" in md
    assert "答え方: FAQ の回答" in md and "言語: 日本語" in md
    assert "confidence" not in md and "_ms" not in md and "mode" not in md
    assert rows[0][0] == 1 and rows[0][1] == "faq.csv#1" and rows[0][3] > 0
    assert rows[0][4].startswith(Q)
    full = actions.try_question_full(Q)
    assert full.rows == rows and full.answer.split("・")[:2] == md.split("・")[:2]
    # the figures behind it are in the 詳細 fold
    assert full.detail_rows[0][1] == "faq.csv#1" and full.detail_rows[0][3] > 0
    assert "dense:1" in full.detail_rows[0][5]
    assert "embed_ms" in full.details and "faq" in full.details
    assert log.count() == 0
    with pytest.raises(InputError):
        actions.try_question("   ")


def test_logs_filters_and_unanswered_export(setup):
    actions, _svc, log, _ = setup

    def add(q, refused=False):
        return log.record(
            question=q, lang="ja", answer="a", citations=[], refused=refused,
            mode="abstain" if refused else "faq", confidence=0.5, latency_ms=10,
        )  # fmt: skip

    add("粗大ごみ")
    add("宇宙船の免許", refused=True)
    t = add("ごみの日")
    log.feedback(t.id, False, "違う")
    assert len(actions.logs()) == 3
    assert [r[1] for r in actions.logs("回答できなかった")] == ["宇宙船の免許"]
    thumbs = actions.logs("役に立たなかった（👎）")
    assert (
        [r[1] for r in thumbs] == ["ごみの日"] and thumbs[0][6] == "👎" and thumbs[0][7] == "違う"
    )
    assert "記録 3 件" in actions.log_summary() and "回答できた割合 67%" in actions.log_summary()
    row = actions.logs()[-1]
    assert row[2:5] == ["日本語", "FAQ の回答", 0.5] and row[10] == 0.01  # seconds
    path = Path(actions.export_unanswered())
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert sorted(r["question"] for r in rows) == ["ごみの日", "宇宙船の免許"]


def test_without_a_log(settings):
    svc = make_services(settings)
    actions = AdminActions(lambda: svc, lambda: None, settings)
    assert actions.logs() == [] and "無効" in actions.log_summary()
    with pytest.raises(InputError):
        actions.export_unanswered()


def test_the_blocks_build(setup):
    import gradio as gr

    assert isinstance(build_admin(setup[0]), gr.Blocks)


@pytest.fixture
def admin_app(settings, tmp_path):
    conf = settings.with_overrides(
        **{"server.admin_key": KEY, "server.upload_dir": str(tmp_path / "uploads")}
    )
    return create_app(services=make_services(conf))


def test_admin_screen_requires_the_key(admin_app):
    with TestClient(admin_app) as c:
        r = c.get("/admin/", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        r = c.get("/admin/config")
        assert r.status_code == 401 and r.json()["error"] == "AdminRequired"
        r = c.post("/admin/gradio_api/queue/join", json={})
        assert r.status_code == 401
        r = c.get("/admin/", headers={"x-api-key": KEY})
        assert r.status_code == 200 and "gradio" in r.text.lower()
        c.post("/login", data={"key": KEY})
        assert c.get("/admin/config").status_code == 200


def test_admin_screen_off_without_a_key(settings):
    with TestClient(create_app(services=make_services(settings))) as c:
        assert c.get("/admin/config").status_code == 403


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _choose_file(page, path: Path, trouble: list[str], shot: Path) -> None:
    """Put a file in the upload box and wait until the box shows its name.

    Once on CI the box stayed empty for 20 s after the file was set (not seen
    again here, not even with the cores loaded), so a file that does not show up
    is chosen again, as a person would; after three tries the test fails with a
    screenshot and everything the page logged.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        page.locator("input[type=file][multiple]").set_input_files(str(path))
        try:
            # the box lists it as <td class=filename><span class=stem>name</span>.ext</td>
            page.locator(".file-preview td.filename", has_text=path.stem).first.wait_for(
                timeout=10000
            )
            if attempt:  # passed, but say so: the flake's cause is still unknown
                warnings.warn(
                    f"the upload box showed {path.name} only at try {attempt + 1}: "
                    + "; ".join(trouble),
                    stacklevel=1,
                )
            return
        except PlaywrightTimeout:
            trouble.append(f"{path.name} not shown 10 s after it was chosen")
    page.screenshot(path=str(shot), full_page=True)
    pytest.fail(f"the upload box never showed {path.name} (see {shot}):\n" + "\n".join(trouble))


def _visible(page, text: str, exact: bool = False):
    return page.get_by_text(text, exact=exact).filter(visible=True).first


def _cell(page, text: str):
    """A table cell as drawn (Gradio draws the rows as a grid of ``.body-cell`` boxes; its
    ``<table>`` only measures them and stays empty)."""
    exactly = re.compile(rf"^\s*{re.escape(text)}\s*$")
    return page.locator(".body-cell").filter(has_text=exactly).filter(visible=True).first


def _table_shows(page, text: str, timeout: float = 20000) -> None:
    _cell(page, text).wait_for(timeout=timeout)


@contextlib.contextmanager
def _logged_in(browser, app):
    """The app in uvicorn on loopback, and a Japanese browser page logged in to /admin/;
    yields (page, port, what the page said)."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        trouble: list[str] = []  # what the page said, for the failure message
        page.on("console", lambda m: trouble.append(f"console {m.type}: {m.text}"))
        page.on("pageerror", lambda e: trouble.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: trouble.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("requestfailed", lambda r: trouble.append(f"failed {r.url}: {r.failure}"))
        page.goto(f"http://127.0.0.1:{port}/admin/")
        assert "/login" in page.url  # not logged in: the login form
        page.fill("#key", KEY)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/")
        _table_shows(page, "faq.csv#1")  # the load events filled the list: the app is live
        yield page, port, trouble
        page.close()
    finally:
        server.should_exit = True
        th.join(timeout=10)


def test_admin_screen_in_japanese(browser, screenshot_dir, admin_app, tmp_path, monkeypatch):
    """A member of staff's afternoon, in headless Chromium with a Japanese browser: log in,
    press 取り込む with no file, ingest a FAQ, upload a .doc, remove a source that is not
    there, filter, remove one that is; try a question and open 詳細; a bad synonym line and
    a good one. Each error is said in Japanese in the tab's status area, and the tables
    keep their rows: the screen stays usable."""
    monkeypatch.chdir(tmp_path)
    with _logged_in(browser, admin_app) as (page, port, trouble):
        try:
            _walk_through_the_screen(page, port, tmp_path, trouble, screenshot_dir)
        except Exception:
            page.screenshot(path=str(screenshot_dir / "admin_failed.png"), full_page=True)
            raise


def test_a_long_ingest_shows_progress_and_can_be_stopped(
    browser, screenshot_dir, settings, tmp_path, monkeypatch
):
    """A FAQ of 40 rows read at 0.3 s a row (the real pipeline, slowed in its progress
    callback): the screen counts the documents, and 中止 stops the run between two of
    them; the table keeps what was there and the screen stays usable."""
    monkeypatch.chdir(tmp_path)
    conf = settings.with_overrides(
        **{"server.admin_key": KEY, "server.upload_dir": str(tmp_path / "uploads")}
    )
    svc = make_services(conf)
    real_ingest = svc.ingest

    def slow_ingest(roots, progress=None, **kw):
        def slowly(event, n):
            time.sleep(0.3)
            if progress is not None:
                progress(event, n)

        return real_ingest(roots, progress=slowly, **kw)

    svc.ingest = slow_ingest
    rows = "".join(f"{i},質問{i}ですか。,回答{i}です。,総務課,01234-5-1101\n" for i in range(1, 41))
    faq = tmp_path / "long.csv"
    faq.write_text("ID,質問,回答,所管部署,電話番号\n" + rows, encoding="utf-8")
    with _logged_in(browser, create_app(services=svc)) as (page, _port, trouble):
        try:
            _choose_file(page, faq, trouble, screenshot_dir / "admin_upload_failed.png")
            page.get_by_role("button", name="取り込む", exact=True).click()
            _visible(page, "件目の文書を処理中").wait_for(timeout=30000)
            _table_shows(page, "faq.csv#1", timeout=1000)  # the list stays readable meanwhile
            page.screenshot(path=str(screenshot_dir / "admin_progress_1280.png"))
            page.get_by_role("button", name="中止", exact=True).click()
            _visible(page, "取り込みを中止しました").wait_for(timeout=40000)
            _table_shows(page, "faq.csv#1")
            page.screenshot(path=str(screenshot_dir / "admin_cancelled_1280.png"))
        except Exception:
            page.screenshot(path=str(screenshot_dir / "admin_failed.png"), full_page=True)
            raise
    indexed = [s.source_id for s in svc.index.sources() if s.source_id.startswith("uploads/")]
    assert len(indexed) < 40  # stopped before the end


def _walk_through_the_screen(page, port: int, tmp_path: Path, trouble, screenshot_dir) -> None:
    from playwright.sync_api import expect

    # the screen's load events have filled the source list: the app is live
    _table_shows(page, "faq.csv#1")
    ingest = page.get_by_role("button", name="取り込む", exact=True)

    # 1. 取り込む with no file: said in Japanese, the table keeps its row
    ingest.click()
    _visible(page, "ファイルが選ばれていません").wait_for(timeout=20000)
    _table_shows(page, "faq.csv#1")

    # 2. a FAQ CSV through the upload box
    faq = tmp_path / "inu.csv"
    faq.write_text(FAQ, encoding="utf-8")
    _choose_file(page, faq, trouble, screenshot_dir / "admin_upload_failed.png")
    ingest.click()
    _visible(page, "取り込みが終わりました").wait_for(timeout=60000)
    _visible(page, "追加 2 件").wait_for()
    _table_shows(page, "uploads/inu.csv#2")
    assert not _visible(page, "tokens/s").is_visible()  # only in the 詳細 fold
    page.screenshot(path=str(screenshot_dir / "admin_documents_1280.png"), full_page=True)

    # 3. an old Word file: the box takes it, the kit's advice comes back in Japanese
    page.get_by_role("button", name=re.compile("クリア|Clear")).first.click()
    _visible(page, "ファイルをここにドロップ").wait_for(timeout=10000)  # the box is empty
    old = tmp_path / "古い案内.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    _choose_file(page, old, trouble, screenshot_dir / "admin_upload_failed.png")
    ingest.click()
    _visible(page, "古い Word 形式（.doc）のファイルは読めません").wait_for(timeout=60000)
    assert not _visible(page, "Invalid file type").is_visible()
    _table_shows(page, "uploads/inu.csv#1")

    # 4. removing a source that is not there
    remove = page.get_by_label("削除する出典（ファイル名なら、その行すべて）")
    remove.fill("nai.csv")
    page.get_by_role("button", name="削除", exact=True).click()
    _visible(page, "「nai.csv」という出典は索引にありません").wait_for(timeout=20000)
    _table_shows(page, "uploads/inu.csv#1")  # still there, not a red エラー
    assert not page.get_by_text("Error", exact=True).filter(visible=True).count()
    page.screenshot(path=str(screenshot_dir / "admin_error_1280.png"), full_page=True)

    # 5. the screen is still usable: filter by a middle part, pick a row, remove it
    box = page.get_by_label("絞り込み（出典や題名の一部）")
    box.fill("inu.csv#2")
    box.press("Enter")
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.body-cell')].some("
        "c => c.innerText.trim() === 'faq.csv#1')",
        timeout=20000,
    )
    _table_shows(page, "uploads/inu.csv#2")
    _cell(page, "uploads/inu.csv#2").click()
    expect(remove).to_have_value("uploads/inu.csv#2", timeout=20000)  # the row picked
    page.get_by_role("button", name="削除", exact=True).click()
    _visible(page, "1 件の出典を削除しました").wait_for(timeout=20000)
    box.fill("")
    box.press("Enter")
    _table_shows(page, "uploads/inu.csv#1")

    # 6. try a question; the figures are in the 詳細 fold
    page.get_by_role("tab", name="質問を試す").click()
    page.get_by_label("質問", exact=True).fill(Q)
    page.get_by_role("button", name="答えを見る").click()
    _visible(page, "確からしさ").wait_for(timeout=20000)
    _visible(page, "答えのもとになった文章").wait_for()
    assert not _visible(page, "embed_ms").is_visible()
    page.get_by_text("詳細（検索の点数と時間）").click()
    _visible(page, "embed_ms").wait_for(timeout=10000)
    page.screenshot(path=str(screenshot_dir / "admin_try_1280.png"), full_page=True)

    # 7. the synonym list: saved, then a bad line replaces the message, then saved
    page.get_by_role("tab", name="言い換え").click()
    syn = page.get_by_label("言い換え辞書")
    save = page.get_by_role("button", name="保存", exact=True)
    syn.fill("ワンちゃん, 犬\n")
    save.click()
    _visible(page, "保存しました").wait_for(timeout=20000)
    syn.fill("ワンちゃん\n")
    save.click()
    _visible(page, "1 行目: 1 行には").wait_for(timeout=20000)
    assert not _visible(page, "保存しました").is_visible()  # the old message is gone
    assert not _visible(page, "a group needs").is_visible()
    page.screenshot(path=str(screenshot_dir / "admin_synonyms_1280.png"), full_page=True)
    syn.fill("ワンちゃん, 犬\n")
    save.click()
    _visible(page, "保存しました").wait_for(timeout=20000)
    # a resident's question the documents have no word for: suggested from the log
    r = page.request.post(
        f"http://127.0.0.1:{port}/api/v1/ask", data={"question": "ハムスターのケージの処分"}
    )
    assert r.ok
    if not r.json()["refused"]:  # answered (the test embedder is no judge): 👎 it
        page.request.post(
            f"http://127.0.0.1:{port}/api/v1/feedback",
            data={"answer_id": r.json()["answer_id"], "helpful": False},
        )
    page.get_by_role("button", name="言い換えの候補を出す（会話ログから）").click()
    page.get_by_text("ハムスター", exact=True).filter(visible=True).first.wait_for(timeout=20000)
    page.get_by_role("tab", name="質問を試す").click()
    page.get_by_label("質問", exact=True).fill("ワンちゃんの登録")
    page.get_by_role("button", name="答えを見る").click()
    _visible(page, "ワンちゃん → 犬").wait_for(timeout=20000)

    # 8. the log
    page.get_by_role("tab", name="会話ログ").click()
    page.get_by_role("button", name="表示", exact=True).filter(visible=True).first.click()
    _visible(page, "回答できた割合").wait_for(timeout=20000)
    _table_shows(page, "ハムスターのケージの処分")
    page.screenshot(path=str(screenshot_dir / "admin_log_1280.png"), full_page=True)


def test_gradio_temp_dir_is_private_to_the_process(monkeypatch):
    import os
    import stat
    import tempfile

    from madoguchi.kit.errors import ConfigError
    from madoguchi.ui.admin import gradio_temp_dir

    path = gradio_temp_dir()
    assert gradio_temp_dir() == path  # one per process
    assert os.environ["GRADIO_TEMP_DIR"] == str(path)
    if path.name.startswith("madoguchi-admin-"):  # ours, not an operator's GRADIO_TEMP_DIR
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0  # mode 0700
    monkeypatch.setenv("GRADIO_TEMP_DIR", tempfile.gettempdir())
    with pytest.raises(ConfigError, match="GRADIO_TEMP_DIR"):
        gradio_temp_dir()


def test_machine_translations_are_listed_approved_edited_and_rejected(setup, monkeypatch):
    from madoguchi.connectors.faq_csv import (
        MachineTranslation,
        read_machine_translations,
        source_hash,
        write_machine_translations,
    )

    actions, svc, _log, tmp = setup
    monkeypatch.chdir(tmp)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    rows = list(csv.reader(FAQ.splitlines()))[1:]
    h = {r[0]: source_hash(r[1], r[2]) for r in rows}
    write_machine_translations(
        Path("faq_en.mt.csv"),
        {
            "1": MachineTranslation("1", "How do I register a dog?", "Register at the office. "
                                    "The fee is 3000 yen.", "machine", h["1"], "m"),
            "2": MachineTranslation("2", "Library hours?", "From 9 a.m.", "review", h["2"], "m",
                                    note="the figure 6 is missing"),
        },
    )  # fmt: skip
    svc.ingest(["faq.csv"])
    metas = {c.source_id: c.meta for c in svc.index.view().chunks()}
    assert metas["faq.csv#1"]["machine_langs"] == "en" and "answer_en" not in metas["faq.csv#2"]

    listed = actions.translations()
    assert [r[:3] for r in listed] == [
        ["faq.csv#1", "英語", "機械翻訳"],
        ["faq.csv#2", "英語", "要確認"],
    ]
    assert (
        listed[0][3].startswith("犬の登録はどうすればいいですか。") and "3000 yen" in listed[0][4]
    )
    assert listed[1][5] == "the figure 6 is missing"
    q, a, ja = actions.translation("faq.csv#2", "en")
    assert (q, a) == ("Library hours?", "From 9 a.m.") and "午後6時" in ja

    msg = actions.decide_translation("faq.csv#2", "en", q, "From 9 a.m. to 6 p.m.", "approve")
    assert "承認しました" in msg and "更新 1 件" in msg and "点検" not in msg
    msg = actions.decide_translation("faq.csv#1", "en", "", "", "reject")
    assert "却下しました" in msg
    assert actions.translations() == []  # nothing left to check
    assert [r[2] for r in actions.translations("すべて")] == ["却下", "承認済み"]
    saved = read_machine_translations(Path("faq_en.mt.csv"))
    assert saved["2"].status == "approved" and saved["2"].answer == "From 9 a.m. to 6 p.m."
    assert saved["1"].status == "rejected"
    metas = {c.source_id: c.meta for c in svc.index.view().chunks()}
    assert metas["faq.csv#2"]["answer_en"] == "From 9 a.m. to 6 p.m."
    assert "machine_langs" not in metas["faq.csv#2"] and "answer_en" not in metas["faq.csv#1"]

    # the Japanese changes: the approval no longer holds, the row shows as stale
    Path("faq.csv").write_text(FAQ.replace("午後6時", "午後7時"), encoding="utf-8")
    assert [r[2] for r in actions.translations()] == ["日本語の原文が変更された"]
    with pytest.raises(InputError, match="翻訳が選ばれていません"):
        actions.decide_translation("", "en", "", "", "approve")
    with pytest.raises(InputError, match="索引にある FAQ ではありません"):
        actions.decide_translation("other.csv#1", "en", "", "", "approve")


def test_the_translations_tab_in_a_browser(
    browser, screenshot_dir, settings, tmp_path, monkeypatch
):
    """The 翻訳 tab: the list names the language in Japanese, a row picked fills the editor,
    approving it says so in the tab's status area and refreshes the list."""
    from madoguchi.connectors.faq_csv import (
        MachineTranslation,
        read_machine_translations,
        source_hash,
        write_machine_translations,
    )

    monkeypatch.chdir(tmp_path)
    conf = settings.with_overrides(
        **{"server.admin_key": KEY, "server.upload_dir": str(tmp_path / "uploads")}
    )
    svc = make_services(conf)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    row = list(csv.reader(FAQ.splitlines()))[1]
    write_machine_translations(
        Path("faq_en.mt.csv"),
        {"1": MachineTranslation("1", "How do I register a dog?", "At the office; 3000 yen.",
                                 "machine", source_hash(row[1], row[2]), "m")},
    )  # fmt: skip
    svc.ingest(["faq.csv"])
    with _logged_in(browser, create_app(services=svc)) as (page, _port, _trouble):
        from playwright.sync_api import expect

        try:
            page.get_by_role("tab", name="翻訳").click()
            _table_shows(page, "英語")
            _table_shows(page, "機械翻訳")
            _cell(page, "faq.csv#1").click()
            expect(page.get_by_label("翻訳した質問")).to_have_value(
                "How do I register a dog?", timeout=20000
            )
            page.get_by_role("button", name="承認", exact=True).click()
            _visible(page, "承認しました").wait_for(timeout=20000)
            page.screenshot(path=str(screenshot_dir / "admin_translations_1280.png"))
        except Exception:
            page.screenshot(path=str(screenshot_dir / "admin_failed.png"), full_page=True)
            raise
    assert read_machine_translations(Path("faq_en.mt.csv"))["1"].status == "approved"
