"""What residents' browsers call: questions (plain and streamed), feedback, the widget's
configuration, script and assets, and the sample page at ``/``.

A question's ``lang`` is the widget menu's language, not an order: the answer is given
in the language the question is written in whenever that is clear, and in the menu's
language when the text could be in it or says too little (``kit.lang.answer_language``).
An English question in a widget left on 日本語 is answered in English; 「粗大ごみは？」 in
a browser set to English, in Japanese; ``TV`` or *juminhyo*, in the menu's language.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sse_starlette import EventSourceResponse

from madoguchi.kit.lang import answer_language, normalise_lang
from madoguchi.ui.api.deps import (
    AnsweringDep,
    LogDep,
    MetricsDep,
    ServicesDep,
    SettingsDep,
    limit_feedback,
    limit_questions,
    town_of,
)
from madoguchi.ui.api.models import (
    ERRORS,
    AskRequest,
    AskResponse,
    ErrorOut,
    FeedbackRequest,
    StatusOut,
    WidgetConfigOut,
)
from madoguchi.ui.api.pages import home_csp, render_home

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
WIDGET_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}

ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+")

router = APIRouter(tags=["residents"])


@router.post(
    "/api/v1/ask",
    response_model=AskResponse,
    responses=ERRORS,
    dependencies=[Depends(limit_questions)],
)
async def ask(body: AskRequest, svc: ServicesDep, answering: AnsweringDep) -> dict[str, Any]:
    """Answer one question; the same fields as ``madoguchi ask --json`` plus the ids."""
    return await answering.run(answering.ask, svc, in_its_language(body))


def in_its_language(body: AskRequest) -> AskRequest:
    """The request with ``lang`` set to the answer's language: the question's own when
    it is clear, else the menu's (an unknown menu code is a 400, as before)."""
    menu = normalise_lang(body.lang)
    return body.model_copy(update={"lang": answer_language(body.question, menu)})


@router.post(
    "/api/v1/ask/stream",
    responses={
        **ERRORS,
        200: {
            "content": {"text/event-stream": {}},
            "description": "Events: `delta` {text} pieces (a `reset` {} means: discard the "
            "text shown so far, e.g. a generated answer failed verification), then `final` "
            "(the /api/v1/ask JSON) or `error` {error, detail}.",
        },
    },
    dependencies=[Depends(limit_questions)],
)
async def ask_stream(
    body: AskRequest, svc: ServicesDep, answering: AnsweringDep
) -> EventSourceResponse:
    """The answer as server-sent events, so the widget can show it as it comes."""
    svc.clean_question(body.question)  # a bad question is a 400, not a broken stream
    return EventSourceResponse(answering.stream(svc, in_its_language(body)), ping=15)


@router.post(
    "/api/v1/feedback",
    response_model=StatusOut,
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "Unknown answer_id."}},
    dependencies=[Depends(limit_feedback)],
)
def feedback(
    body: FeedbackRequest, log: LogDep, answering: AnsweringDep, metrics: MetricsDep
) -> dict[str, str] | JSONResponse:
    """Helpful or not (and an optional comment) for one answer."""
    found = (
        log.feedback(body.answer_id, body.helpful, body.comment)
        if log is not None
        else answering.known(body.answer_id)
    )
    if not found:
        return JSONResponse(
            status_code=404,
            content={"error": "NotFound", "detail": f"no answer with id {body.answer_id!r}"},
        )
    metrics.feedback.labels("yes" if body.helpful else "no").inc()
    return {"status": "ok"}


@router.get("/api/v1/config", response_model=WidgetConfigOut)
def widget_config(settings: SettingsDep) -> dict[str, Any]:
    """What the widget shows: town, phone, disclaimer, suggested questions, languages."""
    w = settings.widget
    return {
        "town": w.town,
        "phone": w.phone,
        "disclaimer": w.disclaimer,
        "suggestions": list(w.suggestions),
        "suggestions_translated": {
            lang: shown
            for lang in w.languages
            if lang != "ja" and (shown := w.suggestions_in(lang)) != w.suggestions
        },
        "languages": list(w.languages),
        "handoff": settings.handoff.enabled,
    }


@router.get(
    "/widget.js",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}}, 404: {"model": ErrorOut}},
)
def widget_js(request: Request) -> Response:
    """The embeddable chat widget script."""
    return _static(request, WIDGET_DIR / "widget.js")


@router.get(
    "/widget/{name}",
    response_class=Response,
    responses={404: {"model": ErrorOut}},
    include_in_schema=False,
)
def widget_asset(name: str, request: Request) -> Response:
    # a plain file name only (no NUL, separators or dot-names): checked before the
    # file system sees it
    if not ASSET_NAME.fullmatch(name) or Path(name).suffix not in WIDGET_TYPES:
        return JSONResponse({"error": "NotFound", "detail": "no such widget file"}, 404)
    path = (WIDGET_DIR / name).resolve()
    if path.parent != WIDGET_DIR:
        return JSONResponse({"error": "NotFound", "detail": "no such widget file"}, 404)
    return _static(request, path)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, settings: SettingsDep) -> HTMLResponse:
    town = town_of(request)
    return HTMLResponse(
        render_home(settings, str(request.base_url).rstrip("/"), town.id if town else None),
        headers={"Content-Security-Policy": home_csp(settings)},
    )


def _static(request: Request, path: Path) -> Response:
    if not path.is_file():
        return JSONResponse(
            {"error": "NotFound", "detail": f"{path.name} is not built yet"}, status_code=404
        )
    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
    headers = {
        "Cache-Control": "public, max-age=300, must-revalidate",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=WIDGET_TYPES.get(path.suffix, "text/plain"), headers=headers)
