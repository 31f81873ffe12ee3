"""Subcommands for the directory: tenants, teams, numbers, members, memberships, availability, import."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import yaml

from teamfoned.cli import lookups
from teamfoned.cli.base import (
    UserError,
    command,
    now,
    on_off,
    phone_policy,
    rfc3339,
    run_db,
    show,
)
from teamfoned.config import Settings
from teamfoned.domain.errors import NotFound
from teamfoned.domain.names import canonical_number
from teamfoned.domain.phones import PhoneRejected, check_endpoint_name
from teamfoned.domain.prompts import LANGUAGES
from teamfoned.domain.team_settings import CLEAR, TeamSettings
from teamfoned.routing.model import CALLBACK_KEYS, FallbackKind, WaitingSound
from teamfoned.routing.strategies import STRATEGIES


@command
def _tenant(sub: Any) -> None:
    from teamfoned.store import tenants_repo

    p = sub.add_parser("tenant", help="customer environments")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add")
    add.add_argument("name")
    add.add_argument("--retention-days", type=int, default=90)
    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: _print_id(
        tenants_repo.create_tenant(s, a.name, retention_days=a.retention_days, now=now()))))
    ls = actions.add_parser("list")

    async def list_(session: Any, _: Settings) -> int:
        show([[r.id, r.name, r.retention_days] for r in await tenants_repo.list_tenants(session)])
        return 0

    ls.set_defaults(handler=lambda a: run_db(a, list_))


async def _print_id(created: Awaitable[Any]) -> int:
    print(await created)
    return 0


def _team_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label")
    p.add_argument("--strategy", help="one of: " + ", ".join(STRATEGIES))
    p.add_argument("--ring-time", type=int)
    p.add_argument("--max-wait", type=int)
    p.add_argument("--wrap-up", type=int)
    p.add_argument("--confirm-calls", type=on_off, metavar="on|off")
    p.add_argument("--fallback", choices=[k.value for k in FallbackKind])
    p.add_argument("--fallback-target")
    p.add_argument("--timezone", help="IANA zone of opening hours and holidays (default UTC)")
    p.add_argument("--closed", choices=[k.value for k in FallbackKind],
                   help="where calls go outside opening hours (default: the teamfoned-closed "
                        "context; 'dialplan' without a target means that too)")
    p.add_argument("--closed-target", help="as --fallback-target; '' clears it")
    p.add_argument("--auto-unavailable-after", type=int, metavar="N",
                   help="make a member unavailable after N unanswered calls in a row (0: off)")
    p.add_argument("--confirm-recording", metavar="SOUND",
                   help="the team's own confirmation prompt: a plain sound name from the "
                        "tenant's sound directory ('': the shipped prompt)")
    p.add_argument("--service-level", type=int, metavar="SECONDS", dest="service_level_seconds",
                   help="statistics: the share of calls answered within SECONDS (default 20)")
    p.add_argument("--wait-when-none-available", type=on_off, metavar="on|off",
                   help="with no member available at all, callers wait in the line (on) or go "
                        "to the fallback at once (off, the default)")
    p.add_argument("--announce-position-every", type=int, metavar="SECONDS",
                   help="waiting callers hear their place in the line every SECONDS (0: never)")
    p.add_argument("--language", choices=LANGUAGES,
                   help="the language of what callers hear (default en)")
    p.add_argument("--next-tier-after", type=int, metavar="SECONDS",
                   help="tiers: the next tier of members joins every SECONDS a caller has waited "
                        "(0: only when the tiers below have nobody available, the default)")
    p.add_argument("--waiting-sound", choices=[s.value for s in WaitingSound],
                   help="what callers hear while members are rung and in the line (default "
                        "ringing)")
    p.add_argument("--moh-class", metavar="CLASS",
                   help="the music-on-hold class for music: one of telephony.moh_classes ('': "
                        "the first of them)")
    p.add_argument("--greeting", metavar="SOUND",
                   help="a sound from the tenant's sound directory played once to every caller "
                        "first ('': none)")
    p.add_argument("--announce-expected-wait", type=on_off, metavar="on|off",
                   help="the position announcement tells the expected wait too (default off)")
    p.add_argument("--callback-key", choices=[*CALLBACK_KEYS, ""], metavar="KEY",
                   help="waiting callers may press KEY (" + " ".join(CALLBACK_KEYS) + ") to be "
                        "called back instead ('': not offered, the default)")
    p.add_argument("--callback-attempts", type=int, metavar="N",
                   help="call a caller who asked back N times (1 to 5, default 2)")
    p.add_argument("--callback-retry-after", type=int, metavar="SECONDS",
                   help="seconds between two callbacks that went unanswered (default 60)")


def _team_changes(a: argparse.Namespace) -> dict[str, Any]:
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
            "confirm_recording": cleared(a.confirm_recording, ""),
            "service_level_seconds": a.service_level_seconds,
            "wait_when_none_available": a.wait_when_none_available,
            "announce_position_every": cleared(a.announce_position_every, 0),
            "language": a.language,
            "next_tier_after": cleared(a.next_tier_after, 0), "waiting_sound": a.waiting_sound,
            "moh_class": cleared(a.moh_class, ""), "greeting": cleared(a.greeting, ""),
            "announce_expected_wait": a.announce_expected_wait,
            "callback_key": cleared(a.callback_key, ""), "callback_attempts": a.callback_attempts,
            "callback_retry_after": a.callback_retry_after}


@command
def _team(sub: Any) -> None:
    from teamfoned.store import directory_repo

    p = sub.add_parser("team", help="teams and their routing settings")
    actions = p.add_subparsers(dest="action", required=True)
    for name in ("add", "set"):
        q = actions.add_parser(name)
        q.add_argument("--tenant", required=True)
        q.add_argument("name")
        _team_options(q)

    async def add(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        team = TeamSettings.defaults(settings.routing, a.label or a.name).with_changes(
            **_team_changes(a))
        print(await directory_repo.create_team(session, tenant, a.name, team, now=now(),
                                               fallbacks=settings.telephony.fallback_policy()))
        return 0

    async def set_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.name)
        print(await directory_repo.update_team(session, tenant, team, _team_changes(a),
                                               fallbacks=settings.telephony.fallback_policy()))
        return 0

    actions.choices["add"].set_defaults(handler=lambda a: run_db(a, lambda s, c: add(s, c, a)))
    actions.choices["set"].set_defaults(handler=lambda a: run_db(a, lambda s, c: set_(s, c, a)))
    ls = actions.add_parser("list")
    ls.add_argument("--tenant", required=True)

    async def list_(session: Any, _: Settings, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        show([[t.id, t.name, t.settings.strategy, t.settings.ring_time, t.settings.max_wait,
               t.settings.wrap_up, t.settings.fallback_kind, ",".join(t.numbers)]
              for t in await directory_repo.list_teams(session, tenant)])
        return 0

    ls.set_defaults(handler=lambda a: run_db(a, lambda s, c: list_(s, c, a)))


@command
def _number(sub: Any) -> None:
    from teamfoned.store import directory_repo

    p = sub.add_parser("number", help="team numbers (DIDs)")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add")
    add.add_argument("--tenant", required=True)
    add.add_argument("--team", required=True)
    add.add_argument("number")
    rm = actions.add_parser("remove")
    rm.add_argument("--tenant", required=True)
    rm.add_argument("number")

    async def add_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        region = settings.telephony.default_region
        number = canonical_number(a.number, default_region=region)  # refused before any lookup
        tenant = await lookups.tenant_id(session, a.tenant)
        print(await directory_repo.add_number(session, tenant,
                                              await lookups.team_id(session, tenant, a.team),
                                              number, default_region=region))
        return 0

    async def rm_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        region = settings.telephony.default_region
        number = canonical_number(a.number, default_region=region)
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await directory_repo.team_of_number(session, tenant, number, default_region=region)
        if team is None:
            raise UserError(f"number {number} is not a number of this tenant")
        await directory_repo.remove_number(session, tenant, team, number, default_region=region)
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, c: add_(s, c, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, c: rm_(s, c, a)))


@command
def _endpoint(sub: Any) -> None:
    from teamfoned.store import endpoints_repo

    p = sub.add_parser("endpoint", help="SIP endpoints (desk phones) and the tenant each belongs to",
                       description="Only a member of the endpoint's tenant may have it as phone; "
                                   "the trunk endpoint is never assignable.")
    actions = p.add_subparsers(dest="action", required=True)
    assign = actions.add_parser("assign", help="give a PJSIP endpoint to a tenant")
    assign.add_argument("name", help="the PJSIP endpoint name, as in pjsip.conf")
    assign.add_argument("--tenant", required=True)
    release = actions.add_parser("release", help="take an endpoint from its tenant "
                                                 "(refused while a member has it as phone)")
    release.add_argument("name")
    ls = actions.add_parser("list", help="assigned endpoints: name, tenant, members using it")
    ls.add_argument("--tenant")

    async def assign_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        try:
            name = check_endpoint_name(a.name, trunk_template=settings.telephony.trunk_dial_template)
        except PhoneRejected as exc:
            raise UserError(str(exc)) from None
        tenant = await lookups.tenant_id(session, a.tenant)
        if not await endpoints_repo.assign(session, name, tenant):
            print(f"endpoint {name} is already assigned to {a.tenant}")
        return 0

    async def release_(session: Any, a: argparse.Namespace) -> int:
        try:
            await endpoints_repo.release(session, a.name)
        except NotFound:
            raise UserError(f"endpoint {a.name} is not assigned to any tenant") from None
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant) if a.tenant else None
        show([[e.name, e.tenant_name, e.members]
              for e in await endpoints_repo.list_assignments(session, tenant)])
        return 0

    assign.set_defaults(handler=lambda a: run_db(a, lambda s, c: assign_(s, c, a)))
    release.set_defaults(handler=lambda a: run_db(a, lambda s, _: release_(s, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))


@command
def _member(sub: Any) -> None:
    from teamfoned.store import members_repo, personal_data

    p = sub.add_parser("member", help="team members")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add")
    add.add_argument("--tenant", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--phone", required=True,
                     help="+CC number, or a SIP endpoint assigned to the tenant (endpoint assign)")
    add.add_argument("--admin", action="store_true", help="tenant administrator")
    ls = actions.add_parser("list")
    ls.add_argument("--tenant", required=True)
    rm = actions.add_parser("remove", help="erase a member and their personal data (never the "
                                           "tenant's last admin)")
    rm.add_argument("--tenant", required=True)
    rm.add_argument("member", help="member id or unique name")
    role = actions.add_parser("admin", help="make a member tenant administrator, or not (the "
                                            "last admin stays one)")
    role.add_argument("--tenant", required=True)
    role.add_argument("member", help="member id or unique name")
    role.add_argument("state", type=on_off, metavar="on|off")
    inv = actions.add_parser("invite", help="a one-time sign-in link to the web app, printed as "
                                            "a URL and a QR code (works once, for "
                                            "http.sign_in_link_minutes)")
    inv.add_argument("--tenant", required=True)
    inv.add_argument("member", help="member id or unique name")
    inv.add_argument("--no-qr", action="store_true", help="print the URL only")
    out = actions.add_parser("sign-out", help="end every web app session of a member and void "
                                              "their unused sign-in links")
    out.add_argument("--tenant", required=True)
    out.add_argument("member", help="member id or unique name")

    async def add_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        phone = phone_policy(settings).check(a.phone)  # refused before anything is written
        tenant = await lookups.tenant_id(session, a.tenant)
        print(await members_repo.create_member(session, tenant, a.name, phone, is_admin=a.admin,
                                               now=now()))
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        show([[r.id, r.name, r.phone_kind, r.phone, "admin" if r.is_admin else "",
               "available" if r.available else "unavailable", r.until]
              for r in await members_repo.list_members(session, tenant)])
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        await members_repo.erase_member(session, tenant,
                                        await lookups.member_id(session, tenant, a.member))
        return 0

    async def role_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        await members_repo.update_member(session, tenant,
                                         await lookups.member_id(session, tenant, a.member),
                                         is_admin=a.state)
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, c: add_(s, c, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a),
                                             then=personal_data.empty_write_ahead_log))

    async def invite_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        from teamfoned.web.links import invite, terminal_qr

        tenant = await lookups.tenant_id(session, a.tenant)
        url, expires_at = await invite(session, settings.http, tenant,
                                       await lookups.member_id(session, tenant, a.member),
                                       now=now())
        print(f"sign-in link, works once until {expires_at.isoformat()}:", file=sys.stderr)
        if not a.no_qr:
            print(terminal_qr(url), file=sys.stderr)
        print(url)
        return 0

    async def sign_out_(session: Any, a: argparse.Namespace) -> int:
        from teamfoned.store import web_sessions_repo

        tenant = await lookups.tenant_id(session, a.tenant)
        ended = await web_sessions_repo.sign_out_everywhere(
            session, tenant, await lookups.member_id(session, tenant, a.member))
        print(f"{ended} web session(s) ended", file=sys.stderr)
        return 0

    role.set_defaults(handler=lambda a: run_db(a, lambda s, _: role_(s, a)))
    inv.set_defaults(handler=lambda a: run_db(a, lambda s, c: invite_(s, c, a)))
    out.set_defaults(handler=lambda a: run_db(a, lambda s, _: sign_out_(s, a)))


@command
def _membership(sub: Any) -> None:
    from teamfoned.store import directory_repo

    p = sub.add_parser("membership", help="who is in which team, at which priority and tier")
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a member to a team, or change their priority and tier")
    rm = actions.add_parser("remove")
    for q in (add, rm):
        q.add_argument("--tenant", required=True)
        q.add_argument("--team", required=True)
        q.add_argument("member", help="member id or unique name")
    add.add_argument("--priority", type=int, default=0, help="lower rings first")
    add.add_argument("--tier", type=int, metavar="N",
                     help="when the member joins a call's hunt: 1 first (the default for a new "
                          "membership; left as it is when not given)")

    async def add_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.team)
        member = await lookups.member_id(session, tenant, a.member)
        await directory_repo.put_membership(session, tenant, team, member, a.priority, tier=a.tier)
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.team)
        member = await lookups.member_id(session, tenant, a.member)
        try:
            await directory_repo.remove_membership(session, tenant, team, member)
        except NotFound:
            raise UserError(f"{a.member} is not a member of team {a.team!r}") from None
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, _: add_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))


@command
def _availability(sub: Any) -> None:
    from teamfoned.store import members_repo

    p = sub.add_parser("availability", help="set a member's availability")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("set")
    q.add_argument("--tenant", required=True)
    q.add_argument("member", help="member id or unique name")
    q.add_argument("state", type=on_off, metavar="on|off")
    q.add_argument("--until", type=rfc3339, help="RFC 3339 time the availability ends")

    async def set_(session: Any, a: argparse.Namespace) -> int:
        tenant = await lookups.tenant_id(session, a.tenant)
        member = await lookups.member_id(session, tenant, a.member)
        await members_repo.set_availability(session, tenant, member, a.state, a.until, now=now())
        return 0

    q.set_defaults(handler=lambda a: run_db(a, lambda s, _: set_(s, a)))


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
            changes = await import_directory(
                session, raw, phones=phone_policy(settings), defaults=settings.routing,
                fallback_contexts=settings.telephony.fallback_contexts,
                moh_classes=settings.telephony.moh_classes)
            print("\n".join(changes) if changes else "no changes")
            return 0

        from teamfoned.store.personal_data import empty_write_ahead_log

        # A member the file no longer lists is erased: the log must not keep them either.
        return run_db(args, work, then=empty_write_ahead_log)

    p.set_defaults(handler=handle)
