"""Pre-translating the FAQ against an OpenAI-compatible server on loopback (real HTTP on
127.0.0.1) with scripted replies: translations land beside the FAQ and are indexed per
language; re-runs are incremental; 500, 429 and timeouts are retried a bounded number of
times; wrong-language, empty and figure-dropping replies go to review, never to residents."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fakellm import FakeServer

from madoguchi.connectors.faq_csv import (
    FaqCsvConnector,
    MachineTranslation,
    machine_translation_path,
    read_machine_translations,
    write_machine_translations,
)
from madoguchi.ingest.services import build_services
from madoguchi.ingest.translate import (
    Translator,
    check_translation,
    decide,
    faq_files,
    messages,
    parse_langs,
    plan,
    reviews,
    run,
)
from madoguchi.kit.config import LLMSettings
from madoguchi.kit.errors import ConfigError, InputError
from madoguchi.kit.lang import MACHINE_TRANSLATED_NOTE, TRANSLATED_NOTE
from madoguchi.kit.llm import LLMClient

REPO = Path(__file__).resolve().parents[2]

FAQ = (
    "ID,質問,回答,所管部署,電話番号,URL\n"
    "1,粗大ごみはどのように出せばよいですか。,収集日の3日前までに環境衛生課（01234-5-1103）へ"
    "電話で申し込み、粗大ごみ処理券（1点500円）を貼って出してください。詳しくは"
    "https://town.example.jp/sodai をご覧ください。,環境衛生課,01234-5-1103,\n"
    "2,住民票の写しはどこで取れますか。,役場1階の住民課で交付します。手数料は1通300円です。,"
    "住民課,01234-5-1101,\n"
    "3,図書館は何時まで開いていますか。,町立図書館は午前9時から18時までです。月曜日は休館です。,"
    "生涯学習課,01234-5-1109,\n"
)
EN = {
    "粗大ごみはどのように出せばよいですか。": (
        "How do I put out oversized garbage?",
        "Apply by phone to the Environment Section (環境衛生課) (01234-5-1103) at least 3 days "
        "before the collection day, stick an oversized garbage ticket (500 yen per item) on it "
        "and put it out. See https://town.example.jp/sodai for details.",
    ),
    "住民票の写しはどこで取れますか。": (
        "Where can I get a copy of my residence certificate?",
        "It is issued at the Residents Section (住民課) on the 1st floor of the town office. "
        "The fee is 300 yen per copy.",
    ),
    "図書館は何時まで開いていますか。": (
        "Until what time is the library open?",
        "The town library is open from 9 a.m. to 6 p.m. It is closed on Mondays.",
    ),
}
VI = {
    "粗大ごみはどのように出せばよいですか。": (
        "Làm thế nào để vứt rác cỡ lớn?",
        "Hãy gọi điện đăng ký với Phòng Vệ sinh Môi trường (01234-5-1103) ít nhất 3 ngày trước "
        "ngày thu gom, dán phiếu xử lý rác cỡ lớn (500 yên/món) rồi bỏ ra. Xem chi tiết tại "
        "https://town.example.jp/sodai.",
    ),
    "住民票の写しはどこで取れますか。": (
        "Tôi có thể lấy bản sao phiếu cư trú ở đâu?",
        "Được cấp tại Phòng Cư dân ở tầng 1 tòa thị chính. Lệ phí là 300 yên một bản.",
    ),
    "図書館は何時まで開いていますか。": (
        "Thư viện mở cửa đến mấy giờ?",
        "Thư viện thị trấn mở cửa từ 9 giờ sáng đến 18 giờ. Thư viện đóng cửa vào thứ Hai.",
    ),
}
BY_LANGUAGE = {"English": EN, "Vietnamese": VI}


# --- a fake OpenAI-compatible server ------------------------------------------------


class FakeLLM(FakeServer):
    """The shared fake server, answering a request without a scripted text with the right
    translation of the entry it holds."""

    def next_step(self) -> dict[str, Any]:
        return self.script.pop(0) if self.script else {}

    def reply(self, body: dict[str, Any], step: dict[str, Any]) -> str:
        return str(step["text"]) if "text" in step else self.translation(body, step.get("edit"))

    def user_message(self, i: int = -1) -> str:
        return self.requests[i]["messages"][-1]["content"]

    def translation(self, body: dict[str, Any], edit: Any = None) -> str:
        """The right translation of the entry the request holds (an ``edit`` may spoil it)."""
        user = body["messages"][-1]["content"]
        question = re.search(r"<question>(.*?)</question>", user, re.S).group(1)  # type: ignore[union-attr]
        language = re.search(r"into (\w+)\. Reply", user).group(1)  # type: ignore[union-attr]
        q, a = BY_LANGUAGE[language][question]
        if edit:
            q, a = edit(q, a)
        return "```json\n" + json.dumps({"question": q, "answer": a}, ensure_ascii=False) + "\n```"


@pytest.fixture
def llm_server():
    srv = FakeLLM()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def town(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    return Path("faq.csv")


def translator(srv: FakeLLM, sleeps: list[float] | None = None, **kw: Any) -> Translator:
    timeout = kw.pop("timeout", 10.0)
    llm = LLMClient(LLMSettings(base_url=srv.url, model="fake-mt", timeout=timeout))
    pause = sleeps.append if sleeps is not None else (lambda _s: None)
    return Translator(llm, town="みどり川町", sleep=pause, **kw)


def translate(files: list[Path], langs: list[str], srv: FakeLLM, **kw: Any):
    return run(plan(files, langs), translator(srv), **kw)


# --- the whole path -----------------------------------------------------------------


def test_translations_land_beside_the_faq_and_are_indexed_per_language(town, llm_server, settings):
    original = town.read_bytes()
    svc = build_services(
        settings.with_overrides(
            **{
                "answer.answer_threshold": 0.0,
                "answer.faq_threshold": 0.0,
                "retrieval.glossary": False,
            }
        )
    )
    svc.ingest([str(town)])
    question = "oversized garbage ticket"
    before = svc.ask(question, lang="en")
    assert "en" not in svc.index.view().languages
    assert not before.hits or before.hits[0].signals.get("bm25", 0.0) == 0.0

    report = translate([town], ["en", "vi"], llm_server)

    assert report.counts()["translated"] == 6 and report.counts()["review"] == 0
    assert town.read_bytes() == original  # the town's file is never rewritten
    en = read_machine_translations(machine_translation_path(town, "en"))
    assert Path("faq_en.mt.csv").is_file() and Path("faq_vi.mt.csv").is_file()
    assert [r.status for r in en.values()] == ["machine"] * 3
    assert en["1"].question == EN["粗大ごみはどのように出せばよいですか。"][0]
    assert en["1"].model == "fake-mt" and len(en["1"].source_hash) == 16
    # what was sent: the entry's public text, and nothing else of the file
    sent = llm_server.requests[0]["messages"]
    assert [m["content"] for m in sent] == [
        c for _, c in messages(report.plan.tasks[0].entry, "en", "みどり川町")
    ]
    assert "生涯学習課" not in json.dumps(llm_server.requests, ensure_ascii=False)

    res = svc.ingest([str(town)])
    assert sorted(res.updated) == ["faq.csv#1", "faq.csv#2", "faq.csv#3"]
    assert {"en", "vi"} <= svc.index.view().languages
    after = svc.ask(question, lang="en")
    top = after.hits[0]
    assert top.chunk.source_id == "faq.csv#1" and top.signals["bm25"] > 0  # its English words
    assert top.chunk.meta["machine_langs"] == "en,vi"
    a = after.answer
    assert a.text.startswith(EN["粗大ごみはどのように出せばよいですか。"][1])
    assert MACHINE_TRANSLATED_NOTE["en"] in a.text and TRANSLATED_NOTE["en"] not in a.text
    assert a.machine_translation and a.to_json()["machine_translation"] is True
    vi = svc.ask("Thư viện mở cửa đến mấy giờ?", lang="vi")
    assert vi.hits[0].chunk.source_id == "faq.csv#3" and vi.answer.machine_translation
    ja = svc.ask("粗大ごみはどのように出せばよいですか。", lang="ja").answer
    assert not ja.machine_translation and ja.text.startswith("収集日の3日前")


def test_approved_translations_lose_the_mark_and_rejected_ones_are_not_shown(
    town, llm_server, settings
):
    translate([town], ["en"], llm_server)
    row, problems = decide(
        town,
        "en",
        "1",
        "approve",
        answer=EN["粗大ごみはどのように出せばよいですか。"][1] + " (checked)",
    )
    assert row.status == "approved" and problems == [] and row.note == "approved by staff"
    _, problems = decide(
        town, "en", "2", "approve", answer="It is issued at the Residents Section."
    )
    assert problems == ["the figure 300 is missing"]  # 1通 may be "per copy", 300 may not go
    decide(town, "en", "3", "reject")
    rows = read_machine_translations(Path("faq_en.mt.csv"))
    assert [r.status for r in rows.values()] == ["approved", "approved", "rejected"]
    assert "despite: the figure 300 is missing" in rows["2"].note

    svc = build_services(settings.with_overrides(**{"answer.answer_threshold": 0.0}))
    svc.ingest([str(town)])
    docs = {c.source_id: c.meta for c in svc.index.view().chunks()}
    assert docs["faq.csv#1"]["answer_en"].endswith("(checked)")
    assert "machine_langs" not in docs["faq.csv#1"]
    assert "answer_en" not in docs["faq.csv#3"]  # rejected: the Japanese-only note instead
    a = svc.ask("How do I put out oversized garbage?", lang="en").answer
    assert a.citations[0].source_id == "faq.csv#1"
    assert TRANSLATED_NOTE["en"] in a.text and not a.machine_translation
    # nothing is sent again: approved and rejected rows stay as staff left them
    assert plan([town], ["en"]).tasks == []
    assert plan([town], ["en"]).rejected == {"en": 1}
    with pytest.raises(InputError, match="empty"):
        decide(town, "en", "1", "approve", answer=" ")
    with pytest.raises(InputError, match="no such entry"):
        decide(town, "en", "99", "reject")
    with pytest.raises(InputError, match="not a language"):
        decide(town, "../x", "1", "reject")


def test_rerun_sends_only_what_changed_and_a_stale_translation_is_not_shown(town, llm_server):
    translate([town], ["en"], llm_server)
    assert plan([town], ["en"]).tasks == []
    assert plan([town], ["en"]).done == {"en": 3}
    assert [t.lang for t in plan([town], ["en", "vi"]).tasks] == ["vi"] * 3

    town.write_text(FAQ.replace("1通300円", "1通350円"), encoding="utf-8")
    conn = FaqCsvConnector(town, "faq.csv")
    docs = {d.source_id: d.meta for d in conn.documents()}
    assert "answer_en" not in docs["faq.csv#2"] and "answer_en" in docs["faq.csv#1"]
    assert ("faq_en.mt.csv#2", conn.skipped[-1][1]) == conn.skipped[-1]
    assert "earlier Japanese text" in conn.skipped[-1][1]
    tasks = plan([town], ["en"]).tasks
    assert [(t.entry.key, t.why) for t in tasks] == [("2", "changed")]

    llm_server.script = [{"edit": lambda q, a: (q, a.replace("300", "350"))}]
    report = run(plan([town], ["en"]), translator(llm_server))
    assert report.counts()["translated"] == 1 and len(llm_server.requests) == 4
    docs = {d.source_id: d.meta for d in FaqCsvConnector(town, "faq.csv").documents()}
    assert "350 yen" in docs["faq.csv#2"]["answer_en"]


def test_the_towns_own_translation_wins_over_a_machine_one(town, llm_server):
    Path("faq_en.csv").write_text(
        "ID,Question,Answer\n1,Oversized garbage?,Call 01234-5-1103 three days before.\n",
        encoding="utf-8",
    )
    p = plan([town], ["en"])
    assert [t.entry.key for t in p.tasks] == ["2", "3"] and p.own == {"en": 1}
    write_machine_translations(
        machine_translation_path(town, "en"),
        {"1": MachineTranslation("1", "MT question", "MT answer", "machine", "x")},
    )
    docs = {d.source_id: d.meta for d in FaqCsvConnector(town, "faq.csv").documents()}
    assert docs["faq.csv#1"]["question_en"] == "Oversized garbage?"
    assert "machine_langs" not in docs["faq.csv#1"]
    # the translation files are read with the FAQ, never as FAQs of their own
    kinds = []
    for name in ("faq_en.csv", "faq_en.mt.csv"):
        c = FaqCsvConnector(Path(name), name)
        assert list(c.documents()) == []
        kinds.append(c.kind)
    assert kinds == ["translation", "translation"]


def test_limit_and_resume(town, llm_server):
    report = translate([town], ["en", "vi"], llm_server, limit=2)
    assert report.sent == 2 and report.not_sent == 4
    p = plan([town], ["en", "vi"])
    assert len(p.tasks) == 4
    report = run(p, translator(llm_server))
    assert report.counts()["translated"] == 4 and plan([town], ["en", "vi"]).tasks == []


# --- server failures ----------------------------------------------------------------


def test_500_and_429_are_retried_with_backoff_then_succeed(town, llm_server):
    llm_server.script = [
        {"status": 500},
        {"status": 429, "headers": {"Retry-After": "7"}},
        {"status": 503},
    ]
    sleeps: list[float] = []
    report = run(plan([town], ["en"]), translator(llm_server, sleeps, retries=3, backoff=1.0))
    assert report.counts()["translated"] == 3 and report.counts()["failed"] == 0
    assert sleeps == [1.0, 7.0, 4.0]  # doubling, and the server's Retry-After when it gives one
    assert report.requests == 6 == len(llm_server.requests)


def test_a_failing_server_fails_entries_writes_nothing_and_stops_after_a_few(town, llm_server):
    llm_server.script = [{"status": 500}] * 20
    sleeps: list[float] = []
    t = translator(llm_server, sleeps, retries=2, backoff=0.5, max_backoff=1.0)
    report = run(plan([town], ["en", "vi"]), t, max_failures_in_a_row=2)
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    assert "HTTP 500" in report.outcomes[0].reason
    assert report.stopped and "run the same command again" in report.stopped
    assert report.not_sent == 4 and len(llm_server.requests) == 6  # 2 entries x 3 attempts
    assert sleeps == [0.5, 1.0] * 2  # bounded: max_backoff
    assert not machine_translation_path(town, "en").exists()  # nothing half-written
    llm_server.script = []
    assert run(plan([town], ["en", "vi"]), translator(llm_server)).counts()["translated"] == 6


def test_a_timeout_is_retried_and_then_reported(town, llm_server):
    llm_server.script = [{"sleep": 1.5}, {"sleep": 1.5}]
    t0 = time.monotonic()
    t = translator(llm_server, retries=1, timeout=0.3)
    report = run(plan([town], ["en"]), t, limit=1)
    assert time.monotonic() - t0 < 5
    assert report.outcomes[0].status == "failed" and "Timeout" in report.outcomes[0].reason
    assert len(llm_server.requests) == 2 and plan([town], ["en"]).tasks[0].entry.key == "1"


@pytest.mark.parametrize("status", [401, 404])
def test_a_wrong_key_or_model_stops_the_run_at_once(town, llm_server, status):
    llm_server.script = [{"status": status}]
    report = run(plan([town], ["en"]), translator(llm_server))
    assert report.stopped and f"HTTP {status}" in report.stopped
    assert "MADOGUCHI_LLM__BASE_URL" in report.stopped
    assert report.outcomes == [] and report.not_sent == 3 and len(llm_server.requests) == 1
    assert report.sent == 0 and report.text_chars == 0


def test_no_llm_is_a_clear_error_and_a_dry_run_needs_none(town, llm_server):
    with pytest.raises(ConfigError, match="no LLM configured: set MADOGUCHI_LLM__BASE_URL"):
        run(plan([town], ["en"]), None)
    report = run(plan([town], ["en", "vi"]), None, dry_run=True, limit=4)
    assert report.sent == 4 and report.not_sent == 2 and report.outcomes == []
    texts = [t.entry for t in plan([town], ["en", "vi"]).tasks[:4]]
    assert report.text_chars == sum(len(e.question) + len(e.answer) for e in texts)
    assert report.prompt_chars > report.text_chars
    assert llm_server.requests == [] and not machine_translation_path(town, "en").exists()


# --- malformed replies --------------------------------------------------------------


def _drop_phone(q: str, a: str) -> tuple[str, str]:
    return q, a.replace("01234-5-1103", "the office")


@pytest.mark.parametrize(
    ("step", "status", "reason"),
    [
        ({"text": "Sure! Here is the translation."}, "failed", "not the JSON object"),
        ({"text": '{"question": "Q"}'}, "failed", "lacks the question or the answer"),
        ({"text": ""}, "failed", "empty"),
        ({"text": '{"question": "", "answer": ""}'}, "review", "the question is empty"),
        ({"edit": _drop_phone}, "review", "the phone number 01234-5-1103 is missing"),
        ({"edit": lambda q, a: (q, a.replace("500 yen", "some yen"))}, "review", "the figure 500"),
        (
            {"edit": lambda q, a: (q, a.split(" See ")[0])},
            "review",
            "the URL https://town.example.jp/sodai",
        ),
        (
            {
                "text": json.dumps(
                    {
                        "question": "粗大ごみの出し方",
                        "answer": "収集日の3日前までに電話で申し込み、1点500円の処理券を貼ってください。01234-5-1103 https://town.example.jp/sodai",
                    }
                )
            },
            "review",
            "not in English: it is still Japanese",
        ),
        (
            {
                "text": json.dumps(
                    {
                        "question": VI["粗大ごみはどのように出せばよいですか。"][0],
                        "answer": VI["粗大ごみはどのように出せばよいですか。"][1],
                    }
                )
            },
            "review",
            "it reads as Vietnamese, not English",
        ),
    ],
)
def test_malformed_replies_are_kept_from_residents(town, llm_server, step, status, reason):
    llm_server.script = [step]
    report = run(plan([town], ["en"]), translator(llm_server), limit=1)
    (o,) = report.outcomes
    assert o.status == status and reason in o.reason and o.source_id == "faq.csv#1"
    rows = read_machine_translations(machine_translation_path(town, "en"))
    if status == "failed":
        assert rows == {}  # nothing written: the next run sends it again
        assert plan([town], ["en"]).tasks[0].why == "missing"
    else:
        assert rows["1"].status == "review" and reason in rows["1"].note
        doc = next(FaqCsvConnector(town, "faq.csv").documents())
        assert "question_en" not in doc.meta  # waiting for staff, never shown
        p = plan([town], ["en"])
        assert p.waiting == {"en": 1} and [t.entry.key for t in p.tasks] == ["2", "3"]
        assert plan([town], ["en"], retry_review=True).tasks[0].why == "review"
        assert [r.row.status for r in reviews([town])] == ["review"]


# --- the checks on their own ----------------------------------------------------------


def test_checks_accept_every_human_translation_of_the_demo_and_catch_every_swap():
    """Calibration: the demo's 59 human translations pass; each one given as another
    language (or the Japanese given as a translation) is caught."""
    docs = list(FaqCsvConnector(REPO / "demo" / "faq.csv", "demo/faq.csv").documents())
    passed = swaps = 0
    for d in docs:
        m = d.meta
        langs = [x for x in str(m.get("langs") or "").split(",") if x]
        for lang in langs:
            q, a = m[f"question_{lang}"], m[f"answer_{lang}"]
            assert check_translation(m["question"], m["answer"], q, a, lang) == [], (
                d.source_id,
                lang,
            )
            passed += 1
            for other in [*langs, "ja"]:
                if other != lang:
                    q2 = m.get(f"question_{other}", m["question"])
                    a2 = m.get(f"answer_{other}", m["answer"])
                    assert check_translation(m["question"], m["answer"], q2, a2, lang), (
                        d.source_id,
                        lang,
                        other,
                    )
                    swaps += 1
    assert passed == 59 and swaps == 349


@pytest.mark.parametrize(
    ("ja", "tr", "lang", "problems"),
    [
        ("手数料は1万5千円です。", "The fee is 15,000 yen.", "en", []),
        ("手数料は1万5千円です。", "La tarifa es de 15.000 yenes.", "es", []),
        ("手数料は3,000円です。", "A taxa é de 3.000 ienes.", "pt", []),
        ("開館は18時までです。", "Open until 6 p.m.", "en", []),
        ("受付は4月1日からです。", "Applications open on April 1.", "en", []),
        ("令和6年4月から変わります。", "It changes from April 2024.", "en", []),
        ("一度に5点まで出せます。", "You can put out up to five items at a time.", "en", []),
        ("手数料は300円です。", "The fee is 200 yen.", "en", ["the figure 300 is missing"]),
        ("電話 0120-123-456", "Phone 0120 123 456", "en", []),
        (
            "電話 0120-123-456",
            "Phone 0120-123-465",
            "en",
            ["the phone number 0120-123-456 is missing"],
        ),
        ("問い合わせ: info@town.example.jp", "Contact: info@town.example.jp", "en", []),
        (
            "問い合わせ: info@town.example.jp",
            "Contact the town by e-mail.",
            "en",
            ["the e-mail address info@town.example.jp is missing"],
        ),
        ("手数料は300円です。", "手续费为300日元。", "zh-Hans", []),
        (
            "手数料は300円です。",
            "手續費為300日圓。",
            "zh-Hans",
            ["not in Simplified Chinese: it is written in traditional characters"],
        ),
        ("手数料は300円です。", "수수료는 300엔입니다.", "ko", []),
        ("手数料は300円です。", "The fee is 300 yen.", "ko", ["not in Korean: it is not Korean"]),
        ("手数料は300円です。", "शुल्क ३०० येन हो।", "ne", []),
        ("手数料は300円です。", "てすうりょうは 300えん です。", "ja-easy", []),
    ],
)
def test_check_translation_cases(ja, tr, lang, problems):
    assert check_translation("", ja, "", tr, lang) == problems


def test_parse_langs():
    assert parse_langs("en, zh-TW,vi,en") == ["en", "zh-Hant", "vi"]
    assert parse_langs("easy-ja") == ["ja-easy"]
    with pytest.raises(InputError, match="source language"):
        parse_langs("ja,en")
    with pytest.raises(InputError, match="unknown language"):
        parse_langs("xx")
    with pytest.raises(InputError, match="at least one"):
        parse_langs(" , ")


def test_source_selection(town, tmp_path):
    Path("faq_en.csv").write_text("ID,Question,Answer\n1,Q,A\n", encoding="utf-8")
    Path("gomi.csv").write_text("name,type\n冷蔵庫,家電リサイクル\n", encoding="utf-8")
    files, skipped = faq_files([".", "faq_en.csv", "gomi.csv", "nowhere.csv"])
    assert files == [Path("faq.csv")]
    assert [r for _, r in skipped] == [
        "a translation file: give its FAQ file",
        "not a FAQ CSV (no question and answer columns)",
        "not found",
    ]


def test_a_translation_file_saved_from_a_spreadsheet_is_read(town):
    """Staff may approve in the file itself: Shift_JIS, 承認 for approved, columns moved."""
    from madoguchi.connectors.faq_csv import source_hash

    h = source_hash(
        "住民票の写しはどこで取れますか。", "役場1階の住民課で交付します。手数料は1通300円です。"
    )
    text = f"status,ID,Answer,Question,source_hash\r\n承認,2,The fee is 300 yen.,Residence certificate?,{h}\r\n"
    machine_translation_path(town, "en").write_bytes(text.encode("cp932"))
    rows = read_machine_translations(machine_translation_path(town, "en"))
    assert rows["2"].status == "approved" and rows["2"].question == "Residence certificate?"
    docs = {d.source_id: d.meta for d in FaqCsvConnector(town, "faq.csv").documents()}
    assert docs["faq.csv#2"]["answer_en"] == "The fee is 300 yen."
    assert "machine_langs" not in docs["faq.csv#2"]
    machine_translation_path(town, "vi").write_text("ID,Question\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="no ID and status columns"):
        plan([town], ["vi"])
