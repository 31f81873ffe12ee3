"""Subcommands around the daemon: run, calls, webhooks, purge."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from teamfoned.cli import lookups
from teamfoned.cli.base import (
    UserError,
    command,
    now,
    run_db,
    settings_of,
    show,
)
from teamfoned.config import Settings


@command
def _calls(sub: Any) -> None:
    p = sub.add_parser("calls", help="a team's recent calls with every attempt, newest first")
    p.add_argument("--tenant", required=True)
    p.add_argument("--team", required=True)
    p.add_argument("--limit", type=int, default=20)

    async def list_(session: Any, _: Settings, a: argparse.Namespace) -> int:
        from teamfoned.store.call_history import calls_page

        tenant = await lookups.tenant_id(session, a.tenant)
        team = await lookups.team_id(session, tenant, a.team)
        page, _next = await calls_page(session, tenant, team, cursor=None, limit=a.limit)
        for call in page:
            wait = "-" if call.wait_seconds is None else f"{call.wait_seconds:.1f}s"
            talk = "-" if call.talk_seconds is None else f"{call.talk_seconds:.1f}s"
            print(f"{call.started_at:%Y-%m-%d %H:%M:%S} call {call.id} from {call.caller_number or '?'} "
                  f"to {call.dialled_number}: {call.outcome or 'in progress'}"
                  f"{' by ' + call.answered_by_name if call.answered_by_name else ''} (wait {wait}, talk {talk}, "
                  f"node {call.node})")
            for n, attempt in enumerate(call.attempts, 1):
                print(f"    attempt {n}: {attempt.member_name or '(erased member)'}: {attempt.result or 'open'}")
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

    async def add_(session: Any, settings: Settings, a: argparse.Namespace) -> int:
        from teamfoned.webhooks.admin import add_webhook

        tenant = await lookups.tenant_id(session, a.tenant)
        # A refusal is an Invalid: the console prints each field's reason and exits 2.
        hook_id, secret = await add_webhook(session, tenant, a.url, a.events.split(","),
                                            allowed=settings.webhooks.allow_destinations)
        print(f"webhook {hook_id}\nsigning secret (shown once): {secret}")
        return 0

    async def list_(session: Any, a: argparse.Namespace) -> int:
        from teamfoned.store.webhooks_repo import list_webhooks

        tenant = await lookups.tenant_id(session, a.tenant)
        show([[r.id, r.url, ",".join(r.events), r.created_at] for r in await list_webhooks(session, tenant)])
        return 0

    async def rm_(session: Any, a: argparse.Namespace) -> int:
        from teamfoned.store.webhooks_repo import remove_webhook

        tenant = await lookups.tenant_id(session, a.tenant)
        if not await remove_webhook(session, tenant, a.id):
            raise UserError(f"no webhook {a.id} in this tenant")
        return 0

    add.set_defaults(handler=lambda a: run_db(a, lambda s, c: add_(s, c, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))
    rm.set_defaults(handler=lambda a: run_db(a, lambda s, _: rm_(s, a)))


@command
def _run(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon (ARI call routing) until SIGTERM")

    def handle(args: argparse.Namespace) -> int:
        from teamfoned import event_loop
        from teamfoned.app import HttpListenFailed, SchemaOutdated, run_daemon
        from teamfoned.logs import configure_logging

        settings = settings_of(args)
        configure_logging(settings.logging.level, settings.logging.format)
        try:
            return event_loop.run(run_daemon(settings, args.config))
        except (SchemaOutdated, HttpListenFailed) as exc:
            raise UserError(str(exc)) from None

    p.set_defaults(handler=handle)


@command
def _purge(sub: Any) -> None:
    p = sub.add_parser("purge", help="delete call history older than each tenant's retention period")
    p.add_argument("--tenant", help="only this tenant (default: every tenant)")

    async def work(session: Any, _: Settings, a: argparse.Namespace) -> int:
        from teamfoned.store.retention import purge_expired

        tenant = await lookups.tenant_id(session, a.tenant) if a.tenant else None
        for purged in await purge_expired(session, now=now(), tenant_id=tenant):
            print(f"{purged.tenant}: {purged.calls} call(s) and {purged.attempts} attempt(s) older "
                  f"than {purged.retention_days} days deleted"
                  + (f", with {purged.deliveries} webhook delivery(ies)" if purged.deliveries else ""))
        return 0

    p.set_defaults(handler=lambda a: run_db(a, lambda s, c: work(s, c, a)))
