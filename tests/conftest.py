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
    from kit.config import Settings

    return Settings(
        data_dir=tmp_path / "data",
        embedder={"kind": "fake", "dim": 256},
        store={"kind": "memory"},
    )


@pytest.fixture
def chroma_settings(tmp_path: Path):
    from kit.config import Settings

    return Settings(data_dir=tmp_path / "data", embedder={"kind": "fake", "dim": 256})


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
