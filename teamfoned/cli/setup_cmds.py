"""Subcommands that set teamfoned up: check-config, db (upgrade, sql)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from teamfoned.cli.base import (
    EXIT_USER_ERROR,
    command,
    settings_of,
)
from teamfoned.config import ConfigError, load_settings


@command
def _check_config(sub: Any) -> None:
    p = sub.add_parser("check-config", help="validate the configuration file")
    p.add_argument("file", nargs="?", help="config file (default: --config)")

    def handle(args: argparse.Namespace) -> int:
        path = args.file or args.config
        warnings: list[str] = []
        try:
            load_settings(path, warnings)
        except ConfigError as exc:
            print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            for warning in warnings:
                print(f"  warning: {warning}", file=sys.stderr)
            return EXIT_USER_ERROR
        for warning in warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
        print(f"{path}: OK")
        return 0

    p.set_defaults(handler=handle)


@command
def _db(sub: Any) -> None:
    p = sub.add_parser("db", help="database schema")
    actions = p.add_subparsers(dest="db_action", required=True)
    up = actions.add_parser("upgrade", help="apply the schema migrations")

    def handle(args: argparse.Namespace) -> int:
        settings = settings_of(args)

        async def main() -> str | None:
            from teamfoned.store.engine import create_engine
            from teamfoned.store.migrate import current_revision, upgrade

            engine = create_engine(settings.database.url)
            try:
                await upgrade(engine, default_region=settings.telephony.default_region)
                return await current_revision(engine)
            finally:
                await engine.dispose()

        print(f"database at revision {asyncio.run(main())}")
        return 0

    up.set_defaults(handler=handle)

    dump = actions.add_parser("sql", help="write the schema as plain SQL (PostgreSQL and SQLite) for DBAs")
    dump.add_argument("--output-dir", type=Path, default=Path("sql"), help="default: %(default)s")

    def write_sql(args: argparse.Namespace) -> int:
        from teamfoned.store.schema_sql import schema_files

        args.output_dir.mkdir(parents=True, exist_ok=True)
        for path, text in schema_files(args.output_dir).items():
            path.write_text(text)
            print(f"wrote {path}")
        return 0

    dump.set_defaults(handler=write_sql)
