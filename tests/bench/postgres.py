"""PostgreSQL bench: one throw-away cluster per test session on 127.0.0.1, a fresh database per test."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

DATABASE = "teamfoned"
# The session's migrated database, which each test's migrated database is a copy of.
MIGRATED_TEMPLATE = "teamfoned_migrated"
SUPERUSER = "teamfoned"
# initdb refuses to run as root; on Debian the packaged `postgres` system user is the natural owner.
SYSTEM_USER = "postgres"


def _missing(reason: str) -> None:
    # On CI a missing PostgreSQL must not quietly turn the store tests green.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL bench unavailable on CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL bench unavailable: {reason}")


def _find_bindir() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    # Debian keeps the server binaries off PATH, one directory per major version.
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(bindir, "initdb"), os.X_OK):
            return Path(bindir)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Cluster:
    """A cluster in a temporary directory, run as an unprivileged user when we are root."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"
        self.port = port
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                _missing(f"running as root and there is no {SYSTEM_USER!r} user to run initdb as")
            self.as_user = ["runuser", "-u", SYSTEM_USER, "--"]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=120, check=False
        )

    def prepare(self) -> None:
        self.sockets.mkdir()
        if self.as_user:
            entry = pwd.getpwnam(SYSTEM_USER)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def initdb(self) -> None:
        done = self.run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def start(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            mark = self.log.stat().st_size if self.log.exists() else 0
            done = self._pg_ctl_start()
            if done.returncode == 0:
                return
            log = self.log.read_bytes()[mark:].decode(errors="replace") if self.log.exists() else "(no log)"
            # The port was free when picked, but another bench (a parallel worker, another
            # session) may take it before the server binds it: pick another and try again.
            if "could not bind" in log and attempt + 1 < attempts:
                self.port = _free_port()
                continue
            raise RuntimeError(
                f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n--- server log ---\n{log}"
            )

    def _pg_ctl_start(self) -> subprocess.CompletedProcess[str]:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.sockets} "
            # No fsync: a throw-away cluster need not survive a power cut. But a commit must
            # survive the server being killed (the outage tests stop it with -m immediate), so
            # synchronous_commit stays on: WAL is written, just not flushed to disk.
            "-c fsync=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        return self.run(
            str(self.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
            "-l", str(self.log), "-o", options,
        )

    def stop(self) -> None:
        self.run(str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.data))

    def sql(self, statement: str) -> None:
        done = self.run(
            str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", statement,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {statement!r} failed:\n{done.stderr}")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[_Cluster]:
    """The running session cluster (skips, or fails on CI, when PostgreSQL is not installed)."""
    bindir = _find_bindir()
    if bindir is None:
        _missing("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="teamfoned-pg-"))
    cluster = _Cluster(bindir, root, _free_port())
    started = False
    try:
        cluster.prepare()
        try:
            cluster.initdb()
            started = True  # pg_ctl stop is harmless if start failed half-way
            cluster.start()
            cluster.sql(f"CREATE DATABASE {DATABASE}")
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            _missing(str(exc))
        yield cluster
    finally:
        if started:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: _Cluster) -> str:
    """URL of the session's `teamfoned` database (shared by every test using it)."""
    return postgres_cluster.url(DATABASE)


@pytest.fixture
def postgres_database(postgres_cluster: _Cluster) -> Iterator[str]:
    """URL of a brand-new empty database for this test only, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    postgres_cluster.sql(f"CREATE DATABASE {name}")
    try:
        yield postgres_cluster.url(name)
    finally:
        with contextlib.suppress(RuntimeError):
            postgres_cluster.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database for this test: a SQLite file, then a fresh PostgreSQL database.

    Not migrated: tests that need the schema take `migrated_db_url`, or apply the migrations
    themselves (the store's schema tests), which exercises them on both databases.
    """
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'teamfoned.db'}"
    request.applymarker(pytest.mark.postgres)
    return request.getfixturevalue("postgres_database")


async def _migrate(url: str) -> None:
    from teamfoned.store.engine import create_engine
    from teamfoned.store.migrate import upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, once per session (copied for each test)."""
    path = tmp_path_factory.mktemp("migrated-sqlite") / "teamfoned.db"
    await _migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_postgres_template(postgres_cluster: _Cluster) -> str:
    """A PostgreSQL database with every migration applied, once per session: the template each
    test's database is created from. Nothing stays connected to it (CREATE DATABASE ... TEMPLATE
    refuses a template in use)."""
    postgres_cluster.sql(f"CREATE DATABASE {MIGRATED_TEMPLATE}")
    await _migrate(postgres_cluster.url(MIGRATED_TEMPLATE))
    return MIGRATED_TEMPLATE


def _copy_sqlite(template: Path, target: str | Path) -> None:
    # SQLite's online backup: a consistent copy whatever journal mode the file is in.
    with contextlib.closing(sqlite3.connect(template)) as source, \
            contextlib.closing(sqlite3.connect(target)) as copy:
        source.backup(copy)


@pytest.fixture
def migrated_sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file in the test's folder (`teamfoned.db`) with every migration applied."""
    path = tmp_path / "teamfoned.db"
    _copy_sqlite(request.getfixturevalue("migrated_sqlite_template"), path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def migrated_db_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """`db_url` with every migration applied (the schema the daemon runs on).

    A copy of the session's migrated database: migrating each test's own database took most of
    the integration tests' time (seconds each, hundreds of tests). The migrations still run on
    both databases, once per session here and step by step in the store's schema tests.
    """
    if db_url.startswith("sqlite"):
        _copy_sqlite(request.getfixturevalue("migrated_sqlite_template"), db_url.split(":///", 1)[1])
        return db_url
    name = request.getfixturevalue("migrated_postgres_template")
    cluster: _Cluster = request.getfixturevalue("postgres_cluster")
    database = db_url.rsplit("/", 1)[1]
    cluster.sql(f"DROP DATABASE {database}")
    cluster.sql(f"CREATE DATABASE {database} TEMPLATE {name}")
    return db_url
