"""The availability line's dialogue: caller id and keys in, prompts and availability changes out; no I/O.

A member calls the service number from their own phone and is known by its caller id. A PIN
is asked when their tenant requires one, or when the number belongs to members of several
tenants (the PIN tells them apart). They hear their status and press 1 (available), 2
(available until the end of the day in their team's time zone) or 3 (unavailable). A caller
the line cannot place, or may not trust, hears only "goodbye": nothing tells them whether
the number is anyone's. Every clock reading comes in with the call (`now`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from teamfoned.domain.pins import verify_pin

DEFAULT_LANGUAGE = "en"
# Languages the line speaks: the prompt catalogue's (domain.prompts.LANGUAGES); the API offers these.
LineLanguage = Literal["en", "nl"]
LINE_LANGUAGES: tuple[str, ...] = get_args(LineLanguage)
PIN_TRIES_PER_CALL = 3
# Wrong PINs in a row (over any number of calls) after which the line refuses the member
# until they set a new PIN: three calls' worth of guesses.
PIN_LOCK_AFTER = 9
PIN_MAX_DIGITS = 12
MENU_TRIES = 2


class LinePrompt(StrEnum):
    """What the line says; the adapters map each to a sound in the caller's language."""

    ENTER_PIN = "enter_pin"
    PIN_WRONG = "pin_wrong"
    CURRENTLY_AVAILABLE = "currently_available"
    CURRENTLY_UNAVAILABLE = "currently_unavailable"
    MENU = "menu"
    NOW_AVAILABLE = "now_available"
    NOW_AVAILABLE_TODAY = "now_available_today"
    NOW_UNAVAILABLE = "now_unavailable"
    GOODBYE = "goodbye"


@dataclass(frozen=True, slots=True)
class LineMember:
    """A member whose phone is the caller id, as the line needs them."""

    member_id: uuid.UUID
    tenant_id: uuid.UUID
    available: bool
    pin_required: bool  # their tenant requires a PIN
    pin_hash: str | None
    pin_failures: int
    language: str = DEFAULT_LANGUAGE
    timezone: str = "UTC"  # their first team's, for "until the end of the day"

    @property
    def pin_usable(self) -> bool:
        return self.pin_hash is not None and self.pin_failures < PIN_LOCK_AFTER


@dataclass(frozen=True, slots=True)
class Say:
    prompts: tuple[LinePrompt, ...]
    language: str


@dataclass(frozen=True, slots=True)
class Ask:
    """Say `prompts`, then collect up to `max_digits` keys (ended early by #); feed `keys`."""

    prompts: tuple[LinePrompt, ...]
    language: str
    max_digits: int


@dataclass(frozen=True, slots=True)
class SetAvailability:
    member_id: uuid.UUID
    tenant_id: uuid.UUID
    available: bool
    until: datetime | None


@dataclass(frozen=True, slots=True)
class PinEntered:
    """Count a PIN attempt for the member: right (resets the count) or wrong (adds one)."""

    member_id: uuid.UUID
    right: bool


@dataclass(frozen=True, slots=True)
class EndCall:
    """Hang up. `refused`: the caller was never placed (logged as such, nothing else)."""

    refused: bool = False


LineAction = Say | Ask | SetAvailability | PinEntered | EndCall


class _State(StrEnum):
    PIN = "pin"
    MENU = "menu"
    DONE = "done"


def end_of_day(now: datetime, timezone: str) -> datetime:
    """The next local midnight in `timezone` after `now`."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)


class AvailabilityLine:
    """One call to the line. `start()` once, then `keys(...)` with what each Ask collected."""

    def __init__(self, matches: Sequence[LineMember]) -> None:
        self._matches = tuple(matches)
        self._member: LineMember | None = None
        self._state = _State.DONE
        self._pin_tries = 0
        self._menu_tries = 0

    @property
    def member(self) -> LineMember | None:
        """Who the caller turned out to be (None until known)."""
        return self._member

    def start(self) -> list[LineAction]:
        matches = self._matches
        if not matches:
            return self._refuse()
        if len(matches) == 1 and not matches[0].pin_required:
            return self._identified(matches[0])
        if not any(m.pin_usable for m in matches):
            # No PIN to tell them apart (or to trust the caller with): nothing is revealed.
            return self._refuse()
        self._state = _State.PIN
        return [Ask((LinePrompt.ENTER_PIN,), self._language(), PIN_MAX_DIGITS)]

    def keys(self, keys: str, *, now: datetime) -> list[LineAction]:
        """What the last Ask collected ("" when the caller pressed nothing in time)."""
        if self._state is _State.PIN:
            return self._pin(keys)
        if self._state is _State.MENU:
            return self._menu(keys, now)
        return []

    def _pin(self, pin: str) -> list[LineAction]:
        usable = [m for m in self._matches if m.pin_usable]
        right = next((m for m in usable if verify_pin(pin, m.pin_hash or "")), None)
        if right is not None:
            return [PinEntered(right.member_id, True), *self._identified(right)]
        self._pin_tries += 1
        # Counted for every member the caller could be: each of their PINs was guessed at.
        actions: list[LineAction] = [PinEntered(m.member_id, False) for m in usable]
        if self._pin_tries >= PIN_TRIES_PER_CALL:
            self._state = _State.DONE
            return [*actions, Say((LinePrompt.PIN_WRONG, LinePrompt.GOODBYE), self._language()),
                    EndCall()]
        return [*actions, Ask((LinePrompt.PIN_WRONG, LinePrompt.ENTER_PIN), self._language(),
                              PIN_MAX_DIGITS)]

    def _identified(self, member: LineMember) -> list[LineAction]:
        self._member = member
        self._state = _State.MENU
        status = LinePrompt.CURRENTLY_AVAILABLE if member.available else LinePrompt.CURRENTLY_UNAVAILABLE
        return [Ask((status, LinePrompt.MENU), member.language, 1)]

    def _menu(self, key: str, now: datetime) -> list[LineAction]:
        member = self._member
        assert member is not None
        choice: tuple[bool, datetime | None, LinePrompt] | None = {
            "1": (True, None, LinePrompt.NOW_AVAILABLE),
            "2": (True, end_of_day(now, member.timezone), LinePrompt.NOW_AVAILABLE_TODAY),
            "3": (False, None, LinePrompt.NOW_UNAVAILABLE),
        }.get(key)
        if choice is None:
            self._menu_tries += 1
            if self._menu_tries >= MENU_TRIES:
                self._state = _State.DONE
                return [Say((LinePrompt.GOODBYE,), member.language), EndCall()]
            return [Ask((LinePrompt.MENU,), member.language, 1)]
        available, until, said = choice
        self._state = _State.DONE
        return [SetAvailability(member.member_id, member.tenant_id, available, until),
                Say((said, LinePrompt.GOODBYE), member.language), EndCall()]

    def _refuse(self) -> list[LineAction]:
        self._state = _State.DONE
        return [Say((LinePrompt.GOODBYE,), DEFAULT_LANGUAGE), EndCall(refused=True)]

    def _language(self) -> str:
        """Before the caller is known, a language only if every match speaks it."""
        languages = {m.language for m in self._matches}
        return languages.pop() if len(languages) == 1 else DEFAULT_LANGUAGE
