"""Fault tests: the real bench (PBX, carrier, PostgreSQL) with a daemon that gets cut off, killed or starved.

Every test is bounded by a timeout and leaves the session's PBX running and the
carrier idle for the tests after it.
"""

import dataclasses
import socket

import pytest
import pytest_asyncio

from tests.bench.asterisk import Pbx
from tests.bench.asterisk_instance import AsteriskInstance, free_port
from tests.bench.topology import pbx_files

from .fault_bench import FaultBench, InProcessBench


@pytest_asyncio.fixture(loop_scope="session")
async def crashable(pbx, carrier, tmp_path, migrated_sqlite_url):
    """A daemon in a child process (so it can be SIGKILLed), on a SQLite file."""
    bench = FaultBench(pbx, carrier, tmp_path, migrated_sqlite_url)
    try:
        yield bench
    finally:
        await bench.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def in_process(pbx, carrier, tmp_path, migrated_sqlite_url):
    """A daemon in this event loop (its ARI client and dispatcher can be looked at directly)."""
    bench = InProcessBench(pbx, carrier, tmp_path, migrated_sqlite_url)
    try:
        yield bench
    finally:
        await bench.stop()


@pytest.fixture(scope="module")
def second_pbx(asterisk_installation, topology, pbx):
    """A second PBX for two-node tests, beside the session's one, running asterisk-config/ as shipped.

    Its ARI listens on the bench's .3 address (the test-side http_site.conf that the shipped
    http.conf includes last). Its SIP transport is on the PBX's own address at another port:
    the carrier tells peers apart by address, and so takes it for the same trusted PBX.
    """
    sip_port = free_port(topology.pbx_host, socket.SOCK_DGRAM)
    files = pbx_files(dataclasses.replace(topology, pbx_sip_port=sip_port))
    files["http_site.conf"] = f"bindaddr = {topology.subnet}.3\nbindport = {topology.ari_port}\n"
    files["rtp.conf"] = topology.rtp_conf(2)
    instance = AsteriskInstance(asterisk_installation, "pbx2", files)
    try:
        instance.start()
        yield SecondPbx(instance, topology, f"{topology.pbx_host}:{sip_port}")
    finally:
        instance.remove()


@dataclasses.dataclass
class SecondPbx(Pbx):
    sip_address: str = ""  # where the carrier sends calls for this PBX

    @property
    def ari_url(self) -> str:
        return f"http://{self.topology.subnet}.3:{self.topology.ari_port}"
