"""SIGHUP: live keys apply, the rest is named as needing a restart and keeps its running value."""

import io
import json

from teamfoned.app import Daemon, changed_keys
from teamfoned.config import settings_from_dict
from teamfoned.logs import configure_logging


def test_reload_applies_live_keys_and_names_the_rest():
    old = settings_from_dict({"ari": {"password": "a"}, "shutdown": {"drain_limit": 30},
                              "logging": {"format": "json"}})
    new = settings_from_dict({"ari": {"password": "b", "url": "http://127.0.0.1:8089"},
                              "shutdown": {"drain_limit": 5}, "logging": {"format": "json"}})
    assert changed_keys(old, new) == ["ari.password", "ari.url", "shutdown.drain_limit"]
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    daemon = Daemon(old)  # built, not started: nothing connects
    running = daemon.apply_settings(new)
    assert daemon.drain_seconds == 5 and running.shutdown.drain_limit == 5
    assert running.ari.url == old.ari.url and running.ari.password.get_secret_value() == "a"
    events = {e["event"]: e for e in map(json.loads, out.getvalue().splitlines())}
    assert events["config_restart_needed"]["keys"] == ["ari.password", "ari.url"]
    assert '"b"' not in out.getvalue()  # names only, never values


def test_reloaded_routing_defaults_reach_the_api():
    """New teams made through the API after SIGHUP get the new defaults, not the start-up ones."""
    old = settings_from_dict({"ari": {"password": "a"}, "routing": {"ring_time": 20}})
    new = settings_from_dict({"ari": {"password": "a"}, "routing": {"ring_time": 35}})
    daemon = Daemon(old)  # built, not started: the API app exists, nothing listens
    assert daemon.api is not None
    daemon.settings = daemon.apply_settings(new)
    assert daemon._api_context is not None
    assert daemon._api_context.settings.routing.ring_time == 35
