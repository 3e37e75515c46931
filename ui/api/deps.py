"""What the routes depend on, read from ``app.state`` (set up by ``create_app``).

Values come as ``Annotated`` aliases that a route takes as parameters
(``svc: ServicesDep``); checks that give nothing back, the admin key and the
rate limits, go in ``dependencies=[...]`` of a route or a router. Tests swap
any of them with ``app.dependency_overrides`` (e.g. ``get_services``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from madoguchi.ingest.services import TownServices
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import ModelUnavailable
from madoguchi.ui.api.answering import Answering
from madoguchi.ui.api.errors import AdminRequired
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.security import check_admin, client_id


def services_of(app: FastAPI) -> TownServices:
    """The services, built in the lifespan; 503 until then."""
    svc: TownServices | None = getattr(app.state, "services", None)
    if svc is None:
        raise ModelUnavailable("the service is still starting")
    return svc


def get_services(request: Request) -> TownServices:
    return services_of(request.app)


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_log(request: Request) -> ConversationLog | None:
    return getattr(request.app.state, "log", None)


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_answering(request: Request) -> Answering:
    return request.app.state.answering


ServicesDep = Annotated[TownServices, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
LogDep = Annotated[ConversationLog | None, Depends(get_log)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AnsweringDep = Annotated[Answering, Depends(get_answering)]


def require_admin(request: Request) -> None:
    """The admin key (header) or the login cookie: 401 without, 403 when admin is off."""
    settings: Settings = request.app.state.settings
    why = check_admin(request.headers, dict(request.cookies), settings.server)
    if why is not None:
        raise AdminRequired(why, 403 if not settings.server.admin_key else 401)


def limit_questions(request: Request) -> None:
    """Per-client rate limit and daily cap of questions (429 with Retry-After)."""
    st = request.app.state
    st.limiter.hit(client_id(request, st.settings.server.trust_forwarded_for))


def limit_feedback(request: Request) -> None:
    st = request.app.state
    st.feedback_limiter.hit(client_id(request, st.settings.server.trust_forwarded_for))
