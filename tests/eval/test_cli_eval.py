"""`madoguchi eval run|compare|starter` and `madoguchi bench` through the CLI (fake embedder)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from madoguchi.kit.errors import ConfigError, InputError
from madoguchi.ui.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def town(tmp_path, monkeypatch):
    """demo/faq.csv indexed with the fake embedder; cwd = the repository (source ids)."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.delenv("MADOGUCHI_CONFIG", raising=False)
    r = runner.invoke(app, ["ingest", "demo/faq.csv", "--json"])
    assert r.exit_code == 0, r.output
    dataset = tmp_path / "q.jsonl"
    lines = (REPO / "demo" / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    dataset.write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
    return tmp_path, dataset


def test_eval_run_with_config_set_details_and_report(town):
    tmp, dataset = town
    cfg = tmp / "town.toml"
    cfg.write_text("[answer]\nanswer_threshold = 1.0\n", encoding="utf-8")  # refuse everything
    r = runner.invoke(app, ["eval", "run", str(dataset), "--config", str(cfg), "--json"])
    assert r.exit_code == 0, r.output
    figures = json.loads(r.stdout)["figures"]
    assert figures["false_refusal_rate"]["value"] == 1.0
    # --set wins over the file
    r = runner.invoke(
        app,
        ["eval", "run", str(dataset), "--config", str(cfg), "--set", "answer.answer_threshold=0",
         "--details", str(tmp / "d.jsonl"), "--report", str(tmp / "out" / "r.html"),
         "--report-lang", "en"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "answer accuracy" in r.stdout
    rows = [json.loads(x) for x in (tmp / "d.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 12
    assert set(rows[0]) == {"id", "retrieved", "answer", "refused", "lang", "citations",
                            "latency_ms"}  # fmt: skip
    html = (tmp / "out" / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html and "answer threshold: <b>0.00</b>" in html
    assert "synonym groups: <b>0</b>" in html
    assert "<title>Evaluation: " in html and "By language" in html  # --report-lang en
    r = runner.invoke(app, ["eval", "run", str(dataset), "--report-lang", "fr"])
    assert r.exit_code == 2 and "use ja or en" in r.output
    md = (tmp / "out" / "r.md").read_text(encoding="utf-8")
    assert md.startswith("### ") and "| answer accuracy |" in md


def test_eval_run_reports_answered_precision_coverage_and_the_drag_check(town):
    _, dataset = town
    r = runner.invoke(app, ["eval", "run", str(dataset), "--drag", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {"answered_precision", "coverage"} <= set(data["figures"])
    drag = data["drag"]
    assert drag["asked"] >= 10 and drag["changed"] == len(drag["items"])
    r = runner.invoke(app, ["eval", "run", str(dataset), "--drag"])
    assert "answered" in r.stdout and "coverage" in r.stdout and "drag check:" in r.stdout


def test_eval_run_config_errors(town):
    tmp, dataset = town
    with pytest.raises(ConfigError, match="no such file"):
        runner.invoke(app, ["eval", "run", str(dataset), "--config", str(tmp / "x.toml")],
                      catch_exceptions=False)  # fmt: skip
    bad = tmp / "bad.toml"
    bad.write_text("[answer\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid settings"):
        runner.invoke(app, ["eval", "run", str(dataset), "--config", str(bad)],
                      catch_exceptions=False)  # fmt: skip


def test_eval_compare_cli(town):
    tmp, dataset = town
    r = runner.invoke(
        app,
        ["eval", "compare", str(dataset), "--variant", "hybrid:retrieval.mode=hybrid",
         "--variant", "bm25:retrieval.mode=bm25", "--report", str(tmp / "c.html"), "--json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert list(data) == ["hybrid", "bm25"]
    assert data["bm25"]["settings"] == "retrieval.mode=bm25"
    assert len(data["hybrid"]["sweep"]) == 101
    html = (tmp / "c.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "回答を控えるしきい値" in html  # Japanese by default
    md = (tmp / "c.md").read_text(encoding="utf-8")
    assert "| hybrid |" in md and "| 0.40 |" in md
    # a TOML file of variants, and a table on the terminal
    vf = tmp / "v.toml"
    vf.write_text('[variants.dense]\n"retrieval.mode" = "dense"\n', encoding="utf-8")
    r = runner.invoke(app, ["eval", "compare", str(dataset), "--variants", str(vf), "--no-sweep"])
    assert r.exit_code == 0, r.output
    assert "dense" in r.stdout and "at threshold" not in r.stdout


def test_eval_starter_cli(town):
    tmp, _ = town
    out = tmp / "starter.jsonl"
    r = runner.invoke(app, ["eval", "starter", "--from-faq", "demo/faq.csv", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["expected_sources"] == [
        "demo/faq.csv#1"
    ]
    with pytest.raises(InputError, match="--force"):
        runner.invoke(app, ["eval", "starter", "--from-faq", "demo/faq.csv", "-o", str(out)],
                      catch_exceptions=False)  # fmt: skip
    with pytest.raises(InputError, match="exactly one"):
        runner.invoke(app, ["eval", "starter", "-o", str(tmp / "x.jsonl")], catch_exceptions=False)
    # the log of the configured data directory
    db = sqlite3.connect(tmp / "data" / "conversations.sqlite")
    db.execute(
        "CREATE TABLE turns (id TEXT PRIMARY KEY, conversation_id TEXT, ts REAL, question TEXT,"
        " lang TEXT, answer TEXT, citations TEXT, refused INTEGER, mode TEXT, confidence REAL,"
        " latency_ms REAL, feedback INTEGER NULL, comment TEXT NULL)"
    )
    db.execute("INSERT INTO turns VALUES ('t1','c',1,'町長の給料は？','ja','','[]',1,'abstain',"
               "0.1,5,NULL,NULL)")  # fmt: skip
    db.commit()
    db.close()
    r = runner.invoke(app, ["eval", "starter", "--from-log", "default", "-o", str(tmp / "l.jsonl")])
    assert r.exit_code == 0, r.output
    assert "needs_label" in r.stdout
    rec = json.loads((tmp / "l.jsonl").read_text(encoding="utf-8"))
    assert rec["question"] == "町長の給料は？" and rec["needs_label"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "fastest"], "unknown benchmark"),
        (["bench", "scale", "--sizes", "1k,10k"], "positive whole numbers"),
        (["bench", "scale", "--sizes", "0"], "positive whole numbers"),
        (["bench", "scale", "--repeat", "0"], "at least 1"),
    ],
)
def test_bench_cli_rejects_bad_arguments(args, message):
    with pytest.raises(InputError, match=message):
        runner.invoke(app, args, catch_exceptions=False)
