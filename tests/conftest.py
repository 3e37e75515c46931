"""Shared fixtures: settings on a temporary data dir, a fake embedder, real-data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def settings(tmp_path: Path):
    from madoguchi.kit.config import Settings

    return Settings(
        data_dir=tmp_path / "data",
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
    )


@pytest.fixture
def chroma_settings(tmp_path: Path):
    from madoguchi.kit.config import Settings

    return Settings(data_dir=tmp_path / "data", embedder={"kind": "fake", "dim": 256})


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
SCREENSHOTS = REPO / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright.

    One per test module, not per session: while sync Playwright runs, its event loop is
    marked running in the main thread, which would stop every later async test
    (langchain-tests' standard tests) from starting a loop of its own.

    Skipped on a developer machine without chromium; on CI (CI=true) a missing
    browser is a failure, because ./run test installs it.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("/usr/bin/chromium is missing on CI; ./run test should have installed it")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def site():
    """A small town web site served on localhost (tests/localsite.py), for crawl and sync."""
    from localsite import LocalSite, build_town_site

    s = LocalSite().start()
    build_town_site(s)
    yield s
    s.stop()


def _backend_missing(why: str | None) -> None:
    """Skip (printing why) when a shared back-end's binaries are absent; on CI (CI=true)
    fail instead, since ./run test installs them."""
    if why is None:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{why} (on CI ./run test installs it)")
    print(f"\nskipped: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (tests/shared_backends.py), for the
    session; tests that stop it start it again."""
    from shared_backends import PostgresCluster, postgres_missing

    _backend_missing(postgres_missing())
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def chroma_server():
    """A ``chroma run`` server on 127.0.0.1 for the session (tests/shared_backends.py)."""
    from shared_backends import ChromaServer, chroma_cli

    _backend_missing(None if chroma_cli() else "the chroma CLI (package chromadb) is missing")
    server = ChromaServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def shared_settings(tmp_path: Path, pg_cluster, chroma_server, request):
    """Settings on both shared back-ends, in a namespace of this test's own."""
    import hashlib

    from madoguchi.kit.config import Settings

    ns = "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    return Settings(
        data_dir=tmp_path / "data",
        embedder={"kind": "fake", "dim": 256},
        store={
            "database_url": pg_cluster.url,
            "chroma_url": chroma_server.url,
            "namespace": ns,
            "pool_timeout": 2.0,
            "poll_seconds": 0.5,
        },
    )
