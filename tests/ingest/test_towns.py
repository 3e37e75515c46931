"""The towns registry and its whole-town operations: import without re-embedding, export,
removal, the town.toml rules."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from madoguchi.connectors.line.seen import SeenEvents
from madoguchi.ingest.services import build_services
from madoguchi.ingest.towns import (
    BadTownFile,
    BadTownId,
    RemovalRefused,
    Town,
    TownExists,
    TownNotFound,
    TownRegistry,
    add_key,
    add_town,
    export_town,
    import_town,
    parse_town,
    remove_town,
    town_from_options,
    town_settings,
)
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import ConfigError, InputError
from madoguchi.kit.handoff import HandoffInbox
from tests.factories import CountingEmbedder

REPO = Path(__file__).resolve().parents[2]
YAMA = "demo/towns/yamanoue"
SYNONYMS = "粗大ごみ,大型ごみ,大きいごみ\n"


def _questions(n: int = 8) -> list[str]:
    lines = (REPO / YAMA / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    return [i["question"] for i in items if "question" in i][:n]


def _answers(svc, questions):
    """What a resident sees of each answer, and what was retrieved (ids in rank order)."""
    got = []
    for q in questions:
        res = svc.ask(q)
        data = res.answer.to_json()
        data.pop("timings", None)
        got.append((data, [h.chunk.id for h in res.hits]))
    return got


@pytest.fixture
def single(tmp_path, monkeypatch):
    """A single-town data directory: yamanoue's FAQ, a synonym list and three logged turns."""
    monkeypatch.chdir(REPO)
    s = Settings(
        data_dir=tmp_path / "single",
        embedder={"kind": "fake", "dim": 256},
        answer={"answer_threshold": 0.0},  # no abstention: answers to compare
    )
    emb = CountingEmbedder(dim=256)
    svc = build_services(s, embedder=emb)
    report = svc.ingest([f"{YAMA}/faq.csv"])
    assert report.chunks_embedded > 0 and emb.embedded
    (s.data_dir / "synonyms.csv").write_text(SYNONYMS, encoding="utf-8")
    before = _answers(svc, _questions())
    assert any(not a["refused"] and a["citations"] for a, _ in before)  # answers to compare
    svc.close()
    log = ConversationLog.in_data_dir(s.data_dir)
    for i, q in enumerate(_questions(3)):
        log.record(
            question=q, lang="ja", answer=f"answer {i}", citations=[], refused=i == 2,
            mode="extractive", confidence=0.5, latency_ms=1.0, ts=time.time() - 60 + i,
        )  # fmt: skip
    log.close()
    return s, before


def _root(single_settings: Settings, tmp_path: Path) -> Settings:
    return single_settings.model_copy(update={"data_dir": tmp_path / "root"})


def test_import_brings_a_data_directory_in_without_re_embedding(single, tmp_path):
    s, before = single
    base = _root(s, tmp_path)
    reg = TownRegistry(base.data_dir)
    town, _ = add_town(reg, Town(id="yamanoue", name="山上村"))
    rep = import_town(base, reg, "yamanoue", s.data_dir, CountingEmbedder(dim=256))

    cat = sqlite3.connect(s.data_dir / "catalogue.sqlite")
    chunks = cat.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    cat.close()
    assert rep.chunks == chunks > 0
    assert rep.vectors == {"passage": chunks, "titles": chunks, "leads": chunks}
    assert rep.embedder_calls == 0 and rep.turns == 3 and rep.synonyms

    emb = CountingEmbedder(dim=256)
    ts = town_settings(base, town)
    svc = build_services(ts, embedder=emb)
    try:
        assert svc.index.chunk_count() == chunks
        assert _answers(svc, _questions()) == before  # the same answers and hits
        again = svc.ingest([f"{YAMA}/faq.csv"])  # the same documents: nothing to embed
        assert again.counts()["unchanged"] == rep.sources and again.chunks_embedded == 0
        assert emb.embedded == []  # no chunk, title or lead was embedded again
    finally:
        svc.close()
    assert ts.synonyms_path.read_text(encoding="utf-8") == SYNONYMS
    log = ConversationLog.in_data_dir(ts.data_dir, retention_days=36500)
    try:
        turns = log.turns()
        assert [t.question for t in reversed(turns)] == _questions(3)
        assert log.count(refused=True) == 1
    finally:
        log.close()


def test_import_refuses_and_leaves_the_town_as_it_was(single, tmp_path):
    s, _ = single
    base = _root(s, tmp_path)
    reg = TownRegistry(base.data_dir)
    add_town(reg, Town(id="yamanoue", name="山上村"))
    folder = reg.path("yamanoue")

    class Other(CountingEmbedder):
        name = "another-model"

    with pytest.raises(ConfigError, match="re-embedding"):
        import_town(base, reg, "yamanoue", s.data_dir, Other(dim=256))
    with pytest.raises(InputError, match="no index"):
        import_town(base, reg, "yamanoue", tmp_path, CountingEmbedder(dim=256))
    with pytest.raises(TownNotFound):
        import_town(base, reg, "nowhere", s.data_dir, CountingEmbedder(dim=256))
    memory = base.with_overrides(**{"store.kind": "memory"})
    with pytest.raises(ConfigError, match="embedded Chroma"):
        import_town(memory, reg, "yamanoue", s.data_dir, CountingEmbedder(dim=256))
    # a source whose vectors were lost: the check fails, and the copy goes again
    broken = tmp_path / "broken"
    shutil.copytree(s.data_dir, broken)
    shutil.rmtree(broken / "chroma")
    with pytest.raises(ConfigError, match="vectors missing"):
        import_town(base, reg, "yamanoue", broken, CountingEmbedder(dim=256))
    assert sorted(p.name for p in folder.iterdir()) == ["town.toml"]
    # and then a good import still works, once
    import_town(base, reg, "yamanoue", s.data_dir, CountingEmbedder(dim=256))
    with pytest.raises(InputError, match="index already"):
        import_town(base, reg, "yamanoue", s.data_dir, CountingEmbedder(dim=256))


def test_export_then_remove_leaves_no_file_row_or_vector(single, tmp_path):
    s, _ = single
    base = _root(s, tmp_path)
    reg = TownRegistry(base.data_dir)
    add_town(reg, Town(id="yamanoue", name="山上村"))
    add_town(reg, Town(id="kawabe", name="川辺町"))
    import_town(base, reg, "yamanoue", s.data_dir, CountingEmbedder(dim=256))
    kawabe = build_services(town_settings(base, reg.get("kawabe")))
    kawabe.ingest(["demo/towns/kawabe/faq.csv"])
    kawabe.close()

    with pytest.raises(RemovalRefused, match="not been exported"):
        remove_town(reg, "yamanoue")
    rep = export_town(base, reg, "yamanoue", tmp_path / "out")
    assert rep.files["conversations.jsonl"] == 3 and rep.files["synonyms.csv"] == 1
    exported = (tmp_path / "out" / "conversations.jsonl").read_text(encoding="utf-8")
    assert [json.loads(x)["question"] for x in exported.splitlines()][::-1] == _questions(3)
    modes = {f.name: f.stat().st_mode & 0o777 for f in (tmp_path / "out").iterdir()}
    assert set(modes.values()) == {0o600}, modes
    public = parse_town((tmp_path / "out" / "town.toml").read_text(encoding="utf-8"))
    assert public.admin_keys == [] and public.name == "山上村"
    # the export's town.toml starts the town again elsewhere (a new town: not exported)
    again = town_from_options("yamanoue", None, toml_file=tmp_path / "out" / "town.toml")
    assert again.exported_at is None and again.name == "山上村"

    # a question logged after the export: the export is stale
    log = ConversationLog.in_data_dir(reg.path("yamanoue"))
    log.record(
        question="新しい質問", lang="ja", answer="a", citations=[], refused=False,
        mode="extractive", confidence=0.5, latency_ms=1.0,
    )  # fmt: skip
    log.close()
    with pytest.raises(RemovalRefused, match="changed after"):
        remove_town(reg, "yamanoue")
    gone = remove_town(reg, "yamanoue", force=True)
    assert gone.turns == 4 and gone.vectors >= 3 * gone.chunks > 0 and gone.left == 0
    assert not reg.path("yamanoue").exists() and reg.ids() == ["kawabe"]
    # kawabe is whole
    kawabe = build_services(town_settings(base, reg.get("kawabe")))
    try:
        assert kawabe.index.chunk_count() == 24
    finally:
        kawabe.close()
    # the id is free again, and a new town of that id starts empty
    town, _ = add_town(reg, Town(id="yamanoue", name="山上村"))
    fresh = build_services(town_settings(base, town))
    try:
        assert fresh.index.chunk_count() == 0 and fresh.index.vectors.ids() == set()
    finally:
        fresh.close()


def test_registry_rules(tmp_path):
    reg = TownRegistry(tmp_path)
    town, key = add_town(
        reg, town_from_options("minami", "南町", ["https://www.minami.example.jp/"])
    )
    assert town.origins == ["https://www.minami.example.jp"] and town.key_matches(key)
    assert key not in (reg.path("minami") / "town.toml").read_text(encoding="utf-8")
    with pytest.raises(TownExists):
        add_town(reg, Town(id="minami", name="別の町"))
    # a folder a cut-short removal left behind is not inherited by a new town
    (tmp_path / "towns" / "kita").mkdir(parents=True)
    (tmp_path / "towns" / "kita" / "catalogue.sqlite").write_bytes(b"left")
    with pytest.raises(TownExists, match="not fully removed"):
        add_town(reg, Town(id="kita", name="北村"))
    shutil.rmtree(tmp_path / "towns" / "kita")
    with pytest.raises(BadTownId):
        reg.get("Minami!")
    with pytest.raises(BadTownId):
        town_from_options("1town", "x")
    with pytest.raises(TownNotFound):
        reg.get("kita")
    second = add_key(reg, "minami")
    assert reg.get("minami").key_matches(key) and reg.get("minami").key_matches(second)
    third = add_key(reg, "minami", replace=True)
    now = reg.get("minami")
    assert not now.key_matches(key) and not now.key_matches(second) and now.key_matches(third)

    bad = tmp_path / "bad.toml"
    for text, match in (
        ("name = \n", "not valid TOML"),
        ('name = "x"\nunknown = 1\n', "unknown"),
        ('name = "x"\norigins = ["ftp://x"]\n', "origin"),
        ('name = "x"\nadmin_keys = ["' + "0" * 64 + '"]\n', "generated"),
        ('id = "other"\nname = "x"\n', "is not 'kita'"),
        ('name = "x"\n[widget]\nlanguages = ["xx"]\n', "unknown widget language"),
    ):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(BadTownFile, match=match):
            town_from_options("kita", None, toml_file=bad)
    assert reg.ids() == ["minami"]
    good = tmp_path / "good.toml"
    good.write_text(
        'name = "北村"\norigins = ["https://kita.example.jp"]\n[answer]\nanswer_threshold = 0.4\n',
        encoding="utf-8",
    )
    kita = town_from_options("kita", None, ["https://www.kita.example.jp"], toml_file=good)
    assert kita.name == "北村" and kita.origins == ["https://www.kita.example.jp"]  # options win
    assert kita.answer.answer_threshold == 0.4
    assert parse_town(reg.path("minami").joinpath("town.toml").read_text("utf-8")).id == "minami"


def test_import_into_a_town_opened_once_replaces_its_empty_index(single, tmp_path):
    s, before = single
    base = _root(s, tmp_path)
    reg = TownRegistry(base.data_dir)
    town, _ = add_town(reg, Town(id="yamanoue", name="山上村"))
    stamp = reg.stamp("yamanoue")
    opened = build_services(town_settings(base, town))  # a first request opens an empty index
    assert opened.index.chunk_count() == 0
    opened.close()
    assert (reg.path("yamanoue") / "catalogue.sqlite").is_file()
    HandoffInbox.in_data_dir(reg.path("yamanoue"))  # other stores opened, still empty
    SeenEvents.in_data_dir(reg.path("yamanoue")).close()
    rep = import_town(base, reg, "yamanoue", s.data_dir, CountingEmbedder(dim=256))
    assert rep.chunks > 0 and reg.stamp("yamanoue") != stamp  # a server reopens the town
    svc = build_services(town_settings(base, reg.get("yamanoue")), embedder=CountingEmbedder(256))
    try:
        assert _answers(svc, _questions()) == before
    finally:
        svc.close()
    # a town with a log, or files, of its own is not overwritten
    add_town(reg, Town(id="kawabe", name="川辺町"))
    (reg.path("kawabe") / "synonyms.csv").write_text("渡し船,フェリー\n", encoding="utf-8")
    with pytest.raises(InputError, match="files of its own"):
        import_town(base, reg, "kawabe", s.data_dir, CountingEmbedder(dim=256))
    (reg.path("kawabe") / "synonyms.csv").unlink()
    seen = SeenEvents.in_data_dir(reg.path("kawabe"))
    assert seen.claim("event-1")
    seen.close()
    with pytest.raises(InputError, match=r"line_events\.sqlite"):
        import_town(base, reg, "kawabe", s.data_dir, CountingEmbedder(dim=256))
    (reg.path("kawabe") / "line_events.sqlite").unlink()
    log = ConversationLog.in_data_dir(reg.path("kawabe"))
    log.record(
        question="q", lang="ja", answer="a", citations=[], refused=False,
        mode="extractive", confidence=0.5, latency_ms=1.0,
    )  # fmt: skip
    log.close()
    with pytest.raises(InputError, match="conversation log of its own"):
        import_town(base, reg, "kawabe", s.data_dir, CountingEmbedder(dim=256))
    assert ConversationLog.in_data_dir(reg.path("kawabe")).count() == 1
