"""What operators and their monitoring call: liveness, readiness and Prometheus metrics.
(``/docs`` and ``/openapi.json`` are FastAPI's own.)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from madoguchi.ui.api.deps import MetricsDep, ServicesDep
from madoguchi.ui.api.models import ErrorOut, StatusOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=StatusOut)
def healthz() -> dict[str, str]:
    """The process is up (liveness)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorOut}})
def readyz(svc: ServicesDep) -> dict[str, Any]:
    """Models warmed up and the index readable (readiness)."""
    return {"status": "ready", "chunks": svc.index.chunk_count()}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def prometheus(metrics: MetricsDep) -> Response:
    """Prometheus text format: requests, latency histograms, answers, refusals."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
