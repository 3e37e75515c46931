"""The load benchmark's bare capacity, its generated document, and the synthetic index
it can serve (fake embedder, small sizes)."""

from __future__ import annotations

import pytest

from madoguchi.eval.load import bare_capacity, markdown, shown
from tests.ui.test_api import Q, make_services


@pytest.fixture
def fake_env(monkeypatch):
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__DIM", "256")
    monkeypatch.setenv("MADOGUCHI_STORE__KIND", "chroma")


def test_bare_capacity_measures_both_paths_on_the_index(chroma_settings, fake_env):
    make_services(chroma_settings).close()
    got = bare_capacity(chroma_settings.data_dir, [Q, "住民票", "How much?"], 0.3, 4)
    assert got["vectors"] == {"passages": 1, "titles": 1, "leads": 1}
    assert got["one_at_a_time_qps"] > 0 and got["batched_qps"] > 0 and got["batch"] == 4
    assert got["threads"]["OMP_WAIT_POLICY"]  # the server's thread settings were applied


def test_the_document_shows_the_figures_and_no_outside_paths(tmp_path):
    result = {
        "data_dir": str(tmp_path / "town"),
        "clients": 16,
        "seconds": 10.0,
        "questions": 68,
        "stream_every": 4,
        "cache": False,
        "server_settings": ["server.answer_cache_size=0"],
        "cpus": 2,
        "load_average_before": [0.5, 0.4, 0.3],
        "endpoints": {
            "all": {"requests": 500, "errors": 0, "throughput_rps": 50.0, "p50_ms": 300.0,
                    "p95_ms": 400.0, "p99_ms": 450.0, "max_ms": 500.0},
        },
        "server_counters": {"embed_batches": 50.0, "mean_batch": 10.0, "answer_cache_hits": 0.0},
        "server_rss_mb": {"after_warm_up": 600.0, "peak": 650.0, "end": 640.0, "timeline": []},
        "bare": {"vectors": {"passages": 94, "titles": 80, "leads": 30}, "precision": "float32",
                 "exact_copy_mb": 0.3, "one_at_a_time_qps": 80.0, "batched_qps": 120.0,
                 "batch": 16, "served_over_batched": 0.417, "served_over_one_at_a_time": 0.625,
                 "threads": {"OMP_WAIT_POLICY": "PASSIVE", "omp_loaded_before": False}},
        "error_examples": [],
    }  # fmt: skip
    doc = markdown(result, ["--data-dir", str(tmp_path / "town"), "--seconds", "10"])
    assert "| all | 500 | 0 | 50.0 | 300 | 400 | 450 | 500 |" in doc
    assert "| 16 questions per call | 120.0 | 0.417 |" in doc
    assert "mean size 10.0" in doc and "peak 650.0 MB" in doc
    assert str(tmp_path) not in doc and "…/town" in doc
    assert shown("var/demo") == "var/demo"


def test_a_synthetic_index_is_built_once_and_served(chroma_settings, fake_env, tmp_path):
    from madoguchi.eval.bench import write_synthetic
    from madoguchi.ingest.services import build_services

    src = make_services(chroma_settings)
    src.close()
    out = write_synthetic(chroma_settings.data_dir, 40, tmp_path / "cache")
    assert (out / ".complete").is_file()
    assert write_synthetic(chroma_settings.data_dir, 40, tmp_path / "cache") == out  # reused
    svc = build_services(chroma_settings.with_overrides(data_dir=str(out)))
    view = svc.index.view()
    assert len(view) == 40 and len(view.vectors.passages) == 40
    assert svc.ask(Q).hits[0].chunk.title == Q
    assert svc.index.reconcile() == {"orphans_removed": 0, "missing_embedded": 0}
