"""The conversation log as data at rest and as exported files.

- CSV exports open in Excel: a cell a resident wrote must never be read as a formula
  (OWASP "CSV injection"), through every way staff export (the API route, the admin
  screen's button).
- Deleted and expired rows leave no text in the database files (``secure_delete``,
  a checkpoint after the purge), and the files are readable by their owner only.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import stat
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.kit.convlog import FILENAME, ConversationLog
from madoguchi.ui.admin import AdminActions
from madoguchi.ui.api import create_app
from tests.ui.test_api import make_services

KEY = "data-security-admin-key"

# What a resident can type to have Excel run something when staff open the export.
FORMULAS = [
    '=HYPERLINK("http://127.0.0.1/x?"&A1,"詳しくはこちら")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+1+1",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\u3000=1+1",
    '＝ＨＹＰＥＲＬＩＮＫ（"http://127.0.0.1"）',
    "＋１＋１",
    "－２＋３",
    "＠ＳＵＭ（１）",
]


def dangerous(cell: str) -> bool:
    """Would a spreadsheet read this cell as a formula (or DDE)? Leading blanks and
    full-width forms are read through, as Excel does with Japanese input."""
    if cell[:1] in ("\t", "\r"):
        return True
    first = cell.lstrip(" \t\r\n\u3000\u00a0\ufeff")[:1]
    return first in "=+-@＝＋－＠﹦﹢﹣﹫−" and first != ""


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_spreadsheet_cell_neutralises_every_formula_start():
    from madoguchi.kit.convlog import spreadsheet_cell

    for f in FORMULAS:
        safe = spreadsheet_cell(f)
        assert safe == "'" + f and not dangerous(safe), repr(f)
    for ok in ["粗大ごみは？", "3-2-1の件", "ごみ=資源?", "メール a@b.jp", "", "'既に引用"]:
        assert spreadsheet_cell(ok) == ok
    assert spreadsheet_cell(3) == 3


@pytest.fixture
def api(settings):
    conf = settings.with_overrides(**{"server.admin_key": KEY})
    with TestClient(create_app(services=make_services(conf), admin=False)) as c:
        yield c


def test_the_api_export_neutralises_formulas_in_questions_and_comments(api):
    for f in FORMULAS:
        r = api.post("/api/v1/ask", json={"question": f})
        assert r.status_code == 200, r.text
        fb = api.post(
            "/api/v1/feedback",
            json={"answer_id": r.json()["answer_id"], "helpful": False, "comment": f},
        )
        assert fb.status_code == 200, fb.text
    r = api.get("/api/v1/admin/unanswered.csv", headers={"x-api-key": KEY})
    assert r.status_code == 200
    rows = rows_of(r.content.decode("utf-8"))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        for col, cell in row.items():
            assert not dangerous(cell), (col, cell)
        assert row["question"].startswith("'") and row["comments"].startswith("'")
    # the text staff read is what was typed, behind the quote
    assert {row["question"][1:].strip() for row in rows} == {f.strip() for f in FORMULAS}


def test_the_admin_screen_export_neutralises_formulas(settings, tmp_path):
    log = ConversationLog.in_data_dir(settings.data_dir)
    for f in FORMULAS:
        t = log.record(
            question=f, lang="ja", answer="", citations=[], refused=True,
            mode="abstain", confidence=0.1, latency_ms=1.0,
        )  # fmt: skip
        log.feedback(t.id, False, f)
    actions = AdminActions(lambda: make_services(settings), lambda: log, settings)
    path = Path(actions.export_unanswered())
    rows = rows_of(path.read_text(encoding="utf-8"))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        for col, cell in row.items():
            assert not dangerous(cell), (col, cell)
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
        assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


def test_old_rows_with_control_characters_are_cleaned_in_the_export(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite")
    t = log.record(
        question="x", lang="ja", answer="", citations=[], refused=True,
        mode="abstain", confidence=0.1, latency_ms=1.0,
    )  # fmt: skip
    # a row written by an older version, before control characters were dropped
    log._run("UPDATE turns SET question = ? WHERE id = ?", ("\x1b\x07\t=1+1", t.id))
    rows = rows_of(log.unanswered_csv())
    assert rows[0]["question"] == "'\t=1+1"


# ------------------------------------------------------------- data at rest

MARKER = "宇宙船ZQXJ免許の取り方を教えてください"


def file_bytes(db: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def test_a_purged_question_leaves_no_text_in_the_files(tmp_path):
    db = tmp_path / FILENAME
    log = ConversationLog(db, retention_days=30)
    now = time.time()
    for i in range(50):
        log.record(
            question=f"{MARKER} {i}", lang="ja", answer=f"回答 {MARKER}", citations=[],
            refused=True, mode="abstain", confidence=0.1, latency_ms=1.0, ts=now - 40 * 86400,
        )  # fmt: skip
    keep = log.record(
        question="粗大ごみは？", lang="ja", answer="a", citations=[], refused=False,
        mode="faq", confidence=0.9, latency_ms=1.0,
    )  # fmt: skip
    assert MARKER.encode() in file_bytes(db)
    assert log.purge(now) == 50
    assert MARKER.encode() not in file_bytes(db)
    assert [t.id for t in log.turns()] == [keep.id]  # the rest is still there
    log.close()
    assert MARKER.encode() not in file_bytes(db)


def test_a_log_from_an_older_version_is_scrubbed_on_open(tmp_path):
    db = tmp_path / FILENAME
    log = ConversationLog(db)
    t = log.record(
        question=MARKER, lang="ja", answer="", citations=[], refused=True,
        mode="abstain", confidence=0.1, latency_ms=1.0,
    )  # fmt: skip
    log.close()
    # an older version deleted without secure_delete: the text stays in free space
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA secure_delete=OFF")
    raw.execute("PRAGMA user_version=0")
    raw.execute("DELETE FROM turns WHERE id = ?", (t.id,))
    raw.commit()
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    assert MARKER.encode() in file_bytes(db)
    ConversationLog(db).close()
    assert MARKER.encode() not in file_bytes(db)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_log_files_are_private(tmp_path):
    old = os.umask(0o022)  # the usual umask that made the file 0644
    try:
        db = tmp_path / "data" / FILENAME
        log = ConversationLog(db)
        log.record(
            question="q", lang="ja", answer="a", citations=[], refused=False,
            mode="faq", confidence=0.9, latency_ms=1.0,
        )  # fmt: skip
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(p.exists() for p in files)
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p, oct(p.stat().st_mode))
        log.close()
        # a file an older version left world-readable is tightened on open
        os.chmod(db, 0o644)
        ConversationLog(db).close()
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        os.umask(old)
