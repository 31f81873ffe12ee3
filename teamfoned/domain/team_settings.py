"""A team's routing settings and every rule they must keep, the same for the API, the console and the directory file; no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

from teamfoned.domain.errors import Invalid
from teamfoned.domain.names import DIALPLAN_TARGET, DID, NAME, SOUND
from teamfoned.domain.timetable import check_timezone
from teamfoned.routing.model import FallbackKind
from teamfoned.routing.strategies import STRATEGIES, UnknownStrategy, validate_strategy

# Whole seconds each timing setting may take, lowest and highest.
LIMITS = {"ring_time": (5, 300), "max_wait": (10, 3600), "wrap_up": (0, 3600)}
LABEL_MAX = 200
AUTO_UNAVAILABLE_MAX = 100
FALLBACK_KIND_VALUES = tuple(k.value for k in FallbackKind)
_KINDS = ", ".join(FALLBACK_KIND_VALUES)


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

    def problems(self) -> list[tuple[str, str]]:
        """Every broken rule, as (setting, reason)."""
        found = _refusals(check_strategy, self.strategy)
        for key, (low, high) in LIMITS.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                found.append((key, f"must be whole seconds from {low} to {high} (got {value!r})"))
        if not isinstance(self.label, str) or not 0 < len(self.label) <= LABEL_MAX:
            found.append(("label", f"must be text of 1 to {LABEL_MAX} characters"))
        if not isinstance(self.confirm_calls, bool):
            found.append(("confirm_calls", f"must be true or false (got {self.confirm_calls!r})"))
        found += _target_problems("fallback", self.fallback_kind, self.fallback_target)
        if self.closed_kind is not None:
            found += _target_problems("closed", self.closed_kind, self.closed_target)
        elif self.closed_target is not None:
            found.append(("closed", f"a target needs a kind ({_KINDS})"))
        found += _refusals(check_timezone, self.timezone)
        auto = self.auto_unavailable_after
        if auto is not None and (not isinstance(auto, int) or isinstance(auto, bool)
                                 or not 1 <= auto <= AUTO_UNAVAILABLE_MAX):
            found.append(("auto_unavailable_after", "must be unanswered calls in a row from 1 to "
                          f"{AUTO_UNAVAILABLE_MAX}, or off (got {auto!r})"))
        recording = self.confirm_recording
        if recording is not None and (not isinstance(recording, str) or not SOUND.match(recording)):
            found.append(("confirm_recording", f"{recording!r} is not a sound name (letters, "
                          "digits, _ - /, as Asterisk names sounds, without extension)"))
        return found

    def check(self) -> TeamSettings:
        found = self.problems()
        if found:
            raise Invalid(found)
        return self


def _refusals(check: Callable[[Any], object], value: Any) -> list[tuple[str, str]]:
    try:
        check(value)
    except Invalid as exc:
        return exc.fields
    return []


def _target_problems(what: str, kind: Any, target: Any) -> list[tuple[str, str]]:
    """The fallback's rules, shared by the closed fallback: the runner reads both the same way."""
    if kind not in FALLBACK_KIND_VALUES:
        return [(what, f"unknown kind {kind!r} (choose from {_KINDS})")]
    if target is not None and not isinstance(target, str):
        return [(what, f"target {target!r} must be text")]
    if kind == FallbackKind.DIALPLAN and target is not None and not DIALPLAN_TARGET.match(target):
        return [(what, f"{target!r} is not context[,extension[,priority]]")]
    if kind == FallbackKind.NUMBER and (target is None or not DID.match(target)):
        return [(what, f"{target!r} is not a phone number")]
    if kind == FallbackKind.TEAM and (target is None or not NAME.match(target)):
        return [(what, f"{target!r} is not a team name")]
    if kind == FallbackKind.ANNOUNCE and target is not None and not SOUND.match(target):
        return [(what, f"{target!r} is not a sound name")]
    return []


# The settings that may be off (None); the others always have a value.
OPTIONAL_SETTINGS = frozenset(f.name for f in fields(TeamSettings) if f.default is None)
