"""The prefecture's routes: the towns of a shared service and their figures, behind the
prefecture key (``server.prefecture_key``, header ``X-API-Key``).

It sees counts (sources, chunks, questions, refusals) and settings, never a town's
questions or documents; a town's own data is reached with that town's key under
``/t/{town}/api/v1/admin/``.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from madoguchi.ingest.towns import (
    TOWN_ID,
    Town,
    TownAnswer,
    TownLimits,
    TownNotFound,
    TownWidget,
    add_key,
    add_town,
    removal_blocker,
    remove_town,
    town_figures,
)
from madoguchi.kit.errors import InputError
from madoguchi.ui.api.errors import AdminRequired
from madoguchi.ui.api.models import ADMIN_ERRORS, ErrorOut
from madoguchi.ui.api.towns import TownHub
from madoguchi.ui.security import AdminDenied, RateLimited, client_id

PREFECTURE_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="PrefectureKey",
    description="The prefecture key (server.prefecture_key).",
    auto_error=False,
)


def require_prefecture(
    request: Request,
    _key: Annotated[str | None, Security(PREFECTURE_KEY_HEADER)] = None,  # declared only
) -> None:
    try:
        request.app.state.prefecture_auth.check(
            request.headers, request.cookies, client_id(request)
        )
    except AdminDenied as denied:
        if denied.status == 429:
            raise RateLimited(denied.detail, denied.retry_after) from None
        raise AdminRequired(denied.detail, denied.status) from None


router = APIRouter(
    prefix="/api/v1/prefecture",
    tags=["prefecture"],
    dependencies=[Depends(require_prefecture)],
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such town."}
}


class TownIn(BaseModel):
    id: str = Field(..., min_length=2, max_length=32, description="e.g. minami")
    name: str = Field(..., min_length=1, max_length=100, description="e.g. 南町")
    origins: list[str] = Field(default_factory=list, max_length=50)
    sources: list[str] = Field(default_factory=list, max_length=1000)
    answer: TownAnswer = TownAnswer()
    widget: TownWidget = TownWidget()
    limits: TownLimits = TownLimits()


class TownOut(BaseModel):
    id: str
    name: str
    sources: int
    chunks: int
    questions: int
    refused: int
    origins: list[str]
    admin_keys: int
    exported_at: float | None


class TownsOut(BaseModel):
    towns: list[TownOut]
    total: dict[str, int]


class KeyOut(BaseModel):
    town: str
    admin_key: str = Field(..., description="Shown once; only its digest is kept.")


class RemovalOut(BaseModel):
    town: str
    sources: int
    chunks: int
    vectors: int
    turns: int
    files: int
    bytes: int
    left: int


def _hub(request: Request) -> TownHub:
    hub: TownHub = request.app.state.towns
    return hub


#: a town's id in a path: the registry's own rule (``ingest.towns.TOWN_ID``)
TownId = Annotated[
    str, PathParam(pattern=f"^{TOWN_ID.pattern}$", max_length=32, description="e.g. minami")
]


def _missing(town_id: str) -> JSONResponse:
    return JSONResponse(
        status_code=404, content={"error": "TownNotFound", "detail": f"no town {town_id[:40]!r}"}
    )


@router.get("/towns", response_model=TownsOut, responses=ADMIN_ERRORS)
def list_towns(request: Request) -> dict[str, Any]:
    """Every town with its counts, and the totals."""
    hub = _hub(request)
    figures = [
        town_figures(hub.registry, t, hub.base.store).to_json() for t in hub.registry.towns()
    ]
    total = {
        k: sum(int(f[k]) for f in figures) for k in ("sources", "chunks", "questions", "refused")
    }
    total["towns"] = len(figures)
    return {"towns": figures, "total": total}


@router.get("/towns/{town_id}", response_model=TownOut, responses={**ADMIN_ERRORS, **NOT_FOUND})
def show_town(request: Request, town_id: TownId) -> dict[str, Any] | JSONResponse:
    hub = _hub(request)
    try:
        return town_figures(hub.registry, hub.registry.get(town_id), hub.base.store).to_json()
    except TownNotFound:
        return _missing(town_id)


@router.post(
    "/towns",
    response_model=KeyOut,
    status_code=201,
    responses={**ADMIN_ERRORS, 409: {"model": ErrorOut, "description": "The id is taken."}},
)
def create_town(request: Request, body: TownIn) -> dict[str, str] | JSONResponse:
    """Register a town; its first admin key is in the answer, once."""
    hub = _hub(request)
    if hub.registry.exists(body.id):
        return JSONResponse(
            status_code=409, content={"error": "TownExists", "detail": f"town {body.id!r} exists"}
        )
    try:
        town = Town.model_validate(body.model_dump())
    except ValueError as exc:
        raise InputError(str(exc).splitlines()[-1] if str(exc) else "invalid town") from None
    town, key = add_town(hub.registry, town)
    return {"town": town.id, "admin_key": key}


@router.post(
    "/towns/{town_id}/keys", response_model=KeyOut, responses={**ADMIN_ERRORS, **NOT_FOUND}
)
def new_town_key(
    request: Request, town_id: TownId, replace: bool = False
) -> dict[str, str] | JSONResponse:
    """Another admin key for the town (``replace=true``: the old ones stop working)."""
    hub = _hub(request)
    try:
        key = add_key(hub.registry, town_id, replace=replace)
    except TownNotFound:
        return _missing(town_id)
    hub.forget(town_id)
    return {"town": town_id, "admin_key": key}


@router.delete(
    "/towns/{town_id}",
    response_model=RemovalOut,
    responses={
        **ADMIN_ERRORS,
        **NOT_FOUND,
        409: {"model": ErrorOut, "description": "Not exported since its last change."},
    },
)
async def delete_town(
    request: Request, town_id: TownId, force: Annotated[bool, Query()] = False
) -> dict[str, Any] | JSONResponse:
    """Delete the town's documents, vectors, log and settings: refused (409) until it has
    been exported after its last change (``madoguchi towns export``), unless ``force``."""
    hub = _hub(request)
    try:
        why = None if force else removal_blocker(hub.registry, town_id, hub.base.store)
    except TownNotFound:
        return _missing(town_id)
    if why:
        return JSONResponse(status_code=409, content={"error": "NotExported", "detail": why})
    hub.forget(town_id)
    report = await anyio.to_thread.run_sync(
        lambda: remove_town(hub.registry, town_id, force=True, store=hub.base.store)
    )
    return report.to_json()
