"""Speed and accuracy benchmarks, printed as tables (and JSON with ``--json``).

    python -m madoguchi.eval.bench speed         # ingest vs raw embedder, ask latency at 1k/10k/100k chunks
    python -m madoguchi.eval.bench scale         # only the latency-by-corpus-size part
    python -m madoguchi.eval.bench demo          # demo/: ingest throughput, latency, accuracy per mode
    python -m madoguchi.eval.bench real          # ../shared/data (FAQ, two 5374 tables, village pages): cached indexes, accuracy per mode
    python -m madoguchi.eval.bench precision --data-dir DIR --dataset SET.jsonl   # nDCG@10 and memory by vector precision

(``madoguchi bench`` runs the same, ``speed`` by default.)

The scale bench cannot embed 100k chunks (the bundled model does ~700
tokens/s on two cores), so it synthesises the corpus from the demo: the real
demo chunks with their real vectors, then copies of each chunk with one
sentence of another chunk appended, whose vectors are the original's mixed
with the other's and a little noise (cosine ~0.9 to the original), and whose
BM25 tokens are the real Sudachi tokens of those texts. Query embedding, BM25,
vector search (the configured store) and answering are the real code.

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

from madoguchi.ingest.search import IndexView
from madoguchi.ingest.services import TownServices, build_services
from madoguchi.kit.config import Settings
from madoguchi.kit.fields import embed_text
from madoguchi.kit.services import Services

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
console = Console()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_embed_speed(svc: TownServices, texts: Sequence[str]) -> dict[str, float]:
    """Tokens/s of the bare embedder on the given texts (same batch size as ingest)."""
    return raw_embed(svc, texts)[0]


def raw_embed(svc: TownServices, texts: Sequence[str]) -> tuple[dict[str, float], np.ndarray]:
    """The bare embedder's speed on ``texts``, and the vectors it made."""
    from madoguchi.ingest.embed import count_tokens

    emb = svc.embedder
    warm = getattr(emb, "warm_up", None)
    if warm:
        warm()
    tokens = sum(count_tokens(emb, t) for t in texts)
    t0 = time.perf_counter()
    vecs = np.asarray(emb.embed_documents(list(texts)), dtype=np.float32)
    dt = time.perf_counter() - t0
    speed = {"texts": len(texts), "tokens": tokens, "seconds": dt, "tokens_per_s": tokens / dt}
    return speed, vecs


def latency(svc: TownServices, questions: Sequence[str], repeat: int = 1) -> dict[str, float]:
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
    from madoguchi.eval.dataset import load_dataset, select_half
    from madoguchi.eval.run import run_items

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
    from madoguchi.eval.report import comparison_table

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
            got = ingest_vs_raw(svc)
            report, raw = got["report"], got["raw"]
            rerun_t0 = time.perf_counter()
            rerun = svc.ingest(["demo/faq.csv", "demo/pages", "demo/pdf"])
            rerun_s = time.perf_counter() - rerun_t0
            from madoguchi.eval.dataset import load_dataset

            qs = [it.question for it in load_dataset(REPO / "demo" / "eval.jsonl")]
            lat = latency(svc, qs, repeat=args.repeat)
            modes = accuracy_by_mode(settings, REPO / "demo" / "eval.jsonl")
        finally:
            os.chdir(cwd)
        result = {
            "ingest": report.to_json(),
            "raw_embedder": raw,
            "ingest_vs_raw": _ratio(report, raw),
            "rerun_unchanged_s": rerun_s,
            "rerun_counts": rerun.counts(),
            "latency": lat,
            "peak_rss_mb": peak_rss_mb(),
            "modes": {m: s.to_dict() for m, s in modes.items()},
        }
        t = ingest_table("demo/: ingest and latency (one run)", report, raw)
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
        "kyotango": ("data/kyotango_5374/target.csv", ["kyotango_5374_paraphrased.jsonl"]),
        "otoineppu": ("data/otoineppu_pages", ["otoineppu_pages_paraphrased.jsonl"]),
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
        from madoguchi.eval.dataset import load_dataset

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
    p = argparse.ArgumentParser(prog="python -m madoguchi.eval.bench", description=__doc__)
    p.add_argument("what", choices=["speed", "scale", "demo", "real", "precision"])
    p.add_argument("--repeat", type=int, default=3, help="latency: passes over the questions")
    p.add_argument("--sizes", default="1000,10000,100000", help="scale: corpus sizes")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument("--data-dir", type=Path, help="precision: the index to search")
    p.add_argument("--dataset", type=Path, help="precision: the question set (JSON Lines)")
    p.add_argument("--half", choices=["tune", "report"], help="precision: one half of localgovFAQ")
    args = p.parse_args(argv)
    if args.what == "precision":
        result = bench_precision(args)
    elif args.what in ("speed", "scale"):
        result = bench_speed(args, scale_only=args.what == "scale")
    else:
        result = bench_demo(args) if args.what == "demo" else bench_real(args)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        console.print(f"figures written to {args.json}")


# ---- precision: rankings of the exact copy at float32, float16 and int8 -----------------


def bench_precision(args: argparse.Namespace) -> dict[str, Any]:
    """nDCG@10 (and the other figures) of one index and question set with the exact copy
    kept at each precision, every question embedded once; and the copy's memory."""
    from madoguchi.eval.dataset import load_dataset, select_half
    from madoguchi.eval.run import run_items
    from madoguchi.ingest.embed import BatchingEmbeddings, build_embedder
    from madoguchi.kit.config import load_settings

    if args.data_dir is None or args.dataset is None:
        raise SystemExit("precision needs --data-dir and --dataset")
    items = load_dataset(args.dataset)
    if args.half:
        items = select_half(items, REPO / "eval" / "datasets" / "localgovfaq_split.json", args.half)
    base = load_settings().with_overrides(data_dir=str(args.data_dir))
    # one embedding per question for all three runs: only the vector search differs
    emb = BatchingEmbeddings(build_embedder(base.embedder), max_batch=1, cache_size=1_000_000)
    out: dict[str, Any] = {"dataset": str(args.dataset), "n": len(items), "runs": {}}
    t = Table(
        title=f"{args.dataset.name}{f' ({args.half} half)' if args.half else ''} by precision"
    )
    for col in ("precision", "nDCG@10", "vs float32", "hit@5", "answer acc.", "exact copy MB"):
        t.add_column(col, justify="right")
    ref: float | None = None
    for precision in ("float32", "float16", "int8"):
        settings = base.with_overrides(
            **{"store.vector_precision": precision, "store.exact_search_max": 10_000_000}
        )
        svc = build_services(settings, embedder=emb)
        svc.warm_up()
        run = run_items(svc, items)
        mb = svc.index.view().vectors.nbytes() / 2**20
        svc.close()
        ndcg = run["ndcg@10"]
        ref = ndcg if ref is None else ref
        diff = None if ndcg is None or ref is None else ndcg - ref
        out["runs"][precision] = {"exact_copy_mb": mb, **run.to_dict()}
        out["runs"][precision]["ndcg_minus_float32"] = diff
        t.add_row(
            precision,
            "–" if ndcg is None else f"{ndcg:.4f}",
            "–" if diff is None else f"{diff:+.4f}",
            f"{run['hit@5'] or 0:.3f}",
            f"{run['answer_accuracy'] or 0:.3f}",
            f"{mb:.1f}",
        )
    emb.close()
    console.print(t)
    return out


# ---- scale: query cost as the index grows ------------------------------------------------


class SyntheticIndex:
    """A ``kit.store.Store`` over a synthesised corpus: one fixed view."""

    def __init__(self, view: IndexView) -> None:
        self._view = view

    def view(self) -> IndexView:
        return self._view

    def close(self) -> None:
        return None


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1.0, n)


Synthetic = tuple[
    list[Any], list[list[str]], list[list[str]], np.ndarray, dict[str, np.ndarray],
    dict[str, np.ndarray],
]  # fmt: skip


def synthesise(
    chunks: Sequence[Any],
    vecs: np.ndarray,
    title_vecs: dict[str, np.ndarray],
    n: int,
    seed: int = 0,
    lead_vecs: dict[str, np.ndarray] | None = None,
) -> Synthetic:
    """``n`` chunks from the real ones: the originals first, then mixed copies.

    Returns chunks, their text and title tokens, their vectors, the title
    vectors by title id and the lead vectors by chunk id. Copy ``j`` of chunk ``b``
    appends a sentence of a random other chunk ``o``; its vector is
    unit(0.85 b + 0.15 o + noise). Every ``TITLE_SHARE`` copies of a chunk share one
    (perturbed) title vector; a copy of a FAQ row with a lead sentence gets its own
    perturbed lead vector, as every FAQ row has one.
    """
    from dataclasses import replace

    from madoguchi.kit.fields import chunk_tokens, title_id
    from madoguchi.kit.lexical import tokenize

    rng = np.random.default_rng(seed)
    base = len(chunks)
    toks = [chunk_tokens(c) for c in chunks]
    sentences = [
        [s.strip() + "。" for s in c.text.split("。") if len(s.strip()) > 8] or [c.text[:80]]
        for c in chunks
    ]
    sent_tokens: dict[str, list[str]] = {}
    out_chunks: list[Any] = []
    text_toks: list[list[str]] = []
    title_toks: list[list[str]] = []
    out_vecs = np.empty((n, vecs.shape[1]), dtype=np.float32)
    out_titles: dict[str, np.ndarray] = {}
    leads = lead_vecs or {}
    out_leads: dict[str, np.ndarray] = {}
    dim = vecs.shape[1]
    sigma = 0.02
    for j in range(n):
        b, copy = j % base, j // base
        c = chunks[b]
        if copy == 0:
            out_chunks.append(c)
            text_toks.append(toks[b][0])
            title_toks.append(toks[b][1])
            out_vecs[j] = vecs[b]
            tid = title_id(c)
            if tid:
                out_titles[tid] = title_vecs[tid]
            if c.id in leads:
                out_leads[c.id] = leads[c.id]
            continue
        o = int(rng.integers(base))
        sent = sentences[o][int(rng.integers(len(sentences[o])))]
        if sent not in sent_tokens:
            sent_tokens[sent] = tokenize(sent)
        tid = title_id(c)
        meta = {**c.meta, "synthetic": True}
        syn = replace(
            c,
            id=f"syn-{j}",
            source_id=f"{c.source_id}~{copy}",
            text=f"{c.text}\n{sent}",
            meta=meta,
        )
        out_chunks.append(syn)
        text_toks.append(toks[b][0] + sent_tokens[sent])
        title_toks.append(toks[b][1])
        mixed = 0.85 * vecs[b] + 0.15 * vecs[o] + rng.normal(0, sigma, dim)
        out_vecs[j] = _unit(mixed)
        stid = _title_key(c, j, base)
        if stid and stid not in out_titles:
            noisy = _unit(title_vecs[tid] + rng.normal(0, sigma, dim))
            out_titles[stid] = noisy.astype(np.float32)
        if c.id in leads:
            out_leads[syn.id] = _unit(leads[c.id] + rng.normal(0, sigma, dim)).astype(np.float32)
    return out_chunks, text_toks, title_toks, out_vecs, out_titles, out_leads


#: synthetic copies per title vector
TITLE_SHARE = 4


def _title_key(c: Any, j: int, base: int) -> str:
    from madoguchi.kit.fields import title_id

    tid = title_id(c)
    if not tid:
        return ""
    group = j // base // TITLE_SHARE  # copies share a title field, as a page's sections do
    return tid if group == 0 else f"{tid}~{group}"


def build_scaled(
    settings: Settings,
    chunks: Sequence[Any],
    vecs: np.ndarray,
    title_vecs: dict[str, np.ndarray],
    n: int,
    store_dir: Path,
    lead_vecs: dict[str, np.ndarray] | None = None,
) -> tuple[SyntheticIndex, dict[str, float]]:
    """A searchable synthetic index of ``n`` chunks in the configured vector store."""
    from madoguchi.ingest.search import VectorFields
    from madoguchi.ingest.vectors import ChromaVectorIndex, MemoryVectorIndex, VectorIndex

    t0 = time.perf_counter()
    syn, ttoks, qtoks, svecs, stitles, sleads = synthesise(
        chunks, vecs, title_vecs, n, lead_vecs=lead_vecs
    )
    t1 = time.perf_counter()
    title_keys = [_title_key(c, j, len(chunks)) for j, c in enumerate(syn)]
    t2 = time.perf_counter()
    vectors: VectorIndex
    titles: VectorIndex
    leads: VectorIndex
    if settings.store.kind == "memory":
        vectors, titles, leads = MemoryVectorIndex(), MemoryVectorIndex(), MemoryVectorIndex()
    else:
        st = settings.with_overrides(data_dir=str(store_dir))
        vectors = ChromaVectorIndex(st, f"scale-{n}")
        titles = ChromaVectorIndex(st, f"scale-{n}", suffix="-titles")
        leads = ChromaVectorIndex(st, f"scale-{n}", suffix="-leads")
    vectors.upsert([c.id for c in syn], svecs)
    tids = list(stitles)
    titles.upsert(tids, np.stack([stitles[t] for t in tids]))
    if sleads:
        lids = list(sleads)
        leads.upsert(lids, np.stack([sleads[i] for i in lids]))
    if n <= settings.store.exact_search_max:  # as Index.view does
        fields = VectorFields.exact_copies(vectors, titles, leads, settings.store.vector_precision)
    else:
        fields = VectorFields(vectors, titles, leads)
    t3 = time.perf_counter()
    view = IndexView(0, syn, ttoks, qtoks, title_keys, fields, with_lead=sleads)
    t4 = time.perf_counter()
    return SyntheticIndex(view), {
        "synthesise_s": t1 - t0,
        "bm25_build_s": t4 - t3,
        "vector_upsert_s": t3 - t2,
        "title_vectors": float(len(tids)),
        "lead_vectors": float(len(sleads)),
    }


def latency_breakdown(svc: Any, questions: Sequence[str], repeat: int = 1) -> dict[str, float]:
    """Whole-ask percentiles plus the median of each stage (embed, dense, BM25, answer)."""
    svc.ask(questions[0])
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            res = svc.ask(q)
            totals.append((time.perf_counter() - t0) * 1000)
            for k in ("embed_ms", "dense_ms", "bm25_ms", "answer_ms"):
                if k in res.timings:
                    stages.setdefault(k, []).append(res.timings[k])
    p50, p95, p99 = (float(x) for x in np.percentile(totals, [50, 95, 99]))
    out = {"n": float(len(totals)), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}
    out.update({f"{k[:-3]}_p50_ms": float(np.median(v)) for k, v in stages.items()})
    return out


def _ratio(report: Any, raw: dict[str, float]) -> float | None:
    """Ingest throughput as a share of the bare embedder's on the same texts."""
    return report.tokens_per_second / raw["tokens_per_s"] if raw["tokens_per_s"] else None


def ingest_table(title: str, report: Any, raw: dict[str, float]) -> Table:
    """The ingest figures next to the bare embedder's, measured in the same run."""
    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("chunks embedded", str(report.chunks_embedded))
    t.add_row("ingest embed throughput", f"{report.tokens_per_second:.0f} tokens/s")
    t.add_row("raw embedder, same texts", f"{raw['tokens_per_s']:.0f} tokens/s")
    ratio = _ratio(report, raw)
    t.add_row("ingest / raw", f"{ratio:.2f}" if ratio else "–")
    t.add_row("ingest wall time", f"{report.seconds:.1f} s")
    return t


def ingest_vs_raw(svc: TownServices) -> dict[str, Any]:
    """Ingest demo/ and embed the very same texts with the bare embedder, in this run."""
    from madoguchi.kit.fields import title_text

    report = svc.ingest(["demo/faq.csv", "demo/pages", "demo/pdf"])
    chunks = list(svc.index.view().chunks())
    texts = [embed_text(c) for c in chunks]
    raw, vecs = raw_embed(svc, texts)
    titles = sorted({title_text(c) for c in chunks if title_text(c)})
    tvecs = np.asarray(svc.embedder.embed_documents(titles), dtype=np.float32)
    lids, lmat = svc.index.lead_vectors.all_vectors()  # the FAQ rows' lead sentences
    return {
        "leads": {i: np.asarray(v, dtype=np.float32) for i, v in zip(lids, lmat, strict=True)},
        "report": report,
        "raw": raw,
        "chunks": chunks,
        "vecs": vecs,
        "titles": titles,
        "tvecs": tvecs,
    }


def bench_speed(args: argparse.Namespace, *, scale_only: bool = False) -> dict[str, Any]:
    """Ingest throughput against the raw embedder, then ask latency at growing corpus sizes."""
    from madoguchi.eval.dataset import load_dataset
    from madoguchi.kit.fields import title_id, title_text

    sizes = [int(x) for x in str(args.sizes).split(",") if x.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    result: dict[str, Any] = {"sizes": sizes}
    try:
        settings = Settings(data_dir=tmp / "demo")
        svc = build_services(settings)
        svc.warm_up()
        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            got = ingest_vs_raw(svc)
            qs = [it.question for it in load_dataset(REPO / "demo" / "eval.jsonl")]
        finally:
            os.chdir(cwd)
        report, raw = got["report"], got["raw"]
        result["ingest"] = {
            "chunks_embedded": report.chunks_embedded,
            "tokens": report.tokens_embedded,
            "tokens_per_s": report.tokens_per_second,
            "wall_s": report.seconds,
        }
        result["raw_embedder"] = raw
        result["ingest_vs_raw"] = _ratio(report, raw)
        if not scale_only:
            title = "ingest of demo/ vs the bare embedder on the same texts (one run)"
            console.print(ingest_table(title, report, raw))
        chunks = got["chunks"]
        title_vecs = {
            title_id(c): got["tvecs"][got["titles"].index(title_text(c))]
            for c in chunks
            if title_text(c)
        }
        rows = []
        for n in sizes:
            index, build = build_scaled(
                settings,
                chunks,
                got["vecs"],
                title_vecs,
                n,
                tmp / f"scale-{n}",
                lead_vecs=got["leads"],
            )
            ssvc = Services(settings, svc.embedder, index)
            lat = latency_breakdown(ssvc, qs, repeat=args.repeat)
            rows.append({"chunks": n, **build, **lat, "peak_rss_mb": peak_rss_mb()})
            console.print(
                f"{n:>7} chunks: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms "
                f"(built in {build['bm25_build_s'] + build['vector_upsert_s']:.1f} s)"
            )
            del index, ssvc
        result["scale"] = rows
        result["scale_note"] = (
            f"{len(chunks)} real demo chunks with real vectors; further chunks are copies with "
            "one sentence of another chunk appended, vectors synthesised (0.85 original + 0.15 "
            "other + noise; FAQ copies with a perturbed lead vector each), tokens real; query "
            "embedding, BM25, vector search "
            f"({settings.store.kind}) and answering real"
        )
        result["peak_rss_mb"] = peak_rss_mb()
        t = Table(title=f"ask latency by corpus size ({len(qs)} demo questions x {args.repeat})")
        for col in ("chunks", "p50 ms", "p95 ms", "p99 ms", "embed", "dense", "bm25",
                    "answer", "peak RSS MB"):  # fmt: skip
            t.add_column(col, justify="right")
        for r in rows:
            t.add_row(
                f"{r['chunks']:,}",
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                *(f"{r.get(k, float('nan')):.1f}" for k in
                  ("embed_p50_ms", "dense_p50_ms", "bm25_p50_ms", "answer_p50_ms")),
                f"{r['peak_rss_mb']:.0f}",
            )  # fmt: skip
        console.print(t)
        console.print(f"[dim]{result['scale_note']}; stage columns are medians in ms[/]")
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()


# ---- a synthetic data directory, for the server under load ------------------------------


def write_synthetic(source: Path, n: int, cache: Path) -> Path:
    """A data directory holding ``n`` chunks synthesised from the index in ``source``
    (``synthesise``: its chunks, then mixed copies), for ``madoguchi serve`` and the load
    benchmark; built once into ``cache`` and reused (keyed by the size, the embedder and
    the source's path and generation). No text is embedded: the copies' vectors are
    mixed from the source's."""
    import hashlib
    import json as _json

    from madoguchi.ingest.embed import build_embedder, embedder_name
    from madoguchi.ingest.index import SOURCE_COLUMNS, Index
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.types import Chunk

    base_settings = load_settings().with_overrides(data_dir=str(source))
    emb = build_embedder(base_settings.embedder)  # not loaded: nothing is embedded here
    src = Index(base_settings, emb)
    tag = hashlib.blake2b(str(source.resolve()).encode(), digest_size=4).hexdigest()
    out = cache / f"synthetic-{n}-{embedder_name(emb)}-{tag}-g{src.generation()}"
    if (out / ".complete").is_file():
        src.close()
        return out
    console.print(f"building a synthetic index of {n:,} chunks from {source} in {out}")
    rows = src.db.execute(
        "SELECT id, source_id, text, title, position, meta, tid FROM chunks "
        "ORDER BY source_id, position"
    ).fetchall()
    if not rows:
        raise SystemExit(f"{source} holds no chunks to synthesise from")
    chunks = [Chunk(r[0], r[1], r[2], r[3], r[4], _json.loads(r[5])) for r in rows]
    ids, mat = src.vectors.get([c.id for c in chunks])
    by_id = dict(zip(ids, mat, strict=True))
    chunks = [c for c in chunks if c.id in by_id]
    vecs = np.stack([by_id[c.id] for c in chunks]).astype(np.float32)
    tids, tmat = src.title_vectors.get(sorted({r[6] for r in rows if r[6]}))
    title_vecs = dict(zip(tids, np.asarray(tmat, dtype=np.float32), strict=True))
    lids, lmat = src.lead_vectors.all_vectors()
    leads = dict(zip(lids, np.asarray(lmat, dtype=np.float32), strict=True))
    src.close()
    syn, ttoks, qtoks, svecs, stitles, sleads = synthesise(
        chunks, vecs, title_vecs, n, lead_vecs=leads
    )
    keys = [_title_key(c, j, len(chunks)) for j, c in enumerate(syn)]
    if out.exists():
        shutil.rmtree(out)
    index = Index(base_settings.with_overrides(data_dir=str(out)), emb)
    index.vectors.upsert([c.id for c in syn], svecs)
    index.title_vectors.upsert(list(stitles), np.stack(list(stitles.values())))
    if sleads:
        index.lead_vectors.upsert(list(sleads), np.stack(list(sleads.values())))
    db = index.db
    now = time.time()
    per_source: dict[str, list[Any]] = {}
    for c in syn:
        per_source.setdefault(c.source_id, []).append(c)
    with db:
        db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (c.id, c.source_id, c.position, c.text, c.title,
                 _json.dumps({k: v if isinstance(v, str | int | float | bool) or v is None
                              else str(v) for k, v in c.meta.items()}, ensure_ascii=False),
                 _json.dumps(ttoks[j], ensure_ascii=False),
                 _json.dumps(qtoks[j], ensure_ascii=False), keys[j])
                for j, c in enumerate(syn)
            ],
        )  # fmt: skip
        db.executemany(
            f"INSERT OR REPLACE INTO sources ({SOURCE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            [
                (sid, f"synthetic-{sid}", cs[0].title, sid, "synthetic", now, len(cs), "{}")
                for sid, cs in per_source.items()
            ],
        )
        db.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
    index.close()
    (out / ".complete").write_text(f"{n} chunks from {source}\n")
    return out
