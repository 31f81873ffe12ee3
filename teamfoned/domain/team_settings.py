"""A team's routing settings and every rule they must keep, the same for the API, the console and the directory file; no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

from teamfoned.domain.errors import Invalid
from teamfoned.domain.members import PhonePolicy
from teamfoned.domain.names import DIALPLAN_TARGET, NAME, SOUND
from teamfoned.domain.phones import E164, PhoneRejected, validate_phone
from teamfoned.domain.prompts import LANGUAGES
from teamfoned.domain.timetable import check_timezone
from teamfoned.routing.model import CALLBACK_KEYS, FallbackKind, WaitingSound
from teamfoned.routing.strategies import STRATEGIES, UnknownStrategy, validate_strategy

# Whole seconds each timing setting may take, lowest and highest.
LIMITS = {"ring_time": (5, 300), "max_wait": (10, 3600), "wrap_up": (0, 3600),
          "service_level_seconds": (1, 3600), "callback_retry_after": (5, 3600)}
# How often a caller who asked for a callback is called, at most and at least.
CALLBACK_ATTEMPTS = (1, 5)
LABEL_MAX = 200
# Seconds between position announcements to a waiting caller, lowest and highest.
ANNOUNCE_LIMITS = (10, 600)
# Seconds a caller waits before the next tier joins, lowest and highest.
NEXT_TIER_LIMITS = (1, 3600)
AUTO_UNAVAILABLE_MAX = 100
FALLBACK_KIND_VALUES = tuple(k.value for k in FallbackKind)
WAITING_SOUND_VALUES = tuple(s.value for s in WaitingSound)
# The music-on-hold class shipped in asterisk-config/musiconhold.conf: what a team may choose
# unless the sysadmin lists others (telephony.moh_classes).
DEFAULT_MOH_CLASSES = ("default",)
_KINDS = ", ".join(FALLBACK_KIND_VALUES)

# The shipped contexts (asterisk-config/extensions.conf) a team may name as its dialplan
# fallback unless the sysadmin lists others: each only answers and plays an announcement.
SHIPPED_FALLBACK_CONTEXTS = ("teamfoned-fallback", "teamfoned-closed")
# Contexts the daemon drives itself, never a team's fallback: from-trunk routes whatever number
# it is given (any tenant's team), teamfoned-dial dials TEAMFONED_DIAL and teamfoned-announce
# plays TEAMFONED_SOUND, both set by the daemon only for the number and announce kinds.
RESERVED_CONTEXTS = ("from-trunk", "teamfoned-dial", "teamfoned-announce")
# The one extension a team may name besides the default (the dialled team number). Any other
# would let a tenant choose the value the sysadmin's context acts on: a mailbox, a number it
# dials. Priority is always 1, so no step of the sysadmin's context can be skipped.
DIALPLAN_EXTENSION = "s"


class TargetRefused(ValueError):
    """A fallback target the installation will not use, with the reason in plain words."""


@dataclass(frozen=True)
class FallbackPolicy:
    """What a team's fallback and closed targets may be (the configuration's telephony section):
    numbers are held to the member phones' rules, dialplan contexts to the sysadmin's list;
    and which music-on-hold classes its waiting callers may hear (the sysadmin's list too)."""

    phones: PhonePolicy = PhonePolicy()
    contexts: frozenset[str] = field(default_factory=lambda: frozenset(SHIPPED_FALLBACK_CONTEXTS))
    # In the sysadmin's order: the first is the class of a team that names none.
    moh_classes: tuple[str, ...] = DEFAULT_MOH_CLASSES

    def moh_class(self, name: Any) -> str:
        """A class a team may name: a PBX's classes are the sysadmin's (their files, their
        licences), so only the listed ones."""
        if not isinstance(name, str) or name not in self.moh_classes:
            allowed = ", ".join(self.moh_classes) or "none"
            raise TargetRefused(f"{name!r} is not a music-on-hold class the sysadmin allows "
                                f"(allowed: {allowed})")
        return name

    def music_class(self, stored: str | None) -> str | None:
        """The class a call plays for the team's stored choice: that one while the sysadmin
        still allows it, else the first allowed (None: the sysadmin allows none any more)."""
        if stored in self.moh_classes:
            return stored
        return self.moh_classes[0] if self.moh_classes else None

    def number(self, target: Any) -> str:
        """The E.164 number to dial for a `number` target (international, + optional)."""
        text = target.strip() if isinstance(target, str) else ""
        number = text if text.startswith("+") else f"+{text}"
        if not E164.match(number):
            raise TargetRefused(f"{target!r} is not a phone number (international: the country "
                                "code and digits, optionally with a leading +)")
        try:
            phone = validate_phone(number, allowed_countries=self.phones.allowed_countries,
                                   default_region=self.phones.default_region)
        except PhoneRejected as exc:
            raise TargetRefused(f"number refused: {exc}") from None
        return phone.phone  # "+" and digits only: always an E.164 number, never a SIP endpoint

    def dialplan(self, target: Any) -> tuple[str, str | None]:
        """(context, extension) for a `dialplan` target; extension None: the dialled number."""
        text = target.strip() if isinstance(target, str) else ""
        match = DIALPLAN_TARGET.match(text)
        if not match:
            raise TargetRefused(f"{text!r} is not context[,s[,1]]")
        context, extension, priority = match.groups()
        if context not in self.contexts:
            allowed = ", ".join(sorted(self.contexts)) or "none"
            raise TargetRefused(f"context {context!r} is not one the sysadmin allows "
                                f"(allowed: {allowed})")
        if extension not in (None, DIALPLAN_EXTENSION):
            raise TargetRefused(f"extension {extension!r} cannot be chosen: the call continues "
                                f"at the dialled team number (give only the context) or at "
                                f"{DIALPLAN_EXTENSION}")
        if priority not in (None, "1"):
            raise TargetRefused(f"priority {priority!r} cannot be chosen: the call continues at "
                                "priority 1")
        return context, extension


def check_sound(name: Any) -> str:
    """A team's sound: a plain name the daemon looks up in the tenant's own sound directory."""
    if not isinstance(name, str) or not SOUND.match(name):
        raise TargetRefused(f"{name!r} is not a sound name (a plain name of letters, digits, "
                            "_ and -, without path or extension)")
    return name


class _Clear:
    def __repr__(self) -> str:
        return "CLEAR"


# Passed to TeamSettings.with_changes to set an optional setting back to None, because None
# there means "leave unchanged" (what an option not given on the command line sends).
CLEAR: Any = _Clear()


def check_strategy(name: Any) -> str:
    """A strategy the routing core knows; the refusal names the choices."""
    try:
        return validate_strategy(name)
    except UnknownStrategy:
        raise Invalid.value("strategy", f"unknown strategy {name!r} (choose from "
                                        f"{', '.join(STRATEGIES)})") from None


class RoutingDefaults(Protocol):
    """Where a new team's settings come from (the configuration's routing section)."""

    @property
    def strategy(self) -> str: ...
    @property
    def ring_time(self) -> int: ...
    @property
    def max_wait(self) -> int: ...
    @property
    def wrap_up(self) -> int: ...
    @property
    def confirm_calls(self) -> bool: ...


@dataclass(frozen=True)
class TeamSettings:
    label: str
    strategy: str
    ring_time: int
    max_wait: int
    wrap_up: int
    confirm_calls: bool
    fallback_kind: str = FallbackKind.DIALPLAN.value
    fallback_target: str | None = None
    timezone: str = "UTC"
    # None: calls outside opening hours go to the shipped teamfoned-closed context.
    closed_kind: str | None = None
    closed_target: str | None = None
    auto_unavailable_after: int | None = None
    confirm_recording: str | None = None
    # Statistics: the share of calls answered within this many seconds.
    service_level_seconds: int = 20
    # With every member busy a caller always waits in the line; with nobody available at all,
    # this says whether they wait too (members come on duty soon) or fall back at once.
    wait_when_none_available: bool = False
    # Waiting callers hear their place in the line every this many seconds (None: never), in
    # the team's language (the prompt catalogue's languages).
    announce_position_every: int | None = None
    language: str = "en"
    # Tiers: the next tier joins every this many seconds a caller has waited (None: only when
    # the tiers below have nobody available for the call; routing.tiers).
    next_tier_after: int | None = None
    # What callers hear while members are rung and in the line (routing.model.WaitingSound);
    # the music-on-hold class for `music` (None: the first the sysadmin allows); a greeting
    # played once before it (a sound of the tenant's own directory; None: none).
    waiting_sound: str = WaitingSound.RINGING.value
    moh_class: str | None = None
    greeting: str | None = None
    # With the position announcement, the expected wait (from the team's recent history).
    announce_expected_wait: bool = False
    # A waiting caller may press this key to be called back instead of waiting (None: not
    # offered); they are called `callback_attempts` times, `callback_retry_after` seconds apart.
    callback_key: str | None = None
    callback_attempts: int = 2
    callback_retry_after: int = 60

    def __post_init__(self) -> None:
        # A dialplan kind without a target means the shipped closed context, which is what
        # None means too: one spelling, so a stored team compares equal to its directory entry.
        if self.closed_kind == FallbackKind.DIALPLAN and self.closed_target is None:
            object.__setattr__(self, "closed_kind", None)

    @classmethod
    def defaults(cls, routing: RoutingDefaults, label: str) -> TeamSettings:
        return cls(label=label, strategy=routing.strategy, ring_time=routing.ring_time,
                   max_wait=routing.max_wait, wrap_up=routing.wrap_up,
                   confirm_calls=routing.confirm_calls)

    def with_changes(self, **changes: Any) -> TeamSettings:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise Invalid([("", f"unknown team setting(s): {', '.join(sorted(unknown))}")])
        values: dict[str, Any] = {k: None if v is CLEAR else v
                                  for k, v in changes.items() if v is not None}
        return replace(self, **values)

    def problems(self, fallbacks: FallbackPolicy) -> list[tuple[str, str]]:
        """Every broken rule, as (setting, reason); `fallbacks` is the installation's policy
        for fallback and closed targets."""
        found = _refusals(check_strategy, self.strategy)
        for key, (low, high) in LIMITS.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                found.append((key, f"must be whole seconds from {low} to {high} (got {value!r})"))
        if not isinstance(self.label, str) or not 0 < len(self.label) <= LABEL_MAX:
            found.append(("label", f"must be text of 1 to {LABEL_MAX} characters"))
        for key in ("confirm_calls", "wait_when_none_available", "announce_expected_wait"):
            if not isinstance(getattr(self, key), bool):
                found.append((key, f"must be true or false (got {getattr(self, key)!r})"))
        found += _target_problems("fallback", self.fallback_kind, self.fallback_target, fallbacks)
        if self.closed_kind is not None:
            found += _target_problems("closed", self.closed_kind, self.closed_target, fallbacks)
        elif self.closed_target is not None:
            found.append(("closed", f"a target needs a kind ({_KINDS})"))
        found += _refusals(check_timezone, self.timezone)
        auto = self.auto_unavailable_after
        if auto is not None and (not isinstance(auto, int) or isinstance(auto, bool)
                                 or not 1 <= auto <= AUTO_UNAVAILABLE_MAX):
            found.append(("auto_unavailable_after", "must be unanswered calls in a row from 1 to "
                          f"{AUTO_UNAVAILABLE_MAX}, or off (got {auto!r})"))
        if self.confirm_recording is not None:
            found += _refusals(check_sound, self.confirm_recording, "confirm_recording")
        every = self.announce_position_every
        low, high = ANNOUNCE_LIMITS
        if every is not None and (not isinstance(every, int) or isinstance(every, bool)
                                  or not low <= every <= high):
            found.append(("announce_position_every", f"must be whole seconds from {low} to "
                          f"{high}, or off (got {every!r})"))
        after = self.next_tier_after
        low, high = NEXT_TIER_LIMITS
        if after is not None and (not isinstance(after, int) or isinstance(after, bool)
                                  or not low <= after <= high):
            found.append(("next_tier_after", f"must be whole seconds from {low} to {high}, or "
                          f"off (got {after!r})"))
        if self.language not in LANGUAGES:
            found.append(("language", f"must be one of {', '.join(LANGUAGES)} (got {self.language!r})"))
        if self.waiting_sound not in WAITING_SOUND_VALUES:
            found.append(("waiting_sound", f"must be one of {', '.join(WAITING_SOUND_VALUES)} "
                                           f"(got {self.waiting_sound!r})"))
        elif self.waiting_sound == WaitingSound.MUSIC and not fallbacks.moh_classes:
            found.append(("waiting_sound", "music needs a music-on-hold class, and the sysadmin "
                                           "allows none (telephony.moh_classes)"))
        if self.moh_class is not None:
            found += _refusals(fallbacks.moh_class, self.moh_class, "moh_class")
        if self.greeting is not None:
            found += _refusals(check_sound, self.greeting, "greeting")
        if self.callback_key is not None and self.callback_key not in CALLBACK_KEYS:
            found.append(("callback_key", f"must be one key of {' '.join(CALLBACK_KEYS)} as text, "
                          f"or off (got {self.callback_key!r})"))
        tries = self.callback_attempts
        low, high = CALLBACK_ATTEMPTS
        if not isinstance(tries, int) or isinstance(tries, bool) or not low <= tries <= high:
            found.append(("callback_attempts", f"must be calls from {low} to {high} (got {tries!r})"))
        return found

    def check(self, fallbacks: FallbackPolicy) -> TeamSettings:
        found = self.problems(fallbacks)
        if found:
            raise Invalid(found)
        return self


def _refusals(check: Callable[[Any], object], value: Any,
              what: str | None = None) -> list[tuple[str, str]]:
    try:
        check(value)
    except Invalid as exc:
        return exc.fields
    except TargetRefused as exc:
        if what is None:
            raise
        return [(what, str(exc))]
    return []


def _target_problems(what: str, kind: Any, target: Any,
                     fallbacks: FallbackPolicy) -> list[tuple[str, str]]:
    """The fallback's rules, shared by the closed fallback: the runner reads both the same way
    and checks them again when the call needs them (teamfoned.telephony.fallback)."""
    if kind not in FALLBACK_KIND_VALUES:
        return [(what, f"unknown kind {kind!r} (choose from {_KINDS})")]
    if target is not None and not isinstance(target, str):
        return [(what, f"target {target!r} must be text")]
    if kind == FallbackKind.DIALPLAN and target is not None:
        return _refusals(fallbacks.dialplan, target, what)
    if kind == FallbackKind.NUMBER:
        return _refusals(fallbacks.number, target, what)
    if kind == FallbackKind.TEAM and (target is None or not NAME.match(target)):
        return [(what, f"{target!r} is not a team name")]
    if kind == FallbackKind.ANNOUNCE and target is not None:
        return _refusals(check_sound, target, what)
    return []


# The settings that may be off (None); the others always have a value.
OPTIONAL_SETTINGS = frozenset(f.name for f in fields(TeamSettings) if f.default is None)
