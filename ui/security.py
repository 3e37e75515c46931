"""Who may call the service, and how much.

- ``OriginPolicy``: CORS and widget embedding limited to the configured origins;
  a browser request from any other page is refused with 403 (CORS alone would
  let the server do the work and only hide the answer).
- ``ProxyChain`` and ``ForwardedMiddleware``: the client address. uvicorn's own
  proxy-header handling is off (``madoguchi serve``), so ``X-Forwarded-For`` counts
  only with ``server.trust_forwarded_for``, only from a trusted proxy, and only the
  entries those proxies appended, read from the right: the leftmost entries are
  whatever the client sent.
- ``RateLimiter``: per client, a token bucket (questions per minute, as a
  burst refilled evenly) and a daily cap counted per Japan-time day; 429 with
  ``Retry-After``. Its table of clients is bounded.
- ``BodyLimitMiddleware``: 413 before a large body is read into memory.
- ``AdminAuth``: admin access, by the key in ``X-API-Key`` (or ``Authorization:
  Bearer``) or by the cookie a login sets. The cookie holds a random session token
  that the server keeps (as a digest) until logout or expiry, never the key or
  anything derived from it; wrong keys are throttled per address and in all
  (``LoginThrottle``).

PII masking of stored questions lives with the log (``kit.convlog.mask_pii``)
so that nothing can store a question without it; it is re-exported here.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.kit.config import ServerSettings
from madoguchi.kit.convlog import mask_pii

__all__ = [
    "ADMIN_COOKIE",
    "ADMIN_COOKIE_HTTPS",
    "AdminAuth",
    "AdminDenied",
    "AdminSessions",
    "BodyLimitMiddleware",
    "ForwardedMiddleware",
    "LoginThrottle",
    "OriginPolicy",
    "ProxyChain",
    "RateLimited",
    "RateLimiter",
    "client_id",
    "mask_pii",
]

ADMIN_COOKIE = "madoguchi_admin"
# over HTTPS: the __Host- prefix makes the browser refuse the cookie unless it is Secure,
# set by this host itself and for the whole site (no sibling subdomain can plant one)
ADMIN_COOKIE_HTTPS = "__Host-madoguchi_admin"
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

    def csp_sources(self) -> list[str]:
        """The patterns as CSP source expressions (for ``frame-ancestors``); those that
        CSP cannot say (a ``*`` inside a name) are left out, so they cannot frame."""
        if self.any:
            return ["*"]
        return [p for p in self.patterns if _CSP_SOURCE.match(p)]


_CSP_SOURCE = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$")


# ---------------------------------------------------------------- client address


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header entry or a peer: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class ProxyChain:
    """The reverse proxies in front of the app (``server.trusted_proxies``, ``*`` = any
    peer) and how many of them append to ``X-Forwarded-For`` (``trusted_proxy_hops``).

    Each proxy appends the address it was connected from, so the header is read from
    the right: at most ``hops`` entries, passing over those that are trusted proxies
    themselves; the first other address is the client. Everything further left was
    sent by the client and is never read. A peer that is not a trusted proxy is the
    client, whatever it sends.
    """

    def __init__(self, trusted: Iterable[str], hops: int = 1) -> None:
        trusted = [t.strip() for t in trusted if t.strip()]
        self.any = "*" in trusted
        self.networks = [ipaddress.ip_network(t, strict=False) for t in trusted if t != "*"]
        self.hops = max(1, hops)

    def trusts(self, host: str) -> bool:
        if self.any:
            return True
        ip = _ip(host)
        return ip is not None and any(ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        if not forwarded_for or not self.trusts(peer):
            return peer
        # only the rightmost ``hops`` entries are split off; the rest is not even parsed
        entries = ",".join(forwarded_for).rsplit(",", self.hops)[-self.hops :]
        client = peer
        for entry in reversed(entries):
            ip = _ip(entry)
            if ip is None:  # "unknown", garbage: keep the last proxy we could name
                break
            client = str(ip)
            if not self.trusts(client):
                break
        return client


class ForwardedMiddleware:
    """With ``trust_forwarded_for``: the client address (and ``X-Forwarded-Proto``) that
    a trusted proxy passed on replace the proxy's own in the request, for the rate limits,
    the login throttle, secure cookies and the access log alike."""

    def __init__(self, app: ASGIApp, chain: ProxyChain) -> None:
        self.app = app
        self.chain = chain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and self.chain.trusts(peer[0]):
            forwarded = [
                v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"
            ]
            protos = [v for k, v in scope["headers"] if k == b"x-forwarded-proto"]
            if forwarded:
                host = self.chain.client(peer[0], forwarded)
                if host != peer[0]:
                    scope["client"] = (host, 0)
            if protos:
                proto = protos[-1].decode("latin-1").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    ws = scope["type"] == "websocket"
                    scope["scheme"] = proto.replace("http", "ws") if ws else proto
        await self.app(scope, receive, send)


def client_id(request: Request) -> str:
    """The client's address (``ForwardedMiddleware`` has put a trusted proxy's in place)."""
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------- rate limits


class RateLimited(Exception):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = max(1, retry_after)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float  # the client's last request
    day: int
    used_today: int


class RateLimiter:
    """Per-client token bucket plus a daily cap. Thread-safe; 0 switches a limit off.

    The table is kept in the order of the clients' last requests. A client idle for a
    minute has a full bucket again and is forgotten as soon as nothing else is kept
    for it: at once without a daily cap, else when its day is over (forgetting today's
    count would let a client pass the cap by pausing). At ``max_clients`` the least
    recently seen clients are forgotten, so a flood of addresses costs bounded memory;
    at worst it resets the daily count of the clients that have been idle longest.
    """

    IDLE = 60.0  # seconds in which any bucket refills completely

    def __init__(self, per_minute: int, daily_cap: int, max_clients: int = 100_000) -> None:
        self.per_minute = per_minute
        self.daily_cap = daily_cap
        self.max_clients = max(1, max_clients)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, client: str, now: float | None = None) -> None:
        """Count one request or raise ``RateLimited`` with the seconds to wait."""
        if not self.per_minute and not self.daily_cap:
            return
        now = time.time() if now is None else now
        day = int((now + JST) // 86400)
        with self._lock:
            self._prune(now, day)
            b = self._buckets.get(client)
            if b is None:
                while len(self._buckets) >= self.max_clients:
                    self._buckets.popitem(last=False)
                b = _Bucket(float(self.per_minute), now, day, 0)
                self._buckets[client] = b
            else:
                self._buckets.move_to_end(client)
            rate = self.per_minute / 60.0
            if self.per_minute:
                b.tokens = min(float(self.per_minute), b.tokens + (now - b.updated) * rate)
            b.updated = now
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
                if b.tokens < 1.0:
                    raise RateLimited(
                        f"too many questions: at most {self.per_minute} a minute",
                        math.ceil((1.0 - b.tokens) / rate),
                    )
                b.tokens -= 1.0
            b.used_today += 1

    def _prune(self, now: float, day: int) -> None:
        """Forget, oldest first, idle clients with a full bucket and no count to keep.
        The oldest come first, so this stops at the first client still to be kept."""
        while self._buckets:
            key, b = next(iter(self._buckets.items()))
            if now - b.updated < self.IDLE or (self.daily_cap and b.day == day):
                return
            del self._buckets[key]


# ---------------------------------------------------------------- admin access


class AdminSessions:
    """Logins to the admin screen: a random token per login (256 bits), kept by the
    server as its SHA-256 with an expiry. The cookie carries the token and nothing
    else; logging out, the expiry or a restart ends the session."""

    def __init__(self, lifetime_s: float, max_sessions: int = 1000) -> None:
        self.lifetime_s = lifetime_s
        self.max_sessions = max_sessions
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()

    def __len__(self) -> int:
        return len(self._expiry)

    def create(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        with self._lock:
            for key in [k for k, exp in self._expiry.items() if exp <= now]:
                del self._expiry[key]
            while len(self._expiry) >= self.max_sessions:  # the oldest login goes first
                self._expiry.popitem(last=False)
            self._expiry[self._digest(token)] = now + self.lifetime_s
        return token

    def valid(self, token: str | None, now: float | None = None) -> bool:
        if not token or len(token) > 200:
            return False
        now = time.time() if now is None else now
        key = self._digest(token)
        with self._lock:
            exp = self._expiry.get(key)
            if exp is None:
                return False
            if exp <= now:
                del self._expiry[key]
                return False
            return True

    def revoke(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._expiry.pop(self._digest(token), None)


class LoginThrottle:
    """Wrong admin keys: ``per_client`` tries per address and ``overall`` in all within
    ``window_s`` (token buckets that refill over the window); then every try waits,
    the right key too, so guessing gains nothing. A valid session is never throttled."""

    def __init__(
        self, per_client: int, overall: int, window_s: float, max_clients: int = 10_000
    ) -> None:
        self.per_client = per_client
        self.overall = overall
        self.window_s = window_s
        self.max_clients = max_clients
        self._clients: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when
        self._all = (float(overall), 0.0)
        self._lock = threading.Lock()

    @staticmethod
    def _level(state: tuple[float, float], size: int, window: float, now: float) -> float:
        tokens, when = state
        return min(float(size), tokens + (now - when) * size / window)

    def _wait_for(self, state: tuple[float, float], size: int, now: float) -> float:
        tokens = self._level(state, size, self.window_s, now)
        return (1.0 - tokens) * self.window_s / size if tokens < 1.0 else 0.0

    def wait(self, client: str, now: float | None = None) -> float:
        """Seconds this client must wait before its next try (0: it may try now)."""
        now = time.time() if now is None else now
        with self._lock:
            wait = self._wait_for(self._all, self.overall, now)
            mine = self._clients.get(client)
            if mine is not None:
                wait = max(wait, self._wait_for(mine, self.per_client, now))
            return wait

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        window = self.window_s
        with self._lock:
            overall = self._level(self._all, self.overall, window, now)
            self._all = (max(0.0, overall - 1.0), now)
            state = self._clients.pop(client, (float(self.per_client), now))
            level = self._level(state, self.per_client, window, now)
            # the oldest clients whose bucket is full again are forgotten, and the table
            # stays under max_clients
            while self._clients:
                key, old = next(iter(self._clients.items()))
                full = self._level(old, self.per_client, window, now) >= self.per_client
                if not full and len(self._clients) < self.max_clients:
                    break
                del self._clients[key]
            self._clients[client] = (max(0.0, level - 1.0), now)


class AdminDenied(Exception):
    """Why an admin request is refused: 403 (admin off), 401 (no or wrong key), 429."""

    def __init__(self, status: int, detail: str, retry_after: int = 0) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


class AdminAuth:
    """The admin key, the login sessions and the throttle of wrong keys, in one place."""

    def __init__(self, settings: ServerSettings) -> None:
        self.key = settings.admin_key
        self.sessions = AdminSessions(settings.admin_session_hours * 3600)
        self.throttle = LoginThrottle(
            settings.login_failures_per_client,
            settings.login_failures_overall,
            settings.login_throttle_minutes * 60.0,
        )

    def _matches(self, given: str) -> bool:
        return bool(self.key) and hmac.compare_digest(
            given.encode("utf-8", "replace"), (self.key or "").encode()
        )

    def _throttled(self, client: str, what: str) -> None:
        wait = self.throttle.wait(client)
        if wait > 0:
            raise AdminDenied(
                429,
                f"too many wrong admin keys; {what} again in {math.ceil(wait)} seconds",
                math.ceil(wait),
            )

    @staticmethod
    def session_token(cookies: Mapping[str, str]) -> str | None:
        return cookies.get(ADMIN_COOKIE_HTTPS) or cookies.get(ADMIN_COOKIE)

    def check(self, headers: Mapping[str, str], cookies: Mapping[str, str], client: str) -> None:
        """Return when the request carries the admin key or a live login; else raise."""
        if not self.key:
            raise AdminDenied(
                403, "the admin side is switched off: set MADOGUCHI_SERVER__ADMIN_KEY to enable it"
            )
        given = headers.get("x-api-key") or ""
        auth = headers.get("authorization") or ""
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if given:
            self._throttled(client, "try")
            if self._matches(given):
                return
            self.throttle.failed(client)
            raise AdminDenied(401, "the admin key is wrong")
        if self.sessions.valid(self.session_token(cookies)):
            return
        raise AdminDenied(401, "an admin key is required (X-API-Key header) or log in at /login")

    def login(self, given: str, client: str) -> str:
        """A new session token for the right key; ``AdminDenied`` (401/403/429) else."""
        if not self.key:
            raise AdminDenied(403, "the admin side is switched off")
        self._throttled(client, "log in")
        if not self._matches(given):
            self.throttle.failed(client)
            raise AdminDenied(401, "the admin key is wrong")
        return self.sessions.create()

    def logout(self, cookies: Mapping[str, str]) -> None:
        for name in (ADMIN_COOKIE, ADMIN_COOKIE_HTTPS):
            self.sessions.revoke(cookies.get(name))


class BodyLimitMiddleware:
    """413 JSON for bodies over the limit: by Content-Length, or while a chunked body streams.

    Paths under one of ``upload_prefixes`` get the larger upload limit; a path for which
    ``limit_for`` gives a number (the LINE webhook) gets that one.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int,
        upload_prefixes: tuple[str, ...] = ("/admin",),
        limit_for: Callable[[str], int | None] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.upload_prefixes = upload_prefixes
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        upload = any(path.startswith(p) for p in self.upload_prefixes)
        limit = self.upload_bytes if upload else self.max_bytes
        special = self.limit_for(path) if self.limit_for is not None else None
        if special is not None:
            limit = special
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
