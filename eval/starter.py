"""Starter question sets: from a FAQ CSV, and from the conversation log for staff to label.

The log is read straight from ``<data_dir>/conversations.sqlite`` (table
``turns``, written by the API; on shared back-ends, that table in PostgreSQL), read-only, so an evaluator can run this on a
copy of a live server's folder without touching it. Questions there are
already masked (phone numbers, e-mail addresses, 12-digit numbers).

Log items cannot be scored until a person says whether the question is
answerable and which source holds the answer, so they are written with
``"answerable": null`` and ``"needs_label": true``; ``load_dataset`` refuses
such a file with a message saying how many items still need labels.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

from madoguchi.eval.dataset import EvalItem, dataset_from_faq_csv
from madoguchi.kit.config import StoreSettings
from madoguchi.kit.errors import InputError, StoreError

LOG_FILE = "conversations.sqlite"


def items_from_faq_csv(path: str | Path) -> list[EvalItem]:
    """Each FAQ row's own question as a query that must find that row.

    Source ids are the ingest ones (the path as given, ``#`` the row's ID), so
    run the evaluation from the directory the CSV was ingested from.
    """
    from madoguchi.connectors.faq_csv import FaqCsvConnector
    from madoguchi.connectors.folder import source_id_for

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    conn = FaqCsvConnector(p, source_id_for(p))
    rows = [(d.source_id, str(d.meta.get("question") or "")) for d in conn.documents()]
    if conn.kind != "faq":
        raise InputError(f"{p}: not a FAQ table (no question and answer columns found)")
    items = dataset_from_faq_csv(rows)
    if not items:
        raise InputError(f"{p}: no rows with a question")
    return items


def _key(question: str) -> str:
    return "".join(unicodedata.normalize("NFKC", question).split()).lower()


_LOG_QUERY = (
    "SELECT id, ts, question, lang, answer, citations, refused, mode, confidence,"
    " feedback, comment FROM turns WHERE refused = 1 OR feedback = 0 ORDER BY ts, id"
)


def items_from_log(
    data_dir: str | Path, store: StoreSettings | None = None
) -> list[dict[str, Any]]:
    """Thumbs-down and refused questions of the log, oldest first, one per distinct question.

    Each record carries what the assistant did (``log``: answer, citations,
    confidence, how often it was asked, the resident's comment) so the person
    labelling sees why it is there. With ``store.database_url`` the log is the one the
    replicas share in PostgreSQL (read with one SELECT, nothing written).
    """
    if store is not None and store.database_url:
        from madoguchi.kit.db import PgDatabase

        db = PgDatabase(store.database_url, store.pg_schema, min_size=0, max_size=1)
        try:
            rows = db.execute(_LOG_QUERY).fetchall()
        except StoreError as exc:
            raise InputError(f"{db.where}: cannot read the turns table: {exc}") from exc
    else:
        rows = _sqlite_rows(Path(data_dir) / LOG_FILE)
    return _items(rows)


def _sqlite_rows(path: Path) -> list[tuple[Any, ...]]:
    if not path.is_file():
        raise InputError(f"{path}: no conversation log (is this the server's data directory?)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute(_LOG_QUERY).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise InputError(f"{path}: cannot read the turns table: {exc}") from exc


def _items(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tid, ts, question, lang, answer, citations, refused, mode, conf, feedback, comment in rows:
        if not question or not str(question).strip():
            continue
        key = _key(question)
        if key in out:
            rec = out[key]
            rec["log"]["times"] += 1
            if comment and comment not in rec["log"]["comments"]:
                rec["log"]["comments"].append(comment)
            continue
        try:
            cited = [c.get("source") for c in json.loads(citations or "[]") if isinstance(c, dict)]
        except json.JSONDecodeError:
            cited = []
        why = "refused" if refused else "thumbs-down"
        if refused and feedback == 0:
            why = "refused, thumbs-down"
        out[key] = {
            "id": f"log-{len(out) + 1:04d}",
            "question": str(question).strip(),
            "lang": lang or "ja",
            "answerable": None,
            "needs_label": True,
            "expected_sources": [],
            "expected_answer_contains": [],
            "note": why,
            "log": {
                "turn": tid,
                "ts": ts,
                "refused": bool(refused),
                "feedback": feedback,
                "mode": mode,
                "confidence": conf,
                "answer": (answer or "")[:400],
                "cited": cited,
                "times": 1,
                "comments": [comment] if comment else [],
            },
        }
    return list(out.values())


def write_jsonl(records: list[dict[str, Any]], path: str | Path) -> None:
    Path(path).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
