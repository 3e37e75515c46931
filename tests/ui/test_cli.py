"""The ``madoguchi`` command as a user meets it: JSON shapes, clear errors, the
registered command modules, and an instant ``--help``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from madoguchi.kit.errors import ConfigError, InputError
from madoguchi.ui import cli
from madoguchi.ui.cli import app

REPO = Path(__file__).resolve().parents[2]
FAQ = (
    "ID,質問,回答,所管部署,電話番号,URL\n"
    "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課,0120-000-111,https://town.example.jp/sodai\n"
    "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。手数料は300円です。,住民課,0120-000-222,\n"
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_STORE__KIND", "chroma")
    return tmp_path


runner = CliRunner()


def test_cli_ingest_ask_json_and_sources(env):
    r = runner.invoke(app, ["ingest", "faq.csv", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["added"] == 2 and report["skipped"] == 0

    r = runner.invoke(
        app, ["ask", "粗大ごみの出し方は？", "--json", "--set", "answer.answer_threshold=0.0"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert set(data) >= {"answer", "refused", "lang", "follow_up", "citations"}
    assert data["citations"][0] == {
        "source": "faq.csv#1",
        "title": "粗大ごみの出し方は？",
        "url": "https://town.example.jp/sodai",
    }

    r = runner.invoke(app, ["sources", "list", "--json"])
    assert [s["source"] for s in json.loads(r.output)] == ["faq.csv#1", "faq.csv#2"]
    r = runner.invoke(app, ["sources", "remove", "faq.csv#2"])
    assert r.exit_code == 0 and "removed 1" in r.output
    r = runner.invoke(app, ["sources", "list", "--json"])
    assert [s["source"] for s in json.loads(r.output)] == ["faq.csv#1"]


def test_cli_main_turns_kit_errors_into_one_line(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["madoguchi", "ask", "   "])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "empty" in err and "Traceback" not in err

    monkeypatch.setattr("sys.argv", ["madoguchi", "sources", "remove", "nothing.csv"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    assert "no indexed source matches" in capsys.readouterr().err


def test_ingest_of_a_missing_path_exits_non_zero(env):
    r = runner.invoke(app, ["ingest", "nowhere"])
    assert r.exit_code == 1
    assert "not found" in r.output


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "data:text/html,x", "ftp://a.jp/", "https://u:p@a.jp/"]
)
def test_unsafe_urls_are_refused_clearly(env, url):
    with pytest.raises(InputError, match="refused"):
        runner.invoke(app, ["ingest", url], catch_exceptions=False)


def test_help_is_instant_and_lists_commands():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("ingest", "ask", "sources", "eval"):
        assert cmd in r.output


def test_cli_synonyms_add_list_check_and_load(env):
    assert runner.invoke(app, ["ingest", "faq.csv"]).exit_code == 0
    ask = ["ask", "引越しの証明書", "--json", "--set", "answer.answer_threshold=0.0"]
    before = json.loads(runner.invoke(app, ask).output)["citations"]
    r = runner.invoke(app, ["synonyms", "list"])
    assert r.exit_code == 0 and "no synonym groups yet" in r.output
    r = runner.invoke(app, ["synonyms", "add", "引越しの証明書", "住民票"])
    assert r.exit_code == 0 and "1 group(s)" in r.output
    r = runner.invoke(app, ["synonyms", "check", "引越しの証明書がほしい"])
    assert "引越しの証明書 → 住民票" in r.output and "also searched as: 住民票がほしい" in r.output
    # ask uses the list at once: the 住民票 row answers a question without its words
    after = json.loads(runner.invoke(app, ask).output)["citations"]
    assert [c["source"] for c in after][:1] == ["faq.csv#2"] != [c["source"] for c in before][:1]
    Path("new.csv").write_text("粗大ごみ, 大型ごみ\nひとつ\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"new\.csv: line 2"):
        runner.invoke(app, ["synonyms", "load", "new.csv"], catch_exceptions=False)
    r = runner.invoke(app, ["synonyms", "list"])
    assert "引越しの証明書, 住民票" in r.output and "粗大ごみ" not in r.output  # nothing replaced
    Path("new.csv").write_text("粗大ごみ, 大型ごみ\n", encoding="utf-8")
    r = runner.invoke(app, ["synonyms", "load", "new.csv"])
    assert r.exit_code == 0 and "1 group(s)" in r.output
    assert "粗大ごみ, 大型ごみ" in runner.invoke(app, ["synonyms", "list"]).output


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_STORE__KIND", "memory")
    monkeypatch.setenv("MADOGUCHI_WEB__RATE_LIMIT", "0")
    monkeypatch.setenv("MADOGUCHI_WEB__TIMEOUT", "0.5")
    monkeypatch.setenv("MADOGUCHI_WEB__RETRIES", "0")
    monkeypatch.setenv("MADOGUCHI_WEB__MAX_BYTES", "100000")
    return tmp_path


def test_cli_ingest_url_refuses_loopback_then_crawls_when_allowed(cli_env, site):
    runner = CliRunner()
    with pytest.raises(InputError, match="--allow-private-network"):
        runner.invoke(app, ["ingest", site.url("/")], catch_exceptions=False)
    assert sum(site.hits.values()) == 0
    r = runner.invoke(app, ["ingest", site.url("/"), "--allow-private-network", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["added"] == 9 and data["skipped"] == 8
    reasons = {d["source"]: d["reason"] for d in data["skipped_detail"]}
    assert reasons[site.url("/private/secret.html")] == "disallowed by robots.txt"


def test_cli_sync_table_and_dry_run(cli_env, site):
    toml = cli_env / "town.toml"
    toml.write_text(f'[[sources]]\nurl = "{site.url("/")}"\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["sync", str(toml), "--dry-run", "--allow-private-network"])
    assert r.exit_code == 0, r.output
    assert "sync (dry run)" in r.output and "disallowed by robots.txt" in r.output
    r = runner.invoke(app, ["sync", str(toml), "--allow-private-network"])
    assert r.exit_code == 0 and "added" in r.output
    with pytest.raises(ConfigError):
        runner.invoke(app, ["sync", "missing.toml"], catch_exceptions=False)


def test_ctrl_c_exits_130(env, monkeypatch):
    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("madoguchi.ui.cli.index.town_services", interrupted)
    monkeypatch.setattr("sys.argv", ["madoguchi", "sources", "list"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 130


def test_help_lists_the_commands_of_the_registered_eval_module():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0, r.output
    for cmd in ("eval", "bench"):
        assert cmd in r.output
    r = runner.invoke(app, ["eval", "--help"])
    assert r.exit_code == 0, r.output
    for cmd in ("run", "compare", "starter"):
        assert cmd in r.output


def test_a_command_module_that_fails_is_reported_in_one_line_and_skipped(capsys):
    """Reported and skipped, not raised: the other commands (here eval) keep working."""
    root = typer.Typer()
    cli.register_commands(
        root, ("madoguchi.no_such_module", "madoguchi.eval.cli"), group="madoguchi.tests-none"
    )
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "warning: commands of madoguchi.no_such_module not loaded: "
        "ModuleNotFoundError: No module named 'madoguchi.no_such_module'"
    ]
    r = runner.invoke(root, ["eval", "--help"])
    assert r.exit_code == 0 and "compare" in r.output


def _plugin_dir(tmp_path: Path) -> Path:
    """An installed package declaring two entry points of madoguchi.commands: one
    module that adds a ``hello`` command, one whose import fails."""
    dist = tmp_path / "townplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: townplugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[madoguchi.commands]\nhello = townplugin_hello\nbroken = townplugin_broken\n"
    )
    (tmp_path / "townplugin_hello.py").write_text(
        "def register(app):\n"
        "    @app.command()\n"
        "    def hello() -> None:\n"
        '        """Say hello from a plugin."""\n'
        '        print("hello from a plugin")\n'
    )
    (tmp_path / "townplugin_broken.py").write_text("import no_such_dependency\n")
    return tmp_path


def test_entry_point_modules_add_commands_and_a_broken_one_is_skipped(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{_plugin_dir(tmp_path)}{os.pathsep}{REPO}"}
    run = [sys.executable, "-m", "madoguchi.ui.cli"]
    r = subprocess.run([*run, "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Say hello from a plugin." in r.stdout and "eval" in r.stdout
    assert r.stderr.splitlines() == [
        "warning: commands of broken = townplugin_broken not loaded: "
        "ModuleNotFoundError: No module named 'no_such_dependency'"
    ]
    r = subprocess.run([*run, "hello"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout == "hello from a plugin\n"


def test_help_imports_no_heavy_library():
    """``madoguchi --help`` must stay instant: no model, store or web framework loaded."""
    code = (
        "import json, sys\n"
        "sys.argv = ['madoguchi', '--help']\n"
        "from madoguchi.ui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0 and "eval" in r.stdout, r.stderr
    loaded = set(json.loads(r.stderr.splitlines()[-1]))
    heavy = {"torch", "chromadb", "sentence_transformers", "gradio", "fastapi", "langchain",
             "langchain_core", "uvicorn", "pydantic", "numpy"}  # fmt: skip
    assert not loaded & heavy


# --- madoguchi translate ------------------------------------------------------------

EN_REPLIES = [
    {"question": "How do I put out oversized garbage?",
     "answer": "Book by phone and stick a disposal ticket on it before putting it out."},
    {"question": "Where can I get a copy of my residence certificate?",
     "answer": "It is issued at the Residents Section counter. The fee is 300 yen."},
]  # fmt: skip


def test_cli_translate_dry_run_needs_no_llm_and_shows_what_would_be_sent(env):
    r = runner.invoke(app, ["translate", "faq.csv", "--langs", "en,vi", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "would send 4 entry-language pairs" in r.output
    assert "the request for faq.csv#1 (en)" in r.output and "粗大ごみの出し方は？" in r.output
    assert not Path("faq_en.mt.csv").exists()
    r = runner.invoke(app, ["translate", "faq.csv", "--langs", "en", "--dry-run", "--json"])
    data = json.loads(r.output)
    assert data["to_send"] == 2 and data["sent"] == 2 and data["dry_run"] is True
    assert data["text_chars"] == sum(
        len(q) + len(a)
        for q, a in [
            ("粗大ごみの出し方は？", "電話で予約して処理券を貼って出してください。"),
            ("住民票の写しはどこで取れますか？", "住民課窓口で交付します。手数料は300円です。"),
        ]
    )


def test_cli_translate_errors_are_one_line(env, capsys, monkeypatch):
    for argv, expected in [
        (["translate", "faq.csv", "--langs", "en"], "no LLM configured"),
        (["translate", "faq.csv"], "--langs is required"),
        (["translate", "faq.csv", "--langs", "ja"], "source language"),
        (["translate", "--langs", "en"], "no FAQ file to translate"),  # nothing indexed yet
    ]:
        monkeypatch.setattr("sys.argv", ["madoguchi", *argv])
        with pytest.raises(SystemExit) as exc:
            cli.main()
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "error:" in err and expected in err and "Traceback" not in err, err


def test_cli_translate_ingest_and_ask_in_english(env, monkeypatch):
    from tests.ingest.test_translate import FakeLLM

    srv = FakeLLM()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        assert runner.invoke(app, ["ingest", "faq.csv"]).exit_code == 0
        monkeypatch.setenv("MADOGUCHI_LLM__BASE_URL", srv.url)
        monkeypatch.setenv("MADOGUCHI_LLM__MODEL", "fake-mt")
        srv.script = [{"text": json.dumps(x)} for x in EN_REPLIES]
        r = runner.invoke(app, ["translate", "--langs", "en", "--json"])  # the indexed FAQ
        assert r.exit_code == 0, r.output
        data = json.loads(r.output)
        assert data["translated"] == 2 and data["files"] == ["faq.csv"]
        assert data["written"] == ["faq_en.mt.csv"] and data["requests"] == 2
        r = runner.invoke(app, ["translate", "faq.csv", "--langs", "en"])
        assert r.exit_code == 0 and len(srv.requests) == 2, r.output
        assert re.search(r"│ en +│ +0 │ +0 │ +0 │ +0 │ +2 │ +0 │", r.output), r.output

        srv.script = [{"status": 400}]  # not worth retrying: reported, and the exit code says so
        r = runner.invoke(app, ["translate", "faq.csv", "--langs", "vi", "--limit", "1"])
        assert r.exit_code == 1 and "failed faq.csv#1 (vi)" in r.output and "HTTP 400" in r.output
        assert "1 left for the next run" in r.output
    finally:
        srv.shutdown()
        srv.server_close()
    monkeypatch.delenv("MADOGUCHI_LLM__BASE_URL")
    r = runner.invoke(app, ["ingest", "faq.csv", "--json"])
    assert json.loads(r.output)["updated"] == 2
    ask = ["ask", "Where can I get a residence certificate copy?", "--lang", "en", "--json",
           "--set", "answer.answer_threshold=0.0", "--set", "answer.faq_threshold=0.0"]  # fmt: skip
    data = json.loads(runner.invoke(app, ask).output)
    assert data["citations"][0]["source"] == "faq.csv#2"
    assert data["answer"].startswith(EN_REPLIES[1]["answer"])
    assert data["machine_translation"] is True and "Machine translation" in data["answer"]
