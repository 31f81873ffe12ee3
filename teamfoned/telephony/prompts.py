"""What members hear on their own leg: the call-confirmation prompt and the too-late message."""

from __future__ import annotations

import re
import unicodedata
import uuid

from teamfoned.domain.prompts import (
    CALLBACK_FOR,
    CALLING,
    PRESS,
    QUEUE_CALLBACK_CONFIRMED,
    QUEUE_TO_BE_CALLED_BACK,
    SORRY,
    TO_ACCEPT,
    sound,
)
from teamfoned.domain.team_settings import check_sound
from teamfoned.routing.model import TeamRoute
from teamfoned.telephony.caller_prompts import position_announcement

# Asterisk's core sounds: "calling", the team number's digits, "press", "1".
# A team's own recording (a sound name) replaces the first part, e.g. "this is a call for
# the reception team".
# A team's sounds live in its tenant's own directory under Asterisk's sounds directory,
# filled by the sysadmin: a plain name is played from there and nowhere else.
TENANT_SOUNDS = "teamfoned"
TOO_LATE_PROMPT = sound(SORRY)
# Long enough for "sorry" to play before the leg is hung up; the call machine times it
# (TeamPolicy.too_late_seconds), since only it knows when the leg may go.
TOO_LATE_SECONDS = 2.0


def tenant_sound(tenant_id: uuid.UUID, name: str | None) -> str | None:
    """The sound Asterisk plays for a team's sound name: teamfoned/<tenant id>/<name>; None
    for a stored name that is no plain sound name (a hand-edited or pre-upgrade row)."""
    try:
        return f"{TENANT_SOUNDS}/{uuid.UUID(str(tenant_id))}/{check_sound(name)}"
    except ValueError:  # TargetRefused, or no tenant id
        return None


def confirmation_prompt(route: TeamRoute, dialled: str, accept_key: str) -> str:
    """The media list ARI plays to a member who answered, before they press `accept_key`.

    A stored recording that is no plain sound name plays the shipped prompt instead."""
    recording = tenant_sound(route.tenant_id, route.confirm_recording) if route.confirm_recording else None
    digits = "".join(ch for ch in dialled if ch.isdigit())[-12:]
    if recording:
        intro = [f"sound:{recording}"]
    else:
        intro = [sound(CALLING), *_said(digits)]
    return ",".join([*intro, sound(PRESS), *_said(accept_key)])


def callback_prompt(caller_number: str, accept_key: str) -> str:
    """What the member hears who answered for a callback: "callback for <the caller's number,
    digit by digit>, press 1 to accept" (in the channel's language)."""
    digits = "".join(ch for ch in caller_number if ch.isdigit())[-15:]
    return ",".join([sound(CALLBACK_FOR), *_said(digits), sound(PRESS), *_said(accept_key),
                     sound(TO_ACCEPT)])


def line_announcement(position: int | None, callback_key: str | None,
                      expected_minutes: int | None = None) -> str:
    """What a waiting caller hears: their place ("you are caller number 2", with the expected
    wait when there is one), and where a callback is offered, "press 5 to be called back
    instead"."""
    media = [position_announcement(position, expected_minutes)] if position is not None else []
    if callback_key is not None:
        media += [sound(PRESS), *_said(callback_key), sound(QUEUE_TO_BE_CALLED_BACK)]
    return ",".join(media)


CALLBACK_CONFIRMED = sound(QUEUE_CALLBACK_CONFIRMED)


# Digits as the sound files Asterisk's digits: media would open, one item each: a member who
# presses the key before the prompt ends stops it at once, which a digits: item (said by
# Asterisk's say functions, which no stop request interrupts) would hold until its last digit.
_DIGIT_FILE = {**{d: f"digits/{d}" for d in "0123456789"}, "*": "digits/star", "#": "digits/pound"}


def _said(keys: str) -> list[str]:
    return [sound(_DIGIT_FILE[k]) for k in keys if k in _DIGIT_FILE]


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
