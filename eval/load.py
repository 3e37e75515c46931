"""Load benchmark: ``madoguchi serve`` on loopback under concurrent residents.

    python -m madoguchi.eval.load                       # demo index (var/demo), 16 clients, 60 s
    python -m madoguchi.eval.load --clients 32 --seconds 120 --data-dir /srv/madoguchi
    python -m madoguchi.eval.load --url http://127.0.0.1:8000   # an already running server
    python -m madoguchi.eval.load --synthetic 100000 --seconds 60   # a 100k-chunk index made from the demo's
    python -m madoguchi.eval.load --markdown docs/LOAD.md           # also write the figures as a document

Starts the server as a subprocess (real embedder, the settings of the
environment) on a copy of the data directory, so the benchmark's conversation
log never mixes with a town's real one; rate limits are switched off for the
run (all clients share one address). Each client asks the questions of a
question set in turn, one after another; every ``--stream-every``-th request
goes to ``/api/v1/ask/stream`` instead. Reports errors, throughput, latency
percentiles per endpoint and the server's resident memory (sampled from
/proc every 0.2 s), the server's embedding batches and cache hits (from /metrics),
as a table and optionally as JSON and a Markdown document.

The answer and embedding caches are off unless ``--cache`` is given: the clients
cycle through a small question set, which a cache would answer after the first
round, so without it the figures measure composing answers.

After the load, with the server stopped, the same process measures the **bare
capacity** on the same index: the embedder and the three exact vector searches
(passage, title, lead) alone, one question at a time and in batches of
``--bare-batch``, with the same thread settings as the server
(``ingest.embed.tune_threads``); served / bare says how much of that the whole
server (BM25, fusion, answering, JSON, HTTP, the log) keeps.

``--synthetic N`` serves an index of N chunks synthesised from ``--data-dir``'s
(``eval.bench.write_synthetic``: its chunks, then copies with one sentence of another
appended and mixed vectors), built once into ``--synthetic-dir``.

Client and server share the machine's cores, so the figures are a floor for
what a dedicated server does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Sample:
    endpoint: str
    seconds: float
    status: int
    error: str = ""


@dataclass
class RssSampler:
    pid: int
    interval: float = 0.2
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def read(self) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                v = self.read()
                if v is not None:
                    self.samples.append(v)
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


def load_questions(path: Path) -> list[tuple[str, str | None]]:
    """The questions of an evaluation set, each with its language (a widget sends its
    menu's); a held-out set's provenance line is skipped."""
    from madoguchi.eval.dataset import DatasetError, load_dataset

    try:
        out: list[tuple[str, str | None]] = [(it.question, it.lang) for it in load_dataset(path)]
    except DatasetError as exc:
        raise SystemExit(str(exc)) from exc
    if not out:
        raise SystemExit(f"{path}: no questions")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data_dir: Path, port: int, log_path: Path, overrides: list[str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    cmd = [
        sys.executable, "-m", "madoguchi.ui.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--no-admin", "--no-access-log",
        "--set", "server.rate_limit_per_minute=0",
        "--set", "server.daily_cap=0",
    ]  # fmt: skip
    for item in overrides or []:
        cmd += ["--set", item]
    with log_path.open("wb") as log:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None, timeout: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server was not ready after {timeout:.0f} s")


async def client_loop(
    http: httpx.AsyncClient,
    questions: list[tuple[str, str | None]],
    start: int,
    deadline: float,
    stream_every: int,
    out: list[Sample],
) -> None:
    i = start
    while time.perf_counter() < deadline:
        q, lang = questions[i % len(questions)]
        body: dict[str, Any] = {"question": q}
        if lang:
            body["lang"] = lang
        stream = stream_every > 0 and i % stream_every == stream_every - 1
        endpoint = "/api/v1/ask/stream" if stream else "/api/v1/ask"
        t0 = time.perf_counter()
        try:
            r = await http.post(endpoint, json=body)
            err = ""
            if r.status_code != 200:
                err = r.text[:200]
            elif stream:
                if "event: final" not in r.text:
                    err = "stream without a final event: " + r.text[-200:]
            elif not isinstance(r.json().get("answer"), str):
                err = "no answer in the response"
            out.append(Sample(endpoint, time.perf_counter() - t0, r.status_code, err))
        except httpx.HTTPError as exc:
            out.append(Sample(endpoint, time.perf_counter() - t0, 0, repr(exc)))
        i += 1


async def run_load(
    url: str,
    questions: list[tuple[str, str | None]],
    clients: int,
    seconds: float,
    stream_every: int,
) -> tuple[list[Sample], float]:
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(
            *(
                client_loop(http, questions, c * 7, deadline, stream_every, samples)
                for c in range(clients)
            )
        )
        wall = time.perf_counter() - t0
    return samples, wall


def summarise(samples: list[Sample], wall: float) -> dict[str, Any]:
    def stats(rows: list[Sample]) -> dict[str, Any]:
        ms = [s.seconds * 1000 for s in rows]
        return {
            "requests": len(rows),
            "errors": sum(1 for s in rows if s.error or s.status != 200),
            "throughput_rps": round(len(rows) / wall, 2) if wall else 0.0,
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
            "max_ms": round(max(ms), 1) if ms else float("nan"),
        }

    out = {"all": stats(samples)}
    for ep in sorted({s.endpoint for s in samples}):
        out[ep] = stats([s for s in samples if s.endpoint == ep])
    return out


def server_counters(url: str) -> dict[str, float]:
    """The server's batch and cache counters from /metrics (empty if unavailable)."""
    want = {
        "madoguchi_embed_batches": "embed_batches",
        "madoguchi_embed_batch_items": "embed_batch_items",
        "madoguchi_answer_cache_hits": "answer_cache_hits",
    }
    try:
        text = httpx.get(f"{url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in want:
            out[want[name]] = float(value)
    if out.get("embed_batches"):
        out["mean_batch"] = round(out["embed_batch_items"] / out["embed_batches"], 2)
    return out


def bare_capacity(
    data_dir: Path,
    questions: list[str],
    seconds: float,
    batch: int,
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """Questions/s of the embedder plus exact search of the three vector fields on the
    index in ``data_dir``: one question at a time, and ``batch`` per embedding call with
    one matrix product per field. Each pass runs ``seconds`` (at most 20,000 questions).
    ``overrides`` are the server's ``--set`` values (the vector precision among them)."""
    from madoguchi.ingest.embed import build_embedder, embed_queries, tune_threads
    from madoguchi.ingest.index import Index
    from madoguchi.ingest.search import VectorFields
    from madoguchi.ingest.vectors import ExactVectors
    from madoguchi.kit.config import load_settings

    threads = tune_threads()
    settings = load_settings(overrides).with_overrides(data_dir=str(data_dir))
    emb = build_embedder(settings.embedder)
    warm = getattr(emb, "warm_up", None)
    if warm is not None:
        warm()
    index = Index(settings, emb)
    precision = settings.store.vector_precision
    stores = (index.vectors, index.title_vectors, index.lead_vectors)
    copies = [ExactVectors(*store.all_vectors(), precision=precision) for store in stores]
    index.close()
    fields = VectorFields(*copies)
    searched = [f for f in copies if len(f)]
    n = max(settings.retrieval.candidates, settings.retrieval.k)
    for q in questions[:3]:  # warm
        v = emb.embed_query(q)
        for f in searched:
            f.query(v, n)

    def one_at_a_time() -> tuple[int, float]:
        t0, done = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds and done < 20_000:
            v = emb.embed_query(questions[done % len(questions)])
            for f in searched:
                f.query(v, n)
            done += 1
        return done, time.perf_counter() - t0

    def batched() -> tuple[int, float]:
        t0, done = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds and done < 20_000:
            texts = [questions[(done + j) % len(questions)] for j in range(batch)]
            mat = embed_queries(emb, texts)
            for f in searched:
                f.query_many(mat, n)
            done += batch
        return done, time.perf_counter() - t0

    n1, s1 = one_at_a_time()
    nb, sb = batched()
    return {
        "vectors": {"passages": len(copies[0]), "titles": len(copies[1]),
                    "leads": len(copies[2])},
        "precision": settings.store.vector_precision,
        "exact_copy_mb": round(fields.nbytes() / 2**20, 1),
        "one_at_a_time_qps": round(n1 / s1, 1),
        "batched_qps": round(nb / sb, 1),
        "batch": batch,
        "seconds_each": round(s1, 1),
        "threads": {k: v for k, v in threads.items()},
    }  # fmt: skip


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m madoguchi.eval.load", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--data-dir", type=Path, default=REPO / "var" / "demo")
    ap.add_argument("--questions", type=Path, default=REPO / "demo" / "eval.jsonl")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument(
        "--stream-every", type=int, default=4, help="every Nth request streams (0: none)"
    )
    ap.add_argument("--url", help="benchmark a running server instead of starting one")
    ap.add_argument("--no-copy", action="store_true", help="serve the data dir itself")
    ap.add_argument("--ready-timeout", type=float, default=600.0)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--markdown", type=Path, help="also write the figures as a Markdown document")
    ap.add_argument(
        "--cache", action="store_true", help="keep the server's answer and embedding caches on"
    )
    ap.add_argument(
        "--server-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the server, e.g. server.embed_batch_max=1 (repeatable)",
    )
    ap.add_argument("--synthetic", type=int, help="serve an index of this many synthetic chunks")
    ap.add_argument(
        "--synthetic-dir",
        type=Path,
        default=Path(
            os.environ.get("MADOGUCHI_BENCH_CACHE", Path.home() / ".cache" / "madoguchi-bench")
        ),
        help="where synthetic indexes are built once and kept",
    )
    ap.add_argument("--bare-seconds", type=float, default=10.0, help="each bare pass (0: skip)")
    ap.add_argument("--bare-batch", type=int, default=16)
    return ap


@dataclass
class Run:
    """What one load run measured."""

    samples: list[Sample]
    wall: float
    sampler: RssSampler | None = None
    rss_ready: int | None = None
    rss_end: int | None = None
    counters: dict[str, float] = field(default_factory=dict)
    bare: dict[str, Any] | None = None


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_and_load(
    args: argparse.Namespace,
    source: Path,
    overrides: list[str],
    questions: list[tuple[str, str | None]],
) -> Run:
    """Start the server on a copy of ``source`` (or use ``--url``), run the clients, stop
    the server, then measure the bare capacity on the same index."""
    proc: subprocess.Popen[bytes] | None = None
    tmp: Path | None = None
    server_log: Path | None = None
    try:
        if args.url:
            url = args.url.rstrip("/")
            ready_s = wait_ready(url, None, args.ready_timeout)
            data_dir = source
        else:
            if not (source / "catalogue.sqlite").is_file():
                raise SystemExit(
                    f"{source} holds no index; build it first (./run demo, or "
                    f"MADOGUCHI_DATA_DIR={source} madoguchi ingest demo/)"
                )
            tmp = Path(tempfile.mkdtemp(prefix="madoguchi-load-"))
            data_dir = source
            if not args.no_copy:
                data_dir = tmp / "data"
                shutil.copytree(
                    source,
                    data_dir,
                    ignore=shutil.ignore_patterns(
                        "*.sqlite-wal", "*.sqlite-shm", "conversations.sqlite*"
                    ),
                )
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server_log = tmp / "server.log"
            proc = start_server(data_dir, port, server_log, overrides)
            ready_s = wait_ready(url, proc, args.ready_timeout)
        sampler = RssSampler(proc.pid) if proc is not None else None
        print(f"server ready in {ready_s:.1f} s at {url}; {args.clients} clients for "
              f"{args.seconds:.0f} s, {len(questions)} questions", flush=True)  # fmt: skip
        rss_ready = sampler.read() if sampler else None
        if sampler:
            sampler.start()
        samples, wall = asyncio.run(
            run_load(url, questions, args.clients, args.seconds, args.stream_every)
        )
        if sampler:
            sampler.stop()
        run = Run(samples, wall, sampler, rss_ready, sampler.read() if sampler else None)
        run.counters = server_counters(url)
        stop(proc)  # the bare figures are measured with the server gone
        if args.bare_seconds > 0 and (data_dir / "catalogue.sqlite").is_file():
            print("measuring the bare embedder + exact search on the same index", flush=True)
            run.bare = bare_capacity(
                data_dir, [q for q, _ in questions], args.bare_seconds, args.bare_batch, overrides
            )
        return run
    finally:
        stop(proc)
        if tmp is not None:
            failed = proc is not None and proc.returncode not in (0, -15)
            if failed and server_log is not None and server_log.exists():
                sys.stderr.write(server_log.read_text(errors="replace")[-4000:])
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser().parse_args(argv)
    questions = load_questions(args.questions)
    overrides = list(args.server_set)
    if not args.cache:
        overrides += ["server.answer_cache_size=0", "server.embedding_cache_size=0"]
    source = args.data_dir
    if args.synthetic:
        from madoguchi.eval.bench import write_synthetic

        source = write_synthetic(args.data_dir, args.synthetic, args.synthetic_dir)
    load_before = os.getloadavg()
    run = serve_and_load(args, source, overrides, questions)
    result: dict[str, Any] = {
        "data_dir": str(source),
        "clients": args.clients,
        "seconds": round(run.wall, 1),
        "questions": len(questions),
        "stream_every": args.stream_every,
        "cache": args.cache,
        "server_settings": overrides,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "endpoints": summarise(run.samples, run.wall),
        "server_counters": run.counters,
    }
    if run.sampler is not None:
        mb = 1024 * 1024
        result["server_rss_mb"] = {
            "after_warm_up": round((run.rss_ready or 0) / mb, 1),
            "peak": round(max(run.sampler.samples, default=0) / mb, 1),
            "end": round((run.rss_end or 0) / mb, 1),
            # one sample every 5 s, to tell a plateau from a leak
            "timeline": [
                round(v / mb) for v in run.sampler.samples[:: max(1, int(5 / run.sampler.interval))]
            ],
        }
    if run.bare is not None:
        served = result["endpoints"]["all"]["throughput_rps"]
        run.bare["served_over_batched"] = round(served / run.bare["batched_qps"], 3)
        run.bare["served_over_one_at_a_time"] = round(served / run.bare["one_at_a_time_qps"], 3)
        result["bare"] = run.bare
    errors = [s for s in run.samples if s.error or s.status != 200]
    result["error_examples"] = sorted({f"{s.status} {s.error}"[:200] for s in errors})[:5]
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(result, argv), encoding="utf-8")
    return result


def shown(value: str) -> str:
    """A path as a document may show it: relative to the checkout, else only its name
    (a document never names folders outside the repository)."""
    if not value.startswith("/"):
        return value
    p = Path(value)
    try:
        return p.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return f"…/{p.name}"


def markdown(result: dict[str, Any], argv: list[str] | None) -> str:
    """The figures as a generated document (the command that made it at the top)."""
    args = sys.argv[1:] if argv is None else argv
    cmd = " ".join(["python -m madoguchi.eval.load", *(shown(a) for a in args)])
    lines = [
        "# Load benchmark (generated)",
        "",
        f"Written by `{cmd}` on {time.strftime('%Y-%m-%d %H:%M %Z')}; do not edit by hand.",
        "",
        f"- index: `{shown(result['data_dir'])}`; {result['clients']} clients for "
        f"{result['seconds']} s; {result['questions']} questions cycled; every "
        f"{result['stream_every']}th request streamed",
        f"- answer and embedding caches: {'on' if result['cache'] else 'off'}; server "
        f"settings: {', '.join(result['server_settings']) or 'defaults'}",
        f"- {result['cpus']} CPUs; load average before the run "
        f"{' / '.join(str(x) for x in result['load_average_before'])} (1/5/15 min)",
        "",
        "| endpoint | requests | errors | q/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ep, s in result["endpoints"].items():
        lines.append(
            f"| {ep} | {s['requests']} | {s['errors']} | {s['throughput_rps']:.1f} | "
            f"{s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} | {s['max_ms']:.0f} |"
        )
    if "server_rss_mb" in result:
        r = result["server_rss_mb"]
        lines += ["", f"Server RSS: {r['after_warm_up']} MB after warm-up, peak {r['peak']} MB."]
    c = result.get("server_counters") or {}
    if c:
        lines.append(
            f"Embedding batches: {c.get('embed_batches', 0):.0f}, mean size "
            f"{c.get('mean_batch', 0)}; answers from the cache: {c.get('answer_cache_hits', 0):.0f}."
        )
    b = result.get("bare")
    if b:
        v = b["vectors"]
        lines += [
            "",
            "Bare capacity on the same index, same process, after the load (embedder + exact "
            f"search of {v['passages']:,} passage, {v['titles']:,} title and {v['leads']:,} lead "
            f"vectors, {b['precision']}, {b['exact_copy_mb']} MB):",
            "",
            "| path | q/s | served / bare |",
            "|---|---:|---:|",
            f"| one question at a time | {b['one_at_a_time_qps']} | "
            f"{b['served_over_one_at_a_time']} |",
            f"| {b['batch']} questions per call | {b['batched_qps']} | "
            f"{b['served_over_batched']} |",
            "",
            "Thread settings: "
            + ", ".join(f"{k}={x}" for k, x in b["threads"].items() if k != "omp_loaded_before"),
        ]
    if result["error_examples"]:
        lines += ["", "Errors:", *(f"- `{e}`" for e in result["error_examples"])]
    return "\n".join(lines) + "\n"


def print_table(result: dict[str, Any]) -> None:
    head = f"{'endpoint':<22}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(head)
    for ep, s in result["endpoints"].items():
        print(
            f"{ep:<22}{s['requests']:>9}{s['errors']:>8}{s['throughput_rps']:>8.2f}"
            f"{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['max_ms']:>9.1f}"
        )
    if "server_rss_mb" in result:
        r = result["server_rss_mb"]
        print(f"server RSS: {r['after_warm_up']} MB after warm-up, peak {r['peak']} MB, "
              f"{r['end']} MB at the end")  # fmt: skip
    c = result.get("server_counters") or {}
    if c:
        print(f"embedding batches: {c.get('embed_batches', 0):.0f}, mean size "
              f"{c.get('mean_batch', 0)}; answers from the cache: "
              f"{c.get('answer_cache_hits', 0):.0f}")  # fmt: skip
    b = result.get("bare")
    if b:
        print(f"bare embed + exact search ({b['vectors']['passages']:,} passages, "
              f"{b['precision']}): {b['one_at_a_time_qps']} q/s one at a time, "
              f"{b['batched_qps']} q/s in batches of {b['batch']}; served / bare: "
              f"{b['served_over_one_at_a_time']} / {b['served_over_batched']}")  # fmt: skip
    for e in result["error_examples"]:
        print(f"error: {e}")


if __name__ == "__main__":
    main()
