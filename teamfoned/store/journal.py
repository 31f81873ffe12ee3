"""Call-record writes the database could not take, kept on local disk: fsynced before the call goes on, replayed in order."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class JournalOp(StrEnum):
    """The repository writes a journal can hold; the values are what the file says (keep them)."""

    START_CALL = "start_call"
    CLAIM = "claim"
    ATTEMPT_ANSWERED = "attempt_answered"
    ATTEMPT_ENDED = "attempt_ended"
    CALL_ANSWERED = "call_answered"
    FINISH_CALL = "finish_call"
    SAVE_RR_POSITION = "save_rr_position"


def _encode(value: Any) -> Any:
    # Tagged, so that replay gets the very types the repository was called with.
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, datetime):
        return {"$time": value.isoformat()}
    if isinstance(value, frozenset | set | tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$uuid" in value:
            return uuid.UUID(value["$uuid"])
        if "$time" in value:
            return datetime.fromisoformat(value["$time"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class Journal:
    """An append-only JSON-lines file; each entry is one repository write (`op` and its arguments).

    `append` returns only after the entry is on disk (flush + fsync), so a crash right after
    loses nothing. A torn last line (a crash mid-write) is skipped on reading. The file is
    opened on first use, so a daemon that never loses its database never creates it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = len(self.entries())
        return self._count

    def append(self, op: JournalOp, **args: Any) -> None:
        line = json.dumps({"op": str(op), "args": {k: _encode(v) for k, v in args.items()}},
                          separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if self._count is not None:
            self._count += 1

    def entries(self) -> list[tuple[JournalOp, dict[str, Any]]]:
        """Every readable entry, in order; a torn line or an operation this version does not know is skipped."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        out = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                entry = json.loads(line)
                raw_op, args = entry["op"], {k: _decode(v) for k, v in entry["args"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("journal_line_skipped", path=str(self.path), line=number)
                continue
            try:
                op = JournalOp(raw_op)
            except ValueError:
                log.warning("journal_op_unknown", op=repr(raw_op)[:80], path=str(self.path), line=number)
                continue
            out.append((op, args))
        return out

    def clear(self) -> None:
        """Empty the journal once every entry is in the database (atomically: rename over it)."""
        if not self.path.exists():
            self._count = 0
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._count = 0


def default_journal_path(database_url: str, node: str) -> Path:
    """Where the daemon keeps its journal: beside a SQLite file, else in the state directory.

    systemd's StateDirectory= sets STATE_DIRECTORY; without it, /var/lib/teamfoned.
    """
    name = f"journal-{node}.jsonl"
    if database_url.startswith("sqlite") and ":///" in database_url:
        db_file = database_url.split(":///", 1)[1]
        if db_file and db_file != ":memory:":
            return Path(db_file).parent / name
    state = os.environ.get("STATE_DIRECTORY", "/var/lib/teamfoned").split(":")[0]
    return Path(state) / name
