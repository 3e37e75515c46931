"""The towns benchmark runs end to end (fake embedder, 2 towns) and reports its figures."""

from __future__ import annotations

import json

from madoguchi.eval import bench_towns


def test_bench_towns_with_the_fake_embedder_and_two_towns(tmp_path, capsys):
    out = tmp_path / "towns.json"
    result = bench_towns.main(
        ["--towns", "2", "--fake-embedder", "--questions", "4", "--json", str(out)]
    )
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(result))
    assert result["towns"] == 2 and result["embedder"] == "fake"
    assert result["chunks_per_town"] == result["chunks_embedded_one_town"] > 50
    assert result["one_town"]["ask"]["n"] == result["many_towns"]["ask"]["n"] == 4
    assert result["many_towns"]["open_contexts"] == 2
    assert result["many_towns"]["ask"]["p95_ms"] >= result["many_towns"]["ask"]["p50_ms"] > 0
    assert result["one_town"]["rss_mb"] > 0 and result["many_towns"]["rss_mb"] > 0
    # two towns: town 1 ingested, town 2 (the last) ingested while town 1 is open; no import
    assert (
        result["import"]["towns_imported"] == 0 and result["many_towns"]["ingest_last_town_s"] > 0
    )
    printed = capsys.readouterr().out
    assert "2 towns against 1" in printed and "load average" in printed
