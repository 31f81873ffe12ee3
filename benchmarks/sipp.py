"""SIPp (Debian's sip-tester) as the callers: short answered calls into the PBX from the carrier's address."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from tests.bench.asterisk_instance import free_port

HEAD = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "bench" <sip:+31201234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
Call-ID: [call_id]
Contact: sip:bench@[local_ip]:[local_port]
Max-Forwards: 70"""

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="teamfoned bench caller">
  <send retrans="500"><![CDATA[
INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
{head}
To: <sip:[field0]@[remote_ip]:[remote_port]>
CSeq: 1 INVITE
Content-Type: application/sdp
Content-Length: [len]

v=0
o=bench 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
{head}
To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
CSeq: 1 ACK
Content-Length: 0
  ]]></send>
  <!-- A connected-line update (the member's identity) may come as a re-INVITE: accept it. -->
  <recv request="INVITE" timeout="300" ontimeout="bye"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:bench@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=bench 1 2 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv request="ACK"/>
  <label id="bye"/>
  <pause milliseconds="{pause_ms}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
{head}
To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
CSeq: 2 BYE
Content-Length: 0
  ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""


def available() -> bool:
    return shutil.which("sipp") is not None


async def run_calls(workdir: Path, *, target: str, numbers: list[str], rate: float, calls: int,
                    pause_ms: int, limit: int, local_host: str, timeout_s: int,
                    answer_within_ms: int = 15000) -> dict:
    """Place `calls` calls at `rate` per second; return SIPp's counts of successful and failed calls.

    A call fails when any awaited message (the 200 OK to the INVITE, above all) takes longer
    than `answer_within_ms`."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / "caller.xml"
    scenario.write_text(SCENARIO.format(head=HEAD, pause_ms=pause_ms))
    csv = workdir / "numbers.csv"
    csv.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    stats = workdir / "stats.csv"
    stats.unlink(missing_ok=True)
    argv = [
        "sipp", target, "-sf", str(scenario), "-inf", str(csv),
        "-i", local_host, "-p", str(free_port(local_host, 2)), "-mp", str(free_port(local_host, 2)),
        "-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", str(limit),
        "-recv_timeout", str(answer_within_ms), "-timeout", f"{timeout_s}s", "-timeout_error",
        "-nostdin", "-trace_stat", "-stf", str(stats), "-fd", "1",
    ]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE, cwd=workdir)
    _, err = await asyncio.wait_for(proc.communicate(), timeout_s + 20)
    return {"rc": proc.returncode, **_counts(stats), "stderr": err.decode(errors="replace")[-500:]}


def _counts(stats: Path) -> dict:
    if not stats.exists():
        return {"successful": 0, "failed": None}
    lines = [line for line in stats.read_text().splitlines() if line.strip()]
    header = lines[0].split(";")
    last = lines[-1].split(";")
    row = dict(zip(header, last, strict=False))
    return {"successful": int(row.get("SuccessfulCall(C)", 0) or 0),
            "failed": int(row.get("FailedCall(C)", 0) or 0)}
