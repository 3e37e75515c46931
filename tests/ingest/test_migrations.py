"""Numbered catalogue migrations, and an old index opening without re-embedding."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from factories import CountingEmbedder

from madoguchi.ingest.embed import HashingEmbeddings
from madoguchi.ingest.migrations import MIGRATIONS, migrate
from madoguchi.ingest.services import build_services

PAGE = (
    "# 町のごみ\n\n## 粗大ごみ\n\n粗大ごみは予約制です。\n\n## 資源ごみ\n\n缶とびんは水曜日です。\n"
)


def test_a_new_catalogue_has_every_migration_once(tmp_path: Path):
    db = sqlite3.connect(tmp_path / "c.sqlite")
    assert migrate(db) == [m.__name__ for m in MIGRATIONS]
    assert migrate(db) == []
    names = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == sorted(m.__name__ for m in MIGRATIONS)


def _old_id(source_id: str, position: int, text: str) -> str:
    """How the release before migration 4 named a chunk (its position in the hash)."""
    return hashlib.sha256(f"{source_id}\0{position}\0{text}".encode()).hexdigest()[:32]


def _make_it_old(data_dir: Path, svc) -> None:
    """Turn a fresh index into one the previous release would have left: position-keyed
    chunk and lead-vector ids, and no migrations table (its columns came by probes)."""
    db = sqlite3.connect(data_dir / "catalogue.sqlite")
    rows = db.execute("SELECT id, source_id, position, text FROM chunks").fetchall()
    moves = {cid: _old_id(sid, pos, text) for cid, sid, pos, text in rows}
    with db:
        for new, old in moves.items():
            db.execute("UPDATE chunks SET id=? WHERE id=?", (old, new))
        db.execute("DROP TABLE migrations")
        db.execute("DROP TABLE chunk_rekey")
    db.close()
    for store in (svc.index.vectors, svc.index.lead_vectors):
        ids, vecs = store.get(list(moves))
        if ids:
            store.upsert([moves[i] for i in ids], vecs)
            store.delete(ids)


def test_an_index_of_the_previous_release_opens_with_nothing_re_embedded(
    chroma_settings, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    Path("page.md").write_text(PAGE, encoding="utf-8")
    Path("faq.csv").write_text(
        "ID,質問,回答\n1,犬の登録は？,役場で手続きします。\n", encoding="utf-8"
    )
    svc = build_services(chroma_settings, embedder=HashingEmbeddings(dim=32))
    first = svc.ingest(["page.md", "faq.csv"])
    assert first.chunks_embedded == 3
    before = {c.text: c.id for c in svc.index.view().chunks()}
    _make_it_old(Path(chroma_settings.data_dir), svc)
    svc.close()

    emb = CountingEmbedder(32)
    upgraded = build_services(chroma_settings, embedder=emb)
    view = upgraded.index.view()  # runs migration 4 and moves the vectors
    assert {c.text: c.id for c in view.chunks()} == before
    rows = {c.id for c in view.chunks()}
    assert upgraded.index.vectors.ids() == rows
    assert upgraded.index.lead_vectors.ids() <= rows and upgraded.index.lead_vectors.ids()
    again = upgraded.ingest(["page.md", "faq.csv"])
    assert again.chunks_embedded == 0 and not again.repaired
    assert emb.embedded == []
    hits, _ = upgraded.retriever.search("粗大ごみの予約", 3)
    assert hits and hits[0].chunk.source_id == "page.md"


def test_inserting_a_paragraph_re_embeds_only_the_new_text(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = "# 案内\n\n" + "\n\n".join(
        f"第{i}段落。" + "町の手続きの説明です。" * 30 for i in range(8)
    )
    Path("page.md").write_text(body, encoding="utf-8")
    emb = CountingEmbedder(32)
    svc = build_services(settings, embedder=emb)
    assert svc.ingest(["page.md"]).chunks_embedded >= 8
    emb.embedded.clear()
    Path("page.md").write_text(
        body.replace("# 案内\n\n", "# 案内\n\nお知らせ：窓口の時間が変わりました。\n\n")
    )
    report = svc.ingest(["page.md"])
    assert report.chunks_embedded == 1
    assert len(emb.embedded) == 1 and "お知らせ" in emb.embedded[0]


def test_a_text_repeated_in_a_page_gets_its_own_chunk_each_time(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("page.md").write_text(
        "# A\n\n同じ文です。\n\n# B\n\n別の文です。\n\n# A\n\n同じ文です。\n"
    )
    svc = build_services(settings, embedder=HashingEmbeddings(dim=16))
    svc.ingest(["page.md"])
    chunks = svc.index.view().chunks()
    assert len(chunks) == 3 and len({c.id for c in chunks}) == 3
