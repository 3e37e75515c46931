"""Attacks on the web side: the API, the widget's pages, the login and the admin screen.

Each test plays the attack and checks that it fails: a forged ``X-Forwarded-For``
(directly on the app and through the server ``madoguchi serve`` starts), files read or
indexed from outside the admin upload folder, a replayed login cookie, guessed keys,
framing, missing CSP / nosniff, a NUL in a path, and a flood of client addresses.
Everything talks to 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import json
import re
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from madoguchi.ui.admin import gradio_temp_dir
from madoguchi.ui.api import create_app
from madoguchi.ui.security import RateLimiter
from tests.ui.test_api import Q, make_services

KEY = "web-security-test-key-0123456789"
PROXY = ("127.0.0.1", 40000)  # the TCP peer: a reverse proxy on the same machine
FAQ = "ID,質問,回答\n1,犬の登録はどこでしますか,環境衛生課で登録します。\n"


def app_for(settings, admin=False, **overrides):
    conf = settings.with_overrides(**{"server.admin_key": KEY, **overrides})
    return create_app(services=make_services(conf), admin=admin)


def asks(client, n, headers_for):
    """Send ``n`` questions, the i-th with ``headers_for(i)``; the status codes."""
    return [
        client.post("/api/v1/ask", json={"question": Q}, headers=headers_for(i)).status_code
        for i in range(n)
    ]


# ---------------------------------------------------------------- X-Forwarded-For


def test_forwarded_for_is_ignored_unless_trusted(settings):
    app = app_for(settings, **{"server.rate_limit_per_minute": 5, "server.daily_cap": 0})
    with TestClient(app, client=PROXY) as c:
        codes = asks(c, 25, lambda i: {"x-forwarded-for": f"198.51.100.{i}"})
    assert codes == [200] * 5 + [429] * 20


def test_trusted_proxy_takes_the_address_it_appended(settings):
    """The proxy appends its peer to whatever the client sent: only that entry counts."""
    app = app_for(
        settings,
        **{
            "server.rate_limit_per_minute": 5,
            "server.daily_cap": 0,
            "server.trust_forwarded_for": True,
        },
    )
    with TestClient(app, client=PROXY) as c:
        codes = asks(c, 25, lambda i: {"x-forwarded-for": f"198.51.100.{i}, 203.0.113.7"})
        assert codes == [200] * 5 + [429] * 20
        # another resident behind the same proxy has a bucket of their own
        assert asks(c, 1, lambda _: {"x-forwarded-for": "203.0.113.8"}) == [200]


def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy(settings):
    app = app_for(
        settings,
        **{
            "server.rate_limit_per_minute": 5,
            "server.daily_cap": 0,
            "server.trust_forwarded_for": True,
        },
    )
    with TestClient(app, client=("192.0.2.50", 40000)) as c:  # straight to the app
        codes = asks(c, 25, lambda i: {"x-forwarded-for": f"198.51.100.{i}"})
    assert codes == [200] * 5 + [429] * 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_like_the_cli(monkeypatch, tmp_path, *sets: str):
    """What ``madoguchi serve`` would run: its app and its uvicorn options, on loopback."""
    import uvicorn

    from madoguchi.ui.cli.serve import serve

    captured: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: captured.update(app=app, kw=kw))
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    port = _free_port()
    serve(
        host="127.0.0.1",
        port=port,
        admin=False,
        access_log=False,
        set_=[
            f"data_dir={tmp_path / 'data'}",
            "embedder.kind=fake",
            "store.kind=memory",
            "server.rate_limit_per_minute=5",
            "server.daily_cap=0",
            *sets,
        ],
    )
    kw = {**captured["kw"], "log_level": "warning"}
    assert kw["host"] == "127.0.0.1"
    server = uvicorn.Server(uvicorn.Config(captured["app"], **kw))
    return server, port


def _run(server, port, headers_for, n=25) -> list[int]:
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert th.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            return [
                c.post("/api/v1/ask", json={"question": Q}, headers=headers_for(i)).status_code
                for i in range(n)
            ]
    finally:
        server.should_exit = True
        th.join(timeout=15)


def test_served_app_ignores_forwarded_for_from_loopback(monkeypatch, tmp_path):
    server, port = _serve_like_the_cli(monkeypatch, tmp_path)
    codes = _run(server, port, lambda i: {"x-forwarded-for": f"198.51.100.{i}"})
    assert codes == [200] * 5 + [429] * 20


def test_served_app_behind_a_trusted_proxy(monkeypatch, tmp_path):
    server, port = _serve_like_the_cli(monkeypatch, tmp_path, "server.trust_forwarded_for=true")
    codes = _run(server, port, lambda i: {"x-forwarded-for": f"198.51.100.{i}, 203.0.113.7"})
    assert codes == [200] * 5 + [429] * 20


# ---------------------------------------------------------------- admin files (Gradio)


@pytest.fixture
def admin_client(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = app_for(settings, admin=True, **{"server.upload_dir": str(tmp_path / "uploads")})
    with TestClient(app, headers={"x-api-key": KEY}) as c:
        yield app, c


@pytest.fixture
def planted():
    """A file another program left in the system temp folder."""
    path = Path(tempfile.gettempdir()) / f"planted-{uuid.uuid4().hex}.csv"
    path.write_text("ID,質問,回答\n1,秘密ですか,SECRET-PLANTED-123\n", encoding="utf-8")
    yield path
    path.unlink(missing_ok=True)


def test_gradio_file_route_does_not_serve_the_temp_folder(admin_client, planted):
    _app, c = admin_client
    r = c.get(f"/admin/gradio_api/file={planted}")
    assert r.status_code in (401, 403, 404), r.text[:200]
    assert "SECRET-PLANTED" not in r.text


def _gradio_call(c, api_name: str, data: list) -> dict:
    """One Gradio event through the queue, as the screen's JavaScript makes it."""
    deps = c.get("/admin/config").json()["dependencies"]
    fn = next(i for i, d in enumerate(deps) if d.get("api_name") == api_name)
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn, "session_hash": session, "trigger_id": None}
    assert c.post("/admin/gradio_api/queue/join", json=body).status_code == 200
    with c.stream("GET", f"/admin/gradio_api/queue/data?session_hash={session}") as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise AssertionError("the event did not complete")


def _file_data(path: str, name: str) -> dict:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def test_forged_upload_path_is_not_indexed(admin_client, planted):
    app, c = admin_client
    msg = _gradio_call(c, "do_upload", [[_file_data(str(planted), "faq.csv")]])
    sources = [s.source_id for s in app.state.services.index.sources()]
    assert sources == ["faq.csv#1"], sources
    assert "SECRET-PLANTED" not in json.dumps(msg, ensure_ascii=False)
    assert not msg.get("success", True) or "アップロード" in json.dumps(msg, ensure_ascii=False)


def test_a_real_upload_is_still_indexed(admin_client):
    app, c = admin_client
    r = c.post("/admin/gradio_api/upload", files=[("files", ("inu.csv", FAQ.encode(), "text/csv"))])
    assert r.status_code == 200, r.text
    (path,) = r.json()
    msg = _gradio_call(c, "do_upload", [[_file_data(path, "inu.csv")]])
    assert msg.get("success"), msg
    assert "追加 1" in msg["output"]["data"][0]
    assert "uploads/inu.csv#1" in [s.source_id for s in app.state.services.index.sources()]


def test_the_exported_csv_can_still_be_downloaded(admin_client):
    """What the screen makes (the unanswered-questions CSV) is served; it lives in the
    screen's private folder."""
    _app, c = admin_client
    msg = _gradio_call(c, "do_export", [])
    assert msg.get("success"), msg
    out = msg["output"]["data"][1]  # after the tab's status area
    r = c.get("/admin" + out["url"].split("/admin", 1)[1])
    assert r.status_code == 200 and r.text.startswith("\ufeffquestion,count")
    assert Path(out["path"]).resolve().is_relative_to(gradio_temp_dir())


# ---------------------------------------------------------------- login and sessions


def _login(c, key=KEY):
    return c.post("/login", data={"key": key}, follow_redirects=False)


def _cookie(r) -> tuple[str, str]:
    m = re.match(r"([^=]+)=([^;]*)", r.headers["set-cookie"])
    assert m, r.headers
    return m.group(1), m.group(2)


def test_logout_revokes_the_cookie(settings):
    with TestClient(app_for(settings)) as c:
        r = _login(c)
        assert r.status_code == 303 and r.headers["location"] == "/admin/"
        name, value = _cookie(r)
        assert c.get("/api/v1/admin/sources").status_code == 200
        c.get("/logout")
        c.cookies.clear()
        c.cookies.set(name, value)  # the cookie copied before logging out
        assert c.get("/api/v1/admin/sources").status_code == 401


def test_each_login_is_a_new_session(settings):
    with TestClient(app_for(settings)) as c:
        first = _cookie(_login(c))[1]
        c.cookies.clear()
        second = _cookie(_login(c))[1]
    assert first != second


def test_failed_logins_are_throttled_per_client(settings):
    app = app_for(settings)
    with TestClient(app, client=("192.0.2.10", 1)) as c:
        for _ in range(5):
            assert _login(c, "guess").headers["location"] == "/login?error=1"
        r = _login(c)  # even the right key now waits
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "ログイン" in r.text  # a clear message for the person at the screen
        r = c.get("/api/v1/admin/sources", headers={"x-api-key": "guess"})
        assert r.status_code == 429
    with TestClient(app, client=("192.0.2.11", 1)) as other:  # another address is not locked
        assert _login(other).headers["location"] == "/admin/"


def test_failed_logins_are_throttled_globally(settings):
    app = app_for(settings)
    for i in range(60):  # many addresses, each under its own limit
        with TestClient(app, client=(f"198.51.100.{i}", 1)) as c:
            _login(c, "guess")
    with TestClient(app, client=("203.0.113.99", 1)) as c:
        r = _login(c)
        assert r.status_code == 429


# ---------------------------------------------------------------- paths and headers


@pytest.mark.parametrize("name", ["%00.js", "a%00.js", "..%00", "%00"])
def test_nul_in_a_widget_path_is_not_a_500(settings, name):
    with TestClient(app_for(settings), raise_server_exceptions=False) as c:
        r = c.get(f"/widget/{name}")
    assert r.status_code in (400, 404) and r.json()["error"]


def test_admin_and_login_cannot_be_framed(settings, tmp_path):
    app = app_for(settings, admin=True, **{"server.upload_dir": str(tmp_path / "u")})
    with TestClient(app) as c:
        for path, headers in [("/admin/", {"x-api-key": KEY}), ("/login", {})]:
            r = c.get(path, headers=headers)
            assert r.status_code == 200, path
            assert r.headers.get("x-frame-options") == "DENY", path
            assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), path
            assert r.headers.get("cache-control") == "no-store", path
        r = c.get("/api/v1/admin/sources", headers={"x-api-key": KEY})
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-disposition"].startswith("attachment")


def _csp(r) -> dict[str, list[str]]:
    out = {}
    for part in r.headers["content-security-policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_public_pages_have_a_csp_and_every_response_nosniff(settings):
    origins = ["https://www.town.example.jp", "https://*.city.example.jp"]
    app = app_for(settings, **{"server.allowed_origins": origins})
    with TestClient(app) as c:
        home = c.get("/")
        csp = _csp(home)
        assert csp["script-src"] == ["'self'"]
        assert "'unsafe-inline'" not in csp.get("script-src", [])
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        # the page may be framed by the town's own pages, and by no one else
        assert set(csp["frame-ancestors"]) == {"'self'", *origins}
        api = c.get("/api/v1/config")
        assert _csp(api)["default-src"] == ["'none'"]
        for r in (
            home,
            api,
            c.get("/login"),
            c.get("/docs"),
            c.get("/widget.js"),
            c.get("/no/such/page"),
            c.post("/api/v1/ask", content=b"{"),
        ):
            assert r.headers.get("x-content-type-options") == "nosniff", r.url


def test_the_docs_page_is_allowed_what_it_loads(settings):
    """Every script and style /docs loads, and its inline script, are in its CSP."""
    with TestClient(app_for(settings)) as c:
        r = c.get("/docs")
    assert r.status_code == 200
    csp = _csp(r)

    def allowed(url: str, sources: list[str]) -> bool:
        host = re.match(r"https?://[^/]+", url)  # another host by name, this one as 'self'
        return (host.group(0) if host else "'self'") in sources

    scripts = re.findall(r'<script src="([^"]+)"', r.text)
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', r.text)
    assert scripts and styles
    for src in scripts:
        assert allowed(src, csp["script-src"]), src
    for href in styles:
        assert allowed(href, csp["style-src"]), href
    import base64
    import hashlib

    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert inline
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]


# ---------------------------------------------------------------- the rate limiter's table


def test_rate_limiter_table_is_bounded():
    rl = RateLimiter(per_minute=10, daily_cap=100, max_clients=1000)
    for i in range(5000):
        rl.hit(f"10.0.{i // 256}.{i % 256}", now=1_000_000.0 + i * 0.001)
    assert len(rl._buckets) <= 1000


def test_rate_limiter_prunes_idle_full_buckets():
    rl = RateLimiter(per_minute=10, daily_cap=0)
    for i in range(5000):
        rl.hit(f"c{i}", now=1_000_000.0)
    rl.hit("late", now=1_000_000.0 + 120)  # two minutes on: every bucket is full again
    assert len(rl._buckets) <= 10


def test_rate_limiter_prunes_yesterdays_clients():
    rl = RateLimiter(per_minute=10, daily_cap=100)
    t = 1_000_000.0
    for i in range(5000):
        rl.hit(f"c{i}", now=t)
    next_day = (int((t + 9 * 3600) // 86400) + 1) * 86400 - 9 * 3600
    rl.hit("morning", now=next_day + 1)
    assert len(rl._buckets) <= 10


# ---------------------------------------------------------------- the pieces on their own


def test_proxy_chain_reads_from_the_right():
    from madoguchi.ui.security import ProxyChain

    one = ProxyChain(["127.0.0.1", "::1"], hops=1)
    assert one.client("127.0.0.1", ["1.1.1.1, 203.0.113.7"]) == "203.0.113.7"
    assert one.client("127.0.0.1", ["1.1.1.1", "203.0.113.7:5555"]) == "203.0.113.7"
    assert one.client("192.0.2.1", ["203.0.113.7"]) == "192.0.2.1"  # not a trusted peer
    assert one.client("127.0.0.1", ["unknown"]) == "127.0.0.1"  # nothing usable
    assert one.client("127.0.0.1", []) == "127.0.0.1"
    assert one.client("::ffff:127.0.0.1", ["[2001:db8::5]:443"]) == "2001:db8::5"
    # a client on the proxy's own machine claiming to be further away: hops stops it
    assert one.client("127.0.0.1", ["198.51.100.1, 127.0.0.1"]) == "127.0.0.1"
    # two proxies (a load balancer in 10.0.0.0/8, then nginx on loopback)
    two = ProxyChain(["127.0.0.1", "10.0.0.0/8"], hops=2)
    assert two.client("127.0.0.1", ["6.6.6.6, 203.0.113.7, 10.1.2.3"]) == "203.0.113.7"
    assert two.client("127.0.0.1", ["6.6.6.6, 5.5.5.5, 203.0.113.7"]) == "203.0.113.7"
    anyone = ProxyChain(["*"], hops=2)  # hop count alone (e.g. a container network)
    assert anyone.client("172.18.0.4", ["6.6.6.6, 203.0.113.7, 172.18.0.2"]) == "203.0.113.7"
    # a very long header costs no more than its last entries
    assert one.client("127.0.0.1", [",".join(["9.9.9.9"] * 10_000) + ",203.0.113.7"]) == (
        "203.0.113.7"
    )


def test_bad_trusted_proxies_are_a_config_error(settings):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not an IP address"):
        settings.with_overrides(**{"server.trusted_proxies": ["proxy.example"]})


def test_https_behind_the_proxy_gives_a_host_only_secure_cookie(settings):
    app = app_for(settings, **{"server.trust_forwarded_for": True})
    with TestClient(app, client=PROXY) as c:
        r = c.post(
            "/login",
            data={"key": KEY},
            headers={"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"},
            follow_redirects=False,
        )
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("__host-madoguchi_admin=")
    assert "secure" in cookie and "path=/" in cookie and "samesite=strict" in cookie
    assert "domain" not in cookie and "httponly" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_sessions_expire_and_are_bounded():
    from madoguchi.ui.security import AdminSessions

    s = AdminSessions(lifetime_s=60, max_sessions=3)
    token = s.create(now=0)
    assert len(token) >= 43 and s.valid(token, now=59) and not s.valid(token, now=60)
    tokens = [s.create(now=100 + i) for i in range(5)]
    assert len(s) == 3 and not s.valid(tokens[0], now=110) and s.valid(tokens[-1], now=110)
    s.revoke(tokens[-1])
    assert not s.valid(tokens[-1], now=110)
    assert not s.valid(None) and not s.valid("") and not s.valid("x" * 10_000)


def test_login_throttle_refills_over_its_window():
    from madoguchi.ui.security import LoginThrottle

    t = LoginThrottle(per_client=3, overall=100, window_s=900, max_clients=50)
    for _ in range(3):
        assert t.wait("a", now=0) == 0
        t.failed("a", now=0)
    assert t.wait("a", now=0) == pytest.approx(300)  # one try back every 900/3 s
    assert t.wait("b", now=0) == 0
    assert t.wait("a", now=300) == 0
    for i in range(500):  # many addresses: the table stays bounded
        t.failed(f"x{i}", now=1000 + i * 0.001)
    assert len(t._clients) <= 50
