"""One real Asterisk process of the test bench: its own config tree, control socket and logs.

Asterisk comes either from the system (an `asterisk` 20+ on PATH) or from the
Debian sid root that scripts/provision.sh builds, run with chroot. With a
chroot every path Asterisk reads must lie inside the root, so each instance
keeps its files under the root and this module maps them to host paths.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path(os.environ.get("TEAMFONED_CACHE_DIR", "/var/cache/teamfoned")) / "asterisk-root"


@dataclass(frozen=True)
class AsteriskInstallation:
    """Where the asterisk binary lives: a chroot root, or None for the system's."""

    root: Path | None

    @classmethod
    def find(cls) -> AsteriskInstallation | None:
        explicit = os.environ.get("TEAMFONED_ASTERISK_ROOT")
        if explicit:
            return cls(Path(explicit))
        if shutil.which("asterisk") and _system_major() >= 20:
            return cls(None)
        if (DEFAULT_ROOT / "usr/sbin/asterisk").exists():
            return cls(DEFAULT_ROOT)
        return None

    def argv(self, *args: str) -> list[str]:
        return (["chroot", str(self.root)] if self.root else []) + ["asterisk", *args]

    def host_path(self, inner: str) -> Path:
        """The host path of a path as Asterisk sees it."""
        return self.root / inner.lstrip("/") if self.root else Path(inner)

    def version(self) -> str:
        return subprocess.run(self.argv("-V"), capture_output=True, text=True, check=True).stdout.strip()


def _system_major() -> int:
    try:
        out = subprocess.run(["asterisk", "-V"], capture_output=True, text=True, timeout=10).stdout
        return int(out.split()[1].split(".")[0])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return 0


def free_port(host: str, kind: int = socket.SOCK_STREAM) -> int:
    """A port free on `host` right now (TCP or UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class AsteriskInstance:
    """An Asterisk process with its own etc/run/log/spool/db directories."""

    def __init__(self, installation: AsteriskInstallation, name: str, files: dict[str, str]):
        self.installation = installation
        self.name = name
        self.files = files
        # Inside the chroot: under /var/tmp, so Asterisk (as root in the root) can write it.
        self.inner_base = f"/var/tmp/teamfoned-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}/{name}"
        self.base = installation.host_path(self.inner_base)
        self.process: subprocess.Popen | None = None
        self._console = None

    @property
    def conf_path(self) -> str:
        return f"{self.inner_base}/etc/asterisk.conf"

    def _write_config(self) -> None:
        for sub in ("etc", "run", "log", "spool", "db", "lib"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        ib = self.inner_base
        (self.base / "etc/asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {ib}/etc\n"
            f"astrundir => {ib}/run\n"
            f"astlogdir => {ib}/log\n"
            f"astspooldir => {ib}/spool\n"
            f"astdbdir => {ib}/db\n"
            "[options]\n"
            "verbose = 3\n"
            "nocolor = yes\n"
            "hideconnect = yes\n"
        )
        for filename, content in self.files.items():
            (self.base / "etc" / filename).write_text(content)

    def start(self, timeout: float = 60.0) -> None:
        if self.process and self.process.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        self._write_config()
        self._console = open(self.base / "log" / "console.log", "ab")
        # -f: stay in the foreground, so this process owns it; -n: no colour.
        self.process = subprocess.Popen(
            self.installation.argv("-f", "-n", "-C", self.conf_path),
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.logs()}")
            try:
                self.cli("core waitfullybooted", timeout=5)
                return
            except (subprocess.SubprocessError, RuntimeError):
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not boot within {timeout} s:\n{self.logs()}")

    def cli(self, command: str, timeout: float = 10.0) -> str:
        result = subprocess.run(
            self.installation.argv("-C", self.conf_path, "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0 or "Unable to connect" in result.stdout:
            raise RuntimeError(f"{self.name}: `{command}` failed: {result.stdout}{result.stderr}")
        return result.stdout

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.process:
            return
        if self.process.poll() is None:
            try:
                self.cli("core stop now", timeout=5)
            except (subprocess.SubprocessError, RuntimeError):
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._console:
            self._console.close()
            self._console = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def logs(self, lines: int = 80) -> str:
        parts = []
        for name in ("messages.log", "console.log"):
            path = self.base / "log" / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {self.name} {name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def log_mark(self) -> int:
        """Where messages.log ends now: `logged_since(mark)` gives the lines written after."""
        path = self.base / "log" / "messages.log"
        return path.stat().st_size if path.exists() else 0

    def logged_since(self, mark: int) -> list[str]:
        """The lines of messages.log written after `log_mark()` returned `mark`: what the PBX
        did meanwhile, for what ARI does not report (which sound files a playback opened)."""
        path = self.base / "log" / "messages.log"
        if not path.exists():
            return []
        with path.open("rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace").splitlines()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base.parent, ignore_errors=True)
