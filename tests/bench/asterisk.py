"""Bench fixtures: a real PBX running asterisk-config/ as shipped, and a carrier Asterisk beside it.

Both run for the whole test session on loopback and are stopped at the end,
even when tests fail. A failed test that used them gets both instances' logs
in its report. With CI=true a missing Asterisk fails the run: end-to-end
tests are never skipped there.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass

import pytest
import pytest_asyncio

from teamfoned.telephony.sound_set import DEFAULT_SOUNDS_DIR, SoundSetError, generate

from .asterisk_instance import AsteriskInstallation, AsteriskInstance
from .carrier import Carrier
from .media import moh_site_file
from .topology import Topology, carrier_files, pbx_files

_instances: list[AsteriskInstance] = []


@dataclass
class Pbx:
    """The PBX under test, and what a daemon needs to reach its ARI."""

    instance: AsteriskInstance
    topology: Topology

    @property
    def ari_url(self) -> str:
        return self.topology.ari_url

    @property
    def ari_user(self) -> str:
        return self.topology.ari_user

    @property
    def ari_password(self) -> str:
        return self.topology.ari_password

    @property
    def app(self) -> str:
        return self.topology.app


def _require(what: str, reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason} (run `make test`, which provisions it)")


@pytest.fixture(scope="session")
def asterisk_installation() -> AsteriskInstallation:
    installation = AsteriskInstallation.find()
    if installation is None:
        _require("Asterisk", "no system asterisk 20+ and no provisioned root")
    return installation


@pytest.fixture(scope="session")
def topology() -> Topology:
    return Topology()


@pytest.fixture(scope="session")
def carrier_instance(asterisk_installation, topology):
    instance = AsteriskInstance(asterisk_installation, "carrier", carrier_files(topology))
    _instances.append(instance)
    try:
        instance.start()
        yield instance
    finally:
        instance.remove()
        _instances.remove(instance)


@pytest.fixture(scope="session")
def dutch_sounds(asterisk_installation) -> None:
    """The generated Dutch prompt set in the PBX's sounds directory. It stays there between
    runs (the generator leaves files it made from the same text alone, so this is quick once
    made); the lock keeps benches that start together from writing the same files at once."""
    sounds = asterisk_installation.host_path(str(DEFAULT_SOUNDS_DIR))
    sounds.mkdir(parents=True, exist_ok=True)
    with open(sounds / ".teamfoned-generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            generate("nl", sounds)
            generate("en", _resolved_languages(asterisk_installation, sounds))
        except SoundSetError as exc:
            _require("The Dutch prompt set", str(exc))


def _resolved_languages(installation, sounds):
    """`sounds` with each language directory as the host sees it: Debian's English directory
    is a symlink inside the Asterisk root, which the host must follow into the root, so the
    generator writes the English prompts Asterisk does not ship where Asterisk reads them."""
    english = sounds / "en"
    if not english.is_symlink() or english.exists():
        return sounds
    target = os.readlink(english)
    while True:  # Debian's alternatives are a chain of absolute links inside the root
        host = installation.host_path(target)
        if not host.is_symlink():
            break
        target = os.readlink(host)
    view = sounds.parent / ".teamfoned-sounds-host-view"
    view.mkdir(exist_ok=True)
    link = view / "en"
    if not link.is_symlink():
        link.symlink_to(host)
    return view


@pytest.fixture(scope="session")
def pbx(asterisk_installation, topology, carrier_instance, dutch_sounds) -> Pbx:
    instance = AsteriskInstance(asterisk_installation, "pbx", pbx_files(topology))
    # The bench's own music-on-hold class, of one known tone: a caller's recording shows it.
    instance.files["musiconhold_site.conf"] = moh_site_file(instance.base, instance.inner_base)
    _instances.append(instance)
    try:
        instance.start()
        yield Pbx(instance, topology)
    finally:
        instance.remove()
        _instances.remove(instance)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def carrier_session(carrier_instance, topology):
    driver = Carrier(topology.carrier_host, topology.ami_port, topology.ami_user, topology.ami_secret)
    # Where the carrier's Asterisk writes what recorded callers heard (inside its own tree).
    driver.recordings = (f"{carrier_instance.inner_base}/recordings", carrier_instance.base / "recordings")
    driver.recordings[1].mkdir(parents=True, exist_ok=True)
    await driver.connect()
    try:
        yield driver
    finally:
        driver.close()


@pytest_asyncio.fixture(loop_scope="session")
async def carrier(carrier_session, pbx) -> Carrier:
    """The carrier with every phone script and record cleared; idle at the end of the test."""
    await carrier_session.reset()
    yield carrier_session
    # Whatever the test did, leave no call behind for the next one.
    for channel in carrier_session.active_channels():
        await carrier_session._manager.send_action({"Action": "Hangup", "Channel": channel})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _instances:
        for instance in list(_instances):
            report.sections.append((f"asterisk {instance.name} log", instance.logs()))
