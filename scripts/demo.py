"""`make demo`: teamfoned routing a real SIP call on this machine, start to finish.

It starts a local PBX (Asterisk running asterisk-config/ as shipped) and a
carrier (a second Asterisk that plays the outside world), writes a
teamfoned.yaml with the embedded SQLite default, creates the schema and a
small directory with the real CLI, runs `teamfoned run`, places a call to the
team number, and prints the call record. Everything stops at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The demo runs from a checkout: the bench's Asterisk helpers are imported after the path is set.
from tests.bench.asterisk_instance import AsteriskInstallation, AsteriskInstance  # noqa: E402
from tests.bench.carrier import Carrier  # noqa: E402
from tests.bench.topology import Topology, carrier_files, pbx_files  # noqa: E402

WORK = REPO / "build" / "demo"
TEAMFONED = [sys.executable, "-m", "teamfoned.cli"]
TEAM_NUMBER = "3120555100"
DIRECTORY = """\
tenants:
  - name: demo-practice
    members:
      - {name: Anna, phone: "+31610000001", available: true}
      - {name: Bram, phone: "+31610000002", available: true}
      - {name: Chris, phone: "+31610000003", available: false}
    teams:
      - name: reception
        label: Reception
        strategy: linear
        ring_time: 5
        max_wait: 60
        confirm_calls: false
        numbers: ["3120555100"]
        members: [Anna, Bram, Chris]
"""


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def cli(config: Path, *args: str) -> str:
    result = subprocess.run([*TEAMFONED, "--config", str(config), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"teamfoned {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def place_call(topology: Topology) -> None:
    carrier = Carrier(topology.carrier_host, topology.ami_port, topology.ami_user, topology.ami_secret)
    await carrier.connect()
    try:
        await carrier.reset()
        await carrier.set_phone("+31610000001", "never")            # Anna does not pick up
        await carrier.set_phone("+31610000002", "answer", delay=1)  # Bram answers after 1 s
        say(f"calling team number {TEAM_NUMBER} from +31201234567 "
            "(Anna will not pick up; Bram answers after a second)")
        leg = await carrier.call(TEAM_NUMBER, caller_id="+31201234567", caller_name="Demo caller")
        anna = await carrier.wait_rung("+31610000001", timeout=15)
        print(f"   Anna's phone rings (caller id {anna.caller_id_num})", flush=True)
        bram = await carrier.wait_rung("+31610000002", timeout=15)
        print(f"   after {bram.rang_at - anna.rang_at:.1f} s Anna is given up on; Bram's phone rings", flush=True)
        await carrier.wait_for(lambda: leg.answered and bram.answered, 15, "Bram to answer")
        print(f"   Bram answered: caller and Bram are talking "
              f"(the caller waited {leg.answered_at - leg.sent_at:.1f} s)", flush=True)
        await asyncio.sleep(3)
        await carrier.hangup_caller(leg)
        await carrier.wait_for(lambda: bram.ended, 10, "Bram's line to be released")
        print("   the caller hung up; Bram's line was released", flush=True)
    finally:
        carrier.close()


def main() -> int:
    installation = AsteriskInstallation.find()
    if installation is None:
        raise SystemExit("no Asterisk found: run `make demo` (it provisions one) or scripts/provision.sh")
    WORK.mkdir(parents=True, exist_ok=True)
    database = WORK / "teamfoned.db"
    database.unlink(missing_ok=True)
    topology = Topology()
    config = WORK / "teamfoned.yaml"
    http_port = free_port()
    config.write_text(
        f"node: demo\n"
        f"ari:\n  url: {topology.ari_url}\n  username: {topology.ari_user}\n"
        f"  password_env: TEAMFONED_DEMO_ARI_PASSWORD\n  app: {topology.app}\n"
        f"database:\n  url: sqlite+aiosqlite:///{database}\n"
        f"telephony:\n  trunk_dial_template: PJSIP/{{number}}@trunk\n  allowed_countries: [NL]\n"
        f"logging:\n  level: info\n  format: console\n"
        # The daemon's HTTP module on a free loopback port: 8080 may be taken on this machine.
        f"http:\n  port: {http_port}\n"
    )
    os.environ["TEAMFONED_DEMO_ARI_PASSWORD"] = topology.ari_password
    (WORK / "directory.yaml").write_text(DIRECTORY)

    say(f"starting a PBX and a carrier on loopback ({installation.version()})")
    carrier = AsteriskInstance(installation, "carrier", carrier_files(topology))
    pbx = AsteriskInstance(installation, "pbx", pbx_files(topology))
    daemon = None
    try:
        carrier.start()
        pbx.start()
        say("teamfoned check-config, db upgrade, import directory.yaml")
        print(cli(config, "check-config").strip())
        cli(config, "db", "upgrade")
        print(cli(config, "import", str(WORK / "directory.yaml")).strip())

        say("teamfoned run (the daemon's log follows, prefixed with |)")
        daemon = subprocess.Popen([*TEAMFONED, "--config", str(config), "run"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _relay(daemon)
        _wait_for_line("daemon_ready", 20)
        asyncio.run(place_call(topology))
        time.sleep(0.5)

        say("the call record (teamfoned calls --tenant demo-practice --team reception)")
        print(cli(config, "calls", "--tenant", "demo-practice", "--team", "reception"))

        say("the members' web app: Anna's one-time sign-in link (teamfoned member invite)")
        print(cli(config, "member", "invite", "--tenant", "demo-practice", "Anna", "--no-qr").strip())
        if sys.stdout.isatty() and os.environ.get("CI") != "true":
            # On a terminal the demo stays up so the link can be opened; in CI it finishes.
            say(f"open the link above in a browser on this machine (port {http_port}); "
                "press Ctrl-C to stop")
            try:
                while daemon.poll() is None:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
        return 0
    finally:
        if daemon is not None and daemon.poll() is None:
            say("stopping teamfoned (SIGTERM) and the two Asterisk instances")
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
        pbx.remove()
        carrier.remove()


_lines: list[str] = []


def _relay(process: subprocess.Popen) -> None:
    import threading

    def pump() -> None:
        for line in process.stdout:
            _lines.append(line)
            print(f"   | {line}", end="", flush=True)

    threading.Thread(target=pump, daemon=True).start()


def _wait_for_line(text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in _lines):
            return
        time.sleep(0.1)
    raise SystemExit(f"the daemon did not report {text} within {timeout} s")


if __name__ == "__main__":
    sys.exit(main())
