"""The ``madoguchi`` command: ingest, ask, sources, eval.

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
app.add_typer(sources_app, name="sources")
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True)


def _settings(overrides: list[str] | None = None) -> Any:
    from kit.config import Settings
    from kit.errors import ConfigError

    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError: show it as a config error
        raise ConfigError(f"invalid settings: {exc}") from exc
    if overrides:
        changes: dict[str, Any] = {}
        for item in overrides:
            if "=" not in item:
                raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
            key, value = item.split("=", 1)
            try:
                changes[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                changes[key.strip()] = value
        try:
            settings = settings.with_overrides(**changes)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid --set override: {exc}") from exc
    return settings


def _services(overrides: list[str] | None = None) -> Any:
    from kit.services import build_services

    return build_services(_settings(overrides))


SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting, e.g. --set retrieval.mode=dense (repeatable)."),
]


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders (PDF, HTML, Markdown, text, FAQ CSV).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    set_: SetOpt = None,
) -> None:
    """Index documents; unchanged ones are skipped, removed ones are dropped."""
    from kit.errors import InputError

    for p in paths:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+:/", str(p)):
            raise InputError(
                f"{p}: URLs are not ingested by this version; give files or folders "
                "(download the pages first, or use the web connector once it exists)"
            )
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
    missing = [str(p) for p in paths if not p.exists()]
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        if missing:
            raise typer.Exit(1)
        return
    t = Table(title="ingest" + (" (dry run)" if dry_run else ""), show_header=True)
    for col in ("added", "updated", "unchanged", "removed", "skipped"):
        t.add_column(col, justify="right")
    c = report.counts()
    t.add_row(*(str(c[k]) for k in ("added", "updated", "unchanged", "removed", "skipped")))
    out.print(t)
    for sid, reason in report.skipped:
        out.print(f"[yellow]skipped[/] {sid}: {reason}")
    if report.chunks_embedded:
        out.print(
            f"embedded {report.chunks_embedded} chunks, {report.tokens_embedded} tokens in "
            f"{report.embed_seconds:.1f}s ({report.tokens_per_second:.0f} tokens/s); "
            f"run took {report.seconds:.1f}s"
        )
    if report.repaired:
        out.print(f"repaired an interrupted run: {report.repaired}")
    out.print(f"index: {svc.index.chunk_count()} chunks in {svc.settings.data_dir}")
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
    from kit.errors import InputError

    svc = _services()
    ids = [s.source_id for s in svc.index.sources(prefix=source)]
    if not ids:
        raise InputError(f"no indexed source matches {source!r} (see 'madoguchi sources list')")
    svc.index.remove(ids)
    out.print(f"removed {len(ids)} source(s)")


@eval_app.command("run")
def eval_run(
    dataset: Annotated[Path, typer.Argument(help="Evaluation set (JSON Lines, DESIGN.md §4).")],
    details: Annotated[
        Path | None, typer.Option("--details", help="Write per-question results (JSONL).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    split: Annotated[
        Path | None, typer.Option(help="Split file with 'tune'/'report' id lists.")
    ] = None,
    half: Annotated[str, typer.Option(help="Which half of --split to run.")] = "report",
    set_: SetOpt = None,
) -> None:
    """Ask every question of a dataset and print hit@5, MRR, accuracy, refusals, latency."""
    from eval.dataset import load_dataset, select_half
    from eval.report import by_lang_table, summary_table
    from eval.run import run_items

    items = load_dataset(dataset)
    if split:
        items = select_half(items, split, half)
    if limit:
        items = items[:limit]
    svc = _services(set_)
    svc.warm_up()
    summary = run_items(svc, items, details_path=details)
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
        return
    out.print(summary_table(summary, title=f"{dataset} ({len(items)} questions)"))
    out.print(by_lang_table(summary))
    if details:
        out.print(f"per-question results: {details}")


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

    from ui.api import create_app

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
    from kit.errors import KitError

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
