"""The HTML pages, rendered from the Jinja2 templates in ``ui/templates/``.

Autoescape is on, with ``html.escape``'s entities (``&quot;``, ``&#x27;``) rather
than markupsafe's (``&#34;``, ``&#39;``), so the pages stay byte for byte what
they were when they were written in Python. ``|source`` shows a piece of HTML
as text (the embed tag that staff copy into the town's pages).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from madoguchi.kit.config import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

NO_FRAME = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}


def _escape(value: Any) -> Any:
    """Every ``{{ value }}``: escaped, unless it is markup already."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


def _source(value: Any) -> Markup:
    return Markup(html.escape(str(value)))


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    finalize=_escape,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)
_env.filters["source"] = _source


def render_home(settings: Settings, base: str) -> str:
    """The sample page at ``/``; ``base`` (the server's URL) comes from the Host header."""
    return _env.get_template("home.html").render(
        town=settings.widget.town,
        base=base,
        origins=", ".join(settings.server.allowed_origins) or "(none)",
    )


def render_login(error: bool, enabled: bool) -> str:
    return _env.get_template("login.html").render(error=error, enabled=enabled)
