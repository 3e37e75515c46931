"""Upgrade: an index the previous release built opens and answers with today's code,
and nothing is embedded again (the numbered migrations of ``ingest.migrations``)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from factories import CountingEmbedder
from prevrelease import DIM, FIXTURE, INPUTS, REPO, build_index, history_problem, unpack_fixture

from madoguchi.ingest.migrations import MIGRATIONS
from madoguchi.ingest.services import build_services
from madoguchi.kit.config import Settings


def _check_upgraded(data: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emb = CountingEmbedder(dim=DIM)
    settings = Settings(data_dir=data, embedder={"kind": "fake", "dim": DIM})
    svc = build_services(settings, embedder=emb)
    before = svc.index.chunk_count()
    assert before > 50
    res = svc.ask("粗大ごみはどのように出せばよいですか")
    assert not res.answer.refused
    assert [c.source_id for c in res.answer.citations] == ["demo/faq.csv#1"]
    assert emb.embedded == []  # answering re-embedded no chunk
    # every migration of today's code is recorded, none left for later
    names = {
        r[0]
        for r in sqlite3.connect(data / "catalogue.sqlite").execute("SELECT name FROM migrations")
    }
    assert names == {m.__name__ for m in MIGRATIONS}
    # the next ingest of the same files finds nothing to embed, and nothing to repair
    cwd = workdir / "again"
    (cwd / "demo").mkdir(parents=True)
    shutil.copy(REPO / "demo" / "faq.csv", cwd / "demo" / "faq.csv")
    shutil.copytree(REPO / "demo" / "pages", cwd / "demo" / "pages")
    monkeypatch.chdir(cwd)
    report = svc.ingest(list(INPUTS))
    assert report.chunks_embedded == 0
    assert report.repaired == {}
    assert not report.added and not report.updated and not report.removed
    assert emb.embedded == []
    assert svc.index.chunk_count() == before
    svc.close()


def test_committed_previous_release_index_opens_without_reembedding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert FIXTURE.stat().st_size < 1_000_000
    data = unpack_fixture(tmp_path)
    _check_upgraded(data, tmp_path, monkeypatch)


def test_index_built_from_the_previous_release_in_git_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = history_problem()
    if problem:
        print(f"skipped: {problem}")
        pytest.skip(problem)
    data = build_index(tmp_path)
    _check_upgraded(data, tmp_path, monkeypatch)
