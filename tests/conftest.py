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
