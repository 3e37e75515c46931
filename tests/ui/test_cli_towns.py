"""``madoguchi towns`` as the prefecture's staff meet it: the round trip add, list, show,
key, ingest, ask, export, remove, import, and one clear refusal (exit code 2) for each
kind of bad input, with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from madoguchi.ingest.towns import TownRegistry
from madoguchi.ui.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for tid in ("kawabe", "yamanoue"):
        Path(tid).mkdir()
        shutil.copy(REPO / "demo" / "towns" / tid / "faq.csv", Path(tid) / "faq.csv")
        shutil.copy(REPO / "demo" / "towns" / tid / "eval.jsonl", Path(tid) / "eval.jsonl")
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_STORE__KIND", "chroma")
    monkeypatch.setenv("MADOGUCHI_ANSWER__ANSWER_THRESHOLD", "0.0")
    return tmp_path


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, (r.output, r.exception)
    return r.stdout


def _refused(args: list[str], *expected: str) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, (r.output, r.exception)
    assert "Traceback" not in r.output
    for text in expected:
        assert text in r.stderr, r.stderr
    return r.stderr


def test_towns_round_trip(env):
    data = env / "data"
    added = json.loads(
        _ok(
            [
                "towns",
                "add",
                "kawabe",
                "--name",
                "川辺町",
                "--origin",
                "https://www.town.kawabe.example.jp",
                "--source",
                "kawabe/faq.csv",
                "--json",
            ]
        )
    )
    assert added["town"] == "kawabe" and added["admin_key"].startswith("mdg_")
    town_file = (data / "towns" / "kawabe" / "town.toml").read_text(encoding="utf-8")
    assert added["admin_key"] not in town_file  # only its digest is kept
    # the plain output: the key on a line of its own, once
    text = _ok(["towns", "add", "yamanoue", "--name", "山上村"])
    key_lines = [line for line in text.splitlines() if line.startswith("mdg_")]
    assert len(key_lines) == 1 and TownRegistry(data).get("yamanoue").key_matches(key_lines[0])

    # ingest: the town's own source list, or paths given with --town
    report = json.loads(_ok(["towns", "ingest", "kawabe", "--json"]))
    assert report["added"] == 24
    report = json.loads(_ok(["ingest", "--town", "yamanoue", "yamanoue/faq.csv", "--json"]))
    assert report["added"] == 22
    assert not (data / "catalogue.sqlite").exists()  # nothing went into the service's own index
    _ok(["synonyms", "add", "--town", "kawabe", "渡し船", "フェリー"])
    assert (data / "towns" / "kawabe" / "synonyms.csv").is_file()
    assert not (data / "synonyms.csv").exists()
    assert "フェリー" in _ok(["synonyms", "list", "--town", "kawabe"])

    listed = {t["id"]: t for t in json.loads(_ok(["towns", "list", "--json"]))}
    assert listed["kawabe"]["chunks"] == 24 and listed["yamanoue"]["chunks"] == 22
    assert listed["kawabe"]["origins"] == ["https://www.town.kawabe.example.jp"]
    table = _ok(["towns", "list"])
    assert "kawabe" in table and "川辺町" in table and "24" in table

    shown = json.loads(_ok(["towns", "show", "kawabe", "--json"]))
    assert shown["name"] == "川辺町" and shown["sources"] == 24
    assert shown["admin_keys"] == 1  # a count, never the digests
    assert shown["sources"] == 24 and "kawabe/faq.csv" in _ok(["towns", "show", "kawabe"])

    # each town answers from its own documents
    for tid in ("kawabe", "yamanoue"):
        a = json.loads(_ok(["ask", "--town", tid, "粗大ごみの出し方を教えてください", "--json"]))
        cited = [c["source"] for c in a["citations"]] + [c["source"] for c in a["related"]]
        assert cited and all(s.startswith(f"{tid}/") for s in cited), cited
    summary = json.loads(_ok(["eval", "run", "kawabe/eval.jsonl", "--town", "kawabe", "--json"]))
    assert summary["n"] == 18 and summary["figures"]["hit@5"]["value"] > 0.5
    assert summary["n_errors"] == 0

    # keys: another, then one that replaces them all
    second = json.loads(_ok(["towns", "key", "kawabe", "--json"]))["admin_key"]
    reg = TownRegistry(data)
    assert reg.get("kawabe").key_matches(added["admin_key"]) and reg.get("kawabe").key_matches(
        second
    )
    third = json.loads(_ok(["towns", "key", "kawabe", "--replace", "--json"]))["admin_key"]
    now = reg.get("kawabe")
    assert now.key_matches(third) and not now.key_matches(added["admin_key"])
    assert not now.key_matches(second)

    # remove: refused until exported, in Japanese and English, and nothing is deleted
    _refused(["towns", "remove", "kawabe"], "削除できません", "has not been exported")
    assert reg.exists("kawabe")
    exported = json.loads(_ok(["towns", "export", "kawabe", str(env / "out"), "--json"]))
    assert exported["files"]["sources.csv"] == 24 and exported["files"]["synonyms.csv"] == 1
    assert (env / "out" / "settings.json").is_file()
    gone = json.loads(_ok(["towns", "remove", "kawabe", "--json"]))
    assert gone["chunks"] == 24 and gone["left"] == 0
    assert not (data / "towns" / "kawabe").exists()
    assert [t["id"] for t in json.loads(_ok(["towns", "list", "--json"]))] == ["yamanoue"]
    # a town changed since its export needs a new export, or --force
    _ok(["towns", "export", "yamanoue", str(env / "out2")])
    _ok(["ingest", "--town", "yamanoue", "kawabe/faq.csv"])  # a change after the export
    _refused(["towns", "remove", "yamanoue"], "削除できません", "changed after its last export")
    _ok(["towns", "remove", "yamanoue", "--force"])
    assert TownRegistry(data).ids() == []


def test_towns_import_of_a_single_town_data_directory(env, monkeypatch):
    single = env / "single"
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(single))
    _ok(["ingest", "yamanoue/faq.csv"])
    _ok(["synonyms", "add", "粗大ごみ", "大型ごみ"])
    question = "粗大ごみの処理券はいくら？"
    before = json.loads(_ok(["ask", question, "--json"]))

    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(env / "data"))
    _refused(["towns", "import", "yama", "--from", str(single)], "a town needs a name")
    assert TownRegistry(env / "data").ids() == []  # nothing half-written
    rep = json.loads(
        _ok(["towns", "import", "yama", "--from", str(single), "--name", "山上村", "--json"])
    )
    assert rep["chunks"] == 22 and rep["vectors"]["passage"] == 22
    assert rep["embedder_calls"] == 0 and rep["synonyms"] is True
    assert rep["admin_key"].startswith("mdg_")
    after = json.loads(_ok(["ask", "--town", "yama", question, "--json"]))
    for a in (before, after):
        a.pop("latency_ms", None)
        a.pop("timings", None)
    assert after == before
    listed = json.loads(_ok(["towns", "list", "--json"]))
    assert [(t["id"], t["chunks"]) for t in listed] == [("yama", 22)]
    _refused(["towns", "import", "yama", "--from", str(single)], "index already")
    _refused(["towns", "import", "other", "--from", str(env / "nothing"), "--name", "x"],
             "not a data directory")  # fmt: skip
    assert TownRegistry(env / "data").ids() == ["yama"]


def test_towns_refusals_write_nothing(env):
    data = env / "data"
    _refused(["towns", "show", "nowhere"], "その町は登録されていません", "no town 'nowhere'")
    _refused(["towns", "key", "nowhere"], "その町は登録されていません")
    _refused(["towns", "export", "nowhere", str(env / "o")], "その町は登録されていません")
    _refused(["towns", "remove", "nowhere", "--force"], "その町は登録されていません")
    _refused(["towns", "add", "Minami!", "--name", "南町"], "町のIDが正しくありません", "2-32")
    _refused(["towns", "show", "../etc"], "町のIDが正しくありません")
    _refused(["towns", "add", "minami"], "a town needs a name")
    _refused(["towns", "add", "minami", "--name", "南町", "--origin", "javascript:alert(1)"],
             "origin")  # fmt: skip
    bad = env / "bad.toml"
    bad.write_text('name = "南町"\norigins = [\n', encoding="utf-8")
    _refused(["towns", "add", "minami", "--from-toml", str(bad)],
             "町の設定ファイルを読めません", "not valid TOML")  # fmt: skip
    bad.write_text('name = "南町"\ncolour = "blue"\n', encoding="utf-8")
    _refused(["towns", "add", "minami", "--from-toml", str(bad)], "colour")
    _refused(["towns", "add", "minami", "--from-toml", str(env / "missing.toml")], "cannot read")
    assert not (data / "towns").exists() or not any((data / "towns").iterdir())

    good = env / "good.toml"
    good.write_text(
        'name = "南町"\norigins = ["https://www.minami.example.jp"]\n'
        '[answer]\nanswer_threshold = 0.4\n[widget]\nphone = "0120-000-000"\n'
        '[line]\nchannel_secret = "line-secret-0123"\nchannel_access_token = "line-token-4567"\n',
        encoding="utf-8",
    )
    _ok(["towns", "add", "minami", "--from-toml", str(good)])
    _refused(["towns", "add", "minami", "--name", "南町"], "そのIDの町はもう登録されています")
    shown = json.loads(_ok(["towns", "show", "minami", "--json"]))
    assert shown["answer"]["answer_threshold"] == 0.4 and shown["widget"]["phone"] == "0120-000-000"
    assert shown["line"] is True  # configured, and its secret and token never shown
    for args in (["towns", "show", "minami", "--json"], ["towns", "show", "minami"]):
        text = _ok(args)
        assert "line-secret-0123" not in text and "line-token-4567" not in text
    assert TownRegistry(data).ids() == ["minami"]
    # the other commands' --town: an unknown town is one clear line too
    r = runner.invoke(app, ["ask", "--town", "nowhere", "住民票"])
    assert r.exit_code != 0 and "nowhere" in str(r.exception)


def test_a_town_file_broken_by_hand_stops_only_that_town(env):
    from fastapi.testclient import TestClient

    from madoguchi.kit.config import Settings
    from madoguchi.ui.api import create_app

    _ok(["towns", "add", "kawabe", "--name", "川辺町"])
    _ok(["towns", "add", "yamanoue", "--name", "山上村"])
    (env / "data" / "towns" / "kawabe" / "town.toml").write_text("name = [\n", encoding="utf-8")
    r = runner.invoke(app, ["towns", "list", "--json"])
    assert r.exit_code == 2
    assert [t["id"] for t in json.loads(r.stdout)] == ["yamanoue"]
    assert "町の設定ファイルを読めません (kawabe)" in r.stderr and "not valid TOML" in r.stderr
    _refused(["towns", "show", "kawabe"], "町の設定ファイルを読めません")
    settings = Settings(
        data_dir=env / "data", embedder={"kind": "fake"}, server={"rate_limit_per_minute": 0}
    )
    with TestClient(create_app(settings=settings, admin=False)) as c:
        r = c.post("/t/kawabe/api/v1/ask", json={"question": "住民票"})
        assert r.status_code == 503 and r.json()["error"] == "TownUnavailable"
        assert "TOML" not in r.text  # the reason is in the server's log, not the response
        assert c.post("/t/yamanoue/api/v1/ask", json={"question": "住民票"}).status_code == 200
