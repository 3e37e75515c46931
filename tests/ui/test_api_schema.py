"""Property-based run over the OpenAPI schema (schemathesis): no input gives a server error.

Every documented operation gets generated bodies, query strings and headers,
valid and invalid; the app runs on fake-embedder services with the admin key
supplied, so the admin operations are exercised too. Responses must not be
5xx and must match the documented status codes, content types and schemas.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from madoguchi.ui.api import create_app
from tests.ui.test_api import make_services

KEY = "schema-test-key"


def _labels() -> list[tuple[str, str, str]]:
    """Every operation in positive mode; negative mode where there is input to break."""
    spec = create_app(admin=False, settings=_bare()).openapi()
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            out.append((method.upper(), path, "positive"))
            if op.get("parameters") or op.get("requestBody"):
                out.append((method.upper(), path, "negative"))
    return out


def _bare():
    from madoguchi.kit.config import Settings

    return Settings(embedder={"kind": "fake"}, store={"kind": "memory"})


@pytest.fixture
def app(settings, tmp_path):
    conf = settings.with_overrides(
        **{
            "server.admin_key": KEY,
            "server.rate_limit_per_minute": 0,
            "server.daily_cap": 0,
            "server.upload_dir": str(tmp_path / "uploads"),
        }
    )
    app = create_app(services=make_services(conf), admin=False)
    with TestClient(app):  # runs the lifespan: services and the conversation log in place
        yield app


@pytest.mark.parametrize(("method", "path", "mode"), _labels())
def test_no_server_errors(app, method, path, mode):
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    op = schema[path][method]
    strategy = op.as_strategy(
        GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    )
    checks = [not_a_server_error, content_type_conformance, status_code_conformance]
    if mode == "positive":
        checks.append(response_schema_conformance)

    @given(case=strategy)
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        case.call_and_validate(headers={"x-api-key": KEY}, checks=checks)

    run()
