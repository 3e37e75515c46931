"""What the command modules share: the two consoles, the option types, the services.

Kept light (typer and rich only) so that ``madoguchi --help`` stays instant; a
command module of another package (``madoguchi.eval.cli``, a plugin) may use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from madoguchi.ingest.services import TownServices

out = Console()
err = Console(stderr=True)

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting, e.g. --set retrieval.mode=dense (repeatable)."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="A settings TOML file (as MADOGUCHI_CONFIG); --set wins."),
]
PrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private-network",
        help="Let the crawler fetch private/loopback addresses (a closed-network intranet).",
    ),
]


def town_services(overrides: list[str] | None = None) -> TownServices:
    """The town's services, with the settings of the environment and ``--set``."""
    from madoguchi.ingest.services import build_services
    from madoguchi.kit.config import load_settings

    return build_services(load_settings(overrides))
