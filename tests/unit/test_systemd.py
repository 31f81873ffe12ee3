"""sd_notify without a library: datagrams on NOTIFY_SOCKET, watchdog at half its period, silent without systemd."""

import asyncio
import os
import socket
import tempfile

import pytest

from teamfoned.systemd import Notifier, watchdog_interval


@pytest.fixture
def listener():
    folder = tempfile.mkdtemp(prefix="tfd-sd-")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    yield path, sock
    sock.close()
    os.unlink(path)
    os.rmdir(folder)


def received(sock) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_status_and_stopping_are_sent_as_systemd_reads_them(listener):
    path, sock = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    notifier.ready("routing calls: 0 in progress")
    notifier.status("routing calls: 0 in progress")  # unchanged: not sent again
    notifier.status("routing calls: 1 in progress")
    notifier.stopping("stopping")
    assert received(sock) == ["READY=1\nSTATUS=routing calls: 0 in progress",
                              "STATUS=routing calls: 1 in progress", "STOPPING=1\nSTATUS=stopping"]


def test_without_notify_socket_nothing_happens():
    notifier = Notifier({})
    assert not notifier.enabled
    notifier.ready("x")  # no error


def test_a_full_socket_queue_never_blocks_the_daemon(listener):
    path, _ = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    for _ in range(5000):  # nobody reads: the queue fills, sends are dropped, nothing blocks
        notifier.send(WATCHDOG=1)


def test_watchdog_interval_is_half_the_period_and_for_this_process_only():
    assert watchdog_interval({"WATCHDOG_USEC": "20000000"}) == 10.0
    assert watchdog_interval({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}) == 10.0
    assert watchdog_interval({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None


async def test_keep_alive_pings_until_told_to_stop(listener):
    path, sock = listener
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "40000"})  # ping every 20 ms
    until = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(notifier.keep_alive(lambda: "routing calls", until))
        await asyncio.sleep(0.15)
        until.set()
    messages = received(sock)
    assert messages[0] == "STATUS=routing calls"
    assert messages.count("WATCHDOG=1") >= 4
