"""The `teamfoned` console script: each subcommand is one small function; user mistakes exit 2 with a clear message."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from teamfoned.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings
from teamfoned.store.errors import Refused

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
    return load_settings(args.config)


def run_db(args: argparse.Namespace, work: Callable[[Any, Settings], Awaitable[int]]) -> int:
    """Run `work(session, settings)` in one transaction on the configured database."""
    settings = settings_of(args)

    async def main() -> int:
        from teamfoned.store.engine import create_engine, create_sessionmaker

        engine = create_engine(settings.database.url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session, settings)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def phone_policy(settings: Settings):
    from teamfoned.admin import PhonePolicy

    return PhonePolicy(settings.telephony.allowed_countries, settings.telephony.default_region)


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


# -- check-config, db ----------------------------------------------------------------------------

@command
def _check_config(sub: Any) -> None:
    p = sub.add_parser("check-config", help="validate the configuration file")
    p.add_argument("file", nargs="?", help="config file (default: --config)")

    def handle(args: argparse.Namespace) -> int:
        path = args.file or args.config
        try:
            load_settings(path)
        except ConfigError as exc:
            print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_USER_ERROR
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
                await upgrade(engine)
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


# -- administration ------------------------------------------------------------------------------

@command
def _tenant(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("tenant", help="customer environments")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add")
    add.add_argument("name")
    add.add_argument("--retention-days", type=int, default=90)
    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: _print_id(
        admin.add_tenant(s, a.name, retention_days=a.retention_days))))
    ls = actions.add_parser("list")

    async def list_(session: Any, _: Settings) -> int:
        show([[r.id, r.name, r.retention_days] for r in await admin.list_tenants(session)])
        return 0

    ls.set_defaults(handler=lambda a: run_db(a, list_))


async def _print_id(created: Awaitable[Any]) -> int:
    print(await created)
    return 0


def _team_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label")
    p.add_argument("--strategy")
    p.add_argument("--ring-time", type=int)
    p.add_argument("--max-wait", type=int)
    p.add_argument("--wrap-up", type=int)
    p.add_argument("--confirm-calls", type=on_off, metavar="on|off")
    p.add_argument("--fallback", choices=("dialplan", "number", "announce", "team"))
    p.add_argument("--fallback-target")
    p.add_argument("--timezone", help="IANA zone of opening hours and holidays (default UTC)")
    p.add_argument("--closed", choices=("dialplan", "number", "announce", "team"),
                   help="where calls go outside opening hours (default: the teamfoned-closed "
                        "context; 'dialplan' without a target means that too)")
    p.add_argument("--closed-target", help="as --fallback-target; '' clears it")
    p.add_argument("--auto-unavailable-after", type=int, metavar="N",
                   help="make a member unavailable after N unanswered calls in a row (0: off)")
    p.add_argument("--confirm-recording", metavar="SOUND",
                   help="the team's own confirmation prompt, an Asterisk sound name ('': the "
                        "shipped prompt)")


def _team_changes(a: argparse.Namespace) -> dict[str, Any]:
    from teamfoned.admin import CLEAR

    def cleared(value: Any, off: Any) -> Any:
        return CLEAR if value == off else value

    # A new --closed kind starts without the old kind's target unless one is given.
    closed_target = CLEAR if a.closed and a.closed_target is None else a.closed_target
    return {"label": a.label, "strategy": a.strategy, "ring_time": a.ring_time,
            "max_wait": a.max_wait, "wrap_up": a.wrap_up, "confirm_calls": a.confirm_calls,
            "fallback_kind": a.fallback, "fallback_target": a.fallback_target,
            "timezone": a.timezone, "closed_kind": a.closed,
            "closed_target": cleared(closed_target, ""),
            "auto_unavailable_after": cleared(a.auto_unavailable_after, 0),
            "confirm_recording": cleared(a.confirm_recording, "")}


@command
def _team(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("team", help="teams and their routing settings")
    actions = p.add_subparsers(dest="action", required=True)
    for name in ("add", "set"):
        q = actions.add_parser(name)
        q.add_argument("--tenant", required=True)
        q.add_argument("name")
        _team_options(q)

    async def add(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        team = admin.TeamSettings.defaults(settings.routing, a.label or a.name).with_changes(
            **_team_changes(a))
        print(await admin.add_team(session, tenant, a.name, team))
        return 0

    async def set_(session: Any, _: Settings, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        print(await admin.set_team(session, tenant, a.name, **_team_changes(a)))
        return 0

    actions.choices["add"].set_defaults(handler=lambda a: run_db(a, lambda s, c: add(s, c, a)))
    actions.choices["set"].set_defaults(handler=lambda a: run_db(a, lambda s, c: set_(s, c, a)))
    ls = actions.add_parser("list")
    ls.add_argument("--tenant", required=True)

    async def list_(session: Any, _: Settings, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        for r in await admin.list_teams(session, tenant):
            numbers = ",".join(await admin.team_numbers_of(session, r.id))
            show([[r.id, r.name, r.strategy, r.ring_time_s, r.max_wait_s, r.wrap_up_s,
                   r.fallback_kind, numbers]])
        return 0

    ls.set_defaults(handler=lambda a: run_db(a, lambda s, c: list_(s, c, a)))


@command
def _number(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("number", help="team numbers (DIDs)")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add")
    add.add_argument("--tenant", required=True)
    add.add_argument("--team", required=True)
    add.add_argument("number")
    rm = actions.add_parser("remove")
    rm.add_argument("--tenant", required=True)
    rm.add_argument("number")

    async def add_(session: Any, a: argparse.Namespace) -> int:
        await admin.add_number(session, await admin.tenant_id(session, a.tenant), a.team, a.number)
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        await admin.remove_number(session, await admin.tenant_id(session, a.tenant), a.number)
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: add_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))


@command
def _member(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("member", help="team members")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add")
    add.add_argument("--tenant", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--phone", required=True, help="+CC number, or a SIP endpoint name")
    add.add_argument("--admin", action="store_true", help="tenant administrator")
    ls = actions.add_parser("list")
    ls.add_argument("--tenant", required=True)
    rm = actions.add_parser("remove", help="erase a member and their personal data")
    rm.add_argument("--tenant", required=True)
    rm.add_argument("member", help="member id or unique name")

    async def add_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        phone = phone_policy(settings).check(a.phone)  # refused before anything is written
        tenant = await admin.tenant_id(session, a.tenant)
        print(await admin.add_member(session, tenant, a.name, phone, is_admin=a.admin))
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        show([[r.id, r.name, r.phone_kind, r.phone, "admin" if r.is_admin else "",
               "available" if r.available else "unavailable", r.until]
              for r in await admin.list_members(session, tenant)])
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        await admin.remove_member(session, await admin.tenant_id(session, a.tenant), a.member)
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, c: add_(s, c, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))


@command
def _membership(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("membership", help="who is in which team, at which priority")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a member to a team, or change their priority")
    rm = actions.add_parser("remove")
    for q in (add, rm):
        q.add_argument("--tenant", required=True)
        q.add_argument("--team", required=True)
        q.add_argument("member", help="member id or unique name")
    add.add_argument("--priority", type=int, default=0, help="lower rings first")

    async def add_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        await admin.add_membership(session, tenant, a.team, a.member, a.priority)
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        await admin.remove_membership(session, tenant, a.team, a.member)
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: add_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))


@command
def _availability(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("availability", help="set a member's availability")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("set")
    q.add_argument("--tenant", required=True)
    q.add_argument("member", help="member id or unique name")
    q.add_argument("state", type=on_off, metavar="on|off")
    q.add_argument("--until", type=rfc3339, help="RFC 3339 time the availability ends")

    async def set_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        await admin.set_availability(session, tenant, a.member, a.state, a.until)
        return 0

    q.set_defaults(handler=lambda a: run_db(a, lambda s, _: set_(s, a)))


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def periods_of(texts: list[str]) -> list[Any]:
    """Weekly periods from entries like "mon-fri 08:00-17:00" (see teamfoned.periods_text)."""
    from teamfoned.periods_text import PeriodSyntaxError, parse_period

    found, problems = [], []
    for text in texts:
        try:
            found.extend(parse_period(text))
        except PeriodSyntaxError as exc:
            problems.append(str(exc))
    if problems:
        raise UserError("; ".join(problems))
    return found


PERIODS_HELP = ("entries like 'mon-fri 08:00-12:00,13:00-17:00' or 'sat 10:00-12:00': days "
                "mon..sun, ranges mon-fri, lists mon,wed; times HH:MM, 24:00 for midnight")


@command
def _hours(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("hours", help="a team's opening hours (calls outside them get the closed "
                                     "fallback)")
    actions = p.add_subparsers(dest="action", required=True)
    set_ = actions.add_parser("set", help="replace the team's opening hours")
    show_ = actions.add_parser("show", help="the opening hours, in the syntax `hours set` takes")
    for q in (set_, show_):
        q.add_argument("--tenant", required=True)
        q.add_argument("--team", required=True)
    set_.add_argument("periods", nargs="*", metavar="PERIOD", help=PERIODS_HELP)
    set_.add_argument("--always-open", action="store_true", help="clear the opening hours")

    def handle_set(a: argparse.Namespace) -> int:
        if bool(a.periods) == a.always_open:
            raise UserError("give the opening hours (e.g. 'mon-fri 08:00-17:00') or "
                            "--always-open, not both or neither")
        periods = periods_of(a.periods)  # refused before the database is opened

        async def work(session: Any, _: Settings) -> int:
            tenant = await admin.tenant_id(session, a.tenant)
            await admin.set_team_hours(session, tenant, a.team, periods)
            return 0

        return run_db(a, work)

    async def show_hours(session: Any, a: argparse.Namespace) -> int:
        from teamfoned.periods_text import format_periods

        tenant = await admin.tenant_id(session, a.tenant)
        team = await admin.team_row(session, tenant, a.team)
        print("\n".join(format_periods(await admin.team_hours_of(session, team.id)))
              or "always open")
        print(f"time zone: {team.timezone}")
        return 0

    set_.set_defaults(handler=handle_set)
    show_.set_defaults(handler=lambda a: run_db(a, lambda s, _: show_hours(s, a)))


@command
def _holiday(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("holiday", help="days a team is closed all day (in the team's time zone)")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add holidays (an existing one is only renamed)")
    rm = actions.add_parser("remove")
    ls = actions.add_parser("list")
    for q in (add, rm, ls):
        q.add_argument("--tenant", required=True)
        q.add_argument("--team", required=True)
    for q in (add, rm):
        q.add_argument("days", nargs="+", type=iso_date, metavar="YYYY-MM-DD")
    add.add_argument("--name", help="e.g. Christmas")

    async def add_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        for day in a.days:
            await admin.add_holiday(session, tenant, a.team, day, a.name)
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        for day in a.days:
            await admin.remove_holiday(session, tenant, a.team, day)
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        show([[day.isoformat(), name] for day, name in
              await admin.list_holidays(session, tenant, a.team)])
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: add_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))


@command
def _schedule(sub: Any) -> None:
    from teamfoned import admin

    p = sub.add_parser("schedule", help="a member's availability schedule (applied at its "
                                        "boundaries; a manual change holds until the next one)")
    actions = p.add_subparsers(dest="action", required=True)
    set_ = actions.add_parser("set", help="replace the member's schedule")
    show_ = actions.add_parser("show", help="the schedule, in the syntax `schedule set` takes")
    for q in (set_, show_):
        q.add_argument("--tenant", required=True)
        q.add_argument("member", help="member id or unique name")
    set_.add_argument("periods", nargs="*", metavar="PERIOD", help=PERIODS_HELP)
    set_.add_argument("--timezone", help="IANA zone the times are in, e.g. Europe/Amsterdam")
    set_.add_argument("--clear", action="store_true", help="remove the schedule")

    def handle_set(a: argparse.Namespace) -> int:
        if bool(a.periods) == a.clear:
            raise UserError("give the schedule (e.g. 'mon-fri 08:00-17:00' --timezone "
                            "Europe/Amsterdam) or --clear, not both or neither")
        periods = periods_of(a.periods)

        async def work(session: Any, _: Settings) -> int:
            tenant = await admin.tenant_id(session, a.tenant)
            await admin.set_member_schedule(session, tenant, a.member, periods, a.timezone)
            return 0

        return run_db(a, work)

    async def show_schedule(session: Any, a: argparse.Namespace) -> int:
        from teamfoned.periods_text import format_periods

        tenant = await admin.tenant_id(session, a.tenant)
        periods, zone = await admin.member_schedule(session, tenant, a.member)
        print("\n".join(format_periods(periods)) or "no schedule")
        if zone:
            print(f"time zone: {zone}")
        return 0

    set_.set_defaults(handler=handle_set)
    show_.set_defaults(handler=lambda a: run_db(a, lambda s, _: show_schedule(s, a)))


@command
def _import(sub: Any) -> None:
    p = sub.add_parser("import", help="make the directory match a YAML file (idempotent)")
    p.add_argument("file", type=Path)

    def handle(args: argparse.Namespace) -> int:
        from teamfoned.directory import import_directory

        try:
            raw = yaml.safe_load(args.file.read_text())
        except OSError as exc:
            raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise UserError(f"{args.file} is not valid YAML: {exc}") from None

        async def work(session: Any, settings: Settings) -> int:
            changes = await import_directory(session, raw, phones=phone_policy(settings),
                                             defaults=settings.routing)
            print("\n".join(changes) if changes else "no changes")
            return 0

        return run_db(args, work)

    p.set_defaults(handler=handle)


# -- API tokens, HTTP API, export ----------------------------------------------------------------

@command
def _token(sub: Any) -> None:
    from teamfoned import admin
    from teamfoned.store import tokens_repo

    p = sub.add_parser("token", help="members' API tokens (shown once, stored as a hash)")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token for a member; prints it once")
    create.add_argument("--tenant", required=True)
    create.add_argument("member", help="member id or unique name")
    create.add_argument("--expires", type=rfc3339, help="RFC 3339 time the token stops working")
    create.add_argument("--label", help="what the token is for, e.g. 'phone app'")
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    ls = actions.add_parser("list", help="token ids, member, created, last used, expiry")
    ls.add_argument("--tenant", help="only this tenant")

    async def create_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant)
        member = await admin.member_id(session, tenant, a.member)
        try:
            token_id, token = await tokens_repo.create_token(
                session, tenant, member, now=admin.now(), expires_at=a.expires, label=a.label)
        except Refused as exc:
            raise UserError(str(exc)) from None
        print(f"token id {token_id}; the token is shown only now:", file=sys.stderr)
        print(token)
        return 0

    async def revoke_(session: Any, a: argparse.Namespace) -> int:
        try:
            await tokens_repo.revoke_token(session, uuid.UUID(a.token_id))
        except (ValueError, Refused):
            raise UserError(f"no token with id {a.token_id}") from None
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        tenant = await admin.tenant_id(session, a.tenant) if a.tenant else None
        print("\t".join(("token_id", "tenant", "member_id", "member", "label", "created",
                         "last_used", "expires")))
        show([[t.id, t.tenant, t.member_id, t.member_name, t.label, t.created_at,
               t.last_used_at, t.expires_at]
              for t in await tokens_repo.list_tokens(session, tenant_id=tenant)])
        return 0

    create.set_defaults(handler=lambda a: run_db(a, lambda s, _: create_(s, a)))
    revoke.set_defaults(handler=lambda a: run_db(a, lambda s, _: revoke_(s, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))


@command
def _http(sub: Any) -> None:
    p = sub.add_parser("http", help="run the members' HTTP API on its own (no call routing)")

    def handle(args: argparse.Namespace) -> int:
        from teamfoned.logs import configure_logging

        settings = settings_of(args)
        configure_logging(settings.logging.level, settings.logging.format)

        async def main() -> int:
            from teamfoned.api import create_app, serve
            from teamfoned.store.engine import create_engine, create_sessionmaker

            engine = create_engine(settings.database.url)
            try:
                await serve(create_app(create_sessionmaker(engine), settings), settings)
            finally:
                await engine.dispose()
            return 0

        try:
            return asyncio.run(main())
        except KeyboardInterrupt:
            return 0

    p.set_defaults(handler=handle)


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, exactly as the running app serves it at /openapi.json."""
    from teamfoned.api import create_app
    from teamfoned.config import settings_from_dict
    from teamfoned.store.engine import create_engine, create_sessionmaker

    # The document does not depend on the configuration; an unopened engine is enough.
    settings = settings_from_dict({"ari": {"password": "unused"}})
    engine = create_engine("sqlite+aiosqlite://")
    return create_app(create_sessionmaker(engine), settings).openapi()


@command
def _api_schema(sub: Any) -> None:
    p = sub.add_parser("api-schema", help="print the HTTP API's OpenAPI document (JSON)")

    def handle(_: argparse.Namespace) -> int:
        print(json.dumps(openapi_document(), indent=2))
        return 0

    p.set_defaults(handler=handle)


@command
def _export(sub: Any) -> None:
    p = sub.add_parser("export", help="every personal datum of a tenant as one JSON document")
    p.add_argument("--tenant", required=True)
    p.add_argument("--output", type=Path, help="write to this file (default: standard output)")

    async def work(session: Any, _: Settings, a: argparse.Namespace) -> int:
        from teamfoned import admin
        from teamfoned.api.export import export_document

        tenant = await admin.tenant_id(session, a.tenant)
        text = json.dumps(await export_document(session, tenant, now=admin.now()), indent=2)
        if a.output is None:
            print(text)
        else:
            # The file holds personal data: readable by its owner only.
            fd = os.open(a.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(text + "\n")
        return 0

    p.set_defaults(handler=lambda a: run_db(a, lambda s, c: work(s, c, a)))


# -- entry point -------------------------------------------------------------------------------

@command
def _calls(sub: Any) -> None:
    p = sub.add_parser("calls", help="a team's recent calls with every attempt, newest first")
    p.add_argument("--tenant", required=True)
    p.add_argument("--team", required=True)
    p.add_argument("--limit", type=int, default=20)

    async def list_(session: Any, _: Settings, a: argparse.Namespace) -> int:
        from teamfoned import admin
        from teamfoned.store.call_history import recent_calls

        tenant = await admin.tenant_id(session, a.tenant)
        team = await admin.team_row(session, tenant, a.team)
        for call in await recent_calls(session, team.id, a.limit):
            wait = "-" if call.wait_seconds is None else f"{call.wait_seconds:.1f}s"
            talk = "-" if call.talk_seconds is None else f"{call.talk_seconds:.1f}s"
            print(f"{call.started_at:%Y-%m-%d %H:%M:%S} call {call.id} from {call.caller_number or '?'} "
                  f"to {call.dialled_number}: {call.outcome or 'in progress'}"
                  f"{' by ' + call.answered_by if call.answered_by else ''} (wait {wait}, talk {talk}, "
                  f"node {call.node})")
            for n, attempt in enumerate(call.attempts, 1):
                print(f"    attempt {n}: {attempt.member or '(erased member)'}: {attempt.result or 'open'}")
        return 0

    p.set_defaults(handler=lambda a: run_db(a, lambda s, settings: list_(s, settings, a)))


@command
def _webhook(sub: Any) -> None:
    p = sub.add_parser("webhook", help="a tenant's signed call-event webhooks")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a webhook; prints its signing secret once")
    add.add_argument("--tenant", required=True)
    add.add_argument("--events", default="call.missed,call.finished",
                     help="comma-separated: call.missed, call.finished (default both)")
    add.add_argument("url")
    ls = actions.add_parser("list")
    ls.add_argument("--tenant", required=True)
    rm = actions.add_parser("remove")
    rm.add_argument("--tenant", required=True)
    rm.add_argument("id", type=uuid.UUID)

    async def add_(session: Any, a: argparse.Namespace) -> int:
        from teamfoned import admin
        from teamfoned.webhooks.admin import WebhookRefused, add_webhook

        tenant = await admin.tenant_id(session, a.tenant)
        try:
            hook_id, secret = await add_webhook(session, tenant, a.url, a.events.split(","))
        except WebhookRefused as exc:
            raise UserError(str(exc)) from None
        print(f"webhook {hook_id}\nsigning secret (shown once): {secret}")
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        from teamfoned import admin
        from teamfoned.webhooks.admin import list_webhooks

        tenant = await admin.tenant_id(session, a.tenant)
        show([[r.id, r.url, r.events, r.created_at] for r in await list_webhooks(session, tenant)])
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        from teamfoned import admin
        from teamfoned.webhooks.admin import remove_webhook

        tenant = await admin.tenant_id(session, a.tenant)
        if not await remove_webhook(session, tenant, a.id):
            raise UserError(f"no webhook {a.id} in this tenant")
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: add_(s, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))


@command
def _run(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon (ARI call routing) until SIGTERM")

    def handle(args: argparse.Namespace) -> int:
        from teamfoned.app import HttpListenFailed, SchemaOutdated, run_daemon
        from teamfoned.logs import configure_logging

        settings = settings_of(args)
        configure_logging(settings.logging.level, settings.logging.format)
        try:
            return asyncio.run(run_daemon(settings, args.config))
        except (SchemaOutdated, HttpListenFailed) as exc:
            raise UserError(str(exc)) from None

    p.set_defaults(handler=handle)


@command
def _purge(sub: Any) -> None:
    p = sub.add_parser("purge", help="delete call history older than each tenant's retention period")
    p.add_argument("--tenant", help="only this tenant (default: every tenant)")

    async def work(session: Any, _: Settings, a: argparse.Namespace) -> int:
        from teamfoned import admin
        from teamfoned.store.retention import purge_expired

        tenant = await admin.tenant_id(session, a.tenant) if a.tenant else None
        for purged in await purge_expired(session, now=admin.now(), tenant_id=tenant):
            print(f"{purged.tenant}: {purged.calls} call(s) and {purged.attempts} attempt(s) older "
                  f"than {purged.retention_days} days deleted")
        return 0

    p.set_defaults(handler=lambda a: run_db(a, lambda s, c: work(s, c, a)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teamfoned", description=__doc__)
    parser.add_argument(
        "--config",
        default=os.environ.get("TEAMFONED_CONFIG", DEFAULT_CONFIG_PATH),
        help="configuration file (env TEAMFONED_CONFIG; default %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def _hoist_config(argv: list[str]) -> list[str]:
    """Accept --config anywhere on the line, as every subcommand documents it."""
    front, rest, i = [], [], 0
    while i < len(argv):
        if argv[i] == "--config" and i + 1 < len(argv):
            front += argv[i:i + 2]
            i += 2
            continue
        if argv[i].startswith("--config="):
            front.append(argv[i])
        else:
            rest.append(argv[i])
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_hoist_config(list(sys.argv[1:] if argv is None else argv)))
    from sqlalchemy.exc import DBAPIError
    from teamfoned.admin import AdminError
    from teamfoned.directory import DirectoryError

    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"teamfoned: {exc}", file=sys.stderr)
    except DirectoryError as exc:
        print(f"teamfoned: the directory file has {len(exc.problems)} problem(s); "
              "nothing was changed:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    except (AdminError, UserError, Refused) as exc:
        print(f"teamfoned: {exc}", file=sys.stderr)
    except DBAPIError as exc:
        print(f"teamfoned: database error: {exc.orig}", file=sys.stderr)
        if "no such table" in str(exc.orig) or "does not exist" in str(exc.orig):
            print("teamfoned: has the schema been created? run: teamfoned db upgrade",
                  file=sys.stderr)
    return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
