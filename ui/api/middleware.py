"""The middlewares in front of every route: CORS, origins, the admin gate, body size, metrics.

``add_middlewares`` installs them in their order; Starlette runs the last added first,
so a request meets the metrics, the body limit, the admin gate, the origin check and
CORS, in that order.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from madoguchi.kit.config import Settings
from madoguchi.ui.api.metrics import Metrics, MetricsMiddleware
from madoguchi.ui.security import BodyLimitMiddleware, OriginPolicy, check_admin


def add_middlewares(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    srv = settings.server
    policy = OriginPolicy(srv.allowed_origins)
    # the last added runs first
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if policy.any else [],
        allow_origin_regex=None if policy.any else policy.regex,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type", "accept", "last-event-id"],
        expose_headers=["Retry-After"],  # the widget shows how long to wait after a 429
        max_age=600,
    )
    app.add_middleware(OriginMiddleware, policy=policy)
    app.add_middleware(AdminGateMiddleware, settings=settings)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=srv.max_body_bytes, upload_bytes=srv.max_upload_bytes
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)


class OriginMiddleware:
    """403 JSON for browser requests from pages whose origin is not configured."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if self.policy.request_allowed(origin, headers.get("host"), scope.get("scheme", "http")):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": "OriginNotAllowed",
                "detail": f"pages on {origin} may not use this service (server.allowed_origins)",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AdminGateMiddleware:
    """The mounted admin screen: a key/cookie, else a redirect to /login (browsers) or 401."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not (
            path == "/admin" or path.startswith("/admin/")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        why = check_admin(request.headers, dict(request.cookies), self.settings.server)
        if why is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        accept = request.headers.get("accept", "")
        response: Response
        if "text/html" in accept and scope.get("method") == "GET":
            response = RedirectResponse("/login?next=/admin/", status_code=303)
        else:
            status = 403 if not self.settings.server.admin_key else 401
            response = JSONResponse({"error": "AdminRequired", "detail": why}, status_code=status)
        await response(scope, receive, send)
