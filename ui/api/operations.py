"""What operators and their monitoring call: liveness, readiness and Prometheus metrics,
and the API's documentation (``/docs``, ``/redoc``: FastAPI's pages, with a CSP made for
them by ``add_docs``; ``/openapi.json`` is FastAPI's own).

The documentation pages load Swagger UI and ReDoc from this server, not from a CDN, so
they work on a town's network without internet: the files come from the
``fastapi-offline`` package (MIT; it bundles Swagger UI, Apache-2.0, and ReDoc, MIT) and
are served under ``/docs/assets/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from madoguchi.ui.api.deps import LogDep, MetricsDep, ServicesDep
from madoguchi.ui.api.models import ErrorOut, StatusOut
from madoguchi.ui.api.pages import docs_csp

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=StatusOut)
def healthz() -> dict[str, str]:
    """The process is up (liveness)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorOut}})
def readyz(svc: ServicesDep, log: LogDep) -> dict[str, Any]:
    """Models warmed up, the index readable: the catalogue (SQLite or PostgreSQL) and the
    vectors (Chroma, embedded or a server) each asked now, and the conversation log's
    database. A back-end that does not answer is a 503 naming it (readiness), and the
    next call asks again: a replica whose back-end came back is ready without a restart."""
    out = {"status": "ready", **svc.index.health()}
    if log is not None:
        log.ping()
        out["log"] = "ok"
    return out


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def prometheus(metrics: MetricsDep) -> Response:
    """Prometheus text format: requests, latency histograms, answers, refusals."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


DOCS_ASSETS = "/docs/assets"


def docs_assets_dir() -> Path:
    """The Swagger UI and ReDoc files (``swagger-ui-bundle.js``, ``swagger-ui.css``,
    ``redoc.standalone.js``, ``favicon.png``) that ``fastapi-offline`` ships."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def add_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` as FastAPI draws them, their scripts, style
    sheet and icon served by this app (``/docs/assets/``), each page with the CSP of
    exactly what it loads. The pages are made once, from the app's settings only."""
    openapi_url = app.openapi_url or "/openapi.json"
    icon = f"{DOCS_ASSETS}/favicon.png"
    pages = {
        "/docs": get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=icon,
            # no badge fetched from the public validator (it would leave the town's network)
            swagger_ui_parameters={"validatorUrl": None},
        ),
        "/redoc": get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=icon,
            with_google_fonts=False,
        ),
    }
    for path, page in pages.items():
        body = bytes(page.body)
        headers = {"Content-Security-Policy": docs_csp(body.decode()), "X-Frame-Options": "DENY"}

        def show(body: bytes = body, headers: dict[str, str] = headers) -> HTMLResponse:
            return HTMLResponse(body, headers=headers)

        app.add_api_route(path, show, methods=["GET"], include_in_schema=False)
    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets_dir()), name="docs-assets")
