"""An index built by the previous release, for the upgrade tests.

``tests/fixtures/index_prev_release.tar.gz`` holds the data directory that the
previous release (commit ``PREVIOUS_RELEASE`` of this repository) wrote when it
ingested ``demo/faq.csv`` and ``demo/pages`` with the fake embedder (dimension 256)
into Chroma; it is committed so the test runs in a shallow clone too. Rebuild it
(from a full clone) with::

    .venv/bin/python tests/prevrelease.py

``build_index`` does the same from git history: the commit's tree is extracted with
``git archive`` and its own ``madoguchi ingest`` runs in a subprocess with
``PYTHONPATH`` pointing at that tree, so none of today's code takes part.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREVIOUS_RELEASE = "23657ed"
FIXTURE = REPO / "tests" / "fixtures" / "index_prev_release.tar.gz"
#: what the previous release ingested, as source ids (relative to the working folder)
INPUTS = ("demo/faq.csv", "demo/pages")
DIM = 256


def history_problem(commit: str = PREVIOUS_RELEASE) -> str | None:
    """Why the commit's tree cannot be had here (no git, not a checkout, a shallow
    clone without it), or None."""
    if shutil.which("git") is None:
        return "git is not installed"
    try:
        res = subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"git failed: {exc}"
    if res.returncode != 0:
        return (
            f"commit {commit} (the previous release) is not in this clone's history "
            "(a shallow clone?); the committed fixture index covers the upgrade instead"
        )
    return None


def extract_tree(commit: str, into: Path) -> Path:
    """The commit's files under ``into/src`` (``git archive``)."""
    src = into / "src"
    src.mkdir(parents=True)
    blob = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(src, filter="data")
    return src


def build_index(workdir: Path, commit: str = PREVIOUS_RELEASE) -> Path:
    """Ingest ``INPUTS`` with the commit's own code; returns the data directory."""
    src = extract_tree(commit, workdir)
    cwd = workdir / "work"
    (cwd / "demo").mkdir(parents=True)
    shutil.copy(REPO / "demo" / "faq.csv", cwd / "demo" / "faq.csv")
    shutil.copytree(REPO / "demo" / "pages", cwd / "demo" / "pages")
    data = workdir / "data"
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "MADOGUCHI_DATA_DIR": str(data),
        "MADOGUCHI_EMBEDDER__KIND": "fake",
        "MADOGUCHI_EMBEDDER__DIM": str(DIM),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    env.pop("MADOGUCHI_CONFIG", None)
    subprocess.run(
        [sys.executable, "-m", "madoguchi.ui.cli", "ingest", *INPUTS, "--json"],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return data


def unpack_fixture(into: Path) -> Path:
    """The committed fixture's data directory, unpacked under ``into``."""
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(into, filter="data")
    return into / "data"


def main() -> None:
    import tempfile

    problem = history_problem()
    if problem:
        raise SystemExit(problem)
    with tempfile.TemporaryDirectory() as tmp:
        data = build_index(Path(tmp))
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(FIXTURE, "w:gz") as tar:
            tar.add(data, arcname="data")
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
