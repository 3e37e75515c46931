"""Speed and accuracy benchmarks, printed as tables (and JSON with ``--json``).

    python -m eval.bench demo          # demo/: ingest throughput, latency, accuracy per mode
    python -m eval.bench real          # ../shared/data FAQ: cached index, accuracy per mode

Embedding the real FAQ takes minutes on two cores, so its index is cached in
``MADOGUCHI_BENCH_CACHE`` (default ``~/.cache/madoguchi-bench``) keyed by the
embedder; later runs reuse it (ingest is idempotent by content hash).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from ingest.index import embed_text
from kit.config import Settings
from kit.services import Services, build_services

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
console = Console()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_embed_speed(svc: Services, texts: Sequence[str]) -> dict[str, float]:
    """Tokens/s of the bare embedder on the given texts (same batch size as ingest)."""
    from ingest.embed import count_tokens

    emb = svc.embedder
    warm = getattr(emb, "warm_up", None)
    if warm:
        warm()
    tokens = sum(count_tokens(emb, t) for t in texts)
    t0 = time.perf_counter()
    emb.embed_documents(list(texts))
    dt = time.perf_counter() - t0
    return {"texts": len(texts), "tokens": tokens, "seconds": dt, "tokens_per_s": tokens / dt}


def latency(svc: Services, questions: Sequence[str], repeat: int = 1) -> dict[str, float]:
    svc.warm_up()
    svc.ask(questions[0])
    times = []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            svc.ask(q)
            times.append((time.perf_counter() - t0) * 1000)
    p50, p95, p99 = (float(x) for x in np.percentile(times, [50, 95, 99]))
    return {
        "n": len(times),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "mean_ms": statistics.fmean(times),
    }


def accuracy_by_mode(
    settings: Settings,
    dataset: Path,
    modes: Sequence[str] = ("hybrid", "dense", "bm25"),
    half: str | None = None,
) -> dict[str, Any]:
    from eval.dataset import load_dataset, select_half
    from eval.run import run_items

    items = load_dataset(dataset)
    if half:
        items = select_half(items, REPO / "eval" / "datasets" / "localgovfaq_split.json", half)
    out = {}
    for mode in modes:
        svc = build_services(settings.with_overrides(**{"retrieval.mode": mode}))
        svc.warm_up()
        out[mode] = run_items(svc, items)
        svc.close()
    return out


def _print_modes(title: str, results: dict[str, Any]) -> None:
    from eval.report import comparison_table

    console.print(comparison_table(results, title=title))


def bench_demo(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    try:
        settings = Settings(data_dir=tmp)
        svc = build_services(settings)
        svc.warm_up()
        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            report = svc.ingest(["demo/faq.csv", "demo/pages", "demo/pdf"])
            # the very texts ingest embedded, through the bare embedder
            raw = raw_embed_speed(svc, [embed_text(c) for c in svc.index.search_state().chunks])
            rerun_t0 = time.perf_counter()
            rerun = svc.ingest(["demo/faq.csv", "demo/pages", "demo/pdf"])
            rerun_s = time.perf_counter() - rerun_t0
            from eval.dataset import load_dataset

            qs = [it.question for it in load_dataset(REPO / "demo" / "eval.jsonl")]
            lat = latency(svc, qs, repeat=args.repeat)
            modes = accuracy_by_mode(settings, REPO / "demo" / "eval.jsonl")
        finally:
            os.chdir(cwd)
        result = {
            "ingest": report.to_json(),
            "raw_embedder": raw,
            "ingest_vs_raw": report.tokens_per_second / raw["tokens_per_s"]
            if raw["tokens_per_s"]
            else None,
            "rerun_unchanged_s": rerun_s,
            "rerun_counts": rerun.counts(),
            "latency": lat,
            "peak_rss_mb": peak_rss_mb(),
            "modes": {m: s.to_dict() for m, s in modes.items()},
        }
        t = Table(title="demo/: ingest and latency (one run)")
        t.add_column("figure")
        t.add_column("value", justify="right")
        t.add_row("chunks embedded", str(report.chunks_embedded))
        t.add_row("ingest embed throughput", f"{report.tokens_per_second:.0f} tokens/s")
        t.add_row("raw embedder, same texts", f"{raw['tokens_per_s']:.0f} tokens/s")
        t.add_row("ingest wall time", f"{report.seconds:.1f} s")
        t.add_row("re-ingest unchanged", f"{rerun_s:.2f} s")
        t.add_row(
            "ask p50 / p95 / p99",
            f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['p99_ms']:.1f} ms",
        )
        t.add_row("peak RSS", f"{peak_rss_mb():.0f} MB")
        console.print(t)
        _print_modes("demo/eval.jsonl by retrieval mode", modes)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_real(args: argparse.Namespace) -> dict[str, Any]:
    if not SHARED.is_dir():
        console.print(f"[yellow]{SHARED} not found; nothing to do[/]")
        return {}
    cache = Path(
        os.environ.get("MADOGUCHI_BENCH_CACHE", Path.home() / ".cache" / "madoguchi-bench")
    )
    cache.mkdir(parents=True, exist_ok=True)
    # one index per town, as each town would run it
    towns = {
        "amagasaki": ("data/amagasaki_faq/faq.csv", ["amagasaki_paraphrased.jsonl"]),
        "kameoka": ("data/kameoka_5374/target.csv", ["kameoka_5374_paraphrased.jsonl"]),
    }
    cwd = os.getcwd()
    os.chdir(SHARED.parent)  # source ids then read data/amagasaki_faq/faq.csv#ID as in the datasets
    try:
        results: dict[str, Any] = {}
        lgf = SHARED / "amagasaki_faq" / "localgovfaq_queries.jsonl"
        for town, (source, sets) in towns.items():
            settings = Settings(data_dir=cache / f"real-{town}")
            svc = build_services(settings)
            t0 = time.perf_counter()
            report = svc.ingest([source])
            console.print(
                f"{town}: {report.counts()} in {time.perf_counter() - t0:.1f}s, "
                f"{report.tokens_per_second:.0f} tokens/s over {report.chunks_embedded} new chunks"
            )
            results[f"ingest-{town}"] = report.to_json()
            runs: list[tuple[Path, str | None]] = [
                (REPO / "eval" / "datasets" / n, None) for n in sets
            ]
            if town == "amagasaki":
                runs += [(lgf, None), (lgf, "report")]
            for ds, half in runs:
                if not ds.exists():
                    continue
                name = ds.name + (f" ({half} half)" if half else "")
                modes = accuracy_by_mode(settings, ds, half=half)
                _print_modes(f"{name} by retrieval mode", modes)
                results[name] = {m: s.to_dict() for m, s in modes.items()}
        from eval.dataset import load_dataset

        svc = build_services(Settings(data_dir=cache / "real-amagasaki"))
        qs = [it.question for it in load_dataset(lgf)][:200]
        lat = latency(svc, qs)
        console.print(
            f"latency over {lat['n']} real queries: p50 {lat['p50_ms']:.1f} ms, "
            f"p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms; peak RSS {peak_rss_mb():.0f} MB"
        )
        results["latency"] = lat
        results["peak_rss_mb"] = peak_rss_mb()
        return results
    finally:
        os.chdir(cwd)


def main(argv: Sequence[str] | None = None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    p = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    p.add_argument("what", choices=["demo", "real"])
    p.add_argument("--repeat", type=int, default=3, help="latency: passes over the questions")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    result = bench_demo(args) if args.what == "demo" else bench_real(args)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
