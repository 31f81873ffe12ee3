"""What members hear on their own leg: the call-confirmation prompt and the too-late message."""

from __future__ import annotations

import re

from teamfoned.routing.model import TeamRoute

# Asterisk's core sounds: "calling", the team number's digits, "press", "1".
# A team's own recording (a sound name) replaces the first part, e.g. "this is a call for
# the reception team".
_SOUND = re.compile(r"^[A-Za-z0-9_/-]{1,100}$")
TOO_LATE_PROMPT = "sound:sorry"
# Long enough for "sorry" to play before the leg is hung up; the call machine times it
# (TeamPolicy.too_late_seconds), since only it knows when the leg may go.
TOO_LATE_SECONDS = 2.0


def confirmation_prompt(route: TeamRoute, dialled: str, accept_key: str) -> str:
    """The media list ARI plays to a member who answered, before they press `accept_key`."""
    recording = route.confirm_recording
    digits = "".join(ch for ch in dialled if ch.isdigit())[-12:]
    if recording and _SOUND.match(recording):
        intro = [f"sound:{recording}"]
    else:
        intro = ["sound:calling"] + ([f"digits:{digits}"] if digits else [])
    return ",".join([*intro, "sound:vm-press", f"digits:{accept_key}"])


_NAME_UNSAFE = re.compile(r'["<>\\\r\n]')


def member_caller_id(number: str, caller_name: str, label: str) -> str | None:
    """What a member's phone shows: the caller's number, and where the trunk passes a name,
    the team label before the caller's name ("Reception: Jan"), so they know which team."""
    number = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    name = _NAME_UNSAFE.sub("", f"{label}: {caller_name}" if caller_name else label).strip()[:60]
    if not number and not name:
        return None
    return f'"{name}" <{number}>' if name else number
