"""Prometheus metrics of one app, and the middleware that counts and times every request."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
        # read when scraped, from the answering threads' batcher and caches
        self.embed_batches = Gauge(
            "madoguchi_embed_batches", "Question-embedding batches run.", registry=self.registry
        )
        self.embed_batch_items = Gauge(
            "madoguchi_embed_batch_items",
            "Questions embedded in batches (divided by batches: the mean batch size).",
            registry=self.registry,
        )
        self.answer_cache_hits = Gauge(
            "madoguchi_answer_cache_hits", "Answers served from the cache.", registry=self.registry
        )
        # read when scraped, from the hand-off inbox (ui.api.handoff.watch_inbox): the
        # messages it keeps (within handoff.retention_days) of the service's own town
        self.handoffs = Gauge(
            "madoguchi_handoffs",
            "Hand-off messages to staff kept in the inbox: opened (all), open, answered.",
            ["status"],
            registry=self.registry,
        )
        self.handoff_answer_seconds = Gauge(
            "madoguchi_handoff_answer_seconds",
            "Time from a resident's message to the staff reply, over the answered messages "
            "kept (mean, median).",
            ["stat"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "madoguchi_rate_limited",
            "Requests refused by the rate limit or daily cap.",
            registry=self.registry,
        )
        # the LINE channel (ui/api/line.py)
        self.line_events = Counter(
            "madoguchi_line_events",
            "LINE webhook events received (signature checked), by type (other: ignored).",
            ["type"],
            registry=self.registry,
        )
        self.line_rejected = Counter(
            "madoguchi_line_rejected",
            "LINE webhook requests refused for a missing or wrong signature.",
            registry=self.registry,
        )
        self.line_duplicates = Counter(
            "madoguchi_line_duplicates",
            "LINE events dropped as already taken (redeliveries, repeated requests).",
            registry=self.registry,
        )
        self.line_replies = Counter(
            "madoguchi_line_replies", "LINE answers sent by reply.", registry=self.registry
        )
        self.line_pushes = Counter(
            "madoguchi_line_pushes",
            "LINE answers sent by push (slow answer or expired reply token).",
            registry=self.registry,
        )
        self.line_retries = Counter(
            "madoguchi_line_retries",
            "Calls to the LINE platform tried again (5xx, 429, lost connection), by call.",
            ["call"],
            registry=self.registry,
        )
        self.line_failures = Counter(
            "madoguchi_line_failures",
            "LINE events not answered, by stage (reply, push, expired, answer, internal).",
            ["stage"],
            registry=self.registry,
        )
        self.line_queue = Gauge(
            "madoguchi_line_queue", "LINE events waiting to be answered.", registry=self.registry
        )
        self._line_handoff()

    def _line_handoff(self) -> None:
        """Hand-off from LINE (ui/api/line.py): tickets opened, staff replies pushed, failures."""
        self.line_handoffs_opened = Counter(
            "madoguchi_line_handoffs_opened",
            "Hand-off tickets opened from LINE (the resident tapped 同意して送る).",
            registry=self.registry,
        )
        self.line_staff_replies = Counter(
            "madoguchi_line_staff_replies",
            "Staff replies to LINE tickets pushed to the resident.",
            registry=self.registry,
        )
        self.line_staff_reply_failures = Counter(
            "madoguchi_line_staff_reply_failures",
            "Staff replies to LINE tickets the platform did not take (the ticket stays "
            "answered; staff may send it again).",
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
