"""``ingest.backup``: a backup of a live data directory, restored elsewhere, answers the
same; a damaged or misplaced restore changes nothing."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
from factories import CountingEmbedder

from madoguchi.ingest.backup import LAST_BACKUP, MANIFEST, backup, read_manifest, restore, verify
from madoguchi.ingest.consistency import check_index
from madoguchi.ingest.services import build_services
from madoguchi.ingest.writelock import DataDirLock, LockTimeout
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError

FAQ = (
    "ID,質問,回答,所管部署,電話番号\n"
    "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課,0120-000-111\n"
    "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。手数料は300円です。,住民課,0120-000-222\n"
    "3,犬の登録はどこでしますか？,生まれて90日を過ぎた犬は役場の環境衛生課で登録してください。,環境衛生課,0120-000-111\n"
)
QUESTIONS = [
    "粗大ごみの出し方は？",
    "住民票の写しはどこで取れますか？",
    "犬の登録はどこでしますか？",
]


def make_town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    Path("page.md").write_text("# 防災\n\n避難所は中央公民館です。毎年9月に防災訓練があります。\n")
    settings = Settings(data_dir=tmp_path / "data", embedder={"kind": "fake", "dim": 64})
    svc = build_services(settings, embedder=CountingEmbedder())
    svc.ingest(["faq.csv", "page.md"])
    svc.close()
    (settings.data_dir / "synonyms.csv").write_text("粗大ごみ,大型ごみ\n", encoding="utf-8")
    (settings.data_dir / "departments.csv").write_text("name,phone\n住民課,0120-000-222\n")
    log = ConversationLog.in_data_dir(settings.data_dir)
    for i in range(5):
        log.record(
            question=f"質問{i}",
            lang="ja",
            answer="回答",
            citations=[],
            refused=False,
            mode="faq",
            confidence=0.9,
            latency_ms=1.0,
        )
    log.close()
    return settings


def answers(settings: Settings) -> list[tuple[str, list[str], bool]]:
    emb = CountingEmbedder()
    svc = build_services(settings, embedder=emb)
    out = []
    for q in QUESTIONS:
        a = svc.ask(q).answer
        out.append((a.text, [c.source_id for c in a.citations], a.refused))
    svc.close()
    assert emb.embedded == []  # nothing had to be embedded again
    return out


def test_backup_and_restore_into_a_new_data_dir(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    before = answers(settings)
    m = backup(settings, tmp_path / "bk")
    assert m.log_rows == 5 and m.chunks > 0 and m.sources == 4
    assert m.vectors["passages"] == m.chunks and not m.warnings
    assert m.generation == check_index(settings).generation
    roles = {f.role for f in m.files}
    assert {"catalogue", "vectors", "log", "synonyms", "departments"} <= roles
    assert all(len(f.sha256) == 64 for f in m.files)  # (HNSW link lists may be empty)
    manifest = json.loads((tmp_path / "bk" / MANIFEST).read_text())
    assert manifest["versions"]["madoguchi"] and manifest["versions"]["schema"].startswith("m0")
    assert verify(tmp_path / "bk") == []
    assert json.loads((settings.data_dir / LAST_BACKUP).read_text())["generation"] == m.generation
    assert not list(tmp_path.glob(".bk*"))  # the temporary folder is gone

    r = restore(tmp_path / "bk", tmp_path / "new", settings=settings)
    assert r.consistent and r.log_rows == 5 and r.generation == m.generation
    restored = settings.model_copy(update={"data_dir": tmp_path / "new"})
    assert answers(restored) == before
    assert (tmp_path / "new" / "synonyms.csv").read_text(encoding="utf-8") == "粗大ごみ,大型ごみ\n"
    assert (tmp_path / "new" / "conversations.sqlite").stat().st_mode & 0o077 == 0


def test_backup_as_one_tar_gz_file(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    m = backup(settings, tmp_path / "town-backup.tar.gz")
    with tarfile.open(tmp_path / "town-backup.tar.gz") as tar:
        assert MANIFEST in tar.getnames()
    r = restore(tmp_path / "town-backup.tar.gz", tmp_path / "new", settings=settings)
    assert r.consistent and r.files == len(m.files)


def test_restore_refuses_a_non_empty_dir_and_force_keeps_the_old_one(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    backup(settings, tmp_path / "bk")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("staff notes")
    with pytest.raises(InputError, match="not empty"):
        restore(tmp_path / "bk", tmp_path / "busy", settings=settings)
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    r = restore(tmp_path / "bk", tmp_path / "busy", settings=settings, force=True)
    assert r.moved_aside is not None
    assert (r.moved_aside / "keep.txt").read_text() == "staff notes"
    assert r.consistent


def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    m = backup(settings, tmp_path / "bk")
    victim = next(f for f in m.files if f.role == "catalogue")
    path = tmp_path / "bk" / victim.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert any("checksum" in p for p in verify(tmp_path / "bk"))
    with pytest.raises(InputError, match="damaged"):
        restore(tmp_path / "bk", tmp_path / "new", settings=settings)
    assert not (tmp_path / "new").exists()


def test_backup_refuses_an_existing_destination_and_a_missing_index(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "x").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        backup(settings, tmp_path / "bk")
    empty = settings.model_copy(update={"data_dir": tmp_path / "nothing"})
    with pytest.raises(InputError, match="no index"):
        backup(empty, tmp_path / "bk2")


def test_backup_waits_for_a_writer_and_gives_up_after_its_timeout(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    writer = DataDirLock(settings.data_dir)  # another writer (its own lock file handle)
    held, release = threading.Event(), threading.Event()

    def write() -> None:
        with writer:
            held.set()
            release.wait(10)

    t = threading.Thread(target=write)
    t.start()
    held.wait(10)
    try:
        with pytest.raises(LockTimeout):
            backup(settings, tmp_path / "bk", lock_timeout=0.2)
        assert not (tmp_path / "bk").exists()
    finally:
        release.set()
        t.join()
    assert backup(settings, tmp_path / "bk", lock_timeout=5).chunks > 0


def test_settings_and_sync_files_and_uploads_travel_with_it(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    (tmp_path / "settings.toml").write_text('town_name = "みどり川町"\n', encoding="utf-8")
    (tmp_path / "town.toml").write_text('[[sources]]\npath = "faq.csv"\n', encoding="utf-8")
    (tmp_path / "data-uploads").mkdir()
    (tmp_path / "data-uploads" / "guide.md").write_text("# 案内\n")
    m = backup(
        settings,
        tmp_path / "bk",
        settings_file=tmp_path / "settings.toml",
        sync_file=tmp_path / "town.toml",
    )
    assert {"settings", "sync", "upload"} <= {f.role for f in m.files}
    r = restore(tmp_path / "bk", tmp_path / "new", settings=settings)
    assert (tmp_path / "new-config" / "town.toml").read_text().startswith("[[sources]]")
    assert (tmp_path / "new-uploads" / "guide.md").read_text() == "# 案内\n"
    assert r.config_dir == tmp_path / "new-config"
    with sqlite3.connect(tmp_path / "new" / "catalogue.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 4


def test_manifest_round_trip(tmp_path, monkeypatch):
    settings = make_town(tmp_path, monkeypatch)
    m = backup(settings, tmp_path / "bk")
    again = read_manifest(tmp_path / "bk")
    assert again.to_json() == m.to_json()
