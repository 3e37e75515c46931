"""The ``madoguchi`` command: ingest, sync, ask, sources, synonyms, stats, translate, backup,
restore, doctor, schedule, towns, serve, eval, bench.

The root app gathers the commands of this package's modules by area (``index``:
ingest, sync, sources; ``ask``; ``synonyms``; ``stats``; ``translate``; ``ops``: backup,
restore, doctor, schedule; ``towns``: the towns of a shared service; ``serve``) and then those of command
modules registered by name, the way simonw/llm lets plugins register commands: a
command module has a ``register(app: typer.Typer) -> None`` function that adds its
commands to the root app. Two kinds are loaded, with importlib so that this package
imports none of them statically:

* the built-in ones named in ``COMMAND_MODULES`` (``madoguchi.eval.cli``: ``eval run``,
  ``eval compare``, ``eval starter`` and ``bench``);
* every entry point of the group ``madoguchi.commands`` (importlib.metadata) of an
  installed package, naming its module, e.g. in that package's pyproject.toml::

      [project.entry-points."madoguchi.commands"]
      census = "madoguchi_census.cli"

A module that cannot be imported or registered is reported in one line on stderr
and skipped: the other commands keep working.

The app is assembled on first use (``root_app()``, or ``from madoguchi.ui.cli import
app``), not on import, so a command module may import ``madoguchi.ui.cli.options``
(the consoles and shared option types) without an import cycle. Heavy libraries are
imported inside the commands, so ``madoguchi --help`` is instant. A ``KitError``
becomes one clear line on stderr and exit code 2; Ctrl-C exits with 130.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from functools import cache, partial
from importlib.metadata import entry_points
from types import ModuleType

import typer
from rich.markup import escape

from madoguchi.ui.cli import ask, index, ops, serve, stats, synonyms, towns, translate
from madoguchi.ui.cli.options import err

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

COMMAND_MODULES: tuple[str, ...] = ("madoguchi.eval.cli",)
ENTRY_POINT_GROUP = "madoguchi.commands"


def register_commands(
    app: typer.Typer,
    modules: Iterable[str] = COMMAND_MODULES,
    group: str = ENTRY_POINT_GROUP,
) -> None:
    """Let each built-in command module, then each entry point of ``group``, add its commands."""
    names = list(modules)
    for name in names:
        _register(app, name, partial(importlib.import_module, name))
    for ep in entry_points(group=group):
        if ep.value not in names:  # a built-in one also declared as an entry point
            _register(app, f"{ep.name} = {ep.value}", ep.load)


def _register(app: typer.Typer, label: str, load: Callable[[], ModuleType]) -> None:
    try:
        load().register(app)
    except Exception as exc:  # a broken plugin must not take the other commands down
        err.print(
            f"[yellow]warning:[/] commands of {escape(label)} not loaded: "
            f"{escape(type(exc).__name__)}: {escape(str(exc))}",
            highlight=False,
            soft_wrap=True,
        )


@cache
def root_app() -> typer.Typer:
    """The root app with every command registered (built once)."""
    app = typer.Typer(
        name="madoguchi",
        help="madoguchi (窓口): answers residents' questions from the town's own documents, "
        "offline.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    index.register(app)
    ask.register(app)
    synonyms.register(app)
    stats.register(app)
    translate.register(app)
    ops.register(app)
    towns.register(app)
    register_commands(app)
    serve.register(app)  # last, so the listing reads as it always has: ..., bench, serve
    return app


def __getattr__(name: str) -> typer.Typer:
    """``from madoguchi.ui.cli import app``: the root app, assembled on first use."""
    if name == "app":
        return root_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    from madoguchi.kit.errors import KitError

    try:
        root_app()()
    except KitError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
