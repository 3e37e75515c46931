"""Security of the service: origins (CORS), admin key and login, rate limits, body limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from madoguchi.ui.api import create_app
from madoguchi.ui.security import OriginPolicy, RateLimited, RateLimiter
from tests.ui.test_api import Q, make_services

KEY = "s3cret-admin-key"


def app_for(settings, **overrides):
    conf = settings.with_overrides(**{"server.admin_key": KEY, **overrides})
    return create_app(services=make_services(conf), admin=False)


@pytest.fixture
def client(settings):
    with TestClient(
        app_for(settings, **{"server.allowed_origins": ["https://www.town.example.jp"]})
    ) as c:
        yield c


# ---------------------------------------------------------------- origins


def test_origin_patterns():
    p = OriginPolicy(
        ["https://www.town.example.jp", "https://*.city.example.jp", "http://localhost:*"]
    )
    assert p.allows("https://www.town.example.jp")
    assert p.allows("https://www.town.example.jp/")
    assert not p.allows("http://www.town.example.jp")
    assert not p.allows("https://www.town.example.jp.evil.com")
    assert p.allows("https://kurashi.city.example.jp")
    assert not p.allows("https://city.example.jp.evil.com")
    assert p.allows("http://localhost:8123") and not p.allows("http://localhost.evil:80")
    assert OriginPolicy(["*"]).allows("https://anything.example")
    assert not OriginPolicy([]).allows("https://www.town.example.jp")


def test_cors_headers_for_an_allowed_origin(client):
    origin = "https://www.town.example.jp"
    pre = client.options(
        "/api/v1/ask",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == origin
    assert "POST" in pre.headers["access-control-allow-methods"]
    r = client.post("/api/v1/ask", json={"question": Q}, headers={"origin": origin})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
    # a cross-origin page may read Retry-After, so the widget can say how long to wait
    assert "retry-after" in r.headers["access-control-expose-headers"].lower()
    assert client.get("/api/v1/config", headers={"origin": origin}).status_code == 200


def test_other_origins_are_refused_with_403_json(client):
    evil = "https://evil.example.com"
    r = client.post("/api/v1/ask", json={"question": Q}, headers={"origin": evil})
    assert r.status_code == 403 and r.json()["error"] == "OriginNotAllowed"
    assert "access-control-allow-origin" not in r.headers
    pre = client.options(
        "/api/v1/ask", headers={"origin": evil, "access-control-request-method": "POST"}
    )
    assert pre.status_code == 403
    # no Origin (curl, server-to-server) and the service's own pages are fine
    assert client.post("/api/v1/ask", json={"question": Q}).status_code == 200
    own = client.post("/api/v1/ask", json={"question": Q}, headers={"origin": "http://testserver"})
    assert own.status_code == 200
    # the script itself can be fetched by any page (CORS governs the API calls it makes)
    assert client.get("/widget.js", headers={"origin": evil}).status_code in (200, 404)


def test_html_pages_cannot_be_framed(client):
    assert client.get("/login").headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------- admin


def test_admin_api_requires_the_key(client):
    for method, path in [
        ("GET", "/api/v1/admin/sources"),
        ("GET", "/api/v1/admin/turns"),
        ("GET", "/api/v1/admin/unanswered.csv"),
        ("DELETE", "/api/v1/admin/sources?source=faq.csv"),
    ]:
        r = client.request(method, path)
        assert r.status_code == 401 and r.json()["error"] == "AdminRequired", path
        r = client.request(method, path, headers={"x-api-key": "wrong"})
        assert r.status_code == 401, path
    r = client.post("/api/v1/admin/try", json={"question": Q}, headers={"x-api-key": "nope"})
    assert r.status_code == 401
    # nothing was removed by the refused DELETE
    assert client.get("/readyz").json()["chunks"] == 1


def test_admin_api_with_the_key(client):
    h = {"x-api-key": KEY}
    assert client.get("/api/v1/admin/sources", headers=h).json() == [
        {"source": "faq.csv#1", "title": Q, "kind": "faq", "chunks": 1}
    ]
    bearer = {"authorization": f"Bearer {KEY}"}
    r = client.post("/api/v1/admin/try", json={"question": Q}, headers=bearer)
    assert r.status_code == 200
    data = r.json()
    assert data["hits"][0]["source"] == "faq.csv#1" and data["hits"][0]["signals"]["dense"] > 0
    assert "dense" in data["hits"][0]["ranks"] and data["timings"]
    client.post("/api/v1/ask", json={"question": "090-0000-1111 に電話したい"})
    turns = client.get("/api/v1/admin/turns", headers=h).json()
    assert len(turns) == 1 and "[電話]" in turns[0]["question"]  # /try is not logged
    csv_ = client.get("/api/v1/admin/unanswered.csv", headers=h)
    assert csv_.status_code == 200 and csv_.headers["content-type"].startswith("text/csv")
    assert csv_.text.startswith("\ufeffquestion,count")
    assert client.delete("/api/v1/admin/sources?source=nothing", headers=h).status_code == 404
    assert client.delete("/api/v1/admin/sources?source=faq.csv", headers=h).json() == {"removed": 1}
    assert client.get("/readyz").json()["chunks"] == 0


def test_admin_switched_off_without_a_key(settings):
    app = create_app(services=make_services(settings), admin=False)
    with TestClient(app) as c:
        r = c.get("/api/v1/admin/sources", headers={"x-api-key": ""})
        assert r.status_code == 403 and "ADMIN_KEY" in r.json()["detail"]
        r = c.post("/login", data={"key": ""}, follow_redirects=False)
        assert r.headers["location"] == "/login?error=1"


def test_login_sets_a_cookie_that_is_not_the_key(client):
    r = client.post("/login", data={"key": "wrong"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?error=1"
    assert "キーが正しくありません" in client.get("/login?error=1").text
    r = client.post("/login", data={"key": KEY}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/"
    cookie = r.cookies.get("madoguchi_admin")
    assert cookie and KEY not in cookie
    assert "httponly" in r.headers["set-cookie"].lower()
    assert client.get("/api/v1/admin/sources").status_code == 200  # the client kept the cookie
    client.get("/logout")
    assert client.get("/api/v1/admin/sources").status_code == 401
    client.cookies.set("madoguchi_admin", "forged")
    assert client.get("/api/v1/admin/sources").status_code == 401


def test_login_with_a_malformed_body_is_not_a_500(client):
    r = client.post(
        "/login",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=x"},
        follow_redirects=False,
    )
    assert r.status_code == 303


# ---------------------------------------------------------------- rate limits


def test_rate_limiter_bucket_and_daily_cap():
    rl = RateLimiter(per_minute=3, daily_cap=5)
    t = 1_000_000.0
    for _ in range(3):
        rl.hit("a", now=t)
    with pytest.raises(RateLimited) as e:
        rl.hit("a", now=t)
    assert e.value.retry_after == 20  # one token every 20 s
    rl.hit("b", now=t)  # other clients are unaffected
    rl.hit("a", now=t + 20)
    rl.hit("a", now=t + 40)
    with pytest.raises(RateLimited) as e:  # 5 used today
        rl.hit("a", now=t + 200)
    assert "daily" in e.value.detail and e.value.retry_after > 60
    next_day = (int((t + 9 * 3600) // 86400) + 1) * 86400 - 9 * 3600
    rl.hit("a", now=next_day + 1)
    RateLimiter(0, 0).hit("x")  # switched off


def test_rate_limiter_forgets_idle_clients():
    rl = RateLimiter(per_minute=10, daily_cap=0, max_clients=3)
    for i in range(3):
        rl.hit(f"c{i}", now=0.0)
    rl.hit("new", now=1000.0)
    assert set(rl._buckets) == {"new"}


def test_api_rate_limit_is_429_json_with_retry_after(settings):
    app = app_for(settings, **{"server.rate_limit_per_minute": 2, "server.daily_cap": 0})
    with TestClient(app) as c:
        assert c.post("/api/v1/ask", json={"question": Q}).status_code == 200
        assert c.post("/api/v1/ask/stream", json={"question": Q}).status_code == 200
        r = c.post("/api/v1/ask", json={"question": Q})
        assert r.status_code == 429 and r.json()["error"] == "RateLimited"
        assert int(r.headers["retry-after"]) >= 1
        assert c.post("/api/v1/ask/stream", json={"question": Q}).status_code == 429
        assert "madoguchi_rate_limited_total 2.0" in c.get("/metrics").text
        assert c.get("/api/v1/config").status_code == 200  # config and health are not limited


def test_daily_cap_per_client_behind_a_trusted_proxy(settings):
    app = app_for(
        settings,
        **{
            "server.rate_limit_per_minute": 0,
            "server.daily_cap": 2,
            "server.trust_forwarded_for": True,
        },
    )
    # the proxy on 127.0.0.1 appended the address it was connected from; what the client
    # sent before it (203.0.113.5 here) does not count
    with TestClient(app, client=("127.0.0.1", 40000)) as c:
        a = {"x-forwarded-for": "203.0.113.5, 10.0.0.1"}
        b = {"x-forwarded-for": "203.0.113.5, 198.51.100.7"}
        for _ in range(2):
            assert c.post("/api/v1/ask", json={"question": Q}, headers=a).status_code == 200
        r = c.post("/api/v1/ask", json={"question": Q}, headers=a)
        assert r.status_code == 429 and "daily" in r.json()["detail"]
        assert c.post("/api/v1/ask", json={"question": Q}, headers=b).status_code == 200


# ---------------------------------------------------------------- body limits


def test_body_limit_follows_the_setting(settings):
    app = app_for(settings, **{"server.max_body_bytes": 2048})
    with TestClient(app) as c:
        r = c.post("/api/v1/ask", json={"question": "あ" * 1000})
        assert r.status_code == 413 and set(r.json()) == {"error", "detail"}
        r = c.post(
            "/api/v1/feedback", json={"answer_id": "x", "helpful": True, "comment": "x" * 3000}
        )
        assert r.status_code == 413
        r = c.post("/api/v1/ask", content=b"{}", headers={"content-length": "abc"})
        assert r.status_code == 400
