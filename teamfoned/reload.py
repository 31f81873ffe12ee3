"""SIGHUP: settings that only shape behaviour from now on change live; the rest needs a restart and says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from teamfoned.config import Settings
from teamfoned.logs import configure_logging

if TYPE_CHECKING:
    from teamfoned.app import Daemon

log = structlog.get_logger(__name__)

# Read afresh at each use, so a new value simply applies from now on. `routing` holds the
# defaults for teams created later (by the CLI, which reads the file itself).
LIVE_SECTIONS = ("logging", "shutdown", "housekeeping", "routing")
LIVE_KEYS = tuple(f"{section}." for section in LIVE_SECTIONS)


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


def apply_reload(daemon: Daemon, new: Settings) -> Settings:
    """Apply the live part of `new`; return the settings the daemon now runs with."""
    old = daemon.settings
    changed = changed_keys(old, new)
    live = [k for k in changed if k.startswith(LIVE_KEYS)]
    restart = [k for k in changed if k not in live]
    if any(k.startswith("logging.") for k in live):
        configure_logging(new.logging.level, new.logging.format)
    if "shutdown.drain_limit" in live:
        daemon.drain_seconds = new.shutdown.drain_limit
    if "housekeeping.purge_every_hours" in live:
        daemon.housekeeping.every_seconds = new.housekeeping.purge_every_hours * 3600
    if restart:
        log.warning("config_restart_needed", keys=restart,
                    hint="these keep their running values until `systemctl restart teamfoned`")
    log.info("config_reloaded", applied=live, unchanged=not changed)
    # Every key that needs a restart keeps its running value: only the live sections move.
    return old.model_copy(update={section: getattr(new, section) for section in LIVE_SECTIONS})
