"""The FastAPI service residents' widget and staff tools talk to.

``create_app()`` builds the app; services are built once in the lifespan
(warm-up included) and reached through ``get_services`` so tests can swap
them with ``app.dependency_overrides``. A ``KitError`` becomes one JSON error
with a 4xx status, never a 500 with a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kit.config import Settings, get_settings
from kit.errors import ConfigError, InputError, KitError, ModelUnavailable, StoreError
from kit.services import Services, build_services


class AskRequest(BaseModel):
    question: str = Field(..., description="The resident's question.", max_length=20000)
    lang: str | None = Field(
        None, description="Answer language; detected when absent.", max_length=16
    )
    conversation_id: str | None = Field(None, max_length=128)


class CitationOut(BaseModel):
    source: str
    title: str
    url: str | None


class AskResponse(BaseModel):
    answer: str
    refused: bool
    lang: str
    follow_up: str | None
    citations: list[CitationOut]
    department: str | None = None
    phone: str | None = None
    confidence: float = 0.0
    mode: str = "extractive"
    latency_ms: float = 0.0


class ErrorOut(BaseModel):
    error: str
    detail: str


def get_services(request: Request) -> Services:
    svc: Services | None = getattr(request.app.state, "services", None)
    if svc is None:
        raise ModelUnavailable("the service is still starting")
    return svc


Svc = Annotated[Services, Depends(get_services)]


def _status(exc: KitError) -> int:
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, ModelUnavailable | StoreError | ConfigError):
        return 503
    return 422


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
        else:
            svc = build_services(settings or get_settings())
            svc.warm_up()
            app.state.services = svc
        yield
        app.state.services.close()

    app = FastAPI(
        title="madoguchi",
        version="0.1.0",
        summary="Answers residents' questions from the town's own documents, with citations.",
        lifespan=lifespan,
    )

    @app.exception_handler(KitError)
    async def kit_error(_: Request, exc: KitError) -> JSONResponse:
        return JSONResponse(
            status_code=_status(exc), content={"error": type(exc).__name__, "detail": str(exc)}
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return JSONResponse(
            status_code=422,
            content={
                "error": "InvalidRequest",
                "detail": f"{where}: {first.get('msg', 'invalid')}",
            },
        )

    @app.post(
        "/api/v1/ask",
        response_model=AskResponse,
        responses={400: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    )
    def ask(body: AskRequest, svc: Svc) -> dict[str, Any]:
        """Answer one question; the same fields as ``madoguchi ask --json``."""
        res = svc.ask(body.question, lang=body.lang)
        data = res.answer.to_json()
        data["latency_ms"] = round(res.latency_ms, 1)
        return data

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorOut}})
    def readyz(svc: Svc) -> dict[str, Any]:
        return {"status": "ready", "chunks": svc.index.chunk_count()}

    return app
