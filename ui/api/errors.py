"""Every error as one JSON body ``{"error", "detail"}`` with a 4xx status, never a traceback.

A ``KitError`` is 400 (unusable input), 503 (starting up, index or model
unavailable) or 422; the rate limit is 429 with ``Retry-After``; a missing or
wrong admin key is 401 (403 when the admin side is switched off).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from madoguchi.kit.errors import ConfigError, InputError, KitError, ModelUnavailable, StoreError
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.security import RateLimited


class AdminRequired(Exception):
    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


def _status(exc: KitError) -> int:
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, ModelUnavailable | StoreError | ConfigError):
        return 503
    return 422


async def kit_error(_: Request, exc: KitError) -> JSONResponse:
    return JSONResponse(
        status_code=_status(exc), content={"error": type(exc).__name__, "detail": str(exc)}
    )


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


async def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
    metrics: Metrics = request.app.state.metrics
    metrics.rate_limited.inc()
    return JSONResponse(
        status_code=429,
        content={"error": "RateLimited", "detail": exc.detail},
        headers={"Retry-After": str(exc.retry_after)},
    )


async def admin_required(_: Request, exc: AdminRequired) -> JSONResponse:
    return JSONResponse(
        status_code=exc.status, content={"error": "AdminRequired", "detail": exc.detail}
    )


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    names = {404: "NotFound", 405: "MethodNotAllowed"}
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": names.get(exc.status_code, "HTTPError"), "detail": str(exc.detail)},
        headers=getattr(exc, "headers", None),
    )


def add_exception_handlers(app: FastAPI) -> None:
    app.exception_handler(KitError)(kit_error)
    app.exception_handler(RequestValidationError)(bad_request)
    app.exception_handler(RateLimited)(rate_limited)
    app.exception_handler(AdminRequired)(admin_required)
    app.exception_handler(StarletteHTTPException)(http_error)
