"""Subcommands around the members' HTTP API: tokens, http, api-schema, export."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from teamfoned.cli import lookups
from teamfoned.cli.base import (
    UserError,
    command,
    now,
    rfc3339,
    run_db,
    settings_of,
    show,
)
from teamfoned.config import Settings
from teamfoned.domain.errors import Refused


@command
def _token(sub: Any) -> None:
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
        tenant = await lookups.tenant_id(session, a.tenant)
        member = await lookups.member_id(session, tenant, a.member)
        try:
            token_id, token = await tokens_repo.create_token(
                session, tenant, member, now=now(), expires_at=a.expires, label=a.label)
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
        tenant = await lookups.tenant_id(session, a.tenant) if a.tenant else None
        print("\t".join(("token_id", "tenant", "member_id", "member", "label", "created",
                         "last_used", "expires")))
        show([[t.id, t.tenant, t.member_id, t.member_name, t.label, t.created_at,
               t.last_used_at, t.expires_at]
              for t in await tokens_repo.list_tokens(session, tenant_id=tenant)])
        return 0

    create.set_defaults(handler=lambda a: run_db(a, lambda s, _: create_(s, a)))
    revoke.set_defaults(handler=lambda a: run_db(a, lambda s, _: revoke_(s, a)))
    ls.set_defaults(handler=lambda a: run_db(a, lambda s, _: list_(s, a)))


def _worker_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_HTTP_WORKERS:
        raise argparse.ArgumentTypeError(
            f"--workers: {text!r} is not a whole number from 1 to {MAX_HTTP_WORKERS}")
    return count


# Far above what two to sixteen cores use well; a typo (1000) should not fork a thousand.
MAX_HTTP_WORKERS = 64


@command
def _http(sub: Any) -> None:
    p = sub.add_parser("http", help="run the members' HTTP API on its own (no call routing)",
                       description="Serve the API as configured under `http:` (the daemon's "
                                   "own API is then best switched off: http.enabled: false). "
                                   "SIGTERM stops it cleanly.")
    p.add_argument("--workers", type=_worker_count, default=1,
                   help="worker processes sharing the port (default 1: this process serves)")

    def handle(args: argparse.Namespace) -> int:
        from teamfoned.api.workers import serve_one, serve_workers
        from teamfoned.logs import configure_logging

        settings = settings_of(args)
        configure_logging(settings.logging.level, settings.logging.format)
        try:
            if args.workers == 1:
                return serve_one(settings)
            return serve_workers(settings, args.workers)
        except OSError as exc:
            raise UserError(str(exc)) from None
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
        from teamfoned.api.export import export_document

        tenant = await lookups.tenant_id(session, a.tenant)
        text = json.dumps(await export_document(session, tenant, now=now()), indent=2)
        if a.output is None:
            print(text)
        else:
            # The file holds personal data: readable by its owner only.
            fd = os.open(a.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(text + "\n")
        return 0

    p.set_defaults(handler=lambda a: run_db(a, lambda s, c: work(s, c, a)))
