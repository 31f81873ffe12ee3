"""What members hear on their own leg: the call-confirmation prompt and the too-late message."""

from __future__ import annotations

import re
import unicodedata

from teamfoned.domain.names import SOUND as _SOUND
from teamfoned.routing.model import TeamRoute

# Asterisk's core sounds: "calling", the team number's digits, "press", "1".
# A team's own recording (a sound name) replaces the first part, e.g. "this is a call for
# the reception team". The recording's name is checked against the shape of a sound name.
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


# Quote and angle brackets would break out of the caller-id syntax.
_NAME_UNSAFE = re.compile(r'["<>\\]')


def _printable(text: str) -> str:
    # Every control, format and line/paragraph separator character goes (NUL, tab, escape,
    # U+2028...): the trunk's caller name is untrusted and a phone's display is no terminal.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C"
                   and unicodedata.category(ch) not in ("Zl", "Zp"))


def member_caller_id(number: str, caller_name: str, label: str) -> str | None:
    """What a member's phone shows: the caller's number, and where the trunk passes a name,
    the team label before the caller's name ("Reception: Jan"), so they know which team."""
    number = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    name = _NAME_UNSAFE.sub("", _printable(f"{label}: {caller_name}" if caller_name else label)).strip()[:60]
    if not number and not name:
        return None
    return f'"{name}" <{number}>' if name else number
