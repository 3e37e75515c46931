"""Load benchmark: ``madoguchi serve`` on loopback under concurrent residents.

    python -m madoguchi.eval.load                       # demo index (var/demo), 16 clients, 60 s
    python -m madoguchi.eval.load --clients 32 --seconds 120 --data-dir /srv/madoguchi
    python -m madoguchi.eval.load --url http://127.0.0.1:8000   # an already running server

Starts the server as a subprocess (real embedder, the settings of the
environment) on a copy of the data directory, so the benchmark's conversation
log never mixes with a town's real one; rate limits are switched off for the
run (all clients share one address). Each client asks the questions of a
question set in turn, one after another; every ``--stream-every``-th request
goes to ``/api/v1/ask/stream`` instead. Reports errors, throughput, latency
percentiles per endpoint and the server's resident memory (sampled from
/proc every 0.2 s), as a table and optionally as JSON.

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
    out: list[tuple[str, str | None]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out.append((item["question"], item.get("lang")))
    if not out:
        raise SystemExit(f"{path}: no questions")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
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
    args = ap.parse_args(argv)

    questions = load_questions(args.questions)
    proc: subprocess.Popen[bytes] | None = None
    tmp: Path | None = None
    sampler: RssSampler | None = None
    server_log: Path | None = None
    try:
        if args.url:
            url = args.url.rstrip("/")
            ready_s = wait_ready(url, None, args.ready_timeout)
        else:
            if not (args.data_dir / "catalogue.sqlite").is_file():
                raise SystemExit(
                    f"{args.data_dir} holds no index; build it first (./run demo, or "
                    f"MADOGUCHI_DATA_DIR={args.data_dir} madoguchi ingest demo/)"
                )
            tmp = Path(tempfile.mkdtemp(prefix="madoguchi-load-"))
            data_dir = args.data_dir
            if not args.no_copy:
                data_dir = tmp / "data"
                shutil.copytree(
                    args.data_dir,
                    data_dir,
                    ignore=shutil.ignore_patterns(
                        "*.sqlite-wal", "*.sqlite-shm", "conversations.sqlite*"
                    ),
                )
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server_log = tmp / "server.log"
            proc = start_server(data_dir, port, server_log)
            ready_s = wait_ready(url, proc, args.ready_timeout)
            sampler = RssSampler(proc.pid)
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
        rss_end = sampler.read() if sampler else None
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            if (
                server_log is not None
                and server_log.exists()
                and proc
                and proc.returncode not in (0, -15)
            ):
                sys.stderr.write(server_log.read_text(errors="replace")[-4000:])
            shutil.rmtree(tmp, ignore_errors=True)

    result: dict[str, Any] = {
        "clients": args.clients,
        "seconds": round(wall, 1),
        "questions": len(questions),
        "stream_every": args.stream_every,
        "cpus": os.cpu_count(),
        "endpoints": summarise(samples, wall),
    }
    if sampler is not None:
        mb = 1024 * 1024
        result["server_rss_mb"] = {
            "after_warm_up": round((rss_ready or 0) / mb, 1),
            "peak": round(max(sampler.samples, default=0) / mb, 1),
            "end": round((rss_end or 0) / mb, 1),
            # one sample every 5 s, to tell a plateau from a leak
            "timeline": [
                round(v / mb) for v in sampler.samples[:: max(1, int(5 / sampler.interval))]
            ],
        }
    errors = [s for s in samples if s.error or s.status != 200]
    result["error_examples"] = sorted({f"{s.status} {s.error}"[:200] for s in errors})[:5]
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


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
    for e in result["error_examples"]:
        print(f"error: {e}")


if __name__ == "__main__":
    main()
