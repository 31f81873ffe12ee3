"""Builds the daemon from the settings and runs its lifecycle: startup, main loop, reload, graceful shutdown."""

from __future__ import annotations

import asyncio
import random
import signal
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import event

from teamfoned.config import ConfigError, Settings, load_settings
from teamfoned.housekeeping import Housekeeping
from teamfoned.logs import configure_logging
from teamfoned.metrics import Metrics
from teamfoned.schedule_keeper import ScheduleKeeper
from teamfoned.store.engine import create_engine, create_sessionmaker, ping
from teamfoned.store.journal import Journal, default_journal_path
from teamfoned.store.line_repo import LineRepository
from teamfoned.store.line_signals import LineSignals
from teamfoned.store.migrate import current_revision, head_revision
from teamfoned.store.resilient_repo import ResilientRepository
from teamfoned.store.routing_directory import RoutingDirectory
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.waiting_repo import WaitingRepository
from teamfoned.systemd import Notifier
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.dispatcher import CallDispatcher
from teamfoned.telephony.line_runner import LineService
from teamfoned.telephony.ports import DaemonStore
from teamfoned.webhooks.delivery import WebhookSender

if TYPE_CHECKING:
    from teamfoned.agi.protocol import AgiServer
    from teamfoned.agi.scripts import AgiScripts
    from teamfoned.api.context import ApiContext
    from teamfoned.api.server import ApiServer

log = structlog.get_logger(__name__)

# How long to wait between database probes before announcing readiness.
DB_PROBE_RETRY_S = 1.0
DB_PROBE_TIMEOUT_S = 2.0

# SIGHUP: these sections change while running (apply_settings hands each its new value);
# every other key needs a restart and says so. `routing` holds the defaults for teams created
# later: the API's are updated, the CLI reads the file itself.
LIVE_SECTIONS = ("logging", "shutdown", "housekeeping", "routing")
LIVE_KEYS = tuple(f"{section}." for section in LIVE_SECTIONS)


def utcnow() -> datetime:
    return datetime.now(UTC)


class SchemaOutdated(RuntimeError):
    """The database schema is not at this version's head: run `teamfoned db upgrade`."""


class HttpListenFailed(RuntimeError):
    """The HTTP module could not listen on its configured address (in use, or not allowed)."""


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out |= _flatten(inner, f"{prefix}{key}.")
        return out
    return {prefix.rstrip("."): value}


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """Dotted keys whose values differ (secrets compared, never shown)."""
    def plain(settings: Settings) -> dict[str, Any]:
        dumped = settings.model_dump()
        dumped["ari"]["password"] = settings.ari.password.get_secret_value()
        return _flatten(dumped)

    before, after = plain(old), plain(new)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


class DaemonState:
    """What the daemon is doing, for /readyz and systemd's STATUS= line; the one shared mutable state."""

    def __init__(self, ari: AriClient, dispatcher: CallDispatcher, store: DaemonStore) -> None:
        self._ari = ari
        self._dispatcher = dispatcher
        self._store = store
        self.phase = "starting"  # starting, running, draining, stopping
        self.drain_deadline: float | None = None

    @property
    def ari_connected(self) -> bool:
        return self._ari.is_connected

    @property
    def degraded(self) -> bool:
        """The database is away (or its journal not yet replayed): calls run on the last known state."""
        return self._store.degraded

    def describe(self) -> str:
        calls = self._dispatcher.calls_in_progress
        if self.phase == "starting":
            waiting = "ARI" if not self.ari_connected else "the database"
            return f"starting: waiting for {waiting}"
        if self.phase == "draining":
            left = max(0, round((self.drain_deadline or 0) - asyncio.get_running_loop().time()))
            return f"stopping: no new calls, waiting for {calls} call(s) in progress (at most {left} s)"
        if self.phase == "stopping":
            return "stopping: closing connections"
        ari = "ARI connected" if self.ari_connected else "ARI disconnected, reconnecting"
        database = ", database away: degraded (last known availability, journal)" if self.degraded else ""
        return f"routing calls: {calls} in progress, {ari}{database}"


class Daemon:
    """Every long-lived object of a running teamfoned, built in one place."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow,
                 drain_seconds: float | None = None, notifier: Notifier | None = None,
                 http_sockets: list[socket.socket] | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.drain_seconds = settings.shutdown.drain_limit if drain_seconds is None else drain_seconds
        self.metrics = Metrics()
        self.notifier = notifier or Notifier()
        self.engine = create_engine(settings.database.url)
        # Every driver error counts, whichever repository met it.
        event.listen(self.engine.sync_engine, "handle_error",
                     lambda _context: self.metrics.database_errors.inc())
        self.sessions = create_sessionmaker(self.engine)
        # The call path's own pool, without a pre-ping (a round trip before every statement):
        # a dead connection fails its statement instead, and the resilient repository below
        # treats that as the outage it is (cached reads, journalled writes, replay).
        self.routing_engine = create_engine(settings.database.url, pool_pre_ping=False)
        event.listen(self.routing_engine.sync_engine, "handle_error",
                     lambda _context: self.metrics.database_errors.inc())
        # Calls go on when the database goes away: reads from the last known state, writes to
        # a local journal replayed on its return (store.resilient_repo).
        # Numbers, teams' settings and hours in memory, kept current by the database's change
        # signal: no round trip for them before a member rings.
        self.directory = RoutingDirectory(self.routing_engine)
        self.repo: DaemonStore = ResilientRepository(
            RoutingRepository(self.routing_engine, default_region=settings.telephony.default_region,
                              directory=self.directory),
            Journal(settings.database.journal_path
                    or default_journal_path(settings.database.url, settings.node)),
            stale_after=settings.database.outage_availability_max_age,
        )
        self.ari = AriClient(
            settings.ari.url,
            settings.ari.username,
            settings.ari.password.get_secret_value(),
            settings.ari.app,
            allow_remote=settings.ari.allow_plain_remote,
        )
        # The waiting line's order is the database's; its wake-ups reach every node at once.
        self.line = WaitingRepository(self.sessions, reads=self.routing_engine)
        self.line_signals = LineSignals(self.sessions, settings.database.url)
        self.dispatcher = CallDispatcher(
            self.ari,
            self.repo,
            line=self.line,
            signals=self.line_signals,
            clock=clock,
            node=settings.node,
            trunk_template=settings.telephony.trunk_dial_template,
            caller_id_mode=settings.telephony.caller_id_mode,
            confirm_time=settings.telephony.confirm_time,
            fallbacks=settings.telephony.fallback_policy(),
            rng=random.Random(),
            metrics=self.metrics,
        )
        if settings.availability_line.numbers:
            self.dispatcher.line = LineService(
                self.ari, LineRepository(self.sessions, signals=self.line_signals),
                numbers=settings.availability_line.numbers,
                clock=clock, default_region=settings.telephony.default_region)
        self._ari_connections = 0
        self.ari.on_connect = self._on_ari_connect
        self.state = DaemonState(self.ari, self.dispatcher, self.repo)
        self.housekeeping = Housekeeping(self.sessions, clock=clock,
                                         every_seconds=settings.housekeeping.purge_every_hours * 3600)
        self.schedules = ScheduleKeeper(self.sessions, clock=clock)
        self.webhooks = WebhookSender(self.sessions, settings.webhooks, clock=clock)
        self._api_context: ApiContext | None = None
        self.api = self._build_api(http_sockets) if settings.http.enabled else None
        self.agi_scripts: AgiScripts | None = None
        self.agi: AgiServer | None = self._build_agi() if settings.agi.enabled else None
        self._stop = asyncio.Event()
        self._closing = asyncio.Event()  # set after the drain: the chores end
        self.started = asyncio.Event()

    def _build_api(self, sockets: list[socket.socket] | None) -> ApiServer:
        # Imported here: a daemon with the HTTP module switched off never loads FastAPI.
        from teamfoned.api import ApiServer, create_app

        app = create_app(self.sessions, self.settings, clock=self.clock, status=self.state,
                         metrics=self.metrics, line_signals=self.line_signals)
        # Kept to hand it the reloaded settings: the routing defaults for new teams are live.
        self._api_context = app.state.api
        return ApiServer(app, self.settings.http, sockets=sockets)

    def _build_agi(self) -> AgiServer:
        # Imported here: a daemon without FastAGI never loads it.
        from teamfoned.agi.hunt import AgiContext
        from teamfoned.agi.protocol import AgiServer
        from teamfoned.agi.scripts import AgiScripts

        settings = self.settings
        self.agi_scripts = AgiScripts(AgiContext(
            repo=self.repo, clock=self.clock, node=settings.node,
            trunk_template=settings.telephony.trunk_dial_template,
            caller_id_mode=settings.telephony.caller_id_mode,
            confirm_time=settings.telephony.confirm_time, rng=random.Random(),
            claim_margin=settings.agi.claim_margin, metrics=self.metrics,
            fallbacks=settings.telephony.fallback_policy(), signals=self.line_signals),
            line=LineRepository(self.sessions, signals=self.line_signals),
            line_numbers=settings.availability_line.numbers,
            default_region=settings.telephony.default_region)
        self.dispatcher.also_tracked = self.agi_scripts.channels
        assert settings.agi.port is not None
        return AgiServer(settings.agi.listen, settings.agi.port, self.agi_scripts.handle,
                         timeout=settings.agi.timeout)

    def stop(self) -> None:
        """Ask for a graceful stop (signal-safe: it only sets a flag)."""
        self._stop.set()

    async def startup(self) -> None:
        self.notifier.status("starting: checking the database schema")
        revision, head = await current_revision(self.engine), head_revision()
        if revision != head:
            raise SchemaOutdated(
                f"database schema is at {revision or 'nothing'}, this version needs {head}: "
                "run `teamfoned db upgrade`"
            )
        try:
            await self.directory.load()
        except Exception as exc:
            # The database is away: the first call loads it (or finds the journal's cache).
            log.warning("routing_directory_not_loaded", error=repr(exc)[:300])
        # Calls this node left open when it last stopped are not closed here: Asterisk may still
        # hold them (a bridged pair talks on). The resync on the first ARI connection adopts them
        # or ends them with the right outcome (telephony.resync).

    async def run(self) -> None:
        await self.startup()
        if self.agi is not None:
            await self.agi.start()
        try:
            async with asyncio.TaskGroup() as tg:
                ari_task = tg.create_task(self.ari.run(), name="ari")
                dispatch_task = tg.create_task(self.dispatcher.run(), name="dispatch")
                api_task = tg.create_task(self._serve_api(self.api), name="http") if self.api else None
                ready_task = tg.create_task(self._announce_ready(), name="ready")
                tg.create_task(self.notifier.keep_alive(self.state.describe, self._closing),
                               name="watchdog")
                tg.create_task(self.housekeeping.run(self._closing), name="housekeeping")
                tg.create_task(self.repo.run(self._closing), name="journal")
                tg.create_task(self.directory.run(self._closing), name="directory")
                tg.create_task(self.schedules.run(self._closing), name="schedules")
                tg.create_task(self.line_signals.run(self._closing), name="line-signals")
                webhook_task = tg.create_task(self.webhooks.run(), name="webhooks")
                if self.agi_scripts is not None:
                    tg.create_task(self.agi_scripts.run(self._closing), name="agi")
                await self._stop.wait()
                # Stopped before ARI or the database came up: there is nothing to announce.
                ready_task.cancel()
                await self._drain()
                self.state.phase = "stopping"
                self.notifier.status(self.state.describe())
                if self.agi is not None:
                    # New AGI requests now fail, and the dialplan falls back (AGISTATUS=FAILURE);
                    # the calls still open over FastAGI are ended by the closing below.
                    await self.agi.close()
                self._closing.set()
                # Undelivered events stay in the outbox for the next start.
                webhook_task.cancel()
                if self.api is not None and api_task is not None:
                    self.api.stop()
                    await api_task
                await self.ari.close()
                await ari_task
                await dispatch_task
        finally:
            if self.agi is not None:
                await self.agi.close()
            await self.routing_engine.dispose()
            await self.engine.dispose()
            log.info("daemon_stopped")

    async def _serve_api(self, api: ApiServer) -> None:
        try:
            await api.serve()
        except SystemExit:
            # uvicorn exits the process when it cannot bind; the daemon says why instead.
            http = self.settings.http
            raise HttpListenFailed(f"the HTTP module cannot listen on {http.listen}:{http.port} "
                                   "(in use? set http.port, or http.enabled: false)") from None

    async def _on_ari_connect(self) -> None:
        self._ari_connections += 1
        if self._ari_connections > 1:
            self.metrics.ari_reconnects.inc()
            log.info("ari_reconnected", connections=self._ari_connections)
        await self.dispatcher.resync()

    async def database_reachable(self) -> bool:
        try:
            async with asyncio.timeout(DB_PROBE_TIMEOUT_S):
                await ping(self.sessions)
            return True
        except Exception as exc:  # any failure means "not reachable"; the log says which
            log.warning("database_unreachable", error=str(exc))
            return False

    async def _announce_ready(self) -> None:
        """READY=1 only once ARI is connected and the database answers."""
        await self.ari.wait_connected()
        while not await self.database_reachable():
            self.notifier.status("starting: database unreachable, retrying")
            await asyncio.sleep(DB_PROBE_RETRY_S)
        if self._stop.is_set():
            return
        self.state.phase = "running"
        self.started.set()
        self.notifier.ready(self.state.describe())
        log.info("daemon_ready", node=self.settings.node, app=self.settings.ari.app,
                 http=f"{self.settings.http.listen}:{self.settings.http.port}" if self.api else "off")

    async def _drain(self) -> None:
        """Stop taking calls; let calls in progress finish up to the limit, then end the rest."""
        self.dispatcher.accepting = False
        self.state.phase = "draining"
        self.state.drain_deadline = asyncio.get_running_loop().time() + self.drain_seconds
        in_progress = self.dispatcher.calls_in_progress
        self.notifier.stopping(self.state.describe())
        log.info("daemon_draining", calls=in_progress, limit_seconds=self.drain_seconds)
        try:
            await asyncio.wait_for(self.dispatcher.wait_calls(), self.drain_seconds)
            log.info("drain_finished", calls_finished=in_progress, calls_ended=0)
        except TimeoutError:
            ended = self.dispatcher.cancel_calls()
            self.metrics.drained_calls.inc(ended)
            log.warning("drain_limit_reached", calls_ended=ended, limit_seconds=self.drain_seconds)
            await self.dispatcher.wait_calls()

    def reload(self, config_path: str | Path) -> None:
        """SIGHUP: apply what can change while running; name what needs a restart."""
        self.notifier.reloading()
        try:
            fresh = load_settings(config_path)
        except ConfigError as exc:
            log.error("config_reload_refused", problems=exc.problems,
                      hint="the running configuration stays; fix the file and send SIGHUP again")
        else:
            self.settings = self.apply_settings(fresh)
        self.notifier.reloaded(self.state.describe())

    def apply_settings(self, new: Settings) -> Settings:
        """Apply the live part of `new`; return the settings the daemon now runs with."""
        old = self.settings
        changed = changed_keys(old, new)
        live = [k for k in changed if k.startswith(LIVE_KEYS)]
        restart = [k for k in changed if k not in live]
        if any(k.startswith("logging.") for k in live):
            configure_logging(new.logging.level, new.logging.format)
        if "shutdown.drain_limit" in live:
            self.drain_seconds = new.shutdown.drain_limit
        if "housekeeping.purge_every_hours" in live:
            self.housekeeping.every_seconds = new.housekeeping.purge_every_hours * 3600
        applied = old.model_copy(update={section: getattr(new, section) for section in LIVE_SECTIONS})
        if self._api_context is not None:
            # The API reads its settings at each request (the routing defaults of new teams).
            self._api_context.settings = applied
        if restart:
            log.warning("config_restart_needed", keys=restart,
                        hint="these keep their running values until `systemctl restart teamfoned`")
        log.info("config_reloaded", applied=live, unchanged=not changed)
        # Every key that needs a restart keeps its running value: only the live sections move.
        return applied


async def run_daemon(settings: Settings, config_path: str | Path | None = None) -> int:
    """`teamfoned run`: the daemon until SIGTERM or SIGINT; SIGHUP re-reads `config_path`."""
    daemon = Daemon(settings)
    loop = asyncio.get_running_loop()
    handled = [signal.SIGTERM, signal.SIGINT]
    for sig in handled:
        loop.add_signal_handler(sig, daemon.stop)
    if config_path is not None:
        loop.add_signal_handler(signal.SIGHUP, daemon.reload, config_path)
        handled.append(signal.SIGHUP)
    try:
        await daemon.run()
    except ExceptionGroup as group:
        # The TaskGroup wraps it; the sysadmin needs the one sentence that says what to fix.
        listen = group.subgroup(HttpListenFailed)
        if listen is not None:
            raise listen.exceptions[0] from None
        raise
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    return 0
