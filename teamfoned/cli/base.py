"""What every subcommand shares: the registry, settings, one database transaction, argument types."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from teamfoned.config import Settings, load_settings
from teamfoned.domain.members import PhonePolicy

EXIT_USER_ERROR = 2

Handler = Callable[[argparse.Namespace], int]
COMMANDS: list[Callable[[Any], None]] = []


class UserError(Exception):
    """A mistake the user can fix; printed without a traceback."""


def command(register: Callable[[Any], None]) -> Callable[[Any], None]:
    """Register a function that adds one subcommand to the parser."""
    COMMANDS.append(register)
    return register


def settings_of(args: argparse.Namespace) -> Settings:
    warnings: list[str] = []
    settings = load_settings(args.config, warnings)
    for warning in warnings:
        # stderr: under systemd it lands in the journal beside the daemon's own lines.
        print(f"{args.config}: warning: {warning}", file=sys.stderr)
    return settings


def run_db(args: argparse.Namespace, work: Callable[[Any, Settings], Awaitable[int]], *,
           then: Callable[[Any], Awaitable[object]] | None = None) -> int:
    """Run `work(session, settings)` in one transaction on the configured database; once that
    committed, `then(session)` in a fresh session (the log checkpoint after an erasure)."""
    settings = settings_of(args)

    async def main() -> int:
        from teamfoned.store.engine import create_engine, create_sessionmaker

        engine = create_engine(settings.database.url)
        sessions = create_sessionmaker(engine)
        try:
            async with sessions() as session, session.begin():
                code = await work(session, settings)
            if then is not None:
                async with sessions() as session:
                    await then(session)
            return code
        finally:
            await engine.dispose()

    return asyncio.run(main())


def phone_policy(settings: Settings) -> PhonePolicy:
    return settings.telephony.phone_policy()


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a timezone offset, e.g. +01:00 or Z")
    return value


def on_off(text: str) -> bool:
    if text.lower() in ("on", "yes", "true", "1"):
        return True
    if text.lower() in ("off", "no", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: say on or off")


def show(rows: list[list[Any]]) -> None:
    for row in rows:
        print("\t".join("" if v is None else str(v) for v in row))
