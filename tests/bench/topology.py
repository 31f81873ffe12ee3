"""The bench's two Asterisk instances on loopback: the PBX (our config as shipped) and the carrier.

The PBX listens on 127.0.0.1 and runs asterisk-config/ unchanged, plus only
the site files that config includes (the ARI user, the SIP transport and the
trunk to the carrier) and an RTP port range. The carrier listens on
127.0.0.2, so each side's PJSIP `identify` tells the other apart by address.
"""

from __future__ import annotations

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
AGI_PORT = 4573


def _loopback_subnet() -> str:
    """A /24 of loopback addresses no other bench on this machine is using right now.

    Every bench (a test session, the demo, a benchmark) gets its own addresses, so several
    can run side by side: .1 is the PBX, .2 the carrier, .3 a second PBX.
    """
    rng = random.SystemRandom()
    for _ in range(50):
        subnet = f"127.{rng.randint(2, 254)}.{rng.randint(1, 254)}"
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((f"{subnet}.1", 8088))
            return subnet
        except OSError:
            continue
    raise RuntimeError("no free loopback subnet for the bench")


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

    @property
    def pbx_host(self) -> str:
        return f"{self.subnet}.1"

    @property
    def carrier_host(self) -> str:
        return f"{self.subnet}.2"

    @property
    def ari_url(self) -> str:
        return f"http://{self.pbx_host}:{self.ari_port}"


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
        "rtp.conf": "[general]\nrtpstart = 20000\nrtpend = 20999\n",
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
    files["rtp.conf"] = "[general]\nrtpstart = 21000\nrtpend = 21999\n"
    return files
