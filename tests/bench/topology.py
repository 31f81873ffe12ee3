"""The bench's two Asterisk instances on loopback: the PBX (our config as shipped) and the carrier.

The PBX listens on 127.0.0.1 and runs asterisk-config/ unchanged, plus only
the site files that config includes (the ARI user, the SIP transport and the
trunk to the carrier) and an RTP port range. The carrier listens on
127.0.0.2, so each side's PJSIP `identify` tells the other apart by address.

Several benches run side by side (other test sessions, the parallel test run's workers, the
demo, a benchmark): each claims its own loopback /24 and its own RTP port block, so nothing of
one can reach or collide with another's.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = REPO / "asterisk-config"
CARRIER_CONFIG = Path(__file__).resolve().parent / "carrier-config"
# The FastAGI dialplan, copied by a sysadmin who wants that mode; the bench includes it as is.
AGI_SAMPLE = "extensions_agi.conf.sample"
# Team numbers the bench's trunk sends to the FastAGI dialplan instead of Stasis().
AGI_NUMBER_PATTERN = "_3120555[2-4]XX"
# Bound on the bench's own PBX address (agi.listen), so benches on other /24s never share it.
AGI_PORT = 4573
# Each bench's claim on its /24: a socket bound here for the life of the process that owns it.
CLAIM_HOST = 254
# RTP: each bench takes a block of 3,000 ports (PBX, carrier, second PBX: 1,000 each). Asterisk
# binds RTP to the SIP transport's address (the bench's /24), so the /24 alone keeps benches
# apart; the block per worker also does where media binds to every address.
RTP_FIRST = 20000
RTP_BLOCK = 3000
RTP_BLOCKS = 13  # 20000-58999; a port some other program holds is skipped by Asterisk

_claims: list[socket.socket] = []  # never closed: the claim lasts as long as this process


def worker_index() -> int:
    """This pytest-xdist worker's number (gw0 -> 0, gw1 -> 1); 0 outside a parallel run."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def _loopback_subnet() -> str:
    """A /24 of loopback addresses no other bench on this machine is using right now.

    Every bench (a test session or worker, the demo, a benchmark) gets its own addresses, so
    several can run side by side: .1 is the PBX, .2 the carrier, .3 a second PBX. Two benches
    that start at the same instant could both find a /24 free before either PBX binds it, so
    each claims its /24 atomically by binding .254 (nothing listens there) and holds that
    socket until its process ends.
    """
    rng = random.SystemRandom()
    for _ in range(50):
        subnet = f"127.{rng.randint(2, 254)}.{rng.randint(1, 254)}"
        claim = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            claim.bind((f"{subnet}.{CLAIM_HOST}", 8088))
            # A bench of an older checkout makes no claim: its PBX on .1 is what shows it.
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((f"{subnet}.1", 8088))
        except OSError:
            claim.close()
            continue
        _claims.append(claim)
        return subnet
    raise RuntimeError("no free loopback subnet for the bench")


def _rtp_block() -> int:
    # The parallel run's workers start together: a block each, so their RTP ranges never meet.
    return RTP_FIRST + RTP_BLOCK * (worker_index() % RTP_BLOCKS)


@dataclass(frozen=True)
class Topology:
    subnet: str = field(default_factory=_loopback_subnet)
    ari_port: int = 8088  # as shipped in asterisk-config/http.conf
    pbx_sip_port: int = 5060
    carrier_sip_port: int = 5060
    ami_port: int = 5038
    ari_user: str = "teamfoned"
    ari_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    ami_user: str = "bench"
    ami_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    app: str = "teamfoned"
    rtp_first: int = field(default_factory=_rtp_block)

    @property
    def pbx_host(self) -> str:
        return f"{self.subnet}.1"

    @property
    def carrier_host(self) -> str:
        return f"{self.subnet}.2"

    @property
    def ari_url(self) -> str:
        return f"http://{self.pbx_host}:{self.ari_port}"

    def rtp_conf(self, which: int) -> str:
        """rtp.conf of the bench's instance `which` (0 the PBX, 1 the carrier, 2 a second PBX)."""
        first = self.rtp_first + 1000 * which
        return f"[general]\nrtpstart = {first}\nrtpend = {first + 999}\n"


def shipped_files() -> dict[str, str]:
    """asterisk-config/ exactly as a sysadmin installs it."""
    return {
        p.name: p.read_text()
        for p in sorted(SHIPPED_CONFIG.iterdir())
        if p.suffix == ".conf" and p.is_file()
    }


def pbx_files(t: Topology, extra_site: dict[str, str] | None = None) -> dict[str, str]:
    """The PBX's files; `extra_site` adds further test-side files (never replacing any)."""
    site = {
        "ari_users.conf": (
            f"[{t.ari_user}]\ntype = user\nread_only = no\npassword = {t.ari_password}\n"
        ),
        "pjsip_site.conf": f"""
[transport-udp]
type = transport
protocol = udp
bind = {t.pbx_host}:{t.pbx_sip_port}

[trunk]
type = endpoint
transport = transport-udp
context = from-trunk
disallow = all
allow = ulaw
aors = trunk
direct_media = no
send_pai = yes
trust_id_outbound = yes

[trunk]
type = aor
contact = sip:{t.carrier_host}:{t.carrier_sip_port}

[trunk]
type = identify
endpoint = trunk
match = {t.carrier_host}
""",
        "rtp.conf": t.rtp_conf(0),
        # The shipped http.conf binds 127.0.0.1:8088; each bench has its own loopback address.
        "http_site.conf": f"bindaddr = {t.pbx_host}\nbindport = {t.ari_port}\n",
        # FastAGI mode: the shipped sample unchanged, and some team numbers routed into it.
        AGI_SAMPLE: (SHIPPED_CONFIG / AGI_SAMPLE).read_text(),
        "extensions_agi.conf": (
            f"#include {AGI_SAMPLE}\n\n[from-trunk]\n"
            f"exten => {AGI_NUMBER_PATTERN},1,Goto(teamfoned-agi,${{EXTEN}},1)\n"
        ),
        "extensions_globals_site.conf": f"TEAMFONED_AGI = agi://{t.pbx_host}:{AGI_PORT}\n",
    }
    if extra_site:
        clash = set(site) & set(extra_site)
        assert not clash, f"extra site files must not replace the bench's own: {clash}"
        site |= extra_site
    files = shipped_files()
    overlap = set(files) & set(site)
    assert not overlap, f"test-side files must not replace shipped ones: {overlap}"
    return files | site


def carrier_files(t: Topology) -> dict[str, str]:
    files = {p.name: p.read_text() for p in CARRIER_CONFIG.iterdir() if p.suffix == ".conf"}
    files["pjsip.conf"] = f"""
[global]
type = global
user_agent = Carrier
endpoint_identifier_order = ip

[transport-udp]
type = transport
protocol = udp
bind = {t.carrier_host}:{t.carrier_sip_port}

[pbx]
type = endpoint
transport = transport-udp
context = from-pbx
disallow = all
allow = ulaw
aors = pbx
direct_media = no
trust_id_inbound = yes

[pbx]
type = aor
contact = sip:{t.pbx_host}:{t.pbx_sip_port}

[pbx]
type = identify
endpoint = pbx
match = {t.pbx_host}
"""
    files["manager.conf"] = f"""
[general]
enabled = yes
bindaddr = {t.carrier_host}
port = {t.ami_port}

[{t.ami_user}]
secret = {t.ami_secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.0/255.0.0.0
read = all
write = all
"""
    files["rtp.conf"] = t.rtp_conf(1)
    return files
