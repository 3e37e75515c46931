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
    from madoguchi.kit.config import Settings

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

TownOpt = Annotated[
    str | None,
    typer.Option(
        "--town",
        help="One town of a shared service (madoguchi towns list): its own index, log and "
        "settings under <data_dir>/towns/ID.",
    ),
]


def cli_settings(
    overrides: list[str] | None = None, config: Path | None = None, town: str | None = None
) -> Settings:
    """The settings of the environment, ``--config`` and ``--set``; with ``--town``, those
    of that town (``ingest.towns.town_settings``: its folder, its town.toml), where
    ``--set`` still wins except for ``data_dir``, which stays the service's root."""
    from madoguchi.kit.config import apply_overrides, load_settings

    settings = load_settings(overrides, config)
    if town is None:
        return settings
    from madoguchi.ingest.towns import TownRegistry, town_settings

    ts = town_settings(settings, TownRegistry(settings.data_dir).get(town))
    again = [o for o in overrides or [] if o.split("=", 1)[0].strip() != "data_dir"]
    return apply_overrides(ts, again)


def town_services(
    overrides: list[str] | None = None, town: str | None = None, config: Path | None = None
) -> TownServices:
    """The town's services, with the settings of the environment, ``--config`` and ``--set``
    (and of the town, with ``--town``)."""
    from madoguchi.ingest.services import build_services

    return build_services(cli_settings(overrides, config, town))
