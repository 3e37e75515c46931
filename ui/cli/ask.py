"""``madoguchi ask``: one question answered on the terminal (or as JSON)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from madoguchi.ui.cli.options import SetOpt, TownOpt, out, town_services

if TYPE_CHECKING:
    from madoguchi.kit.services import AskResult
    from madoguchi.kit.types import ScoredChunk


def register(app: typer.Typer) -> None:
    app.command()(ask)


def ask(
    question: Annotated[str, typer.Argument(help="The resident's question ('-' reads stdin).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    lang: Annotated[str | None, typer.Option(help="Answer language (default: detected).")] = None,
    show_hits: Annotated[
        bool, typer.Option("--hits", help="Show retrieved passages and scores.")
    ] = False,
    town: TownOpt = None,
    set_: SetOpt = None,
) -> None:
    """Answer one question from the indexed documents."""
    if question == "-":
        question = sys.stdin.read()
    svc = town_services(set_, town)
    svc.clean_question(question)  # a bad question fails before the model loads
    svc.warm_up()  # so the latency shown is the answer's, not the model loading's
    res = svc.ask(question, lang=lang)
    if as_json:
        data = res.answer.to_json()
        data["latency_ms"] = round(res.latency_ms, 1)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_answer(res)
    if show_hits:
        out.print(_hits_table(res.hits))


def _print_answer(res: AskResult) -> None:
    """The verdict line, the answer, the follow-up question, the citations, related documents."""
    from rich.markup import escape

    a = res.answer
    style = "yellow" if a.refused else "green"
    out.print(
        f"[bold {style}]{'回答できません' if a.refused else '回答'}[/] "
        f"[dim]({a.mode}, confidence {a.confidence:.2f}, {res.latency_ms:.0f} ms)[/]"
    )
    out.print(a.text, markup=False, highlight=False)
    if a.follow_up:
        out.print(f"\n[cyan]{a.follow_up}[/]", markup=True, highlight=False)
    for i, c in enumerate(a.citations, 1):
        out.print(
            f"[dim]\\[{i}] {escape(c.label)} — {escape(c.url or c.source_id)}[/]", highlight=False
        )
    if a.related:
        out.print("[dim]関連しそうな資料 (may help):[/]")
        for c in a.related:
            out.print(
                f"[dim]・{escape(c.title)} — {escape(c.url or c.source_id)}[/]", highlight=False
            )


def _hits_table(hits: list[ScoredChunk]) -> Table:
    """The retrieved passages with their fused score and each signal (``--hits``)."""
    t = Table(title="retrieved")
    for col in ("#", "source", "fused", "dense", "bm25", "question", "ranks"):
        t.add_column(col)
    for i, h in enumerate(hits, 1):
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
    return t
