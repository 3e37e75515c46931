"""Several towns on one service: ``/t/{town}/...`` serves the routes of ``/api/v1/...``,
``/widget.js`` and ``/`` for that town alone.

A request under ``/t/{town}/`` is resolved once, by ``TownMiddleware``, to the town's
``TownContext`` (its settings, services, conversation log, rate limiters, admin keys,
origin policy and answering): the routes then read it through ``deps`` exactly as they
read the single-town service's, so a route cannot mix two towns. The middleware also
applies the town's own origin check and CORS in place of the service's, so town A's
pages calling town B get 403.

``TownHub`` builds contexts lazily and keeps at most ``server.max_open_towns`` of them
(least recently used go first); all towns share one embedder (built once, warmed up
once) and the answering threads. A context that leaves the cache is closed once the
requests using it have finished. A town whose ``town.toml`` changes (a new key, new
origins) is rebuilt on its next request; a removed one gets 404.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from madoguchi.ingest.services import TownServices, build_services
from madoguchi.ingest.towns import (
    Town,
    TownNotFound,
    TownRegistry,
    release_chroma,
    town_settings,
)
from madoguchi.kit.cache import LRUCache
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import KitError
from madoguchi.kit.protocols import Embedder
from madoguchi.ui.api.answering import Answering
from madoguchi.ui.security import AdminAuth, AdminDenied, LoginThrottle, OriginPolicy, RateLimiter

log = logging.getLogger(__name__)

TOWN_PATH = re.compile(r"^/t/([^/]+)(/.*)?$")
SCOPE_KEY = "madoguchi.town"


def api_path(path: str) -> str:
    """The path as the single-town service would see it (``/t/x/api/v1/ask`` -> ``/api/v1/ask``)."""
    m = TOWN_PATH.match(path)
    return (m.group(2) or "/") if m else path


class TownAuth(AdminAuth):
    """A town's admin keys, checked against their digests in ``town.toml``; the throttle
    of wrong keys is the town's and outlives its context. No login sessions: the town
    admin API takes the key in ``X-API-Key``."""

    def __init__(self, settings: Settings, town: Town, throttle: LoginThrottle) -> None:
        super().__init__(settings.server)
        self.town = town
        self.key = "digests" if town.admin_keys else None
        self.throttle = throttle

    def _matches(self, given: str) -> bool:
        return self.town.key_matches(given)

    def check(self, headers: Mapping[str, str], cookies: Mapping[str, str], client: str) -> None:
        if not self.key:
            raise AdminDenied(
                403, f"town {self.town.id} has no admin key (madoguchi towns key {self.town.id})"
            )
        super().check(headers, {}, client)  # the key only: no session of the service counts


class PrefectureAuth(AdminAuth):
    """The prefecture key (``server.prefecture_key``), throttled like the admin key."""

    def __init__(self, settings: Settings) -> None:
        srv = settings.server
        super().__init__(srv)
        self.key = srv.prefecture_key

    def check(self, headers: Mapping[str, str], cookies: Mapping[str, str], client: str) -> None:
        if not self.key:
            raise AdminDenied(
                403, "managing towns is switched off: set MADOGUCHI_SERVER__PREFECTURE_KEY"
            )
        super().check(headers, {}, client)


class TownAnswering(Answering):
    """The app's answering for one town: the same threads and micro-batcher, the town's
    own answer cache and conversation log."""

    def __init__(self, parent: Answering, settings: Settings, log: ConversationLog | None) -> None:
        super().__init__(parent.app)
        self.parent = parent
        self.town_log = log
        self.cache = LRUCache(settings.server.answer_cache_size)

    def _log(self) -> ConversationLog | None:
        return self.town_log

    def _expecting(self) -> Any:
        return self.parent._expecting()

    def submit(self, fn: Callable[[], None]) -> None:
        self.parent.submit(fn)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.parent.run(fn, *args)


class TownContext:
    """Everything one town's requests use."""

    def __init__(
        self,
        town: Town,
        stamp: int,
        settings: Settings,
        services: TownServices,
        log: ConversationLog | None,
        answering: TownAnswering,
        throttle: LoginThrottle,
    ) -> None:
        srv = settings.server
        self.town = town
        self.id = town.id
        self.stamp = stamp
        self.settings = settings
        self.services = services
        self.log = log
        self.answering = answering
        self.limiter = RateLimiter(
            srv.rate_limit_per_minute, srv.daily_cap, srv.rate_limit_max_clients
        )
        self.feedback_limiter = RateLimiter(
            srv.rate_limit_per_minute * 2, srv.daily_cap * 2, srv.rate_limit_max_clients
        )
        self.auth = TownAuth(settings, town, throttle)
        self.policy = OriginPolicy(srv.allowed_origins)
        self.active = 0
        self.retired = False
        self._chain: ASGIApp | None = None

    def chain(self, app: ASGIApp) -> ASGIApp:
        """The town's origin check and CORS in front of the routes."""
        if self._chain is None:
            from madoguchi.ui.api.middleware import cors_chain

            self._chain = cors_chain(app, self.policy)
        return self._chain

    def close(self) -> None:
        try:
            self.services.close()
        finally:
            if self.log is not None:
                self.log.close()


class TownHub:
    """The towns of the service's data root, their contexts built on first use."""

    def __init__(self, app: FastAPI, base: Settings) -> None:
        self.app = app
        self.base = base
        self.registry = TownRegistry(base.data_dir)
        self.max_open = base.server.max_open_towns
        self.embedder: Embedder | None = None  # set in the lifespan, shared by all towns
        self._open: OrderedDict[str, TownContext] = OrderedDict()
        self._throttles: dict[str, LoginThrottle] = {}
        self._lock = threading.RLock()
        self.built = 0  # contexts built so far (a test and the benchmark read it)

    def _throttle(self, town_id: str) -> LoginThrottle:
        srv = self.base.server
        t = self._throttles.get(town_id)
        if t is None:
            t = self._throttles[town_id] = LoginThrottle(
                srv.login_failures_per_client,
                srv.login_failures_overall,
                srv.login_throttle_minutes * 60.0,
            )
        return t

    def acquire(self, town_id: str) -> TownContext:
        """The town's context, counted as in use until ``release``; ``TownNotFound``."""
        with self._lock:
            try:
                stamp = self.registry.stamp(town_id)
            except TownNotFound:  # unknown, or removed since its context was built
                gone = self._open.pop(town_id, None)
                if gone is not None:
                    self._retire(gone)
                raise
            ctx = self._open.get(town_id)
            if ctx is not None and ctx.stamp != stamp:
                self._retire(self._open.pop(town_id))
                ctx = None
            if ctx is None:
                ctx = self._build(town_id, stamp)
                self._open[town_id] = ctx
                while len(self._open) > self.max_open:
                    _, old = self._open.popitem(last=False)
                    self._retire(old)
            self._open.move_to_end(town_id)
            ctx.active += 1
            return ctx

    def hold(self, ctx: TownContext) -> None:
        """Count one more use of a context already acquired (work that outlives its
        request, e.g. a LINE answer sent in the background), until ``release``."""
        with self._lock:
            ctx.active += 1

    def release(self, ctx: TownContext) -> None:
        with self._lock:
            ctx.active -= 1
            if ctx.retired and ctx.active <= 0:
                self._close(ctx)

    def _retire(self, ctx: TownContext) -> None:
        ctx.retired = True
        if ctx.active <= 0:
            self._close(ctx)

    def _close(self, ctx: TownContext) -> None:
        """Close a retired context, and unless the town is open again, drop this process's
        Chroma client of its folder: another process may have replaced the files (``towns
        import``, a removal and a new town of that id), which a cached client would not see."""
        try:
            ctx.close()
        finally:
            if ctx.id not in self._open:
                release_chroma(Path(ctx.settings.data_dir))

    def forget(self, town_id: str) -> None:
        """Drop a town's context (before its folder is removed)."""
        with self._lock:
            ctx = self._open.pop(town_id, None)
            if ctx is not None:
                self._retire(ctx)
            self._throttles.pop(town_id, None)

    def open_ids(self) -> list[str]:
        with self._lock:
            return list(self._open)

    def _build(self, town_id: str, stamp: int) -> TownContext:
        town = self.registry.get(town_id)
        settings = town_settings(self.base, town)
        if self.embedder is None:
            from madoguchi.ingest.embed import build_embedder

            self.embedder = build_embedder(self.base.embedder)
        svc = build_services(settings, embedder=self.embedder)  # type: ignore[arg-type]
        parent: Answering = self.app.state.answering
        batching = parent.batching
        if batching is not None and getattr(batching, "inner", None) is self.embedder:
            # questions of every town share the micro-batches of the one model
            svc.embedder = batching
            svc.retriever.embedder = batching
        log = (
            ConversationLog.in_data_dir(
                settings.data_dir, settings.server.retention_days, store=settings.store
            )
            if settings.server.log_conversations
            else None
        )
        self.built += 1
        return TownContext(
            town,
            stamp,
            settings,
            svc,
            log,
            TownAnswering(parent, settings, log),
            self._throttle(town_id),
        )

    def close(self) -> None:
        with self._lock:
            while self._open:
                _, ctx = self._open.popitem(last=False)
                ctx.close()


class TownMiddleware:
    """Resolves ``/t/{town}/`` requests to the town's context (404 JSON for an unknown
    town) and runs them through the town's origin check and CORS; every other request
    goes through the service's. Replaces the single ``OriginMiddleware`` + CORS pair."""

    def __init__(
        self, app: ASGIApp, policy: OriginPolicy, hub_of: Callable[[], TownHub | None]
    ) -> None:
        from madoguchi.ui.api.middleware import cors_chain

        self.app = app
        self.default = cors_chain(app, policy)
        self.hub_of = hub_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        m = TOWN_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        hub = self.hub_of() if m else None
        if m is None or hub is None:
            await self.default(scope, receive, send)
            return
        try:
            ctx = await anyio.to_thread.run_sync(hub.acquire, m.group(1))
        except TownNotFound:
            detail = f"no town {m.group(1)[:40]!r} here"
            await _error(send, 404, "TownNotFound", detail)
            return
        except KitError as exc:  # a town.toml made unreadable by hand: that town only
            log.error("town %s cannot be opened: %s", m.group(1)[:40], exc)
            detail = f"town {m.group(1)[:40]!r} is not available (its settings are invalid)"
            await _error(send, 503, "TownUnavailable", detail)
            return
        scope[SCOPE_KEY] = ctx
        try:
            await ctx.chain(self.app)(scope, receive, send)
        finally:
            hub.release(ctx)


async def _error(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
