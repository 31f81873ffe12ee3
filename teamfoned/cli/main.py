"""The console script's entry point: every subcommand module registers itself on import, in this order."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from teamfoned.cli.base import COMMANDS, EXIT_USER_ERROR, Handler, UserError
from teamfoned.config import DEFAULT_CONFIG_PATH, ConfigError
from teamfoned.domain.errors import Refused

# Each module registers its subcommands with @command when imported; this order is the order
# of `teamfoned --help`.
SUBCOMMAND_MODULES = ("setup_cmds", "directory_cmds", "schedule_cmds", "api_cmds", "daemon_cmds",
                      "sounds_cmds")
for _module in SUBCOMMAND_MODULES:
    importlib.import_module(f"teamfoned.cli.{_module}")

DESCRIPTION = ("The `teamfoned` console script: each subcommand is one small function; "
               "user mistakes exit 2 with a clear message.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teamfoned", description=DESCRIPTION)
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

    from teamfoned.directory import DirectoryError

    try:
        handler: Handler = args.handler
        return handler(args)
    except ConfigError as exc:
        print(f"teamfoned: {exc}", file=sys.stderr)
    except DirectoryError as exc:
        print(f"teamfoned: the directory file has {len(exc.problems)} problem(s); "
              "nothing was changed:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    except (UserError, Refused) as exc:
        print(f"teamfoned: {exc}", file=sys.stderr)
    except DBAPIError as exc:
        print(f"teamfoned: database error: {exc.orig}", file=sys.stderr)
        if "no such table" in str(exc.orig) or "does not exist" in str(exc.orig):
            print("teamfoned: has the schema been created? run: teamfoned db upgrade",
                  file=sys.stderr)
    return EXIT_USER_ERROR
