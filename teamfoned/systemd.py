"""Talks to systemd's notify socket (sd_notify): readiness, status lines, stopping and the watchdog; silent without one.

No library: the protocol is one datagram of "KEY=value" lines to the socket named in
NOTIFY_SOCKET. A daemon started outside systemd has no NOTIFY_SOCKET and every call
here does nothing.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Mapping

import structlog

log = structlog.get_logger(__name__)


def watchdog_interval(environ: Mapping[str, str] = os.environ) -> float | None:
    """How often to send WATCHDOG=1 (half of WatchdogSec=, as sd_watchdog_enabled advises), or None."""
    usec = environ.get("WATCHDOG_USEC")
    pid = environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None  # no watchdog, or it is meant for another process
    try:
        seconds = int(usec) / 1_000_000
    except ValueError:
        return None
    return seconds / 2 if seconds > 0 else None


class Notifier:
    """One notify socket; `send` never raises: systemd being away must not stop the daemon."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET") or None
        # "@name" is a socket in the abstract namespace.
        self.address = "\0" + address[1:] if address and address.startswith("@") else address
        self.watchdog_seconds = watchdog_interval(environ)
        self._last_status: str | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: str | int) -> None:
        if self.address is None:
            return
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # Never block the event loop: a listener that stopped reading fills its queue,
                # and a blocked loop would stop the very watchdog pings it is owed.
                sock.setblocking(False)
                sock.sendto(message, self.address)
        except BlockingIOError:
            log.warning("systemd_notify_dropped", reason="the notify socket's queue is full")
        except OSError as exc:
            log.warning("systemd_notify_failed", error=str(exc))

    def status(self, text: str) -> None:
        """A STATUS= line (shown by `systemctl status`); sent only when it changes."""
        if text != self._last_status:
            self._last_status = text
            self.send(STATUS=text)

    def ready(self, status: str) -> None:
        self._last_status = status
        self.send(READY=1, STATUS=status)

    def reloading(self) -> None:
        self.send(RELOADING=1)

    def reloaded(self, status: str) -> None:
        self._last_status = status
        self.send(READY=1, STATUS=status)

    def stopping(self, status: str) -> None:
        self._last_status = status
        self.send(STOPPING=1, STATUS=status)

    async def keep_alive(self, describe: Callable[[], str], until: asyncio.Event) -> None:
        """Until `until` is set: WATCHDOG=1 at half the watchdog period, with a fresh STATUS= line.

        The ping comes from the event loop itself, so a loop stuck in a blocking call stops
        pinging and systemd restarts the daemon, which is the point of the watchdog.
        """
        period = self.watchdog_seconds or 5.0  # no watchdog: still keep STATUS= current
        while not until.is_set():
            self.status(describe())
            if self.watchdog_seconds is not None:
                self.send(WATCHDOG=1)
            try:
                await asyncio.wait_for(until.wait(), period)
            except TimeoutError:
                pass
