"""The HTML report: self-contained, every section present, failures explained; opened in Chromium."""

from __future__ import annotations

import re

from madoguchi.eval.dataset import EvalItem
from madoguchi.eval.htmlreport import (
    ComparePage,
    RunPage,
    compare_html,
    failure_reason,
    run_html,
    write_report,
)
from madoguchi.eval.report import sweep_markdown
from madoguchi.eval.run import EvalRun as Run
from madoguchi.eval.run import ItemResult, Sweep, summarise


def res(item: EvalItem, **kw) -> ItemResult:
    base = dict(
        retrieved=["faq#1", "faq#2"],
        answer="1点300円です",
        refused=False,
        lang=item.lang,
        citations=[{"source": "faq#1", "title": "粗大ごみ", "url": None}],
        latency_ms=20.0,
        confidence=0.8,
        mode="faq",
        retrieved_titles=["粗大ごみの出し方", "家電リサイクル"],
    )
    base.update(kw)
    return ItemResult(item=item, **base)  # type: ignore[arg-type]


OK = EvalItem("ok", "粗大ごみは？", "ja", True, ("faq#1",), ("300円",))
WRONG_SOURCE = EvalItem("src", "犬の登録は？", "ja", True, ("faq#9",))
MISSING = EvalItem("str", "粗大ごみの料金", "ja", True, ("faq#1",), ("500円", "300円"))
REFUSED = EvalItem("ref", "住民票は？", "en", True, ("faq#2",))
UNANS = EvalItem("una", "町長の給料は？<script>", "ja", False)


def make_run() -> Run:
    results = [
        res(OK),
        res(WRONG_SOURCE, retrieved=["faq#3"]),
        res(MISSING),
        res(REFUSED, refused=True, citations=[], answer="", confidence=0.2, mode="abstain"),
        res(UNANS, confidence=0.45, latency_ms=35.0),
    ]
    return Run(results, summarise(results))


def test_failure_reasons_by_case():
    run = make_run()
    reasons = {r.item.id: failure_reason(r) for r in run.results if not r.correct}
    assert reasons == {
        "src": "expected source not cited (nor retrieved in the top 10)",
        "str": "answer lacks: 500円",
        "ref": "refused (expected source was retrieved)",
        "una": "answered an unanswerable question",
    }


def test_run_html_is_self_contained_and_complete():
    page = RunPage("Evaluation: test", make_run(), {"commit": "abc123"}, {"answer": 0.4}, lang="en")
    text = run_html(page)
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text
    # no external assets: no links, scripts, images or fetched fonts
    assert not re.search(r"<(link|script|img|iframe)\b", text)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", text)
    assert not re.search(r"url\((?!#)", text) and "@import" not in text  # only local refs
    assert text.count("<svg") == 2  # confidence and latency plots, inline
    assert "95% CI" in text and "By language" in text
    assert "Failed questions (4)" in text
    # questions are escaped, not injected
    assert "町長の給料は？&lt;script&gt;" in text
    # retrieved sources shown, the expected one ticked, with titles
    assert "✓</span> <code>faq#1</code> 粗大ごみの出し方" in text


def test_the_report_is_in_japanese_by_default():
    page = RunPage("評価: test", make_run(), {"commit": "abc123"}, {"answer": 0.4})
    text = run_html(page)
    assert "<html lang=ja>" in text
    for words in ("正しく答えた割合", "答えられない質問を断った割合", "まとめ", "言語ごと",
                  "うまくいかなかった質問（4 件）", "答えられない質問に答えた",
                  "回答を断った（正しい資料は検索されていた）", "回答に入っていなかった語: 500円",
                  "95% 信頼区間", "質問 5 件: 答えられるはずの質問 4 件"):  # fmt: skip
        assert words in text, words
    # no English left outside the plots (their axes), codes and the kit's metric names
    visible = re.sub(r"<svg.*?</svg>|<style>.*?</style>|<code>.*?</code>|<[^>]+>", " ", text,
                     flags=re.S)  # fmt: skip
    english = re.findall(r"\b[a-z]{4,}(?: [a-z]{3,}){2,}", visible)
    assert not english, english
    # the plots speak Japanese where a Japanese font exists (./run installs Noto CJK)
    from madoguchi.eval.htmlreport import japanese_font

    if japanese_font():
        assert "<!-- 確からしさ -->" in text and "answerer confidence" not in text
        assert "グラフの文字は英語です" not in text
    else:
        assert "answerer confidence" in text and "グラフの文字は英語です" in text
    assert "answerer confidence" in run_html(RunPage("x", make_run(), lang="en"))
    assert failure_reason(make_run().results[1], "ja") == (
        "正しい資料を出典に示さなかった（検索の上位 10 件にもなかった）"
    )


def test_compare_html_and_sweep_markdown():
    run = make_run()
    pts = [
        {"threshold": t / 100, "answer_accuracy": 1 - t / 100, "refusal_recall": t / 100,
         "false_refusal_rate": t / 200}
        for t in range(101)
    ]  # fmt: skip
    sweeps = {"hybrid": Sweep(pts, 0.4), "dense": Sweep(pts, 0.4)}
    page = ComparePage(
        "Comparison", {"hybrid": run, "dense": run}, {"hybrid": "", "dense": "retrieval.mode=dense"},
        sweeps, lang="en",
    )  # fmt: skip
    text = compare_html(page)
    assert text.count("<svg") == 2  # bars and the trade-off curves
    assert "retrieval.mode=dense" in text and "(as configured)" in text
    assert "configured 0.40 highlighted" in text
    md = sweep_markdown(sweeps)
    row = next(line for line in md.splitlines() if line.startswith("| 0.40 |"))
    assert row.count("←") == 2 and "0.600 / 0.400 / 0.200" in row
    assert len(md.splitlines()) == 2 + 21  # header, separator, 0.00 .. 1.00 by 0.05
    page.lang = "ja"
    ja = compare_html(page)
    assert "（設定どおり）" in ja and "いまの設定 0.40 の行に色" in ja and "比べた設定" in ja
    assert "答えられるのに断った割合" in ja and "(as configured)" not in ja


def test_report_opens_in_chromium(browser, screenshot_dir, tmp_path):
    page_data = RunPage("評価: test set", make_run(), {"commit": "abc123"}, {"answer": 0.4})
    path = tmp_path / "report.html"
    md = write_report(path, run_html(page_data), "# summary\n")
    assert md == tmp_path / "report.md" and md.read_text(encoding="utf-8") == "# summary\n"
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    assert page.title() == "評価: test set"
    assert page.locator("svg").count() == 2
    assert page.locator("svg").first.bounding_box()["width"] > 300  # drawn, not collapsed
    assert page.get_by_text("答えられない質問に答えた").is_visible()
    assert requests == [path.as_uri()]  # nothing else fetched
    page.screenshot(path=str(screenshot_dir / "eval_report.png"), full_page=True)
    page.close()


def test_compare_report_opens_in_chromium(browser, screenshot_dir, tmp_path):
    run = make_run()
    pts = [
        {"threshold": t / 100, "answer_accuracy": 1 - t / 100, "refusal_recall": t / 100,
         "false_refusal_rate": t / 200}
        for t in range(101)
    ]  # fmt: skip
    page_data = ComparePage(
        "Comparison: test set", {"hybrid": run, "dense only": run},
        {"hybrid": "retrieval.mode=hybrid", "dense only": "retrieval.mode=dense"},
        {"hybrid": Sweep(pts, 0.4), "dense only": Sweep(pts, 0.3)},
    )  # fmt: skip
    path = tmp_path / "compare.html"
    write_report(path, compare_html(page_data), "")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    assert page.locator("svg").count() == 2
    assert page.locator("tr.best").count() == 1  # the configured threshold's row
    page.screenshot(path=str(screenshot_dir / "eval_compare.png"), full_page=True)
    page.close()
