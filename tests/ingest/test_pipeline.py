"""Ingest runs end to end on a fake embedder: report, idempotence, bad input, crash repair."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from madoguchi.ingest.services import build_services

FAQ = (
    "ID,質問,回答,所管部署,電話番号\n"
    "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課,0120-000-111\n"
    "2,住民票の写しはどこで取れますか？,役場の住民課窓口で交付します。手数料は300円です。,住民課,0120-000-222\n"
    "3,犬を飼い始めたら？,30日以内に登録してください。,環境衛生課,0120-000-111\n"
)


@pytest.fixture
def town(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "town"
    (root / "pages").mkdir(parents=True)
    (root / "faq.csv").write_text(FAQ, encoding="utf-8-sig")
    (root / "pages" / "bousai.md").write_text(
        "# 防災ガイド\n\n## 避難所\n\n中央公民館が指定避難所です。\n\nお問い合わせ：総務課防災係 電話 0120-000-333\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return root


def test_first_run_adds_and_second_is_unchanged(settings, town):
    svc = build_services(settings)
    r1 = svc.ingest(["town"])
    assert r1.counts() == {"added": 4, "updated": 0, "unchanged": 0, "removed": 0, "skipped": 0}
    assert sorted(r1.added) == [
        "town/faq.csv#1",
        "town/faq.csv#2",
        "town/faq.csv#3",
        "town/pages/bousai.md",
    ]
    r2 = svc.ingest(["town"])
    assert r2.counts()["unchanged"] == 4 and r2.chunks_embedded == 0


def test_source_ids_follow_the_path_as_given(settings, town):
    svc = build_services(settings)
    svc.ingest(["./town/faq.csv"])
    assert {s.source_id for s in svc.index.sources()} == {
        "town/faq.csv#1",
        "town/faq.csv#2",
        "town/faq.csv#3",
    }


def test_changed_row_updates_and_deleted_row_is_removed(settings, town):
    svc = build_services(settings)
    svc.ingest(["town"])
    lines = FAQ.splitlines()
    lines[2] = lines[2].replace("300円", "350円")
    del lines[3]
    (town / "faq.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = svc.ingest(["town"])
    assert r.updated == ["town/faq.csv#2"]
    assert r.removed == ["town/faq.csv#3"]
    assert r.chunks_embedded == 1
    res = svc.ask("住民票の手数料")
    assert "350円" in res.hits[0].chunk.text


def test_dry_run_changes_nothing(settings, town):
    svc = build_services(settings)
    r = svc.ingest(["town"], dry_run=True)
    assert len(r.added) == 4
    assert svc.index.chunk_count() == 0


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", "ID,質問,回答\n".encode(), "header only"),
        ("binary.csv", bytes(range(256)) * 4, "binary"),
        ("broken.pdf", b"%PDF-1.4\n garbage \x00\x01 not a pdf", "not a readable PDF"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type"),
    ],
)
def test_bad_files_are_reported_and_skipped(settings, town, name, content, reason):
    (town / name).write_bytes(content)
    svc = build_services(settings)
    r = svc.ingest(["town"])
    assert len(r.added) == 4, "good documents are still ingested"
    skipped = dict(r.skipped)
    assert f"town/{name}" in skipped
    assert reason in skipped[f"town/{name}"]


def test_shift_jis_csv_with_unknown_columns_becomes_a_table(settings, town):
    (town / "items.csv").write_bytes(
        "品目,分別,注意\nスプレー缶,有害ごみ,穴を開けずに出す\n".encode("cp932")
    )
    svc = build_services(settings)
    r = svc.ingest(["town/items.csv"])
    assert r.added == ["town/items.csv#1"]
    assert "スプレー缶" in svc.index.view().chunks()[0].text


def test_a_file_that_breaks_keeps_its_previous_entries(settings, town):
    svc = build_services(settings)
    svc.ingest(["town"])
    (town / "faq.csv").write_bytes(b"\x00\x01\x02binary now")
    r = svc.ingest(["town"])
    assert "town/faq.csv" in dict(r.skipped)
    assert r.removed == []
    assert svc.index.source_hash("town/faq.csv#1") is not None


def test_missing_path_is_reported(settings, town):
    r = build_services(settings).ingest(["nowhere"])
    assert dict(r.skipped) == {"nowhere": "not found"}


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from madoguchi.kit.config import Settings
    from madoguchi.ingest.services import build_services
    from madoguchi.ingest.embed import HashingEmbeddings

    class Slow(HashingEmbeddings):
        def embed_documents(self, texts):
            time.sleep(0.3)
            return super().embed_documents(texts)

    s = Settings(data_dir=sys.argv[1], embedder={"kind": "fake", "dim": 256})
    svc = build_services(s, embedder=Slow(256))
    from madoguchi.ingest.pipeline import ingest

    print("start", flush=True)
    ingest(svc.index, [sys.argv[2]], batch_chunks=4)
    print("done", flush=True)
    """
)


def _snapshot(settings) -> tuple[set, set]:
    svc = build_services(settings)
    rows = {(c.id, c.source_id) for c in svc.index.view().chunks()}
    vecs = svc.index.vectors.ids()
    svc.close()
    return rows, vecs


def test_killed_ingest_is_completed_by_the_next_run(chroma_settings, tmp_path, monkeypatch):
    """SIGKILL in the middle of a run, then a normal run: same index as an uninterrupted one."""
    monkeypatch.chdir(tmp_path)
    rows = ["ID,質問,回答"] + [
        f"{i},質問{i}について,回答{i}です。手数料は{i}00円。" for i in range(1, 61)
    ]
    Path("big.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    script = tmp_path / "run_ingest.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(chroma_settings.data_dir), "big.csv"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"start"
    # let a few batches land, then kill without warning
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.2)
        db = Path(chroma_settings.data_dir) / "catalogue.sqlite"
        if db.exists():
            import sqlite3

            try:
                n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM sources").fetchone()[0]
            except sqlite3.Error:
                continue
            if n >= 12:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial_rows, _ = _snapshot(chroma_settings)
    assert 0 < len(partial_rows) < 60, "the kill landed mid-run"

    svc = build_services(chroma_settings)
    report = svc.ingest(["big.csv"])
    assert len(report.added) + len(report.unchanged) == 60
    svc.close()
    rows_after, vecs_after = _snapshot(chroma_settings)

    clean = chroma_settings.with_overrides(data_dir=str(tmp_path / "clean"))
    build_services(clean).ingest(["big.csv"])
    rows_clean, vecs_clean = _snapshot(clean)
    assert rows_after == rows_clean
    assert vecs_after == {r[0] for r in rows_after} == vecs_clean


def test_the_index_own_data_dir_is_never_walked(tmp_path, monkeypatch):
    from madoguchi.kit.config import Settings

    monkeypatch.chdir(tmp_path)
    Path("faq.csv").write_text(FAQ, encoding="utf-8")
    s = Settings(
        data_dir=tmp_path / "var", embedder={"kind": "fake", "dim": 64}, store={"kind": "memory"}
    )
    svc = build_services(s)
    svc.ingest(["."])
    r = svc.ingest(["."])
    assert r.skipped == [] and len(r.unchanged) == 3


# ------------------------------------------------------------------ EUC-JP and doubtful text

EUC_TEXT = "産業振興室\n電話 01656-5-3313\n農林係 産業振興室内\n"
EUC_CSV = "ID,質問,回答,担当課\n1,農林係の電話番号は,産業振興室農林係 01656-5-3313,産業振興室\n"
EUC_HTML = (
    "<html><head><title>産業振興室 | 音威子府村</title></head><body>"
    "<h1>産業振興室</h1><p>農林係 電話 01656-5-3313</p></body></html>"
)


def test_undeclared_euc_jp_text_csv_and_html_are_indexed_as_written(settings, town):
    (town / "desk.txt").write_bytes(EUC_TEXT.encode("euc_jp"))
    (town / "desk.csv").write_bytes(EUC_CSV.encode("euc_jp"))
    (town / "pages" / "desk.html").write_bytes(EUC_HTML.encode("euc_jp"))
    svc = build_services(settings)
    r = svc.ingest(["town"])
    assert {"town/desk.txt", "town/desk.csv#1", "town/pages/desk.html"} <= set(r.added)
    texts = {c.source_id: c.text for c in svc.index.view().chunks()}
    assert "産業振興室" in texts["town/desk.txt"]
    assert "産業振興室農林係" in texts["town/desk.csv#1"]
    assert "農林係 電話" in texts["town/pages/desk.html"]
    assert not any("ｻｺｶﾈ" in t for t in texts.values())
    assert r.warnings == []


def test_doubtful_decoding_is_a_warning_in_the_report(settings, town):
    (town / "moji.txt").write_text(
        "説明: " + "こんにちは".encode().decode("cp932"), encoding="utf-8"
    )
    broken = EUC_CSV.encode("euc_jp")
    (town / "broken.csv").write_bytes(broken[:40] + b"\xff" + broken[40:])
    svc = build_services(settings)
    r = svc.ingest(["town"])
    assert "town/moji.txt" in r.added, "indexed, but flagged"
    warned = dict(r.warnings)
    assert "mojibake" in warned["town/moji.txt"]
    assert "could not be decoded as EUC-JP" in warned["town/broken.csv"]
    assert {"source": "town/moji.txt", "warning": warned["town/moji.txt"]} in r.to_json()[
        "warnings"
    ]
