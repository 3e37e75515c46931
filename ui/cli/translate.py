"""``madoguchi translate``: the town's public FAQ translated once by an LLM, for staff to approve.

The work is in ``madoguchi.ingest.translate``; this module reads the options and prints
the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from madoguchi.ui.cli.options import SetOpt, err, out

if TYPE_CHECKING:
    from madoguchi.ingest.translate import Plan, TranslateReport


def register(app: typer.Typer) -> None:
    app.command()(translate)


def translate(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="FAQ CSV files or folders; default: the FAQ files the index was built from."
        ),
    ] = None,
    langs: Annotated[
        str,
        typer.Option(
            "--langs", help="Languages, comma-separated, e.g. en,zh-Hans,vi,ko,pt,ja-easy."
        ),
    ] = "",
    limit: Annotated[
        int | None,
        typer.Option(
            help="Send at most this many entry-language pairs (the rest next time).", min=0
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would be sent (counts, characters, one example); send nothing.",
        ),
    ] = False,
    retry_review: Annotated[
        bool,
        typer.Option("--retry-review", help="Also send again the translations waiting for review."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    set_: SetOpt = None,
) -> None:
    """Translate the FAQ with the configured LLM into files beside it (faq_en.mt.csv).

    Only the FAQ's public questions and answers are sent, never residents' questions.
    Re-running sends only entries that are new, changed or failed. Translations are marked
    as machine translations until staff approve them in the admin screen; run
    'madoguchi ingest' on the FAQ afterwards to index them."""
    from madoguchi.ingest.translate import (
        Translator,
        faq_files,
        indexed_faq_files,
        messages,
        parse_langs,
        plan,
        run,
    )
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.errors import InputError
    from madoguchi.kit.llm import build_llm

    if not langs:
        raise InputError("--langs is required, e.g. --langs en,zh-Hans,vi")
    codes = parse_langs(langs)
    settings = load_settings(set_)
    if paths:
        files, skipped = faq_files(paths)
    else:
        from madoguchi.ingest.services import build_services

        files, skipped = indexed_faq_files(build_services(settings).index)
    if not files:
        reasons = "; ".join(f"{s}: {r}" for s, r in skipped)
        raise InputError(
            "no FAQ file to translate"
            + (f" ({reasons})" if reasons else ": give a FAQ CSV, or ingest one first")
        )
    p = plan(files, codes, retry_review=retry_review)
    p.skipped[:0] = skipped
    llm = build_llm(settings.llm)
    translator = Translator(llm, town=settings.widget.town) if llm is not None else None
    town = settings.widget.town
    with _bar(as_json, limit if limit is not None else len(p.tasks)) as advance:
        report = run(p, translator, limit=limit, dry_run=dry_run, town=town, progress=advance)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print(report)
        if dry_run and p.tasks:
            first = p.tasks[0]
            out.print(f"\n[bold]the request for {first.entry.source_id} ({first.lang}):[/]")
            for role, content in messages(first.entry, first.lang, town):
                out.print(f"[cyan]{role}:[/] {escape(content)}", highlight=False)
    if report.stopped or any(o.status == "failed" for o in report.outcomes):
        raise typer.Exit(1)


@contextmanager
def _bar(quiet: bool, total: int) -> Iterator[Callable[[object, object], None]]:
    """A progress bar on stderr (none for --json or off a terminal); yields its callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]translate"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    ) as bar:
        task = bar.add_task("translate", total=total)
        yield lambda _task, _outcome: bar.advance(task, 1)


def _print(report: TranslateReport) -> None:
    p: Plan = report.plan
    t = Table(title="translate" + (" (dry run)" if report.dry_run else ""))
    cols = (
        "to_send",
        "translated",
        "review",
        "failed",
        "done_before",
        "own",
        "waiting",
        "rejected",
    )
    heads = ("to send", "translated", "review", "failed", "done", "own", "waiting", "rejected")
    t.add_column("language")
    for h in heads:
        t.add_column(h, justify="right")
    for lang, c in report.by_language().items():
        t.add_row(lang, *(str(c[k]) for k in cols))
    out.print(t)
    out.print(
        "done: translated before; own: the town's own translation; waiting: for staff to "
        "review; rejected: by staff",
        style="dim",
    )
    for sid, reason in p.skipped:
        out.print(f"[yellow]skipped[/] {escape(sid)}: {escape(reason)}", highlight=False)
    for o in report.outcomes:
        if o.status == "review":
            out.print(
                f"[yellow]review[/] {o.source_id} ({o.lang}): {escape(o.reason)}", highlight=False
            )
        elif o.status == "failed":
            out.print(
                f"[red]failed[/] {o.source_id} ({o.lang}): {escape(o.reason)}", highlight=False
            )
    if report.stopped:
        out.print(f"[bold red]stopped:[/] {escape(report.stopped)}", highlight=False)
    if report.not_sent:
        out.print(f"{report.not_sent} left for the next run")
    verb = "would send" if report.dry_run else "sent"
    out.print(
        f"{verb} {report.sent} entry-language pairs: {report.text_chars} characters of FAQ text "
        f"({report.prompt_chars} with the instructions)"
        + ("" if report.dry_run else f", {report.requests} requests in {report.seconds:.1f}s")
    )
    if report.written:
        names = " ".join(sorted({f.as_posix() for f in p.files}))
        out.print(f"written: {', '.join(report.written)}")
        out.print(
            f"next: 'madoguchi ingest {names}' indexes them; staff approve them in the admin "
            "screen (翻訳 tab)"
        )
