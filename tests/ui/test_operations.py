"""What operators see: /docs and /redoc with no internet, the admin key in the OpenAPI
document, and /metrics labelled by route for the admin screen and the documentation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from madoguchi.ui.api import create_app
from tests.ui.test_api import Q, make_services
from tests.ui.test_widget_browser import LoopbackServer

KEY = "admin-key-for-operations-tests"


@pytest.fixture
def app(settings):
    conf = settings.with_overrides(**{"server.admin_key": KEY})
    return create_app(services=make_services(conf))


def _assets(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', page)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_this_servers_files(app, path):
    with TestClient(app) as c:
        r = c.get(path)
        assert r.status_code == 200
        assets = _assets(r.text)
        assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
        assert "cdn." not in r.text and "fonts.googleapis" not in r.text
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "https:" not in csp and "http:" not in csp
        for asset in assets:
            got = c.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
        assert c.get("/docs/assets/nothing.js").status_code == 404


def test_openapi_declares_the_admin_key(app):
    spec = app.openapi()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["AdminKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["AdminKey"]["description"],
    }
    assert schemes["AdminBearer"]["scheme"] == "bearer"
    assert schemes["AdminSession"]["in"] == "cookie"
    assert schemes["PrefectureKey"]["name"] == "X-API-Key"
    for path, ops in spec["paths"].items():
        for op in ops.values():
            names = {name for req in op.get("security", []) for name in req}
            if path.startswith("/api/v1/admin/"):
                assert names == {"AdminKey", "AdminBearer", "AdminSession"}, path
            elif path.startswith("/api/v1/prefecture/"):
                assert names == {"PrefectureKey"}, path
            else:
                assert not names, path  # the residents' side and operations stay open
    # declared, and still enforced the same way
    with TestClient(app) as c:
        assert c.get("/api/v1/admin/sources").status_code == 401
        assert c.get("/api/v1/admin/sources", headers={"x-api-key": KEY}).status_code == 200
        bearer = {"authorization": f"Bearer {KEY}"}
        assert c.get("/api/v1/admin/sources", headers=bearer).status_code == 200


def _requests(text: str) -> dict[tuple[str, str, str], float]:
    found = re.findall(
        r'^madoguchi_http_requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\} (\S+)$',
        text,
        re.M,
    )
    return {(m, r, s): float(n) for m, r, s, n in found}


def test_metrics_label_the_admin_screen_and_the_docs_by_route(app):
    with TestClient(app) as c:
        key = {"x-api-key": KEY}
        assert c.get("/admin/", headers=key).status_code == 200
        assert c.get("/admin/config", headers=key).status_code == 200
        assert c.get("/admin/gradio_api/info", headers=key).status_code == 200
        assert c.get("/admin/config").status_code == 401  # stopped at the gate
        assert c.get("/docs").status_code == 200
        assert c.get("/redoc").status_code == 200
        assert c.get("/docs/assets/swagger-ui.css").status_code == 200
        assert c.get("/openapi.json").status_code == 200
        assert c.post("/api/v1/ask", json={"question": Q}).status_code == 200
        assert c.get("/no/such/page").status_code == 404
        got = _requests(c.get("/metrics").text)
    assert got[("GET", "/admin/", "200")] == 1
    assert got[("GET", "/admin/config", "200")] == 1
    assert got[("GET", "/admin/gradio_api/info", "200")] == 1
    assert got[("GET", "/admin", "401")] == 1
    assert got[("GET", "/docs", "200")] == 1
    assert got[("GET", "/redoc", "200")] == 1
    assert got[("GET", "/docs/assets", "200")] == 1
    assert got[("GET", "/openapi.json", "200")] == 1
    assert got[("POST", "/api/v1/ask", "200")] == 1
    assert got[("GET", "unmatched", "404")] == 1
    # no Gradio route leaks out without its mount, and /docs is never "unmatched"
    assert not [r for (_m, r, _s) in got if r in {"/", "/config", "/gradio_api/info"}]
    assert sum(n for (_m, r, s), n in got.items() if r == "unmatched") == 1


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_render_in_a_browser_without_internet(browser, screenshot_dir, app, path):
    """Every request the page makes goes to this server; anything else is aborted (as on
    a network with no internet) and would fail the test. The page still draws the API."""
    with LoopbackServer(app) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def only_loopback(route):
            url = route.request.url
            if url.startswith((server.api + "/", "data:", "blob:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        page.route("**/*", only_loopback)
        page.goto(server.api + path)
        shot = screenshot_dir / f"docs{path.replace('/', '_')}.png"
        try:  # both draw an operation's summary, read from /openapi.json
            page.get_by_text("/api/v1/ask", exact=True).first.wait_for(timeout=30000)
        finally:
            page.screenshot(path=str(shot))
        page.close()
    assert outside == []
