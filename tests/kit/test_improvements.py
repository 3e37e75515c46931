"""The improvement loop: a FAQ entry from an unanswered group is answered at once and is
in the exported CSV; a synonym; a group marked out of scope leaves the next lists."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from madoguchi.ingest.services import build_services
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError
from madoguchi.kit.improvements import (
    FAQ_COLUMNS,
    FaqEntry,
    Improvements,
    ImprovementStore,
    append_faq_entry,
)
from madoguchi.kit.usage import JST, Period, load_turns, stats

FAQ = (
    "\ufeffID,地方公共団体コード,地方公共団体名,質問,回答,所管部署,電話番号,URL\n"
    "1,019999,北海道みどり川町,粗大ごみはどのように出せばよいですか。,"
    "収集日の3日前までに環境衛生課へ電話で申し込んでください。,環境衛生課,01234-5-1103,\n"
    "2,019999,北海道みどり川町,図書館は何時まで開いていますか。,"
    "町立図書館は午前9時から午後6時までです。,生涯学習課,01234-5-1109,\n"
)
PET_Q = "ペットが死んだら火葬はできますか"
PET_A = "町の斎場ではペットの火葬はできません。民間のペット霊園に相談してください。"


def ts(month: int, day: int, hour: int = 10) -> float:
    return datetime(2026, month, day, hour, tzinfo=JST).timestamp()


@pytest.fixture
def town(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    svc = build_services(settings)
    svc.ingest(["faq.csv"])
    log = ConversationLog(tmp_path / "c.sqlite", retention_days=36500)
    for day, q in [
        (3, PET_Q),
        (5, "ペットの火葬はできますか"),
        (9, PET_Q),
        (12, "宝くじの当選番号"),
    ]:
        log.record(question=q, lang="ja", answer="…", citations=[], refused=True,
                   mode="abstain", confidence=0.1, latency_ms=100, ts=ts(11, day))  # fmt: skip
    log.record(question="粗大ごみの出し方", lang="ja", answer="…", citations=[], refused=False,
               mode="faq", confidence=0.9, latency_ms=100, ts=ts(11, 4))  # fmt: skip
    store = ImprovementStore.in_data_dir(settings.data_dir)
    clock = iter([ts(11, 30, 12), ts(11, 30, 13), ts(11, 30, 14)])
    imp = Improvements(
        store,
        ingester=svc,
        synonyms=svc.synonyms,
        faq_path=tmp_path / "uploads" / "faq_added.csv",
        source_id=lambda p: p.relative_to(tmp_path).as_posix(),
        town_name="みどり川町",
        clock=lambda: next(clock),
    )
    yield svc, log, imp
    log.close()


def november(log, **kw):
    month = Period.month("2026-11")
    return stats(load_turns(log, month.start_ts, month.end_ts), month, **kw)


def test_a_faq_entry_from_a_group_is_answered_at_once_and_exported(town, tmp_path):
    svc, log, imp = town
    before = svc.ask(PET_Q)
    assert not any("faq_added" in c.source_id for c in before.answer.citations)
    group = november(log).unanswered[0]
    assert group.leader == PET_Q and group.count == 3
    action = imp.add_faq(
        group, FaqEntry(PET_Q, PET_A, "環境衛生課", "01234-5-1103"), period="2026-11"
    )
    assert action.detail["source"] == "uploads/faq_added.csv#1"
    res = svc.ask(PET_Q)
    assert not res.answer.refused
    assert res.answer.citations[0].source_id == "uploads/faq_added.csv#1"
    assert "民間のペット霊園" in res.answer.text
    # the file: the open-data layout, UTF-8 with a BOM, the town's name filled in
    raw = (tmp_path / "uploads" / "faq_added.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == FAQ_COLUMNS
    assert rows[1] == ["1", "", "みどり川町", PET_Q, PET_A, "環境衛生課", "01234-5-1103", ""]
    # stored with the group's questions and its figures before
    (stored,) = imp.store.actions()
    assert stored.kind == "faq" and stored.before_asked == 3 and stored.before_unanswered == 3
    assert set(stored.questions) == {PET_Q, "ペットの火葬はできますか"}


def test_an_entry_appended_to_the_towns_own_faq(town, tmp_path):
    svc, log, imp = town
    group = november(log).unanswered[0]
    imp.add_faq(group, FaqEntry(PET_Q, PET_A, "環境衛生課"), faq_file=tmp_path / "faq.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "faq.csv").read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows] == ["ID", "1", "2", "3"]
    # the code and name of the town come from the rows before it
    assert rows[3][:4] == ["3", "019999", "北海道みどり川町", PET_Q]
    assert svc.ask(PET_Q).answer.citations[0].source_id == "faq.csv#3"
    assert {s.source_id for s in svc.index.sources()} == {"faq.csv#1", "faq.csv#2", "faq.csv#3"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (FaqEntry("", "答え"), "質問を入力"),
        (FaqEntry("質問", "  "), "回答を入力"),
        (FaqEntry("質問", "答え", phone="電話してね"), "電話番号の形"),
        (FaqEntry("質問", "答え", url="javascript:alert(1)"), "URL"),
        (FaqEntry("質" * 301, "答え"), "300 文字"),
    ],
)
def test_a_bad_entry_writes_nothing(town, tmp_path, entry, message):
    _svc, log, imp = town
    group = november(log).unanswered[0]
    with pytest.raises(InputError, match=message):
        imp.add_faq(group, entry)
    assert not (tmp_path / "uploads" / "faq_added.csv").exists()
    assert imp.store.actions() == []


def test_a_file_that_is_not_a_faq_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text("品目,分別\n電池,有害ごみ\n", encoding="utf-8")
    with pytest.raises(InputError, match="FAQ の CSV ではありません"):
        append_faq_entry(tmp_path / "t.csv", FaqEntry("q", "a"))


def test_a_synonym_from_a_group(town):
    svc, log, imp = town
    group = november(log).unanswered[0]
    imp.add_synonym(group, ["ペット", "愛玩動物"], period="2026-11")
    found = svc.synonyms.current().expand("ペットの火葬")
    assert [e.alternatives for e in found] == [("愛玩動物",)]
    (a,) = imp.store.actions()
    assert a.kind == "synonym" and a.detail["words"] == ["ペット", "愛玩動物"]
    with pytest.raises(InputError):
        imp.add_synonym(group, ["ペット"])


def test_out_of_scope_leaves_the_next_reports(town):
    _svc, log, imp = town
    s = november(log)
    lottery = next(g for g in s.unanswered if "宝くじ" in g.leader)
    imp.mark_out_of_scope(lottery, period="2026-11", note="町の業務ではない")
    # December: the lottery question again, in other words, and a new one
    for day, q in [(2, "宝くじの当選番号は？"), (3, "宝くじ当選番号"), (4, "熊が出た")]:
        log.record(question=q, lang="ja", answer="…", citations=[], refused=True,
                   mode="abstain", confidence=0.1, latency_ms=100, ts=ts(12, day))  # fmt: skip
    dec = Period.month("2026-12")
    turns = load_turns(log, dec.start_ts, dec.end_ts)
    shown = stats(turns, dec, out_of_scope=imp.store.out_of_scope())
    assert [g.leader for g in shown.unanswered] == ["熊が出た"]
    assert shown.excluded == 2
    assert [g.leader for g in stats(turns, dec).unanswered] != ["熊が出た"]  # without it


def test_the_next_month_shows_the_effect(town):
    svc, log, imp = town
    group = november(log).unanswered[0]
    imp.add_faq(group, FaqEntry(PET_Q, PET_A, "環境衛生課"), period="2026-11")
    # December: the same question asked twice, through the services, and answered now
    for day in (5, 20):
        res = svc.ask(PET_Q)
        log.record(question=PET_Q, lang="ja", answer=res.answer.text,
                   citations=[c.to_json() for c in res.answer.citations],
                   refused=res.answer.refused, mode=res.answer.mode,
                   confidence=res.answer.confidence, latency_ms=50, ts=ts(12, day))  # fmt: skip
    dec = Period.month("2026-12")
    (effect,) = imp.effects(load_turns(log, dec.start_ts, dec.end_ts), dec)
    assert (effect.action.before_asked, effect.action.before_unanswered) == (3, 3)
    assert (effect.after_asked, effect.after_unanswered) == (2, 0)
    assert effect.action.before_share == 1.0 and effect.after_share == 0.0
    assert effect.row()["detail"] == "uploads/faq_added.csv#1"
    assert imp.taken_in(Period.month("2026-11")) == {"faq": 1}
    assert imp.taken_in(dec) == {}
    # an action taken after a period does not count for it
    assert imp.effects(load_turns(log, 0, 2e9), Period.month("2026-10")) == []


def test_a_faq_entry_that_looks_like_a_formula_is_written_as_text(tmp_path):
    import csv

    from madoguchi.kit.improvements import FaqEntry, append_faq_entry

    path = tmp_path / "faq.csv"
    append_faq_entry(path, FaqEntry("=HYPERLINK(1)", "+1 はい", "総務課", "01234-5-1101"))
    [row] = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert (row["質問"], row["回答"], row["電話番号"]) == (
        "'=HYPERLINK(1)",
        "'+1 はい",
        "01234-5-1101",
    )
