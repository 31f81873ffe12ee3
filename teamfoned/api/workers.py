"""`teamfoned http`: the API on its own, in one process or in N worker processes sharing one listening socket.

The parent binds the port once and forks the workers, which accept from that same socket
(the kernel hands each connection to one of them); the parent serves nothing, only
watches. SIGTERM or SIGINT reaches every worker, which finishes its requests, writes its
tokens' last uses and exits; the parent exits once all have. A worker that dies on its
own takes the others down with it (exit 1), so the service manager restarts one whole
unit rather than leaving a half-sized pool behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from types import FrameType

import structlog

from teamfoned import event_loop
from teamfoned.config import HttpSettings, Settings

log = structlog.get_logger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Connections waiting for a worker's accept: the kernel's queue, shared by every worker.
BACKLOG = 2048


def listening_socket(http: HttpSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in http.listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((http.listen, http.port))
    except OSError as exc:
        sock.close()
        raise OSError(f"http.listen/http.port: cannot listen on {http.listen}:{http.port} "
                      f"({exc.strerror})") from None
    sock.listen(BACKLOG)
    return sock


async def _serve(settings: Settings, sockets: list[socket.socket]) -> None:
    # Imported here: the parent of the workers never loads FastAPI or opens the database.
    from teamfoned.api import ApiServer, create_app
    from teamfoned.store.engine import create_engine, create_sessionmaker

    engine = create_engine(settings.database.url)
    try:
        server = ApiServer(create_app(create_sessionmaker(engine), settings), settings.http,
                           sockets=sockets)
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            # A stop, not an abort: requests in flight finish, the last token uses are written.
            loop.add_signal_handler(sig, server.stop)
        await server.serve()
    finally:
        await engine.dispose()


def serve_one(settings: Settings, sockets: list[socket.socket] | None = None) -> int:
    """Serve the API in this process until SIGTERM/SIGINT; 0 after a clean stop."""
    # Bound here rather than by uvicorn: a port in use is then an error naming the keys.
    own = [listening_socket(settings.http)] if sockets is None else []
    try:
        event_loop.run(_serve(settings, sockets or own))
    finally:
        for sock in own:
            sock.close()
    return 0


def _worker(settings: Settings, sock: socket.socket) -> int:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)  # the parent's handler is not this process's
    try:
        return serve_one(settings, [sock])
    except BaseException as exc:  # reported here: a forked child has no caller to tell
        log.error("http_worker_failed", error=repr(exc))
        return 1


def serve_workers(settings: Settings, count: int) -> int:
    """Serve the API in `count` forked workers until SIGTERM/SIGINT; the exit code of the pool."""
    sock = listening_socket(settings.http)
    workers: set[int] = set()
    stopping = False

    def stop_all(signum: int, _: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    # Installed before the first fork: a signal that arrives meanwhile is never lost.
    for sig in STOP_SIGNALS:
        signal.signal(sig, stop_all)
    for _ in range(count):
        if stopping:
            break
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _worker(settings, sock)
            finally:
                os._exit(code)
        workers.add(pid)
    sock.close()  # each worker holds its own copy
    log.info("http_workers_started", workers=sorted(workers), listen=settings.http.listen,
             port=settings.http.port)
    code = 0
    while workers:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        workers.discard(pid)
        exit_code = os.waitstatus_to_exitcode(status)
        if not stopping:
            log.error("http_worker_exited", pid=pid, code=exit_code)
            code = 1
            stop_all(signal.SIGTERM)
        elif exit_code != 0:
            log.warning("http_worker_stopped_uncleanly", pid=pid, code=exit_code)
            code = 1
    log.info("http_workers_stopped", code=code)
    return code
