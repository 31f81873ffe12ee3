"""The `teamfoned` console script: each subcommand is one small function; user mistakes exit 2 with a clear message."""

from teamfoned.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
