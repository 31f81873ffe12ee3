"""Builds the daemon from the settings and runs its lifecycle: startup, main loop, graceful shutdown."""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from teamfoned.config import Settings
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.migrate import current_revision, head_revision
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.dispatcher import CallDispatcher

log = structlog.get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class SchemaOutdated(RuntimeError):
    """The database schema is not at this version's head: run `teamfoned db upgrade`."""


class Daemon:
    """Every long-lived object of a running teamfoned, built in one place."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow,
                 drain_seconds: float = 30.0) -> None:
        self.settings = settings
        self.clock = clock
        self.drain_seconds = drain_seconds
        self.engine = create_engine(settings.database.url)
        self.sessions = create_sessionmaker(self.engine)
        self.repo = RoutingRepository(self.sessions)
        self.ari = AriClient(
            settings.ari.url,
            settings.ari.username,
            settings.ari.password.get_secret_value(),
            settings.ari.app,
        )
        self.dispatcher = CallDispatcher(
            self.ari,
            self.repo,
            clock=clock,
            node=settings.node,
            trunk_template=settings.telephony.trunk_dial_template,
            caller_id_mode=settings.telephony.caller_id_mode,
            rng=random.Random(),
        )
        self.ari.on_connect = self.dispatcher.resync
        self._stop = asyncio.Event()
        self.started = asyncio.Event()

    @property
    def ari_connected(self) -> bool:
        """For readiness: the event stream is up and resynced."""
        return self.ari.is_connected

    def stop(self) -> None:
        """Ask for a graceful stop (signal-safe: it only sets a flag)."""
        self._stop.set()

    async def startup(self) -> None:
        revision, head = await current_revision(self.engine), head_revision()
        if revision != head:
            raise SchemaOutdated(
                f"database schema is at {revision or 'nothing'}, this version needs {head}: "
                "run `teamfoned db upgrade`"
            )
        # Calls this node left open when it last stopped are not closed here: Asterisk may still
        # hold them (a bridged pair talks on). The resync on the first ARI connection adopts them
        # or ends them with the right outcome (telephony.resync).
        left_open = await self.repo.open_calls(self.settings.node)
        if left_open:
            log.warning("calls_left_open", count=len(left_open), node=self.settings.node)

    async def run(self) -> None:
        await self.startup()
        try:
            async with asyncio.TaskGroup() as tg:
                ari_task = tg.create_task(self.ari.run(), name="ari")
                dispatch_task = tg.create_task(self.dispatcher.run(), name="dispatch")
                tg.create_task(self._announce_ready(), name="ready")
                await self._stop.wait()
                await self._drain()
                await self.ari.close()
                await ari_task
                await dispatch_task
        finally:
            await self.engine.dispose()
            log.info("daemon_stopped")

    async def _announce_ready(self) -> None:
        await self.ari.wait_connected()
        self.started.set()
        log.info("daemon_ready", node=self.settings.node, app=self.settings.ari.app)

    async def _drain(self) -> None:
        """Stop taking calls; let calls in progress finish up to the limit, then end the rest."""
        self.dispatcher.accepting = False
        in_progress = self.dispatcher.calls_in_progress
        log.info("daemon_draining", calls=in_progress, limit_seconds=self.drain_seconds)
        try:
            await asyncio.wait_for(self.dispatcher.wait_calls(), self.drain_seconds)
        except TimeoutError:
            ended = self.dispatcher.cancel_calls()
            log.warning("drain_limit_reached", calls_ended=ended)
            await self.dispatcher.wait_calls()


async def run_daemon(settings: Settings) -> int:
    """`teamfoned run`: the daemon until SIGTERM or SIGINT."""
    daemon = Daemon(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop)
    try:
        await daemon.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0
