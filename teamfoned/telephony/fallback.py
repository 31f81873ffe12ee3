"""Where the dialplan takes a caller the call machine sends to a fallback: always somewhere, never silence."""

from __future__ import annotations

from dataclasses import dataclass

from teamfoned.domain.names import DIALPLAN_TARGET as _DIALPLAN_TARGET
from teamfoned.domain.names import DID as _DID
from teamfoned.domain.names import SOUND as _SOUND
from teamfoned.routing.model import CallOutcome, FallbackKind, FallbackTarget

# Contexts shipped in asterisk-config/extensions.conf.
DEFAULT_CONTEXT = "teamfoned-fallback"
DIAL_CONTEXT = "teamfoned-dial"
ANNOUNCE_CONTEXT = "teamfoned-announce"
UNKNOWN_NUMBER_CONTEXT = "teamfoned-unknown"
CLOSED_CONTEXT = "teamfoned-closed"
TRUNK_CONTEXT = "from-trunk"
DEFAULT_SOUND = "ss-noservice"
# The shipped context for a fallback the team did not name: the closed one for a closed
# team, the general one for everything else.
_SHIPPED_CONTEXT = {CallOutcome.CLOSED: CLOSED_CONTEXT}

# The shapes the administration accepts (teamfoned.domain.names) are checked again here
# because these values reach Asterisk.


@dataclass(frozen=True)
class FallbackPlan:
    """A place in the dialplan to continue the caller at, and channel variables to set first."""

    kind: FallbackKind
    context: str
    extension: str
    priority: int = 1
    variables: tuple[tuple[str, str], ...] = ()
    # A number to dial (`number` kind): the runner turns it into a validated dial string.
    dial_number: str | None = None
    # Another team's name (`team` kind): the runner finds its number and the caller re-enters.
    overflow_team: str | None = None


def plan_fallback(target: FallbackTarget | None, dialled: str, *, outcome: CallOutcome) -> FallbackPlan:
    """The dialplan place for the fallback the machine chose (None: the shipped context for
    `outcome`, at the dialled number).

    `dialplan`: continue at context[,extension[,priority]] (default: teamfoned-fallback at the
    dialled number), so voicemail or an operator stays the sysadmin's choice. `number`: dial
    one number through the trunk. `team`: overflow into another team of the tenant.
    `announce`: play a sound (default ss-noservice) and hang up. A stored value that does not
    fit goes to the shipped fallback context, never to silence.
    """
    if target is None:
        return FallbackPlan(FallbackKind.DIALPLAN, _SHIPPED_CONTEXT.get(outcome, DEFAULT_CONTEXT), dialled)
    kind, text = target.kind, (target.target or "").strip()
    if kind is FallbackKind.DIALPLAN:
        match = _DIALPLAN_TARGET.match(text) if text else None
        if match:
            context, extension, priority = match.groups()
            return FallbackPlan(kind, context, extension or dialled, int(priority or 1))
        return FallbackPlan(kind, DEFAULT_CONTEXT, dialled)
    if kind is FallbackKind.NUMBER and _DID.match(text):
        return FallbackPlan(kind, DIAL_CONTEXT, "s", dial_number=text if text.startswith("+") else f"+{text}")
    if kind is FallbackKind.TEAM and text:
        return FallbackPlan(kind, TRUNK_CONTEXT, "", overflow_team=text)
    if kind is FallbackKind.ANNOUNCE and (not text or _SOUND.match(text)):
        return FallbackPlan(kind, ANNOUNCE_CONTEXT, "s",
                            variables=(("TEAMFONED_SOUND", text or DEFAULT_SOUND),))
    return FallbackPlan(FallbackKind.DIALPLAN, DEFAULT_CONTEXT, dialled)
