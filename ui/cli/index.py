"""Filling and inspecting the index: ``ingest``, ``sync``, ``sources list|remove``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from madoguchi.ui.cli.options import PrivateOpt, SetOpt, TownOpt, err, out, town_services

if TYPE_CHECKING:
    from madoguchi.ingest.pipeline import IngestReport
    from madoguchi.ingest.services import TownServices
    from madoguchi.ingest.sync import SyncConfig

sources_app = typer.Typer(help="List or remove indexed sources.", no_args_is_help=True)

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change.")]
ReportJsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]

_URL_ARG = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def register(app: typer.Typer) -> None:
    app.command()(sync)
    app.command()(ingest)
    app.add_typer(sources_app, name="sources")


@contextmanager
def _progress(title: str, quiet: bool) -> Iterator[Callable[[str, int], None]]:
    """A documents-seen bar on stderr (none for --json or off a terminal); yields its callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    ) as bar:
        task = bar.add_task(title, total=None)
        yield lambda _event, n: bar.advance(task, n)


def _run_sync(
    svc: TownServices, config: SyncConfig, dry_run: bool, as_json: bool, title: str
) -> None:
    """Crawl/ingest per a SyncConfig with a progress bar, then the report table."""
    from madoguchi.ingest.sync import run_sync

    with _progress(title, as_json) as progress:
        report = run_sync(svc.index, config, progress=progress, dry_run=dry_run)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    _print_report(svc, report, title, dry_run)


def _print_report(svc: TownServices, report: IngestReport, title: str, dry_run: bool) -> None:
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
    for sid, warning in report.warnings:
        out.print(f"[magenta]warning[/] {sid}: {warning}", highlight=False)
    for sid, pages in report.ocr_by_source().items():
        shown = ", ".join(
            f"p.{p.page} {p.confidence:.0f}%" + (" (low)" if p.low else "") for p in pages[:12]
        )
        more = f", … {len(pages) - 12} more" if len(pages) > 12 else ""
        per_page = sum(p.seconds for p in pages) / len(pages)
        out.print(
            f"[cyan]ocr[/] {sid}: {len(pages)} scanned page(s) read by OCR, confidence"
            f" {shown}{more}; {per_page:.1f} s/page",
            highlight=False,
        )
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


def sync(
    config: Annotated[Path, typer.Argument(help="TOML file listing the town's sources.")],
    dry_run: DryRunOpt = False,
    as_json: ReportJsonOpt = False,
    allow_private_network: PrivateOpt = False,
    town: TownOpt = None,
    set_: SetOpt = None,
) -> None:
    """Bring the index in step with every source in CONFIG (files, folders, web sites)."""
    from madoguchi.ingest.sync import load_config

    svc = town_services(set_, town)
    cfg = load_config(config, svc.settings.web)
    if allow_private_network:
        cfg.web = cfg.web.model_copy(update={"allow_private_network": True})
    _run_sync(svc, cfg, dry_run, as_json, "sync")


def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders (PDF, HTML, Markdown, text, CSV, DOCX, XLSX, PPTX), "
            "or web-site URLs to crawl with the default limits."
        ),
    ],
    dry_run: DryRunOpt = False,
    as_json: ReportJsonOpt = False,
    allow_private_network: PrivateOpt = False,
    town: TownOpt = None,
    set_: SetOpt = None,
) -> None:
    """Index documents; unchanged ones are skipped, removed ones are dropped."""
    ingest_paths(paths, dry_run, as_json, allow_private_network, set_, town)


def ingest_paths(
    paths: list[str],
    dry_run: bool,
    as_json: bool,
    allow_private_network: bool,
    overrides: list[str] | None,
    town: str | None,
    config: Path | None = None,
) -> None:
    """``ingest`` (and ``towns ingest``): files and folders, or a sync when URLs are given."""
    urls = [p for p in paths if _URL_ARG.match(p) and not Path(p).exists()]
    if urls:
        _ingest_with_urls(
            paths, urls, dry_run, as_json, allow_private_network, overrides, town, config
        )
        return
    svc = town_services(overrides, town, config)
    with _progress("ingest", as_json) as progress:
        report = svc.ingest([str(p) for p in paths], progress=progress, dry_run=dry_run)
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


def _ingest_with_urls(
    paths: list[str],
    urls: list[str],
    dry_run: bool,
    as_json: bool,
    allow_private_network: bool,
    overrides: list[str] | None,
    town: str | None = None,
    config: Path | None = None,
) -> None:
    """``ingest`` given web-site URLs: a sync of the files and one web source of the URLs."""
    from madoguchi.connectors.web import start_url_problem
    from madoguchi.ingest.sync import PathSource, SyncConfig, WebSource
    from madoguchi.kit.errors import InputError

    svc = town_services(overrides, town, config)
    web = svc.settings.web
    if allow_private_network:
        web = web.model_copy(update={"allow_private_network": True})
    for u in urls:
        problem = start_url_problem(u, web)
        if problem:
            raise InputError(f"{u}: {problem}")
    files: list[PathSource | WebSource] = [PathSource(p) for p in paths if p not in urls]
    _run_sync(svc, SyncConfig([*files, WebSource(urls=urls)], web), dry_run, as_json, "ingest")


@sources_app.command("list")
def sources_list(
    prefix: Annotated[str | None, typer.Argument(help="Only sources under this path/URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    town: TownOpt = None,
) -> None:
    """List indexed sources."""
    svc = town_services(None, town)
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
    town: TownOpt = None,
) -> None:
    """Remove a source (or every source under a path) from the index."""
    from madoguchi.kit.errors import InputError

    svc = town_services(None, town)
    ids = [s.source_id for s in svc.index.sources(prefix=source)]
    if not ids:
        raise InputError(f"no indexed source matches {source!r} (see 'madoguchi sources list')")
    svc.index.remove(ids)
    out.print(f"removed {len(ids)} source(s)")
