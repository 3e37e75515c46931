"""``madoguchi serve``: the HTTP API, the widget script and the admin screen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from madoguchi.ui.cli.options import SetOpt, out


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    admin: Annotated[
        bool, typer.Option("--admin/--no-admin", help="Mount the staff screen at /admin.")
    ] = True,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request line.")
    ] = True,
    schedule: Annotated[
        Path | None,
        typer.Option(
            "--schedule",
            help="Also run the [schedule] of this sync file (town.toml) on a thread of the "
            "server (定期更新).",
        ),
    ] = None,
    set_: SetOpt = None,
) -> None:
    """Start the HTTP API, the widget script and the admin screen (uvicorn).

    Residents: POST /api/v1/ask, /api/v1/ask/stream, /api/v1/feedback, GET /widget.js;
    staff: /admin (MADOGUCHI_SERVER__ADMIN_KEY); operations: /healthz, /readyz, /metrics, /docs.
    """
    from madoguchi.ingest.embed import tune_threads

    threads = tune_threads()  # before the embedder's OpenMP runtime loads

    import uvicorn

    from madoguchi.kit.config import load_settings
    from madoguchi.ui.api import create_app

    settings = load_settings(set_)
    app = create_app(settings, admin=admin, schedule=schedule)  # a bad schedule stops here
    if schedule is not None:
        from madoguchi.ingest.schedule import load_schedule

        when = load_schedule(schedule).schedule
        out.print(f"scheduled sync: {when.spec} ({when.tz}) of {schedule}")
    out.print(
        "threads: " + ", ".join(f"{k}={v}" for k, v in threads.items() if k != "omp_loaded_before")
    )
    out.print(f"madoguchi API on http://{host}:{port}/ (docs: /docs), data: {settings.data_dir}")
    key = settings.server.admin_key
    if admin and not key:
        out.print("admin screen disabled: set MADOGUCHI_SERVER__ADMIN_KEY to enable /admin")
    elif admin and key and len(key) < 16:
        out.print("warning: the admin key is short; use 16 or more random characters")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=10,
        # uvicorn would take X-Forwarded-For from any local peer; the app reads it only
        # when server.trust_forwarded_for says so (ui.security.ForwardedMiddleware)
        proxy_headers=False,
        server_header=False,  # no "server: uvicorn" on every response
    )
