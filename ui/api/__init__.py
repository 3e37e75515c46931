"""The FastAPI service residents' widget and staff tools talk to.

``create_app()`` builds the app; services are built once in the lifespan
(warm-up included) and reached through ``deps.get_services`` so tests can swap
them with ``app.dependency_overrides``. A ``KitError`` becomes one JSON error
with a 4xx status, never a 500 with a traceback (``errors``).

Public (the widget, ``residents``): ``POST /api/v1/ask``, ``POST /api/v1/ask/stream``
(SSE), ``POST /api/v1/feedback``, ``GET /api/v1/config``, ``GET /widget.js``, ``GET /``;
hand-off to staff (``handoff``): ``/api/v1/handoff*``, its inbox ``/api/v1/admin/handoff*``.
Operations (``operations``): ``/healthz``, ``/readyz``, ``/metrics``, ``/docs``.
Staff (admin key or login, ``admin``): ``/api/v1/admin/*`` and the Gradio screen at ``/admin``.
LINE (``line``): ``POST /channels/line/webhook``, the Messaging API channel's webhook.
Several towns (``towns``): the residents' and admin routes again under ``/t/{town}/`` for
each town of ``<data_dir>/towns/``, with that town's keys, origins and limits; the
prefecture's (``prefecture``, the prefecture key): ``/api/v1/prefecture/towns``.

The other modules: ``deps`` (what routes depend on), ``models`` (bodies),
``answering`` (the answering threads), ``middleware`` and ``metrics``, ``pages``
(the HTML pages, from ``ui/templates/``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI

from madoguchi.ingest.schedule import BackgroundScheduler, Scheduler
from madoguchi.ingest.services import TownServices, build_services
from madoguchi.kit.config import Settings, get_settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import StoreError
from madoguchi.kit.officehours import Clock, system_clock
from madoguchi.ui.api import admin as admin_routes
from madoguchi.ui.api import handoff, line, operations, prefecture, residents
from madoguchi.ui.api.answering import Answering
from madoguchi.ui.api.deps import get_services, services_of
from madoguchi.ui.api.errors import add_exception_handlers
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.api.middleware import add_middlewares
from madoguchi.ui.api.towns import PrefectureAuth, TownHub
from madoguchi.ui.security import AdminAuth, RateLimiter

__all__ = ["create_app", "get_services"]

log = logging.getLogger(__name__)

#: what ``create_app(schedule=...)`` takes: a sync file with a [schedule] table, or (tests)
#: a function making the ``Scheduler`` from the app's services
ScheduleArg = Path | str | Callable[[TownServices], Scheduler] | None


def create_app(
    settings: Settings | None = None,
    services: TownServices | None = None,
    *,
    admin: bool = True,
    clock: Clock | None = None,
    schedule: ScheduleArg = None,
) -> FastAPI:
    """The service. ``services`` (tests) skips building and warming up the real ones;
    ``clock`` (tests) is the time office hours and the hand-off inbox read.
    ``schedule``: run the sync file's [schedule] on a thread of the server (``serve
    --schedule``); the file is checked here, so a bad one stops the start."""
    if settings is None:
        settings = services.settings if services is not None else get_settings()
    srv = settings.server
    make_scheduler = _scheduler_factory(settings, schedule)

    app = FastAPI(
        title="madoguchi",
        version="0.1.0",
        summary="Answers residents' questions from the town's own documents, with citations.",
        lifespan=_lifespan(services, make_scheduler),
        docs_url=None,  # operations.add_docs: the same pages, with a CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = None
    app.state.log = None
    app.state.clock = clock or system_clock
    app.state.handoff_limiters = {}  # data directory -> messages per client and day
    app.state.metrics = Metrics(settings.data_dir)
    app.state.scheduler = None
    app.state.limiter = RateLimiter(
        srv.rate_limit_per_minute, srv.daily_cap, srv.rate_limit_max_clients
    )
    app.state.feedback_limiter = RateLimiter(
        srv.rate_limit_per_minute * 2, srv.daily_cap * 2, srv.rate_limit_max_clients
    )
    app.state.admin_auth = AdminAuth(srv)
    app.state.answering = Answering(app)
    app.state.towns = TownHub(app, settings)
    app.state.prefecture_auth = PrefectureAuth(settings)
    app.state.line = line.LineHub(app)

    handoff.watch_inbox(app.state.metrics, settings, app.state.clock)
    add_middlewares(app, settings, app.state.metrics, app.state.admin_auth)
    add_exception_handlers(app)
    app.include_router(residents.router)
    app.include_router(handoff.router)
    app.include_router(operations.router)
    operations.add_docs(app)
    app.include_router(admin_routes.router)
    app.include_router(admin_routes.login_router)
    app.include_router(handoff.admin_router)
    # each town of a shared service: the same routes under /t/{town} (towns.TownMiddleware
    # puts the town in the request), and the prefecture's
    app.include_router(residents.router, prefix="/t/{town}", include_in_schema=False)
    app.include_router(admin_routes.router, prefix="/t/{town}", include_in_schema=False)
    # the LINE channel: the service's, and each town's own (docs/LINE.md)
    app.include_router(line.router)
    app.include_router(line.router, prefix="/t/{town}", include_in_schema=False)
    app.include_router(handoff.router, prefix="/t/{town}", include_in_schema=False)
    app.include_router(handoff.admin_router, prefix="/t/{town}", include_in_schema=False)
    app.include_router(prefecture.router)

    if admin:
        from madoguchi.ui.admin import mount_admin

        mount_admin(app, lambda: services_of(app), lambda: app.state.log, settings)

    return app


def _scheduler_factory(
    settings: Settings, schedule: ScheduleArg
) -> Callable[[TownServices], Scheduler] | None:
    if schedule is None or callable(schedule):
        return schedule
    from madoguchi.ingest.schedule import ScheduleState, load_schedule, sync_job

    path = Path(schedule)
    conf = load_schedule(path)

    def make(svc: TownServices) -> Scheduler:
        job = sync_job(svc.index, path, settings.web)
        return Scheduler(conf, ScheduleState(settings.data_dir), job, config_path=path)

    return make


def _lifespan(
    services: TownServices | None,
    make_scheduler: Callable[[TownServices], Scheduler] | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shut-down: the log, the services (given, or built and warmed up),
    the answering threads and, with a schedule, the scheduled sync's thread (stopped
    first, so no sync writes to an index being closed)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        conf: Settings = app.state.settings
        answering: Answering = app.state.answering
        if conf.server.log_conversations:
            app.state.log = ConversationLog.in_data_dir(
                conf.data_dir, conf.server.retention_days, store=conf.store
            )
        if services is not None:
            app.state.services = services
        else:
            svc = build_services(conf)
            await _warm(conf, anyio.to_thread.run_sync(svc.warm_up))
            app.state.services = svc
        # the towns share the service's embedder (the model is loaded once)
        app.state.towns.embedder = app.state.services.embedder
        answering.open()
        app.state.line.start()
        if services is None:  # each answering thread builds its tokenizer now, not on a question
            await _warm(
                conf,
                asyncio.gather(
                    *(answering.run(app.state.services.warm_up) for _ in range(answering.workers))
                ),
            )
        if make_scheduler is not None:
            app.state.scheduler = BackgroundScheduler(make_scheduler(app.state.services)).start()
        try:
            yield
        finally:
            if app.state.scheduler is not None:
                await anyio.to_thread.run_sync(app.state.scheduler.stop)
                app.state.scheduler = None
            await app.state.line.close()
            app.state.towns.close()
            answering.close()
            if services is None:
                app.state.services.close()
            app.state.services = None
            if app.state.log is not None:
                app.state.log.close()

    return lifespan


async def _warm(conf: Settings, warming: Awaitable[object]) -> None:
    """Warm up; on shared back-ends, one that does not answer yet is no reason not to
    start: the replica serves 503s (``/readyz`` says which back-end) until it does."""
    try:
        await warming
    except StoreError as exc:
        if not (conf.store.database_url or conf.store.chroma_server):
            raise
        log.warning("a shared back-end is not reachable at start-up (serving 503s): %s", exc)
