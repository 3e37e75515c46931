"""The FastAPI service residents' widget and staff tools talk to.

``create_app()`` builds the app; services are built once in the lifespan
(warm-up included) and reached through ``get_services`` so tests can swap
them with ``app.dependency_overrides``. A ``KitError`` becomes one JSON error
with a 4xx status, never a 500 with a traceback.

Public (the widget): ``POST /api/v1/ask``, ``POST /api/v1/ask/stream`` (SSE),
``POST /api/v1/feedback``, ``GET /api/v1/config``, ``GET /widget.js``, ``GET /``.
Operations: ``/healthz``, ``/readyz``, ``/metrics``, ``/docs``.
Staff (admin key or login): ``/api/v1/admin/*`` and the Gradio screen at ``/admin``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import html
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.ingest.services import TownServices, build_services
from madoguchi.kit.config import Settings, get_settings
from madoguchi.kit.convlog import ConversationLog, new_id
from madoguchi.kit.errors import ConfigError, InputError, KitError, ModelUnavailable, StoreError
from madoguchi.kit.services import AskResult, StreamEvent
from madoguchi.ui.security import (
    ADMIN_COOKIE,
    BodyLimitMiddleware,
    OriginPolicy,
    RateLimited,
    RateLimiter,
    admin_cookie_value,
    check_admin,
    client_id,
)

T = TypeVar("T")

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
WIDGET_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}


# ---------------------------------------------------------------- request/response models


class AskRequest(BaseModel):
    question: str = Field(..., description="The resident's question.", max_length=20000)
    lang: str | None = Field(
        None,
        description="Answer language: ja, en, zh-Hans, zh-Hant, ko, vi, pt, es, tl, ne, "
        "ja-easy (or the kit's codes); detected from the question when absent.",
        max_length=16,
    )
    conversation_id: str | None = Field(
        None,
        description="Links follow-up questions; a new one is returned when absent.",
        max_length=128,
    )


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
    original: str | None = None
    related: list[CitationOut] = Field(
        default_factory=list,
        description="With a refusal: documents that may help, not sources of an answer.",
    )
    latency_ms: float = 0.0
    answer_id: str = Field(..., description="Send it back with POST /api/v1/feedback.")
    conversation_id: str


class FeedbackRequest(BaseModel):
    answer_id: str = Field(..., min_length=1, max_length=64)
    helpful: bool
    comment: str | None = Field(None, max_length=1000)


class StatusOut(BaseModel):
    status: str


class WidgetConfigOut(BaseModel):
    town: str
    phone: str | None
    disclaimer: str
    suggestions: list[str]
    languages: list[str]


class ErrorOut(BaseModel):
    error: str
    detail: str


class HitOut(BaseModel):
    rank: int
    source: str
    title: str
    score: float
    ranks: dict[str, int]
    signals: dict[str, float]
    text: str


class TryResponse(AskResponse):
    hits: list[HitOut]
    timings: dict[str, float]


class SourceOut(BaseModel):
    source: str
    title: str
    kind: str
    chunks: int


class RemovedOut(BaseModel):
    removed: int


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Unusable input (empty or too long question)."},
    403: {"model": ErrorOut, "description": "Calling page's origin is not allowed."},
    413: {"model": ErrorOut, "description": "Body too large."},
    422: {"model": ErrorOut, "description": "Malformed body."},
    429: {"model": ErrorOut, "description": "Rate limit or daily cap; see Retry-After."},
    503: {"model": ErrorOut, "description": "Starting up or index unavailable."},
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    401: {"model": ErrorOut, "description": "Admin key missing or wrong."},
}


# ---------------------------------------------------------------- dependencies


def get_services(request: Request) -> TownServices:
    svc: TownServices | None = getattr(request.app.state, "services", None)
    if svc is None:
        raise ModelUnavailable("the service is still starting")
    return svc


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_log(request: Request) -> ConversationLog | None:
    return getattr(request.app.state, "log", None)


Svc = Annotated[TownServices, Depends(get_services)]
Conf = Annotated[Settings, Depends(app_settings)]
Log = Annotated[ConversationLog | None, Depends(get_log)]


class AdminRequired(Exception):
    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


def require_admin(request: Request) -> None:
    settings: Settings = request.app.state.settings
    why = check_admin(request.headers, dict(request.cookies), settings.server)
    if why is not None:
        raise AdminRequired(why, 403 if not settings.server.admin_key else 401)


def limit_questions(request: Request) -> None:
    st = request.app.state
    st.limiter.hit(client_id(request, st.settings.server.trust_forwarded_for))


def limit_feedback(request: Request) -> None:
    st = request.app.state
    st.feedback_limiter.hit(client_id(request, st.settings.server.trust_forwarded_for))


def _status(exc: KitError) -> int:
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, ModelUnavailable | StoreError | ConfigError):
        return 503
    return 422


# ---------------------------------------------------------------- metrics


class Metrics:
    """Per-app registry, so several apps (tests) never collide on metric names."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "madoguchi_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "madoguchi_http_request_seconds",
            "HTTP request duration by route (streams: until the last event).",
            ["route"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.answers = Counter(
            "madoguchi_answers",
            "Answers given, by mode (faq, extractive, llm, abstain) and language.",
            ["mode", "lang"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "madoguchi_refusals",
            "Questions the assistant declined to answer.",
            registry=self.registry,
        )
        self.answer_latency = Histogram(
            "madoguchi_answer_seconds",
            "Time to compose one answer (retrieval + answering).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.feedback = Counter(
            "madoguchi_feedback", "Feedback received.", ["helpful"], registry=self.registry
        )
        self.rate_limited = Counter(
            "madoguchi_rate_limited",
            "Requests refused by the rate limit or daily cap.",
            registry=self.registry,
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def capture(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, capture)
        finally:
            path: str = scope.get("path", "")
            route = getattr(scope.get("route"), "path", None)
            if route is None:
                route = "/admin" if path.startswith("/admin") else "unmatched"
            self.metrics.requests.labels(route, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - t0)


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


# ---------------------------------------------------------------- the app


def _answer_json(res: AskResult, answer_id: str, conversation_id: str) -> dict[str, Any]:
    data = res.answer.to_json()
    data["latency_ms"] = round(res.latency_ms, 1)
    data["answer_id"] = answer_id
    data["conversation_id"] = conversation_id
    return data


class _Answering:
    """Runs questions on a few dedicated threads, then counts and logs them.

    The kit keeps per-thread state (a Sudachi tokenizer with its dictionary, about
    100 MB, in each thread that tokenizes), so questions must not wander over the
    server's general thread pool of 40: with 16 busy clients that grew the process
    past 2 GB. ``server.max_concurrent_asks`` threads answer; the rest queue.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        settings: Settings = app.state.settings
        self.workers = settings.server.max_concurrent_asks
        self.executor: ThreadPoolExecutor | None = None
        self.recent: OrderedDict[str, None] = OrderedDict()  # answer ids when not logging
        self.recent_lock = threading.Lock()

    def record(self, res: AskResult, question: str, conversation_id: str | None) -> dict[str, Any]:
        st = self.app.state
        a = res.answer
        metrics: Metrics = st.metrics
        metrics.answers.labels(a.mode, a.lang).inc()
        metrics.answer_latency.observe(res.latency_ms / 1000)
        if a.refused:
            metrics.refusals.inc()
        cid = conversation_id or new_id()
        log: ConversationLog | None = st.log
        if log is not None:
            turn = log.record(
                question=question,
                lang=a.lang,
                answer=a.text,
                citations=[c.to_json() for c in a.citations],
                refused=a.refused,
                mode=a.mode,
                confidence=a.confidence,
                latency_ms=res.latency_ms,
                conversation_id=cid,
            )
            answer_id = turn.id
        else:
            answer_id = new_id()
            with self.recent_lock:
                self.recent[answer_id] = None
                while len(self.recent) > 10_000:
                    self.recent.popitem(last=False)
        return _answer_json(res, answer_id, cid)

    def open(self) -> None:
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="madoguchi-answer")

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

    def submit(self, fn: Callable[[], None]) -> None:
        if self.executor is None:
            raise ModelUnavailable("the service is still starting")
        self.executor.submit(fn)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on an answering thread."""
        if self.executor is None:
            raise ModelUnavailable("the service is still starting")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def ask(self, svc: TownServices, body: AskRequest) -> dict[str, Any]:
        # the id exists before the first answer, so a follow-up with it finds its history
        cid = body.conversation_id or new_id()
        res = svc.ask(body.question, lang=body.lang, conversation_id=cid)
        return self.record(res, body.question, cid)

    def known(self, answer_id: str) -> bool:
        with self.recent_lock:
            return answer_id in self.recent


def create_app(
    settings: Settings | None = None,
    services: TownServices | None = None,
    *,
    admin: bool = True,
) -> FastAPI:
    """The service. ``services`` (tests) skips building and warming up the real ones."""
    if settings is None:
        settings = services.settings if services is not None else get_settings()
    conf: Settings = settings
    srv = conf.server

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if srv.log_conversations:
            app.state.log = ConversationLog.in_data_dir(conf.data_dir, srv.retention_days)
        if services is not None:
            app.state.services = services
        else:
            svc = build_services(conf)
            await anyio.to_thread.run_sync(svc.warm_up)
            app.state.services = svc
        answering.open()
        if services is None:  # each answering thread builds its tokenizer now, not on a question
            await asyncio.gather(
                *(answering.run(app.state.services.warm_up) for _ in range(answering.workers))
            )
        try:
            yield
        finally:
            answering.close()
            if services is None:
                app.state.services.close()
            app.state.services = None
            if app.state.log is not None:
                app.state.log.close()

    app = FastAPI(
        title="madoguchi",
        version="0.1.0",
        summary="Answers residents' questions from the town's own documents, with citations.",
        lifespan=lifespan,
    )
    app.state.settings = conf
    app.state.services = None
    app.state.log = None
    app.state.metrics = metrics = Metrics()
    app.state.limiter = RateLimiter(srv.rate_limit_per_minute, srv.daily_cap)
    app.state.feedback_limiter = RateLimiter(srv.rate_limit_per_minute * 2, srv.daily_cap * 2)
    answering = _Answering(app)
    policy = OriginPolicy(srv.allowed_origins)

    # Middleware: the last added runs first.
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
    app.add_middleware(AdminGateMiddleware, settings=conf)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=srv.max_body_bytes, upload_bytes=srv.max_upload_bytes
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    # ------------------------------------------------------------ errors as JSON

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

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        metrics.rate_limited.inc()
        return JSONResponse(
            status_code=429,
            content={"error": "RateLimited", "detail": exc.detail},
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(AdminRequired)
    async def admin_required(_: Request, exc: AdminRequired) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status, content={"error": "AdminRequired", "detail": exc.detail}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "NotFound", 405: "MethodNotAllowed"}
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": names.get(exc.status_code, "HTTPError"), "detail": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )

    # ------------------------------------------------------------ residents

    @app.post(
        "/api/v1/ask",
        response_model=AskResponse,
        responses=ERRORS,
        dependencies=[Depends(limit_questions)],
        tags=["residents"],
    )
    async def ask(body: AskRequest, svc: Svc) -> dict[str, Any]:
        """Answer one question; the same fields as ``madoguchi ask --json`` plus the ids."""
        return await answering.run(answering.ask, svc, body)

    @app.post(
        "/api/v1/ask/stream",
        responses={
            **ERRORS,
            200: {
                "content": {"text/event-stream": {}},
                "description": "Events: `delta` {text} pieces (a `reset` {} means: discard the "
                "text shown so far, e.g. a generated answer failed verification), then `final` "
                "(the /api/v1/ask JSON) or `error` {error, detail}.",
            },
        },
        dependencies=[Depends(limit_questions)],
        tags=["residents"],
    )
    async def ask_stream(body: AskRequest, svc: Svc) -> EventSourceResponse:
        """The answer as server-sent events, so the widget can show it as it comes."""
        svc.clean_question(body.question)  # a bad question is a 400, not a broken stream
        return EventSourceResponse(_stream(svc, body), ping=15)

    async def _stream(svc: TownServices, body: AskRequest) -> AsyncIterator[dict[str, str]]:
        """One answering thread runs the whole stream (as long as an /ask would take it)
        and hands events over through a queue, so an LLM's tokens arrive as they come."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamEvent | BaseException | None] = asyncio.Queue()
        gone = threading.Event()  # the resident closed the page: stop generating
        cid = body.conversation_id or new_id()

        def put(item: StreamEvent | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the event loop has closed
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def produce() -> None:
            try:
                for ev in svc.ask_stream(body.question, lang=body.lang, conversation_id=cid):
                    put(ev)
                    if gone.is_set():
                        break
            except BaseException as exc:
                put(exc)
            finally:
                put(None)

        try:
            answering.submit(produce)
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if item.kind == "delta":
                    yield {
                        "event": "delta",
                        "data": json.dumps({"text": item.text}, ensure_ascii=False),
                    }
                elif item.kind == "reset":  # an LLM's text failed checks: discard what was shown
                    yield {"event": "reset", "data": "{}"}
                elif item.kind == "final" and item.result is not None:
                    data = await anyio.to_thread.run_sync(
                        answering.record, item.result, body.question, cid
                    )
                    yield {"event": "final", "data": json.dumps(data, ensure_ascii=False)}
                    break
        except KitError as exc:
            err = {"error": type(exc).__name__, "detail": str(exc)}
            yield {"event": "error", "data": json.dumps(err, ensure_ascii=False)}
        except Exception:  # never a traceback to the resident
            err = {"error": "InternalError", "detail": "the answer could not be composed"}
            yield {"event": "error", "data": json.dumps(err)}
        finally:
            gone.set()

    @app.post(
        "/api/v1/feedback",
        response_model=StatusOut,
        responses={**ERRORS, 404: {"model": ErrorOut, "description": "Unknown answer_id."}},
        dependencies=[Depends(limit_feedback)],
        tags=["residents"],
    )
    def feedback(body: FeedbackRequest, log: Log) -> dict[str, str] | JSONResponse:
        """Helpful or not (and an optional comment) for one answer."""
        found = (
            log.feedback(body.answer_id, body.helpful, body.comment)
            if log is not None
            else answering.known(body.answer_id)
        )
        if not found:
            return JSONResponse(
                status_code=404,
                content={"error": "NotFound", "detail": f"no answer with id {body.answer_id!r}"},
            )
        metrics.feedback.labels("yes" if body.helpful else "no").inc()
        return {"status": "ok"}

    @app.get("/api/v1/config", response_model=WidgetConfigOut, tags=["residents"])
    def widget_config(settings: Conf) -> dict[str, Any]:
        """What the widget shows: town, phone, disclaimer, suggested questions, languages."""
        w = settings.widget
        return {
            "town": w.town,
            "phone": w.phone,
            "disclaimer": w.disclaimer,
            "suggestions": list(w.suggestions),
            "languages": list(w.languages),
        }

    @app.get(
        "/widget.js",
        response_class=Response,
        responses={200: {"content": {"application/javascript": {}}}, 404: {"model": ErrorOut}},
        tags=["residents"],
    )
    def widget_js(request: Request) -> Response:
        """The embeddable chat widget script."""
        return _static(request, WIDGET_DIR / "widget.js")

    @app.get(
        "/widget/{name}",
        response_class=Response,
        responses={404: {"model": ErrorOut}},
        include_in_schema=False,
    )
    def widget_asset(name: str, request: Request) -> Response:
        path = (WIDGET_DIR / name).resolve()
        if path.parent != WIDGET_DIR or path.suffix not in WIDGET_TYPES:
            return JSONResponse({"error": "NotFound", "detail": name}, status_code=404)
        return _static(request, path)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return HTMLResponse(_home_page(conf, str(request.base_url).rstrip("/")))

    # ------------------------------------------------------------ operations

    @app.get("/healthz", response_model=StatusOut, tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up (liveness)."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorOut}}, tags=["operations"])
    def readyz(svc: Svc) -> dict[str, Any]:
        """Models warmed up and the index readable (readiness)."""
        return {"status": "ready", "chunks": svc.index.chunk_count()}

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
        tags=["operations"],
    )
    def prometheus() -> Response:
        """Prometheus text format: requests, latency histograms, answers, refusals."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # ------------------------------------------------------------ staff

    admin_dep = [Depends(require_admin)]

    @app.get(
        "/api/v1/admin/sources",
        response_model=list[SourceOut],
        responses=ADMIN_ERRORS,
        dependencies=admin_dep,
        tags=["admin"],
    )
    def admin_sources(
        svc: Svc, prefix: Annotated[str | None, Query(max_length=2000)] = None
    ) -> list[dict[str, Any]]:
        """Indexed sources (optionally those under a path or URL prefix)."""
        return [
            {"source": s.source_id, "title": s.title, "kind": s.kind, "chunks": s.n_chunks}
            for s in svc.index.sources(prefix=prefix)
        ]

    @app.delete(
        "/api/v1/admin/sources",
        response_model=RemovedOut,
        responses={**ADMIN_ERRORS, 404: {"model": ErrorOut}},
        dependencies=admin_dep,
        tags=["admin"],
    )
    def admin_remove(
        svc: Svc, source: Annotated[str, Query(min_length=1, max_length=2000)]
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

    @app.post(
        "/api/v1/admin/try",
        response_model=TryResponse,
        responses=ADMIN_ERRORS,
        dependencies=admin_dep,
        tags=["admin"],
    )
    async def admin_try(body: AskRequest, svc: Svc) -> dict[str, Any]:
        """Answer a question with the retrieved passages and their scores (not logged)."""
        res = await answering.run(svc.ask, body.question, body.lang)
        data = _answer_json(res, "", body.conversation_id or "")
        data["hits"] = hits_json(res)
        data["timings"] = {k: round(v, 2) for k, v in res.timings.items()}
        return data

    @app.get(
        "/api/v1/admin/turns",
        responses=ADMIN_ERRORS,
        dependencies=admin_dep,
        tags=["admin"],
    )
    def admin_turns(
        log: Log,
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

    @app.get(
        "/api/v1/admin/unanswered.csv",
        response_class=Response,
        responses={**ADMIN_ERRORS, 200: {"content": {"text/csv": {}}}},
        dependencies=admin_dep,
        tags=["admin"],
    )
    def admin_unanswered(log: Log) -> Response:
        """Refused or thumbs-down questions as CSV, to write new FAQ entries from."""
        text = log.unanswered_csv() if log is not None else "\ufeffquestion,count\r\n"
        return Response(
            text.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="unanswered.csv"'},
        )

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(error: str | None = None) -> HTMLResponse:
        return HTMLResponse(_login_page(bool(error), bool(srv.admin_key)), headers=_NO_FRAME)

    @app.post("/login", include_in_schema=False, response_model=None)
    async def login(request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:
            form = None
        given = str(form.get("key", "")) if form is not None else ""
        if not srv.admin_key or check_admin({"x-api-key": given}, {}, srv) is not None:
            return RedirectResponse("/login?error=1", status_code=303)
        resp = RedirectResponse("/admin/", status_code=303)
        resp.set_cookie(
            ADMIN_COOKIE,
            admin_cookie_value(srv.admin_key),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=12 * 3600,
        )
        return resp

    @app.get("/logout", include_in_schema=False)
    def logout() -> RedirectResponse:
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(ADMIN_COOKIE)
        return resp

    if admin:
        from madoguchi.ui.admin import mount_admin

        mount_admin(app, lambda: get_services_of(app), lambda: app.state.log, conf)

    return app


def get_services_of(app: FastAPI) -> TownServices:
    svc: TownServices | None = app.state.services
    if svc is None:
        raise ModelUnavailable("the service is still starting")
    return svc


def hits_json(res: AskResult) -> list[dict[str, Any]]:
    return [
        {
            "rank": i,
            "source": h.chunk.source_id,
            "title": h.chunk.title,
            "score": round(h.score, 5),
            "ranks": dict(h.ranks),
            "signals": {k: round(float(v), 4) for k, v in h.signals.items()},
            "text": h.chunk.text,
        }
        for i, h in enumerate(res.hits, 1)
    ]


_NO_FRAME = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}


def _static(request: Request, path: Path) -> Response:
    if not path.is_file():
        return JSONResponse(
            {"error": "NotFound", "detail": f"{path.name} is not built yet"}, status_code=404
        )
    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
    headers = {
        "Cache-Control": "public, max-age=300, must-revalidate",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=WIDGET_TYPES.get(path.suffix, "text/plain"), headers=headers)


def _home_page(settings: Settings, base: str) -> str:
    town = html.escape(settings.widget.town)
    base = html.escape(base, quote=True)  # it comes from the Host header
    tag = f'<script src="{base}/widget.js" defer></script>'
    origins = ", ".join(settings.server.allowed_origins) or "(none)"
    return f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{town} 窓口アシスタント (madoguchi)</title>
<style>
body{{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;max-width:46rem;
margin:2rem auto;padding:0 1rem;line-height:1.7;color:#1f2933}}
code,pre{{background:#f1f4f8;border-radius:4px}} pre{{padding:.8rem;overflow:auto}}
h1{{font-size:1.5rem}} h2{{font-size:1.15rem;margin-top:2rem}}
</style></head>
<body>
<h1>{town} 窓口アシスタント</h1>
<p>町の公開資料（よくある質問・ホームページ・PDF）だけをもとに、住民の質問に出典つきで
答えるサービスです。わからない質問には無理に答えず、担当課の連絡先をご案内します。
右下のボタンから試せます。</p>
<p lang="en">This service answers residents' questions from {town}'s own documents, with
citations, and refers to the responsible office when it is not sure. Try the chat button
at the bottom right.</p>
<h2>ホームページへの埋め込み / Embedding</h2>
<p>町のページの <code>&lt;/body&gt;</code> の直前に次の1行を入れてください。</p>
<pre><code>{html.escape(tag)}</code></pre>
<p>埋め込めるサイト（allowed origins）: <code>{html.escape(origins)}</code>
（設定 <code>MADOGUCHI_SERVER__ALLOWED_ORIGINS</code>）</p>
<h2>職員の方へ / For staff</h2>
<ul>
<li><a href="/admin/">管理画面 (admin)</a> — 資料の追加・削除、質問の試行、ログの確認</li>
<li><a href="/docs">API (OpenAPI)</a> ・ <a href="/healthz">/healthz</a> ・
<a href="/metrics">/metrics</a></li>
</ul>
{tag}
</body></html>
"""


def _login_page(error: bool, enabled: bool) -> str:
    msg = ""
    if not enabled:
        msg = (
            '<p role="alert">管理画面は無効です。サーバーに MADOGUCHI_SERVER__ADMIN_KEY を'
            "設定してください。</p>"
        )
    elif error:
        msg = '<p role="alert">キーが正しくありません。</p>'
    return f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>madoguchi 管理画面 ログイン</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
[role=alert]{{color:#b00020}}</style></head>
<body><h1>管理画面ログイン</h1>{msg}
<form method="post" action="/login">
<label for="key">管理キー (admin key)</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<button type="submit">ログイン</button></form></body></html>
"""
