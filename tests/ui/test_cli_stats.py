"""``madoguchi stats show`` and ``stats report`` on a small log with known counts."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.improvements import Action, ImprovementStore
from madoguchi.kit.usage import JST
from madoguchi.ui.cli import app

runner = CliRunner()
GOMI = {"source": "faq.csv#1", "title": "粗大ごみはどのように出せばよいですか。", "url": None}


def ts(month: int, day: int, hour: int = 10) -> float:
    return datetime(2026, month, day, hour, tzinfo=JST).timestamp()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(data))
    monkeypatch.setenv("MADOGUCHI_SERVER__RETENTION_DAYS", "36500")
    log = ConversationLog.in_data_dir(data, retention_days=36500)

    def add(q, when, refused=False, follow_up=None, ms=100.0, lang="ja"):
        return log.record(question=q, lang=lang, answer="…", citations=[] if refused else [GOMI],
                          refused=refused, mode="abstain" if refused else "faq", confidence=0.5,
                          latency_ms=ms, ts=when, follow_up=follow_up)  # fmt: skip

    # October: 2 questions, 1 refused. November: 5 questions
    add("粗大ごみの出し方", ts(10, 20))
    add("ペットの火葬", ts(10, 21), refused=True)
    t = add("粗大ごみの出し方", ts(11, 2), ms=80)
    log.feedback(t.id, True)
    add("ごみの日", ts(11, 2, 12), follow_up="どの地区ですか？", ms=120)
    add("ペットの火葬はできますか", ts(11, 3), refused=True, ms=300)
    add("ペットの火葬", ts(11, 10), refused=True, ms=400)
    add("連絡先は 090-1234-5678、宝くじ", ts(11, 11), refused=True, ms=500, lang="en")
    log.close()
    # a FAQ written in October for the pet group: November shows its effect
    ImprovementStore.in_data_dir(data).add(
        Action(
            "faq",
            ts(10, 31),
            "k",
            "ペットの火葬",
            ("ペットの火葬",),
            "2026-10",
            1,
            1,
            {"source": "uploads/faq_added.csv#1"},
        )
    )
    return data


def test_show_per_day_of_a_month_as_json(data_dir):
    r = runner.invoke(app, ["stats", "show", "--month", "2026-11", "--json"])
    assert r.exit_code == 0, r.output
    rows = {x["period"]: x for x in json.loads(r.output)}
    assert len(rows) == 30
    assert rows["2026-11-02"]["questions"] == 2 and rows["2026-11-02"]["clarify"] == 1
    assert rows["2026-11-02"]["thumbs_up"] == 1
    assert sum(x["questions"] for x in rows.values()) == 5


def test_show_per_month_as_a_table(data_dir):
    r = runner.invoke(app, ["stats", "show", "--period", "month", "--month", "2026-11"])
    assert r.exit_code == 0, r.output
    assert "2026-11" in r.output and "聞き返し" in r.output
    # 5 questions: answered 1 (20%), clarify 1 (20%), refused 3 (60%)
    assert "20.0%" in r.output and "60.0%" in r.output


def test_show_the_latest_months(data_dir):
    r = runner.invoke(app, ["stats", "show", "--period", "month", "--last", "3", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)) == 3


def test_report_writes_html_and_csv_masked(data_dir, tmp_path):
    out = tmp_path / "report"
    r = runner.invoke(app, ["stats", "report", "--month", "2026-11", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "2026年11月: 質問 5 件" in r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "daily.csv", "improvements.csv", "languages.csv", "report.html", "topics.csv",
        "unanswered.csv",
    ]  # fmt: skip
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "利用状況レポート 2026年11月" in page and page.count("<svg") == 3
    assert "回答できなかった質問" in page and "改善の効果" in page
    assert "090-1234" not in page and "[電話]" in page
    # opened offline: nothing to fetch, nothing to run
    assert "<script" not in page and 'src="http' not in page and "<link" not in page
    unanswered = list(csv.DictReader(io.StringIO((out / "unanswered.csv").read_text("utf-8-sig"))))
    assert unanswered[0]["question"] == "ペットの火葬"  # asked once each: ties by text
    assert unanswered[0]["unanswered"] == "2"
    assert unanswered[0]["other_wordings"] == "ペットの火葬はできますか"
    assert all("090" not in v for row in unanswered for v in row.values())
    assert len(unanswered) == 2  # every group (the page shows the first 30)
    daily = list(csv.DictReader(io.StringIO((out / "daily.csv").read_text("utf-8-sig"))))
    assert len(daily) == 30 and daily[1]["questions"] == "2"
    effects = list(csv.DictReader(io.StringIO((out / "improvements.csv").read_text("utf-8-sig"))))
    # before: 1 of 1 unanswered in October; after (November): still 2 of 2
    assert [(e["before_unanswered"], e["before_asked"], e["after_unanswered"], e["after_asked"])
            for e in effects] == [("1", "1", "2", "2")]  # fmt: skip
    topics = (out / "topics.csv").read_text("utf-8-sig")
    assert "faq.csv#1" in topics and "粗大ごみはどのように" in topics


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats", "report", "--month", "2026-13", "--out", "x"], "YYYY-MM"),
        (["stats", "show", "--period", "year"], "day / week / month"),
        (["stats", "show", "--last", "0"], "1〜400"),
    ],
)
def test_bad_input_is_one_clear_line(data_dir, args, message):
    r = runner.invoke(app, args)
    assert r.exit_code != 0
    assert message in str(r.exception) or message in r.output


def test_without_a_log(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "none"))
    r = runner.invoke(app, ["stats", "show"])
    assert r.exit_code != 0 and "会話ログがまだありません" in str(r.exception)


def test_messages_to_staff_get_their_column(data_dir):
    log = ConversationLog.in_data_dir(data_dir, retention_days=36500)
    log.record(question="職員と話したい", lang="ja", answer="受付", citations=[], refused=False,
               mode="handoff", confidence=0.0, latency_ms=0.0, ts=ts(11, 20))  # fmt: skip
    log.close()
    r = runner.invoke(app, ["stats", "show", "--period", "month", "--month", "2026-11", "--json"])
    (row,) = json.loads(r.output)
    assert row["questions"] == 6 and row["handoff"] == 1 and row["answered"] == 1
    r = runner.invoke(app, ["stats", "show", "--period", "month", "--month", "2026-11"])
    assert r.exit_code == 0 and "職員へ" in r.output
