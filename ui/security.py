"""Who may call the service, and how much.

- ``OriginPolicy``: CORS and widget embedding limited to the configured origins;
  a browser request from any other page is refused with 403 (CORS alone would
  let the server do the work and only hide the answer).
- ``RateLimiter``: per client, a token bucket (questions per minute, as a
  burst refilled evenly) and a daily cap counted per Japan-time day; 429 with
  ``Retry-After``.
- ``BodyLimitMiddleware``: 413 before a large body is read into memory.
- Admin access: the key in ``X-API-Key`` (or ``Authorization: Bearer``), or
  the cookie a successful login sets (an HMAC of the key, never the key).

PII masking of stored questions lives with the log (``kit.convlog.mask_pii``)
so that nothing can store a question without it; it is re-exported here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.kit.config import ServerSettings
from madoguchi.kit.convlog import mask_pii

__all__ = [
    "ADMIN_COOKIE",
    "BodyLimitMiddleware",
    "OriginPolicy",
    "RateLimited",
    "RateLimiter",
    "admin_cookie_value",
    "check_admin",
    "client_id",
    "mask_pii",
]

ADMIN_COOKIE = "madoguchi_admin"
JST = 9 * 3600


class OriginPolicy:
    """Exact origins or ``*`` patterns (``https://*.town.example.jp``, ``http://localhost:*``)."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [p.strip().rstrip("/") for p in patterns if p.strip()]
        self.any = "*" in self.patterns
        parts = [re.escape(p).replace(r"\*", "[^/]*") for p in self.patterns if p != "*"] or [
            "(?!)"
        ]
        self.regex = "^(?:" + "|".join(parts) + ")$"
        self._re = re.compile(self.regex)

    def allows(self, origin: str) -> bool:
        return self.any or bool(self._re.match(origin.rstrip("/")))

    def request_allowed(self, origin: str | None, host: str | None, scheme: str) -> bool:
        """No Origin header (curl, server to server) or the service's own pages: allowed."""
        if not origin or (origin == "null" and self.any):
            return True
        if host and origin in (f"{scheme}://{host}", f"http://{host}", f"https://{host}"):
            return True
        return self.allows(origin)


class RateLimited(Exception):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = max(1, retry_after)


@dataclass
class _Bucket:
    tokens: float
    updated: float
    day: int
    used_today: int


class RateLimiter:
    """Per-client token bucket plus a daily cap. Thread-safe; 0 switches a limit off."""

    def __init__(self, per_minute: int, daily_cap: int, max_clients: int = 100_000) -> None:
        self.per_minute = per_minute
        self.daily_cap = daily_cap
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, now: float | None = None) -> None:
        """Count one request or raise ``RateLimited`` with the seconds to wait."""
        if not self.per_minute and not self.daily_cap:
            return
        now = time.time() if now is None else now
        day = int((now + JST) // 86400)
        with self._lock:
            b = self._buckets.get(client)
            if b is None:
                if len(self._buckets) >= self.max_clients:
                    self._prune(now)
                b = _Bucket(float(self.per_minute), now, day, 0)
                self._buckets[client] = b
            if b.day != day:
                b.day, b.used_today = day, 0
            if self.daily_cap and b.used_today >= self.daily_cap:
                wait = (day + 1) * 86400 - JST - now
                raise RateLimited(
                    f"the daily limit of {self.daily_cap} questions is reached; "
                    "please try again tomorrow or call the town office",
                    math.ceil(wait),
                )
            if self.per_minute:
                rate = self.per_minute / 60.0
                b.tokens = min(float(self.per_minute), b.tokens + (now - b.updated) * rate)
                b.updated = now
                if b.tokens < 1.0:
                    raise RateLimited(
                        f"too many questions: at most {self.per_minute} a minute",
                        math.ceil((1.0 - b.tokens) / rate),
                    )
                b.tokens -= 1.0
            b.used_today += 1

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket is full again and who used nothing today."""
        day = int((now + JST) // 86400)
        full = float(self.per_minute)
        for key in list(self._buckets):
            b = self._buckets[key]
            refilled = b.tokens + (now - b.updated) * self.per_minute / 60.0 >= full
            if refilled and (b.day != day or not self.daily_cap):
                del self._buckets[key]


def client_id(request: Request, trust_forwarded_for: bool = False) -> str:
    if trust_forwarded_for:
        fwd = request.headers.get("x-forwarded-for", "")
        first = fwd.split(",")[0].strip()
        if first:
            return first
    return request.client.host if request.client else "unknown"


def admin_cookie_value(key: str) -> str:
    return hmac.new(key.encode(), b"madoguchi-admin-session", hashlib.sha256).hexdigest()


def check_admin(headers: Any, cookies: dict[str, str], settings: ServerSettings) -> str | None:
    """None when the request carries the admin key (or login cookie); else why not."""
    key = settings.admin_key
    if not key:
        return "the admin side is switched off: set MADOGUCHI_SERVER__ADMIN_KEY to enable it"
    given = headers.get("x-api-key") or ""
    auth = headers.get("authorization") or ""
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if given and hmac.compare_digest(given.encode(), key.encode()):
        return None
    cookie = cookies.get(ADMIN_COOKIE, "")
    if cookie and hmac.compare_digest(cookie.encode(), admin_cookie_value(key).encode()):
        return None
    return "an admin key is required (X-API-Key header) or log in at /login"


class BodyLimitMiddleware:
    """413 JSON for bodies over the limit: by Content-Length, or while a chunked body streams.

    Paths under one of ``upload_prefixes`` get the larger upload limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int,
        upload_prefixes: tuple[str, ...] = ("/admin",),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.upload_prefixes = upload_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        upload = any(path.startswith(p) for p in self.upload_prefixes)
        limit = self.upload_bytes if upload else self.max_bytes
        length = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _json(send, 400, "InvalidRequest", "Content-Length is not a number")
                    return
        if length is not None and length > limit:
            await _json(send, 413, "TooLarge", f"the request body is over {limit:,} bytes")
            return
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            if upload:
                await self._counting(scope, receive, send, limit)
                return
            # A body without Content-Length (chunked): read it here, up to the limit, and
            # hand the app a replay, so 413 comes before anything parses it.
            chunks: list[bytes] = []
            seen = 0
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                chunks.append(msg.get("body", b""))
                seen += len(chunks[-1])
                if seen > limit:
                    await _json(send, 413, "TooLarge", f"the request body is over {limit:,} bytes")
                    return
                if not msg.get("more_body", False):
                    break
            body = b"".join(chunks)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Uploads stream through; past the limit the app sees an error instead of more data."""
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _json(send, 413, "TooLarge", f"the request body is over {limit:,} bytes")


class _BodyTooLarge(Exception):
    pass


async def _json(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
