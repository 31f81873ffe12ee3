"""Bench-side PBX files for the baselines: a plain Dial() and an app_queue Queue() of the same members.

The shipped dialplan sends every trunk call to Stasis. These site files add
distinct number ranges to [from-trunk] (a more specific pattern wins over
`_X.`) that reach the same member phones without teamfoned.
"""

from __future__ import annotations

TEAMFONED_PREFIX = "3120555"  # teamfoned team numbers: 3120555 + 4 digits
NATIVE_PREFIX = "3120666"     # Dial() of the member directly
QUEUE_PREFIX = "3120777"      # Queue() whose only member is that member
# The waiting line's hand-off (benchmarks/queue_handoff.py): number 9001 of teamfoned's range and
# of the queue range, one member phone, reached by app_queue through an endpoint of its own.
HANDOFF = 9001
HANDOFF_QUEUE = "bench-handoff"
HANDOFF_ENDPOINT = "bench-handoff-phone"


def member_phone(i: int) -> str:
    return f"+316110{i:05d}"


def number(prefix: str, i: int) -> str:
    return f"{prefix}{i:04d}"


def handoff_phone(members: int) -> str:
    """The hand-off comparison's one member phone (after the propagation team's two)."""
    return member_phone(members + 2)


def handoff_endpoint(members: int, carrier_host: str, carrier_port: int) -> str:
    """pjsip_site.conf lines: the hand-off phone as a PJSIP endpoint of its own, for app_queue.

    `ringinuse = no` reads the member's device state. A phone dialled through the trunk shares
    the trunk's device state with every call on it (the waiting caller's own channel too), so
    app_queue would always see it in use; an endpoint of its own is in use only while the
    member's own leg is up, as a desk phone is.
    """
    return f"""
[{HANDOFF_ENDPOINT}]
type = endpoint
transport = transport-udp
context = from-trunk
disallow = all
allow = ulaw
aors = {HANDOFF_ENDPOINT}
direct_media = no

[{HANDOFF_ENDPOINT}]
type = aor
contact = sip:{handoff_phone(members)}@{carrier_host}:{carrier_port}
"""


def site_files(members: int) -> dict[str, str]:
    ext = [
        "; bench only: baselines for teamfoned's benchmark",
        "[from-trunk]",
        f"exten => _{NATIVE_PREFIX}XXXX,1,Goto(bench-native,${{EXTEN}},1)",
        f"exten => _{QUEUE_PREFIX}XXXX,1,Goto(bench-queue,${{EXTEN}},1)",
        "",
        "[bench-native]",
    ]
    for i in range(members):
        ext.append(f"exten => {number(NATIVE_PREFIX, i)},1,Dial(PJSIP/{member_phone(i)}@trunk,20)")
        ext.append(" same => n,Hangup()")
    ext += ["", "[bench-queue]"]
    for i in range(members):
        ext.append(f"exten => {number(QUEUE_PREFIX, i)},1,Queue(bench-{i},r,,,60)")
        ext.append(" same => n,Hangup()")
    ext.append(f"exten => {number(QUEUE_PREFIX, HANDOFF)},1,Queue({HANDOFF_QUEUE},r,,,60)")
    ext.append(" same => n,Hangup()")
    queues = [
        "[general]",
        "persistentmembers = no",
        "autofill = yes",
        "shared_lastcall = no",
        "log_membername_as_agent = yes",
        "",
    ]
    for i in range(members):
        queues += [
            f"[bench-{i}]",
            "strategy = linear",
            "timeout = 20",
            "retry = 1",
            "wrapuptime = 0",
            "ringinuse = yes",
            "announce-frequency = 0",
            "periodic-announce-frequency = 0",
            "announce-holdtime = no",
            "joinempty = yes",
            "leavewhenempty = no",
            # The state interface: the trunk endpoint (a dial string is no device of its own).
            f"member => PJSIP/{member_phone(i)}@trunk,0,m{i},PJSIP/trunk",
            "",
        ]
    queues += [
        f"[{HANDOFF_QUEUE}]",
        "strategy = linear",
        "timeout = 20",
        # app_queue's smallest: how long a waiting caller sleeps before it looks at the members
        # again (0 means its default, 5). A member freed meanwhile waits for that look.
        "retry = 1",
        "wrapuptime = 0",
        "ringinuse = no",
        "announce-frequency = 0",
        "periodic-announce-frequency = 0",
        "announce-holdtime = no",
        "joinempty = yes",
        "leavewhenempty = no",
        f"member => PJSIP/{HANDOFF_ENDPOINT},0,handoff",
        "",
    ]
    return {"extensions_site.conf": "\n".join(ext) + "\n", "queues.conf": "\n".join(queues)}
