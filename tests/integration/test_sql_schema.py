"""sql/ holds the schema the migrations make, as plain SQL; this fails when it is stale (run `teamfoned db sql`)."""

import sqlite3
from pathlib import Path

import pytest

from teamfoned.store.migrate import head_revision
from teamfoned.store.schema_sql import DIALECTS, schema_files

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def test_sql_files_match_the_migrations():
    for path, text in schema_files(SQL_DIR).items():
        assert path.exists(), f"{path.name} is missing: run `teamfoned db sql`"
        assert path.read_text() == text, f"{path.name} is stale: run `teamfoned db sql` and commit it"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_files_reach_the_head_revision(dialect):
    assert f"'{head_revision()}'" in (SQL_DIR / f"schema-{dialect}.sql").read_text()


def test_the_sqlite_file_applies_by_hand(tmp_path):
    with sqlite3.connect(tmp_path / "by-hand.db") as db:
        db.executescript((SQL_DIR / "schema-sqlite.sql").read_text())
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    assert {"tenants", "members", "teams", "calls", "attempts", "api_tokens"} <= tables
