"""The catalogue + vector index: idempotence, removal, repair after a crash."""

from __future__ import annotations

import pytest
from factories import CountingEmbedder

from madoguchi.ingest.embed import HashingEmbeddings
from madoguchi.ingest.index import Index, covers
from madoguchi.ingest.vectors import MemoryVectorIndex
from madoguchi.kit.errors import ConfigError
from madoguchi.kit.types import Chunk, SourceDocument


def faq(sid: str, q: str, a: str) -> tuple[SourceDocument, str, list[Chunk]]:
    doc = SourceDocument(
        sid, sid, q, f"{q}\n{a}", "text/csv", {"kind": "faq", "question": q, "answer": a}
    )
    chunk = Chunk(Chunk.make_id(sid, doc.body), sid, f"{q}\n{a}", q, 0, dict(doc.meta))  # type: ignore[arg-type]
    return doc, doc.content_hash(), [chunk]


@pytest.fixture
def index(settings):
    return Index(settings, CountingEmbedder(), vectors=MemoryVectorIndex())


def test_apply_embeds_only_new_chunks(index):
    batch = [
        faq("f.csv#1", "粗大ごみは？", "予約制です。"),
        faq("f.csv#2", "住民票は？", "窓口で。"),
    ]
    stats = index.apply(batch)
    assert stats.chunks == 2 and stats.titles == 2 and stats.tokens > 0
    assert index.chunk_count() == 2
    index.embedder.embedded.clear()
    again = index.apply(batch)
    assert again.chunks == 0 and again.titles == 0 and index.embedder.embedded == []
    assert index.source_hash("f.csv#1") == batch[0][1]


def test_update_replaces_old_chunks(index):
    index.apply([faq("f.csv#1", "粗大ごみは？", "予約制です。")])
    index.apply([faq("f.csv#1", "粗大ごみは？", "電話で予約してください。")])
    assert index.chunk_count() == 1
    assert len(index.vectors.ids()) == 1
    view = index.view()
    assert "電話" in view.chunks()[0].text


def test_shared_titles_are_embedded_once_and_dropped_with_the_last_user(index):
    index.apply([faq("f.csv#1", "同じ質問", "答え1"), faq("f.csv#2", "同じ質問", "答え2")])
    assert len(index.title_vectors.ids()) == 1
    index.remove(["f.csv#1"])
    assert len(index.title_vectors.ids()) == 1
    index.remove(["f.csv#2"])
    assert index.title_vectors.ids() == set()


def test_remove_and_generation(index):
    index.apply([faq("f.csv#1", "a", "b"), faq("f.csv#2", "c", "d")])
    g = index.generation()
    index.remove(["f.csv#1"])
    assert index.generation() > g
    assert [s.source_id for s in index.sources()] == ["f.csv#2"]
    assert len(index.vectors.ids()) == 1


def test_reconcile_repairs_orphans_and_missing(index):
    index.apply([faq("f.csv#1", "a", "b"), faq("f.csv#2", "c", "d")])
    # a crash after the vector upsert but before the catalogue commit leaves an orphan
    index.vectors.upsert(["orphan"], [[0.0] * 64])
    # a lost vector: the catalogue row exists but its embedding does not
    lost = next(iter(index.vectors.ids() - {"orphan"}))
    index.vectors.delete([lost])
    fixed = index.reconcile()
    assert fixed == {"orphans_removed": 1, "missing_embedded": 1}
    # the same for title vectors
    tid = next(iter(index.title_vectors.ids()))
    index.title_vectors.delete([tid])
    index.title_vectors.upsert(["t-orphan"], [[0.0] * 64])
    assert index.reconcile() == {"orphans_removed": 1, "missing_embedded": 1}
    assert tid in index.title_vectors.ids()
    rows = {c.id for c in index.view().chunks()}
    assert index.vectors.ids() == rows
    assert index.reconcile() == {"orphans_removed": 0, "missing_embedded": 0}


def test_the_view_is_cached_until_change(index):
    index.apply([faq("f.csv#1", "a", "b")])
    v1 = index.view()
    assert index.view() is v1
    index.apply([faq("f.csv#2", "c", "d")])
    assert index.view() is not v1


def test_embedder_mismatch_is_a_config_error(settings):
    Index(settings, HashingEmbeddings(8), vectors=MemoryVectorIndex()).generation()

    class Other(HashingEmbeddings):
        name = "other"

    with pytest.raises(ConfigError, match="built with the embedder"):
        Index(settings, Other(8), vectors=MemoryVectorIndex()).generation()


def test_chroma_persists_between_opens(chroma_settings):
    emb = HashingEmbeddings(dim=256)
    ix = Index(chroma_settings, emb)
    ix.apply([faq("f.csv#1", "粗大ごみは？", "予約制です。")])
    ix.close()
    ix2 = Index(chroma_settings, emb)
    assert ix2.chunk_count() == 1
    hits = ix2.vectors.query(emb.embed_query("粗大ごみは？"), 5)
    assert hits and hits[0][1] > 0.5
    assert ix2.reconcile() == {"orphans_removed": 0, "missing_embedded": 0}


@pytest.mark.parametrize(
    ("root", "sid", "expected"),
    [
        ("demo/faq.csv", "demo/faq.csv#3", True),
        ("demo/faq.csv", "demo/faq.csv2#3", False),
        ("demo", "demo/pages/a.md", True),
        ("demo", "demo2/a.md", False),
        ("demo/", "demo/a.md", True),
        (".", "demo/a.md", True),
        (".", "../shared/x.md", False),
        ("https://town.example.jp", "https://town.example.jp/a", True),
    ],
)
def test_covers(root, sid, expected):
    assert covers(root, sid) is expected


# --- exact search over an in-memory copy of the vectors ---------------------------------


def test_exact_vectors_rank_by_cosine_and_break_ties_by_id():
    import numpy as np

    from madoguchi.ingest.vectors import ExactVectors

    vecs = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [1.0, 0.0], [0.0, 0.0]])
    ex = ExactVectors(["d", "b", "c", "a", "zero"], vecs)
    got = ex.query([2.0, 0.0], 5)
    assert [i for i, _ in got] == ["a", "d", "c", "b", "zero"]  # a/d tie: by id
    assert [round(s, 4) for _, s in got] == [1.0, 1.0, 0.7071, 0.0, 0.0]
    assert [i for i, _ in ex.query([2.0, 0.0], 2)] == ["a", "d"]
    assert len(ex.query([1.0, 1.0], 99)) == 5
    assert ex.query([1.0, 1.0], 0) == []
    assert ExactVectors([], np.zeros((0, 0))).query([1.0, 0.0], 3) == []


def test_questions_use_the_exact_copy_up_to_the_limit_and_chroma_above(chroma_settings, tmp_path):
    from madoguchi.ingest.services import build_services
    from madoguchi.ingest.vectors import ExactVectors

    (tmp_path / "faq.csv").write_text(
        "ID,質問,回答\n" + "".join(f"{i},質問{i}について,回答{i}です。\n" for i in range(1, 30)),
        encoding="utf-8",
    )
    exact = build_services(chroma_settings)
    exact.ingest([tmp_path / "faq.csv"])
    fields = exact.index.view().vectors
    assert isinstance(fields.passages, ExactVectors) and len(fields.passages) == 29
    assert isinstance(fields.titles, ExactVectors) and len(fields.titles) == 29
    hnsw = build_services(chroma_settings.with_overrides(**{"store.exact_search_max": 10}))
    assert not isinstance(hnsw.index.view().vectors.passages, ExactVectors)
    q = "質問7について知りたい"
    a, ta = exact.retriever.search(q, 5)
    b, tb = hnsw.retriever.search(q, 5)
    # on a small collection HNSW finds the same neighbours: the same scores either way
    # (the fake embedder makes ties, which the two break in their own orders)
    assert a[0].chunk.id == b[0].chunk.id
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
    da, db = dict(ta.ranked["dense"]), dict(tb.ranked["dense"])
    assert sorted(da.values()) == pytest.approx(sorted(db.values()), abs=1e-5)
    assert all(abs(da[c] - db[c]) < 1e-5 for c in set(da) & set(db))
    # the copy follows the index: a removed source's vectors are gone from it
    exact.index.remove([exact.index.sources()[0].source_id])
    passages = exact.index.view().vectors.passages
    assert isinstance(passages, ExactVectors) and len(passages) == 28


# --- lead sentences of FAQ answers ---------------------------------------------------------


def test_lead_text_is_a_faq_answers_first_sentence():
    from madoguchi.kit.fields import lead_text

    def chunk(meta):
        return Chunk("c", "s", "x", "t", 0, meta)

    got = lead_text(
        chunk({"kind": "faq", "answer": "■市には広場が3か所あります。詳しくは子育て課へ。"})
    )
    assert got == "市には広場が3か所あります。"
    assert lead_text(chunk({"kind": "faq", "answer": "電話で予約\n処理券を貼る"})) == "電話で予約"
    assert len(lead_text(chunk({"kind": "faq", "answer": "あ" * 500}))) == 120
    assert lead_text(chunk({"kind": "faq", "answer": ""})) == ""
    assert lead_text(chunk({"kind": "page", "answer": "文です。"})) == ""
    assert lead_text(chunk({"kind": "table"})) == ""


def test_lead_vectors_follow_the_faq_chunks(index):
    stats = index.apply(
        [
            faq("f.csv#1", "粗大ごみは？", "予約制です。料金は300円。"),
            faq("f.csv#2", "住民票は？", "予約制です。"),
        ]
    )
    assert stats.leads == 2
    # the same lead text is embedded once
    assert index.embedder.embedded.count("予約制です。") == 1
    ids = {c.id for c in index.view().chunks()}
    assert index.lead_vectors.ids() == ids
    index.apply([faq("f.csv#1", "粗大ごみは？", "電話で申し込みます。")])
    assert index.lead_vectors.ids() == {c.id for c in index.view().chunks()}
    index.remove(["f.csv#2"])
    assert len(index.lead_vectors.ids()) == 1


def test_reconcile_adds_lead_vectors_an_older_index_lacks(index):
    index.apply([faq("f.csv#1", "a", "答えです。"), faq("f.csv#2", "c", "別の答え。")])
    index.lead_vectors.delete(sorted(index.lead_vectors.ids()))  # as built before leads
    index.lead_vectors.upsert(["gone"], [[0.0] * 64])
    assert index.reconcile() == {"orphans_removed": 1, "missing_embedded": 2}
    assert index.lead_vectors.ids() == {c.id for c in index.view().chunks()}
    assert index.reconcile() == {"orphans_removed": 0, "missing_embedded": 0}
