"""Subcommands for time: opening hours, holidays, member availability schedules."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from teamfoned.cli import lookups
from teamfoned.cli.base import (
    UserError,
    command,
    run_db,
    show,
)
from teamfoned.config import Settings
from teamfoned.domain.errors import NotFound
from teamfoned.domain.periods_text import format_periods


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def periods_of(texts: list[str]) -> list[Any]:
    """Weekly periods from entries like "mon-fri 08:00-17:00" (see teamfoned.domain.periods_text)."""
    from teamfoned.domain.periods_text import PeriodSyntaxError, parse_period

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
    from teamfoned.store import hours_repo

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
            tenant = await lookups.tenant_id(session, a.tenant)
            team = await lookups.team_id(session, tenant, a.team)
            await hours_repo.replace_team_hours(session, tenant, team, periods)
            return 0

        return run_db(a, work)

    async def show_hours(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        zone, periods = await hours_repo.team_hours(
            session, tenant, await lookups.team_id(session, tenant, a.team))
        print("\n".join(format_periods(periods)) or "always open")
        print(f"time zone: {zone}")
        return 0

    set_.set_defaults(handler=handle_set)
    show_.set_defaults(handler=lambda a: run_db(a, lambda s, _: show_hours(s, a)))


@command
def _holiday(sub: Any) -> None:
    from teamfoned.store import hours_repo

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
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.team)
        for day in a.days:
            await hours_repo.add_holiday(session, tenant, team, day, a.name)
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.team)
        for day in a.days:
            try:
                await hours_repo.remove_holiday(session, tenant, team, day)
            except NotFound:
                raise UserError(f"{day.isoformat()} is not a holiday of team {a.team!r}") from None
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.team)
        show([[day.isoformat(), name] for day, name in
              await hours_repo.holidays(session, tenant, team)])
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: add_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))


@command
def _schedule(sub: Any) -> None:
    from teamfoned.store import hours_repo

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
            tenant = await lookups.tenant_id(session, a.tenant)
            member = await lookups.member_id(session, tenant, a.member)
            await hours_repo.replace_member_schedule(session, tenant, member, periods, a.timezone)
            return 0

        return run_db(a, work)

    async def show_schedule(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        periods, zone = await hours_repo.member_schedule(
            session, tenant, await lookups.member_id(session, tenant, a.member))
        print("\n".join(format_periods(periods)) or "no schedule")
        if zone:
            print(f"time zone: {zone}")
        return 0

    set_.set_defaults(handler=handle_set)
    show_.set_defaults(handler=lambda a: run_db(a, lambda s, _: show_schedule(s, a)))
