"""The scale bench's synthetic corpus: real chunks first, copies with mixed vectors, real tokens.

No timings are asserted (speed figures belong to ``madoguchi bench`` output).
"""

from __future__ import annotations

import numpy as np

from madoguchi.eval.bench import TITLE_SHARE, build_scaled, latency_breakdown, synthesise
from madoguchi.ingest.embed import HashingEmbeddings
from madoguchi.kit.fields import chunk_tokens, title_id, title_text
from madoguchi.kit.services import Services
from madoguchi.kit.types import Chunk

CHUNKS = [
    Chunk("c1", "faq.csv#1", "粗大ごみは事前申込制です。1点500円の処理券を貼ってください。",
          "粗大ごみの出し方", 0, {"kind": "faq", "question": "粗大ごみの出し方"}),
    Chunk("c2", "faq.csv#2", "犬を飼い始めたら30日以内に登録してください。手数料は3000円です。",
          "犬の登録", 0, {"kind": "faq", "question": "犬の登録"}),
    Chunk("c3", "page.md", "住民票の写しは役場の窓口とコンビニで取れます。本人確認書類が必要です。",
          "住民票", 0, {"kind": "page", "heading": "住民票"}),
]  # fmt: skip


def _vectors(emb):
    from madoguchi.kit.fields import embed_text

    vecs = np.asarray(emb.embed_documents([embed_text(c) for c in CHUNKS]), dtype=np.float32)
    titles = {title_id(c): np.asarray(emb.embed_query(title_text(c))) for c in CHUNKS}
    return vecs, titles


def test_synthesise_keeps_the_real_chunks_and_mixes_copies():
    emb = HashingEmbeddings(64)
    vecs, titles = _vectors(emb)
    n = 3 * (2 * TITLE_SHARE + 1)
    leads = {"c1": vecs[0], "c2": vecs[1]}  # the FAQ rows' lead vectors (any unit vector)
    chunks, ttoks, qtoks, svecs, stitles, sleads = synthesise(
        CHUNKS, vecs, titles, n, lead_vecs=leads
    )
    assert len(chunks) == len(ttoks) == len(qtoks) == n and svecs.shape == (n, 64)
    assert chunks[:3] == CHUNKS and np.allclose(svecs[:3], vecs)  # originals, real vectors
    assert len({c.id for c in chunks}) == n  # unique ids
    np.testing.assert_allclose(np.linalg.norm(svecs, axis=1), 1.0, rtol=1e-5)
    for j in range(3, n):
        b = j % 3
        assert chunks[j].text.startswith(CHUNKS[b].text)  # plus one sentence of another chunk
        assert chunks[j].source_id == f"{CHUNKS[b].source_id}~{j // 3}"
        assert ttoks[j][: len(ttoks[b])] == chunk_tokens(CHUNKS[b])[0]  # real tokens
        assert qtoks[j] == chunk_tokens(CHUNKS[b])[1]
        assert float(svecs[j] @ vecs[b]) > 0.8  # close to its original
    # title vectors: the originals, then one per TITLE_SHARE copies of each chunk
    assert set(titles) <= set(stitles)
    assert len(stitles) == 3 * (1 + (n // 3 - 1) // TITLE_SHARE)
    # every FAQ row and each of its copies has a lead vector near the original's; pages none
    assert set(sleads) == {c.id for c in chunks if c.meta["kind"] == "faq"}
    for c in chunks[3:]:
        if c.id in sleads:
            b = int(c.id.split("-")[1]) % 3
            assert float(sleads[c.id] @ leads[CHUNKS[b].id]) > 0.9
    again = synthesise(CHUNKS, vecs, titles, n, lead_vecs=leads)
    assert again[3].tobytes() == svecs.tobytes()  # seeded


def test_scaled_index_answers_through_the_real_services(settings, tmp_path):
    emb = HashingEmbeddings(settings.embedder.dim)
    vecs, titles = _vectors(emb)
    leads = {"c1": vecs[0], "c2": vecs[1]}
    index, build = build_scaled(settings, CHUNKS, vecs, titles, 30, tmp_path / "s", lead_vecs=leads)
    assert set(build) == {
        "synthesise_s", "bm25_build_s", "vector_upsert_s", "title_vectors", "lead_vectors"
    }  # fmt: skip
    assert build["lead_vectors"] == 20  # 2 of the 3 chunks are FAQ rows, 10 copies each
    svc = Services(settings, emb, index)
    res, trace = svc.retriever.search("犬の登録の手数料は？", 5)
    assert res and res[0].chunk.source_id.startswith("faq.csv#2")
    assert "lead" in trace.ranked and len(trace.ranked["lead"]) > 0
    lat = latency_breakdown(svc, ["犬の登録は？", "粗大ごみ"], repeat=2)
    assert lat["n"] == 4 and {"p50_ms", "p95_ms", "p99_ms", "embed_p50_ms", "bm25_p50_ms"} <= set(
        lat
    )
