"""The schema as plain SQL for DBAs, generated from the migrations, one file per database; a test keeps them current.

PostgreSQL: the migrations' own DDL (Alembic offline mode). SQLite: its migrations rebuild
tables (batch mode), which needs a live database, so the migrations are run on a scratch
file and its final schema is dumped.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import tempfile
from pathlib import Path

from alembic import command

from teamfoned.store.migrate import alembic_config, head_revision

DIALECTS = ("postgresql", "sqlite")
HEADER = ("-- teamfoned schema for {dialect}, generated from the migrations by `teamfoned db sql`:\n"
          "-- do not edit. Apply by hand only if you do not run `teamfoned db upgrade`.\n\n")


def _postgresql() -> str:
    out = io.StringIO()
    config = alembic_config("postgresql+psycopg://")  # offline mode: a dialect, no connection
    config.output_buffer = out
    command.upgrade(config, "head", sql=True)
    return out.getvalue()


def _sqlite() -> str:
    from teamfoned.store.engine import create_engine
    from teamfoned.store.migrate import upgrade

    async def migrate(url: str) -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "schema.db"
        asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                              "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
            # The one row a migration seeds: the directory's triggers count changes in it.
            seeds = [f"INSERT INTO directory_version (id, version) VALUES ({i}, {v})"
                     for i, v in db.execute("SELECT id, version FROM directory_version ORDER BY id")]
    # A rebuilt table lists its constraints and indexes in no fixed order: sort them, so the
    # file changes only when the schema does.
    statements = []
    for kind, name, _, sql in rows:
        if kind == "table":
            statements.append(_sorted_constraints(sql))
            statements += sorted(i[3] for i in rows if i[0] == "index" and i[2] == name)
    statements += seeds
    # Triggers last: they may name any table (the directory's change signal updates another).
    statements += sorted(i[3] for i in rows if i[0] == "trigger")
    statements.append(f"INSERT INTO alembic_version (version_num) VALUES ('{head_revision()}')")
    return "BEGIN;\n\n" + "".join(f"{s};\n\n" for s in statements) + "COMMIT;\n"


def _sorted_constraints(create_table: str) -> str:
    head, _, rest = create_table.partition("(\n")
    body, _, tail = rest.rpartition("\n)")
    lines = [line.rstrip().rstrip(",").rstrip() for line in body.split("\n")]
    columns = [line for line in lines if not line.lstrip().startswith("CONSTRAINT")]
    constraints = sorted(line for line in lines if line.lstrip().startswith("CONSTRAINT"))
    return head + "(\n" + ", \n".join(columns + constraints) + "\n)" + tail


def schema_sql(dialect: str) -> str:
    body = _postgresql() if dialect == "postgresql" else _sqlite()
    return HEADER.format(dialect=dialect) + body


def schema_files(folder: Path) -> dict[Path, str]:
    return {folder / f"schema-{dialect}.sql": schema_sql(dialect) for dialect in DIALECTS}
