"""Bench-side PBX files for the baselines: a plain Dial() and an app_queue Queue() of the same members.

The shipped dialplan sends every trunk call to Stasis. These site files add
distinct number ranges to [from-trunk] (a more specific pattern wins over
`_X.`) that reach the same member phones without teamfoned.
"""

from __future__ import annotations

TEAMFONED_PREFIX = "3120555"  # teamfoned team numbers: 3120555 + 4 digits
NATIVE_PREFIX = "3120666"     # Dial() of the member directly
QUEUE_PREFIX = "3120777"      # Queue() whose only member is that member


def member_phone(i: int) -> str:
    return f"+316110{i:05d}"


def number(prefix: str, i: int) -> str:
    return f"{prefix}{i:04d}"


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
    return {"extensions_site.conf": "\n".join(ext) + "\n", "queues.conf": "\n".join(queues)}
