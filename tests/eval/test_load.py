"""The load benchmark's arithmetic and its client loop against a loopback server (fake embedder)."""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time

import pytest

from madoguchi.eval.load import Sample, load_questions, percentile, run_load, summarise
from madoguchi.ui.api import create_app
from tests.ui.test_api import Q, make_services


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_summarise_counts_errors_per_endpoint():
    samples = [
        Sample("/api/v1/ask", 0.1, 200),
        Sample("/api/v1/ask", 0.3, 500, "boom"),
        Sample("/api/v1/ask/stream", 0.2, 200, "stream without a final event"),
    ]
    s = summarise(samples, wall=2.0)
    assert s["all"]["requests"] == 3 and s["all"]["errors"] == 2
    assert s["all"]["throughput_rps"] == 1.5
    assert s["/api/v1/ask"]["p50_ms"] == 100.0 and s["/api/v1/ask"]["max_ms"] == 300.0
    assert s["/api/v1/ask/stream"]["errors"] == 1


def test_load_questions_reads_the_demo_set():
    from madoguchi.eval.load import REPO

    qs = load_questions(REPO / "demo" / "eval.jsonl")
    assert len(qs) > 50 and all(isinstance(q, str) and q for q, _ in qs)


def test_load_questions_skips_a_held_out_sets_provenance_line():
    from madoguchi.eval.load import REPO

    qs = load_questions(REPO / "eval" / "datasets" / "blind" / "demo_blind_multi.jsonl")
    assert len(qs) == 139 and {lang for _, lang in qs} >= {"en", "vi", "ja-easy"}


def test_run_load_against_a_loopback_server(settings):
    import uvicorn

    conf = settings.with_overrides(**{"server.rate_limit_per_minute": 0, "server.daily_cap": 0})
    app = create_app(services=make_services(conf), admin=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        while not server.started:
            time.sleep(0.05)
        out: list = []
        # its own thread: a session-wide Playwright fixture may hold this thread's event loop
        runner = threading.Thread(
            target=lambda: out.append(
                asyncio.run(run_load(f"http://127.0.0.1:{port}", [(Q, None), (Q, "en")], 3, 1.5, 2))
            )
        )
        runner.start()
        runner.join(timeout=120)
        samples, wall = out[0]
    finally:
        server.should_exit = True
        th.join(timeout=10)
    assert samples and wall >= 1.5
    assert {s.endpoint for s in samples} == {"/api/v1/ask", "/api/v1/ask/stream"}
    assert [s for s in samples if s.error or s.status != 200] == []


@pytest.mark.parametrize("bad", ["", "\n\n"])
def test_an_empty_question_set_is_refused(tmp_path, bad):
    p = tmp_path / "q.jsonl"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(SystemExit):
        load_questions(p)
