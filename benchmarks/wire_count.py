"""A loopback TCP relay in front of PostgreSQL that counts round trips on the wire, whatever the driver does.

A round trip is a turn: the client sends after it last heard from the server
(or first). Empty queries (the pool's pre-ping), BEGIN, COMMIT and ROLLBACK
count like any statement, and a pipelined batch counts once, as it costs once.
"""

from __future__ import annotations

import asyncio
import contextlib


class _Link:
    def __init__(self) -> None:
        self.client_turn = False  # the client spoke last


class WireCounter:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.roundtrips = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    async def _serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            c_writer.close()
            return
        link = _Link()
        up = asyncio.create_task(self._pipe(c_reader, s_writer, link, from_client=True))
        down = asyncio.create_task(self._pipe(s_reader, c_writer, link, from_client=False))
        self._tasks.update((up, down))
        try:
            await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
                self._tasks.discard(task)
            for writer in (s_writer, c_writer):
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link, *,
                    from_client: bool) -> None:
        while data := await reader.read(65536):
            if from_client and not link.client_turn:
                self.roundtrips += 1
            link.client_turn = from_client
            writer.write(data)
            await writer.drain()
