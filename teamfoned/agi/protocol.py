"""A small asyncio FastAGI server: one request per connection, every read bounded in size and time.

Written here rather than taken from panoramisk 1.4, whose server busy-loops on a peer that
closes before its headers end (its read loop never sees EOF) and so stops the whole event
loop; see docs/dependencies.md. The protocol is small: Asterisk sends `agi_*: value` headers
ending in an empty line, then we send one command per line and read one reply per command.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

# A request's headers are a few hundred bytes; far more is not Asterisk.
MAX_HEADER_BYTES = 16_384
# "200 result=1 (data) endpos=..." -- code, result, optional data in parentheses.
_REPLY = re.compile(r"^(?P<code>\d{3})(?: result=(?P<result>-?\d*))?(?: \((?P<data>.*)\))?")
# Asterisk's usage error is several lines, the last "520 End of proper usage.".
_USAGE_END = "520 End of proper usage."
# What never goes into a command line: a line break would start another command.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AgiError(Exception):
    """The FastAGI peer broke the conversation: it left, went silent, or answered nonsense."""


class AgiGone(AgiError):
    """The peer closed the connection (Asterisk's channel hung up, or Asterisk stopped)."""


class AgiTimeout(AgiError):
    """The peer stopped talking for longer than the server's timeout."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: str
    data: str

    @property
    def ok(self) -> bool:
        return self.code == 200


def quote(value: str) -> str:
    """`value` as one quoted AGI argument (Asterisk reads backslash escapes inside quotes);
    control characters, which could end the command line, are dropped."""
    escaped = _CONTROL.sub("", value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class AgiRequest:
    """One FastAGI request: its headers, and the commands sent over its connection."""

    def __init__(self, headers: Mapping[str, str], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, *, timeout: float) -> None:
        self.headers = dict(headers)
        self._reader = reader
        self._writer = writer
        self._timeout = timeout
        self.hung_up = False  # Asterisk said HANGUP: the channel is gone, the script may finish

    @property
    def script(self) -> str:
        """The path of agi://host:port/<script>, without slashes around it."""
        return self.headers.get("agi_network_script", "").strip("/")

    @property
    def args(self) -> list[str]:
        """agi_arg_1, agi_arg_2, ... in order (the AGI() application's arguments)."""
        out: list[str] = []
        while f"agi_arg_{len(out) + 1}" in self.headers:
            out.append(self.headers[f"agi_arg_{len(out) + 1}"])
        return out

    async def command(self, line: str, *, reply_within: float | None = None) -> AgiReply:
        """Send one command and return its final reply (after any "100 Trying").

        `reply_within`: seconds the reply may take, for a command that plays or listens
        (default: the server's timeout for a silent peer)."""
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command is one line")
        self._writer.write(line.encode() + b"\n")
        try:
            await asyncio.wait_for(self._writer.drain(), self._timeout)
        except (ConnectionError, RuntimeError) as exc:
            raise AgiGone(str(exc)) from None
        except TimeoutError:
            raise AgiTimeout(f"no room to send {line.split(' ', 1)[0]} for {self._timeout} s") from None
        while True:
            text = await self._line(reply_within)
            if text == "HANGUP":
                # Sent once when the channel hangs up; the reply to our command still follows.
                self.hung_up = True
                continue
            if text.startswith("520-"):
                while text != _USAGE_END:
                    text = await self._line(reply_within)
                return AgiReply(520, "", "usage")
            match = _REPLY.match(text)
            if match is None:
                raise AgiError(f"not an AGI reply: {text[:80]!r}")
            if match["code"] == "100":
                continue
            return AgiReply(int(match["code"]), match["result"] or "", match["data"] or "")

    async def set_variable(self, name: str, value: str) -> None:
        reply = await self.command(f"SET VARIABLE {name} {quote(value)}")
        if not reply.ok:
            raise AgiError(f"SET VARIABLE {name} refused: {reply.code}")

    async def _line(self, reply_within: float | None = None) -> str:
        limit = self._timeout if reply_within is None else reply_within
        try:
            raw = await asyncio.wait_for(self._reader.readline(), limit)
        except TimeoutError:
            raise AgiTimeout(f"no reply for {limit} s") from None
        except (ConnectionError, ValueError) as exc:  # ValueError: a line past the limit
            raise AgiGone(str(exc)) from None
        if not raw.endswith(b"\n"):
            raise AgiGone("the peer closed the connection")
        return raw.decode(errors="replace").rstrip("\r\n")


Handler = Callable[[AgiRequest], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                       limit_s: float) -> AgiRequest:
    """Read a request's headers (up to the empty line); AgiGone / AgiTimeout if they never end."""
    try:
        raw = await asyncio.wait_for(reader.readuntil(b"\n\n"), limit_s)
    except asyncio.IncompleteReadError:
        raise AgiGone("the peer closed the connection before its headers ended") from None
    except asyncio.LimitOverrunError:
        raise AgiError(f"headers longer than {MAX_HEADER_BYTES} bytes") from None
    except TimeoutError:
        raise AgiTimeout(f"headers not complete after {limit_s} s") from None
    except ConnectionError as exc:
        raise AgiGone(str(exc)) from None
    headers: dict[str, str] = {}
    for line in raw.decode(errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.startswith("agi_"):
            headers[name.strip()] = value.strip()
    return AgiRequest(headers, reader, writer, timeout=limit_s)


class AgiServer:
    """Listens on (host, port) and runs `handler` for each request, one task per connection."""

    def __init__(self, host: str, port: int, handler: Handler, *, timeout: float) -> None:
        self.host = host
        self.port = port
        self._handler = handler
        self._timeout = timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when it was given 0)."""
        if self._server is None or not self._server.sockets:
            return self.host, self.port
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  limit=MAX_HEADER_BYTES)
        log.info("agi_listening", address=f"{self.address[0]}:{self.address[1]}")

    async def close(self) -> None:
        """Stop listening and end every open connection (their scripts are cancelled)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(set(self._connections))
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            request = await read_request(reader, writer, limit_s=self._timeout)
            await self._handler(request)
        except AgiError as exc:
            log.warning("agi_request_broken", peer=str(peer), error=str(exc))
        except Exception:
            log.exception("agi_script_failed", peer=str(peer))
        finally:
            self._connections.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass  # already gone: nothing left to close
