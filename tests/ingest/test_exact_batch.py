"""Exact vector search for a batch of questions, at lower precision, and hits found ahead."""

from __future__ import annotations

import numpy as np
import pytest

from madoguchi.ingest.embed import BatchingEmbeddings, HashingEmbeddings, embed_queries
from madoguchi.ingest.vectors import ExactVectors


def corpus(n: int = 3000, dim: int = 64, seed: int = 1) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n // 10, dim))
    # clusters of near-duplicates, so near-ties exist as in a real FAQ
    vecs = np.repeat(base, 10, axis=0) + 0.05 * rng.standard_normal((n, dim))
    return [f"c{i:05d}" for i in range(n)], vecs.astype(np.float32)


def test_a_batch_gets_exactly_the_hits_and_values_of_one_query_each():
    ids, vecs = corpus()
    ex = ExactVectors(ids, vecs)
    qs = np.random.default_rng(2).standard_normal((16, vecs.shape[1])).astype(np.float32)
    qs[3] = vecs[42] * 3.0  # a question on top of a stored vector (not unit length)
    batched = ex.query_many(qs, 50)
    single = [ex.query(q.tolist(), 50) for q in qs]
    assert batched == single  # ids, order and float values alike
    assert batched[3][0][0] == "c00042" and batched[3][0][1] == pytest.approx(1.0, abs=1e-5)
    assert ex.query_many(qs[:0], 5) == []
    assert ExactVectors([], np.zeros((0, 0))).query_many(qs, 5) == [[]] * 16


@pytest.mark.parametrize("precision,tolerance", [("float16", 2e-3), ("int8", 2e-2)])
def test_lower_precision_keeps_the_ranking_close_in_less_memory(precision, tolerance):
    ids, vecs = corpus()
    full = ExactVectors(ids, vecs)
    low = ExactVectors(ids, vecs, precision=precision)
    assert low.nbytes < full.nbytes
    qs = np.random.default_rng(3).standard_normal((8, vecs.shape[1])).astype(np.float32)
    for q, hits in zip(qs, low.query_many(qs, 20), strict=True):
        ref = dict(full.query(q.tolist(), 200))
        assert hits == low.query(q.tolist(), 20)
        # every hit's value is near its full-precision value, and the ten best overlap
        assert all(abs(ref[i] - v) < tolerance for i, v in hits if i in ref)
        top = [i for i, _ in full.query(q.tolist(), 10)]
        assert len(set(top) & {i for i, _ in hits[:10]}) >= 8


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError):
        ExactVectors(["a"], np.ones((1, 2)), precision="float8")  # type: ignore[arg-type]


def test_the_view_uses_hits_found_ahead_and_only_its_own(settings, tmp_path):
    from madoguchi.ingest.services import build_services

    (tmp_path / "faq.csv").write_text(
        "ID,質問,回答\n"
        + "".join(f"{i},質問{i}について,回答{i}です。窓口{i}へ。\n" for i in range(1, 40)),
        encoding="utf-8",
    )
    svc = build_services(settings)
    svc.ingest([tmp_path / "faq.csv"])
    view = svc.index.view()
    questions = ["質問7について知りたい", "回答12はどこ", "窓口3"]
    mat = embed_queries(svc.embedder, questions)
    plain = [svc.retriever.search(q, 10)[0] for q in questions]
    view.prefetch(mat, 50)
    calls = []
    for name in ("passages", "titles", "leads"):
        field = getattr(view.vectors, name)
        real = field.query
        field.query = lambda v, n, real=real, name=name: calls.append(name) or real(v, n)
    ahead = [svc.retriever.search(q, 10)[0] for q in questions]
    assert calls == []  # every vector search was answered from the prefetched hits
    assert [[(h.chunk.id, h.score) for h in hits] for hits in ahead] == [
        [(h.chunk.id, h.score) for h in hits] for hits in plain
    ]
    # a new generation starts with nothing found ahead: its searches run for themselves
    (tmp_path / "faq.csv").write_text("ID,質問,回答\n1,質問1について,新しい回答です。\n")
    svc.ingest([tmp_path / "faq.csv"])
    fresh = svc.index.view()
    assert fresh is not view and fresh._prefetched.get("passages", mat[0].tobytes(), 10) is None
    assert [h.chunk.source_id for h in svc.retriever.search(questions[0], 10)[0]] == [
        f"{tmp_path / 'faq.csv'}#1"
    ]


def test_the_batching_embedder_gives_the_wrapped_ones_vectors():
    inner = HashingEmbeddings(dim=32)
    seen: list[list[str]] = []
    b = BatchingEmbeddings(inner, max_batch=8, cache_size=4)
    b.on_batch = lambda texts, mat: seen.append(list(texts))
    assert b.name == "fake" and b.dim == 32
    assert b.embed_query("住民票") == pytest.approx(inner.embed_query("住民票"))
    assert b.embed_query("住民票") == pytest.approx(inner.embed_query("住民票"))
    assert seen == [["住民票"]]  # the second came from the cache
    assert b.embed_documents(["a", "b"]) == inner.embed_documents(["a", "b"])
    with b.expecting():
        assert b._expected == 1
        b.embed_query("印鑑登録")
        assert b._expected == 0  # it arrived: nobody is waited for any more
    assert b._expected == 0
    b.close()
