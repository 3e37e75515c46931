"""Prometheus metrics of one app, and the middleware that counts and times every request.

Requests are labelled by route template (``/t/{town}/api/v1/ask``), never by raw path,
so a scan of made-up URLs cannot grow the label set. A request into a mounted app (the
admin screen at ``/admin``, the documentation's files at ``/docs/assets``) is labelled
with the mount's path before the inner route's (``/admin/gradio_api/queue/join``);
routes that are plain Starlette routes (``/openapi.json``) by their path; anything no
route matched is ``unmatched``.

The scheduled sync's figures (``madoguchi_schedule_*``) are read from
``<data_dir>/schedule.sqlite`` when scraped, so they show the runs of every process
sharing the data directory: this server's ``--schedule`` thread, a systemd timer, another
replica. They are absent until a scheduled sync has run there once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ScheduleCollector(Collector):
    """The scheduled sync's runs, failures, last success and next run, per job."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)

    def collect(self) -> Iterator[Metric]:
        from madoguchi.ingest.schedule import JOB, existing_state
        from madoguchi.kit.errors import StoreError

        try:
            state = existing_state(self.data_dir)
            if state is None:
                return
            counters = state.counters(JOB)
            runs = [r for r in state.runs(JOB, limit=10) if r.finished is not None]
            info = state.job(JOB)
            running = state.lease(JOB, time.time()) is not None
        except StoreError:
            return  # an unreadable state file is doctor's to report, not a failed scrape
        labels = ["job"]
        runs_total = CounterMetricFamily(
            "madoguchi_schedule_runs", "Scheduled sync runs finished.", labels=labels
        )
        runs_total.add_metric([JOB], counters["runs"])
        failures = CounterMetricFamily(
            "madoguchi_schedule_failures", "Scheduled sync runs that failed.", labels=labels
        )
        failures.add_metric([JOB], counters["failures"])
        yield runs_total
        yield failures
        gauges = {
            "madoguchi_schedule_last_success_timestamp_seconds": (
                "Unix time the last successful scheduled sync finished.",
                counters["last_success"],
            ),
            "madoguchi_schedule_last_failure_timestamp_seconds": (
                "Unix time the last failed scheduled sync finished.",
                counters["last_failure"],
            ),
            "madoguchi_schedule_last_run_ok": (
                "1 when the last scheduled sync succeeded, 0 when it failed.",
                (1.0 if runs[0].ok else 0.0) if runs else None,
            ),
            "madoguchi_schedule_last_run_duration_seconds": (
                "Duration of the last scheduled sync.",
                runs[0].seconds if runs else None,
            ),
            "madoguchi_schedule_next_run_timestamp_seconds": (
                "Unix time of the next slot, as the last scheduler to look saw it.",
                info["next_slot"] if info else None,
            ),
            "madoguchi_schedule_running": (
                "1 while a scheduled sync holds the lease.",
                1.0 if running else 0.0,
            ),
        }
        for name, (doc, value) in gauges.items():
            if value is None:
                continue
            g = GaugeMetricFamily(name, doc, labels=labels)
            g.add_metric([JOB], float(value))
            yield g


class Metrics:
    """Per-app registry, so several apps (tests) never collide on metric names."""

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.registry = CollectorRegistry()
        if data_dir is not None:
            self.registry.register(ScheduleCollector(data_dir))
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


def route_label(scope: Scope, entry: Scope, app: Any) -> str:
    """The route template a request ran, read after it ran.

    ``entry`` is the scope as it came in: a mount (and so Gradio's own app) rewrites the
    scope's ``root_path``, and its inner route knows only its part of the path."""
    root = str(entry.get("root_path", ""))
    now = str(scope.get("root_path", ""))
    mounted = now[len(root) :] if now.startswith(root) else ""
    path = getattr(scope.get("route"), "path", None)
    if path is not None:
        return mounted + str(path)
    probe = {**entry, "path_params": {}}
    for route in getattr(app, "routes", ()):
        template = getattr(route, "path", None)
        if isinstance(template, str) and route.matches(probe)[0] is Match.FULL:
            return template or "/"
    return mounted or "unmatched"


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
        entry = {k: scope[k] for k in ("type", "path", "root_path", "method") if k in scope}
        outer = scope.get("app")  # the service's app, before a mounted one takes its place

        async def capture(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = route_label(scope, entry, outer)
            self.metrics.requests.labels(route, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - t0)
