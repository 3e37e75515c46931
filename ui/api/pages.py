"""The HTML pages, rendered from the Jinja2 templates in ``ui/templates/``.

Autoescape is on, with ``html.escape``'s entities (``&quot;``, ``&#x27;``) rather
than markupsafe's (``&#34;``, ``&#39;``), so the pages stay byte for byte what
they were when they were written in Python. ``|source`` shows a piece of HTML
as text (the embed tag that staff copy into the town's pages).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from madoguchi.kit.config import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

NO_FRAME = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}


def _hashes(page: str, tag: str) -> list[str]:
    """CSP hashes of a page's inline ``<script>`` or ``<style>`` blocks. Only for pages
    with no outside input: a hash taken of injected markup would allow it."""
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in found
    ]


def home_csp(settings: Settings) -> str:
    """The sample page: scripts from this server only (the widget), no inline script;
    framed only by the pages allowed to embed the widget.

    Inline style stays allowed: the page's own, and the widget's fallback ``<style>``
    for browsers without constructable style sheets."""
    from madoguchi.ui.security import OriginPolicy

    ancestors = " ".join(["'self'", *OriginPolicy(settings.server.allowed_origins).csp_sources()])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {ancestors}"
    )


def login_headers(page: str) -> dict[str, str]:
    """The login page loads nothing, posts only to itself and is never framed."""
    styles = " ".join(_hashes(page, "style")) or "'none'"
    return {
        **NO_FRAME,
        "Content-Security-Policy": f"default-src 'none'; style-src {styles}; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
    }


def docs_csp(page: str) -> str:
    """FastAPI's /docs and /redoc pages (fixed HTML, no request input): where their
    scripts, style sheets and icon come from (this server: ``'self'``; or another
    host), their inline scripts by hash, the OpenAPI document and "try it out" calls
    to this server; nothing may frame them."""

    def sources(tags: list[str], attr: str) -> list[str]:
        found = [m.group(1) for t in tags if (m := re.search(rf'{attr}="([^"]+)"', t))]
        hosts = {m.group(1) for u in found if (m := re.match(r"(https?://[^/]+)", u))}
        local = any(not re.match(r"[a-z][a-z0-9+.-]*:|//", u, re.I) for u in found)
        return (["'self'"] if local else []) + sorted(hosts)

    def directive(name: str, values: list[str]) -> str:
        return f"{name} {' '.join(values)}; "

    links = re.findall(r"<link\b[^>]*>", page)
    scripts = sources(re.findall(r"<script\b[^>]*>", page), "src")
    styles = sources([t for t in links if 'rel="stylesheet"' in t], "href")
    icons = sources([t for t in links if 'rel="shortcut icon"' in t], "href")
    images = ["'self'", "data:", *(s for s in icons if s != "'self'")]
    fonts = ["https://fonts.gstatic.com"] if "https://fonts.googleapis.com" in styles else []
    return (
        "default-src 'none'; "
        + directive("script-src", scripts + _hashes(page, "script"))
        # Swagger UI and ReDoc set styles from script; ReDoc also runs a worker from a blob
        + directive("style-src", [*styles, "'unsafe-inline'"])
        + directive("img-src", images)
        + (directive("font-src", fonts) if fonts else "")
        + "connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


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


def render_home(settings: Settings, base: str, town_id: str | None = None) -> str:
    """The sample page at ``/`` (a town's at ``/t/{town}/``, its tag naming the town);
    ``base`` (the server's URL) comes from the Host header."""
    return _env.get_template("home.html").render(
        town=settings.widget.town,
        town_id=town_id,
        base=base,
        origins=", ".join(settings.server.allowed_origins) or "(none)",
    )


def render_login(error: bool, enabled: bool, wait: int = 0) -> str:
    """``wait``: seconds to wait after too many wrong keys (0: none)."""
    return _env.get_template("login.html").render(error=error, enabled=enabled, wait=wait)
