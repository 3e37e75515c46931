"""What the routes depend on, read from ``app.state`` (set up by ``create_app``).

Values come as ``Annotated`` aliases that a route takes as parameters
(``svc: ServicesDep``); checks that give nothing back, the admin key and the
rate limits, go in ``dependencies=[...]`` of a route or a router. Tests swap
any of them with ``app.dependency_overrides`` (e.g. ``get_services``).

Under ``/t/{town}/`` each of them gives the town's own (``towns.TownContext``, put in
the request's scope by ``towns.TownMiddleware``): its services, settings, log,
answering, admin keys and rate limits, so the same routes serve every town apart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPBearer

from madoguchi.ingest.services import TownServices
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import ModelUnavailable
from madoguchi.ui.api.answering import Answering
from madoguchi.ui.api.errors import AdminRequired
from madoguchi.ui.api.metrics import Metrics
from madoguchi.ui.api.towns import SCOPE_KEY, TownContext
from madoguchi.ui.security import ADMIN_COOKIE, AdminAuth, AdminDenied, RateLimited, client_id


def town_of(request: Request) -> TownContext | None:
    """The town a ``/t/{town}/`` request is for; None on the single-town paths."""
    ctx: TownContext | None = request.scope.get(SCOPE_KEY)
    return ctx


def services_of(app: FastAPI) -> TownServices:
    """The services, built in the lifespan; 503 until then."""
    svc: TownServices | None = getattr(app.state, "services", None)
    if svc is None:
        raise ModelUnavailable("the service is still starting")
    return svc


def get_services(request: Request) -> TownServices:
    town = town_of(request)
    return town.services if town is not None else services_of(request.app)


def app_settings(request: Request) -> Settings:
    town = town_of(request)
    return town.settings if town is not None else request.app.state.settings


def get_log(request: Request) -> ConversationLog | None:
    town = town_of(request)
    return town.log if town is not None else getattr(request.app.state, "log", None)


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def get_answering(request: Request) -> Answering:
    town = town_of(request)
    return town.answering if town is not None else request.app.state.answering


ServicesDep = Annotated[TownServices, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
LogDep = Annotated[ConversationLog | None, Depends(get_log)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AnsweringDep = Annotated[Answering, Depends(get_answering)]


def get_admin_auth(request: Request) -> AdminAuth:
    town = town_of(request)
    return town.auth if town is not None else request.app.state.admin_auth


AdminAuthDep = Annotated[AdminAuth, Depends(get_admin_auth)]


# How the OpenAPI document (and so /docs's "Authorize") names the ways in: the key in a
# header or as a bearer token, or the session cookie /login sets. ``auto_error=False``
# and unused values: ``AdminAuth.check`` reads the request itself; these only declare.
ADMIN_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="AdminKey",
    description="The admin key (server.admin_key; a town's own key under /t/{town}/).",
    auto_error=False,
)
ADMIN_BEARER = HTTPBearer(
    scheme_name="AdminBearer",
    description="The admin key as `Authorization: Bearer <key>`.",
    auto_error=False,
)
ADMIN_SESSION = APIKeyCookie(
    name=ADMIN_COOKIE,
    scheme_name="AdminSession",
    description="The session cookie that logging in at /login sets.",
    auto_error=False,
)


def require_admin(
    request: Request,
    _key: Annotated[str | None, Security(ADMIN_KEY_HEADER)] = None,
    _bearer: Annotated[object, Security(ADMIN_BEARER)] = None,
    _session: Annotated[str | None, Security(ADMIN_SESSION)] = None,
) -> None:
    """The admin key (header) or a login session: 401 without, 403 when admin is off,
    429 after too many wrong keys from this address (or in all)."""
    try:
        get_admin_auth(request).check(request.headers, request.cookies, client_id(request))
    except AdminDenied as denied:
        if denied.status == 429:
            raise RateLimited(denied.detail, denied.retry_after) from None
        raise AdminRequired(denied.detail, denied.status) from None


def limit_questions(request: Request) -> None:
    """Per-client rate limit and daily cap of questions (429 with Retry-After)."""
    town = town_of(request)
    (town.limiter if town is not None else request.app.state.limiter).hit(client_id(request))


def limit_feedback(request: Request) -> None:
    town = town_of(request)
    limiter = town.feedback_limiter if town is not None else request.app.state.feedback_limiter
    limiter.hit(client_id(request))
