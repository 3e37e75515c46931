"""The middlewares in front of every route: proxies, headers, CORS, origins, the admin
gate, body size, metrics.

``add_middlewares`` installs them in their order; Starlette runs the last added first,
so a request meets the forwarded-address reading, the security headers, the metrics,
the body limit, the admin gate, the origin check and CORS, in that order.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.kit.config import Settings
from madoguchi.ui.api.metrics import Metrics, MetricsMiddleware
from madoguchi.ui.api.towns import TownMiddleware, api_path
from madoguchi.ui.security import (
    AdminAuth,
    AdminDenied,
    BodyLimitMiddleware,
    ForwardedMiddleware,
    OriginPolicy,
    ProxyChain,
    client_id,
)

# what a response that says nothing else gets: it loads nothing and may not be framed
NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
STAFF_PATHS = ("/admin", "/login", "/logout")
# what the staff screen may let browsers cache (Gradio's scripts, styles, fonts, images)
STATIC_TYPES = ("text/css", "text/javascript", "application/javascript", "font/", "image/")


def add_middlewares(app: FastAPI, settings: Settings, metrics: Metrics, auth: AdminAuth) -> None:
    srv = settings.server
    policy = OriginPolicy(srv.allowed_origins)
    # the last added runs first. The origin check and CORS are the service's, or under
    # /t/{town}/ the town's (``towns.TownMiddleware``)
    app.add_middleware(
        TownMiddleware, policy=policy, hub_of=lambda: getattr(app.state, "towns", None)
    )
    app.add_middleware(AdminGateMiddleware, settings=settings, auth=auth)
    line_bytes = settings.line.max_body_bytes
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=srv.max_body_bytes,
        upload_bytes=srv.max_upload_bytes,
        # a LINE delivery may hold many events: its own limit (line.max_body_bytes)
        limit_for=lambda path: line_bytes if api_path(path) == "/channels/line/webhook" else None,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    if srv.trust_forwarded_for:
        chain = ProxyChain(srv.trusted_proxies, srv.trusted_proxy_hops)
        app.add_middleware(ForwardedMiddleware, chain=chain)


def cors_chain(app: ASGIApp, policy: OriginPolicy) -> ASGIApp:
    """The origin check, then CORS, in front of ``app``."""
    cors = CORSMiddleware(
        app,
        allow_origins=["*"] if policy.any else [],
        allow_origin_regex=None if policy.any else policy.regex,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type", "accept", "last-event-id"],
        expose_headers=["Retry-After"],  # the widget shows how long to wait after a 429
        max_age=600,
    )
    return OriginMiddleware(cors, policy=policy)


def _is_staff(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in STAFF_PATHS)


class SecurityHeadersMiddleware:
    """Headers every response gets unless its route set them.

    - ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy`` on everything;
    - the staff side (``/admin`` with Gradio's pages, ``/login``, ``/logout``) may not be
      framed by any page: ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'``;
    - a response without a CSP of its own that is not HTML (the API's JSON, event
      streams, the widget script) gets one that loads nothing and cannot be framed.
      The HTML pages set theirs (``pages.py``); Gradio's screen keeps its own scripts.
    - ``Strict-Transport-Security`` when the request came over HTTPS;
    - ``Cache-Control: no-store`` on the staff side's pages and data (not its static
      files), and ``Content-Disposition: attachment`` on the API's JSON.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        staff = _is_staff(path)
        api = api_path(path).startswith("/api/")
        private = staff or api_path(path).startswith(("/api/v1/admin/", "/api/v1/prefecture/"))
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h["x-content-type-options"] = "nosniff"
                h.setdefault("referrer-policy", "strict-origin-when-cross-origin")
                if https:
                    h.setdefault("strict-transport-security", "max-age=31536000")
                csp = h.get("content-security-policy")
                ctype = h.get("content-type", "")
                if private and not ctype.startswith(STATIC_TYPES):
                    h.setdefault("cache-control", "no-store")  # the log, sources, sessions
                if api and ctype.startswith("application/json"):
                    # opened in a tab by mistake or by a page: saved, never rendered
                    h.setdefault("content-disposition", 'attachment; filename="api.json"')
                if staff:
                    h["x-frame-options"] = "DENY"
                    if csp is None:
                        h["content-security-policy"] = "frame-ancestors 'none'"
                    elif "frame-ancestors" not in csp:
                        h["content-security-policy"] = csp + "; frame-ancestors 'none'"
                elif csp is None and not h.get("content-type", "").startswith("text/html"):
                    h["content-security-policy"] = NO_CONTENT_CSP
                    h.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class OriginMiddleware:
    """403 JSON for browser requests from pages whose origin is not configured."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not api_path(scope.get("path", "")).startswith("/api/"):
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
    """The mounted admin screen: a key/session, else a redirect to /login (browsers) or
    401 (403 with the admin side off, 429 after too many wrong keys)."""

    def __init__(self, app: ASGIApp, settings: Settings, auth: AdminAuth) -> None:
        self.app = app
        self.settings = settings
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not (
            path == "/admin" or path.startswith("/admin/")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            self.auth.check(request.headers, request.cookies, client_id(request))
        except AdminDenied as denied:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            accept = request.headers.get("accept", "")
            response: Response
            if (
                denied.status in (401, 403)
                and "text/html" in accept
                and scope.get("method") == "GET"
            ):
                response = RedirectResponse("/login?next=/admin/", status_code=303)
            else:
                headers = {"Retry-After": str(denied.retry_after)} if denied.retry_after else None
                error = "RateLimited" if denied.status == 429 else "AdminRequired"
                response = JSONResponse(
                    {"error": error, "detail": denied.detail},
                    status_code=denied.status,
                    headers=headers,
                )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
