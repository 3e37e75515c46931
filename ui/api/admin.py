"""Staff routes: the indexed sources, trying a question, the conversation log and its
CSV export, all behind the admin key (``router``); and the login that starts the session
the Gradio screen at ``/admin`` accepts, and the logout that ends it (``login_router``,
open to all)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from madoguchi.ui.api.answering import answer_json, hits_json
from madoguchi.ui.api.deps import (
    AdminAuthDep,
    AnsweringDep,
    LogDep,
    ServicesDep,
    SettingsDep,
    require_admin,
)
from madoguchi.ui.api.models import (
    ADMIN_ERRORS,
    AskRequest,
    ErrorOut,
    RemovedOut,
    SourceOut,
    TryResponse,
)
from madoguchi.ui.api.pages import login_headers, render_login
from madoguchi.ui.api.residents import in_its_language
from madoguchi.ui.security import ADMIN_COOKIE, ADMIN_COOKIE_HTTPS, AdminDenied, client_id

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
login_router = APIRouter()


@router.get("/sources", response_model=list[SourceOut], responses=ADMIN_ERRORS)
def admin_sources(
    svc: ServicesDep, prefix: Annotated[str | None, Query(max_length=2000)] = None
) -> list[dict[str, Any]]:
    """Indexed sources (optionally those under a path or URL prefix)."""
    return [
        {"source": s.source_id, "title": s.title, "kind": s.kind, "chunks": s.n_chunks}
        for s in svc.index.sources(prefix=prefix)
    ]


@router.delete(
    "/sources", response_model=RemovedOut, responses={**ADMIN_ERRORS, 404: {"model": ErrorOut}}
)
def admin_remove(
    svc: ServicesDep, source: Annotated[str, Query(min_length=1, max_length=2000)]
) -> dict[str, int] | JSONResponse:
    """Remove a source, or every source under a path."""
    ids = [s.source_id for s in svc.index.sources(prefix=source)]
    if not ids:
        return JSONResponse(
            status_code=404,
            content={"error": "NotFound", "detail": f"no indexed source matches {source!r}"},
        )
    svc.index.remove(ids)
    return {"removed": len(ids)}


@router.post("/try", response_model=TryResponse, responses=ADMIN_ERRORS)
async def admin_try(body: AskRequest, svc: ServicesDep, answering: AnsweringDep) -> dict[str, Any]:
    """Answer a question with the retrieved passages and their scores (not logged), in the
    language a resident would get it in."""
    res = await answering.run(svc.ask, body.question, in_its_language(body).lang)
    data = answer_json(res, "", body.conversation_id or "")
    data["hits"] = hits_json(res)
    data["timings"] = {k: round(v, 2) for k, v in res.timings.items()}
    return data


@router.get("/turns", responses=ADMIN_ERRORS)
def admin_turns(
    log: LogDep,
    refused: bool | None = None,
    feedback: Annotated[int | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Logged turns, newest first; feedback=0 lists the thumbs-down."""
    if log is None:
        return []
    rows = log.turns(refused=refused, feedback=feedback, limit=limit, offset=offset)
    return [t.to_json() for t in rows]


@router.get(
    "/unanswered.csv",
    response_class=Response,
    responses={**ADMIN_ERRORS, 200: {"content": {"text/csv": {}}}},
)
def admin_unanswered(log: LogDep) -> Response:
    """Refused or thumbs-down questions as CSV, to write new FAQ entries from."""
    text = log.unanswered_csv() if log is not None else "\ufeffquestion,count\r\n"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="unanswered.csv"'},
    )


@router.get("/schedule", responses=ADMIN_ERRORS)
def admin_schedule(settings: SettingsDep) -> dict[str, Any]:
    """The scheduled sync: its timetable, next run, last runs and their reports, failures."""
    from madoguchi.ui.admin_schedule import schedule_status

    return schedule_status(settings.data_dir)


@login_router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(settings: SettingsDep, error: str | None = None) -> HTMLResponse:
    page = render_login(bool(error), bool(settings.server.admin_key))
    return HTMLResponse(page, headers=login_headers(page))


@login_router.post("/login", include_in_schema=False, response_model=None)
async def login(request: Request, settings: SettingsDep, auth: AdminAuthDep) -> Response:
    """A new session for the right key; a wrong one counts against this address (and
    all), and after too many every try waits (429 with the page saying how long)."""
    try:
        form = await request.form()
    except Exception:
        form = None
    given = str(form.get("key", "")) if form is not None else ""
    try:
        token = auth.login(given, client_id(request))
    except AdminDenied as denied:
        if denied.status != 429:
            return RedirectResponse("/login?error=1", status_code=303)
        page = render_login(False, True, wait=denied.retry_after)
        headers = {**login_headers(page), "Retry-After": str(denied.retry_after)}
        return HTMLResponse(page, status_code=429, headers=headers)
    https = request.url.scheme == "https"
    resp = RedirectResponse("/admin/", status_code=303)
    resp.set_cookie(
        ADMIN_COOKIE_HTTPS if https else ADMIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=https,
        path="/",
        max_age=int(settings.server.admin_session_hours * 3600),
    )
    return resp


@login_router.get("/logout", include_in_schema=False)
def logout(request: Request, auth: AdminAuthDep) -> RedirectResponse:
    """Ends the session on the server too: a copy of the cookie no longer works."""
    auth.logout(request.cookies)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(ADMIN_COOKIE, path="/")
    resp.delete_cookie(ADMIN_COOKIE_HTTPS, path="/", secure=True)
    return resp
