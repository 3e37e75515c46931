"""``madoguchi synonyms``: the town's list of words residents use for the documents' words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from madoguchi.ui.cli.options import TownOpt, cli_settings, err, out, town_services

if TYPE_CHECKING:
    from madoguchi.kit.synonyms import SynonymFile

synonyms_app = typer.Typer(
    help="The town's synonym list (言い換え辞書): words residents use for the documents' words.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(synonyms_app, name="synonyms")


def _synonym_file(town: str | None = None) -> SynonymFile:
    from madoguchi.kit.synonyms import SynonymFile

    return SynonymFile(cli_settings(town=town).synonyms_path)


@synonyms_app.command("list")
def synonyms_list(town: TownOpt = None) -> None:
    """Show the list and where it is kept."""
    from madoguchi.kit.errors import InputError

    f = _synonym_file(town)
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
    town: TownOpt = None,
) -> None:
    """Add one group, e.g. madoguchi synonyms add スマホ スマートフォン 携帯電話."""
    f = _synonym_file(town)
    syn = f.add(words)
    out.print(f"added; {len(syn)} group(s) in {f.path} (used from the next question)")


@synonyms_app.command("load")
def synonyms_load(
    file: Annotated[Path, typer.Argument(help="A list: one group per line, comma-separated.")],
    town: TownOpt = None,
) -> None:
    """Replace the list with a file's (checked first: a bad line changes nothing)."""
    from madoguchi.kit.synonyms import read_text

    f = _synonym_file(town)
    syn = f.save_text(read_text(file), file.name)
    out.print(f"{len(syn)} group(s) written to {f.path}")


@synonyms_app.command("suggest")
def synonyms_suggest(
    limit: Annotated[int, typer.Option(help="At most this many words.")] = 30,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    town: TownOpt = None,
) -> None:
    """Candidates for the list: words of unanswered questions that no document uses.

    Each comes with the indexed titles nearest in meaning (the conversation log's
    refused or 👎 Japanese questions)."""
    from madoguchi.kit.convlog import FILENAME, ConversationLog
    from madoguchi.kit.errors import InputError
    from madoguchi.kit.synonyms import suggest_from_log

    svc = town_services(None, town)
    path = svc.settings.data_dir / FILENAME
    if not path.exists() and not svc.settings.store.database_url:
        raise InputError(f"no conversation log yet ({path}): it is written by 'madoguchi serve'")
    log = ConversationLog.in_data_dir(
        svc.settings.data_dir, svc.settings.server.retention_days, store=svc.settings.store
    )
    try:
        rows = suggest_from_log(log, svc.index.view(), svc.embedder, svc.synonyms.current(), limit)
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
def synonyms_check(
    question: Annotated[str, typer.Argument(help="A question to look at.")],
    town: TownOpt = None,
) -> None:
    """Which words of the list a question contains, and what it is also searched as."""
    f = _synonym_file(town)
    found, variants = f.current().rewrites(question)
    if f.error:
        err.print(f"[yellow]the list does not parse, so it is not used:[/] {f.error}")
    if not found:
        out.print("no word of the list in this question")
    for ex in found:
        out.print(f"{ex.word} → {' / '.join(ex.alternatives)}")
    for v in variants:
        out.print(f"  also searched as: {v}")
