"""Where a call goes when the hunt ends without an answer: always somewhere in the dialplan, never silence."""

from __future__ import annotations

from dataclasses import dataclass

from teamfoned.domain.names import DIALPLAN_TARGET as _DIALPLAN_TARGET
from teamfoned.domain.names import DID as _DID
from teamfoned.domain.names import SOUND as _SOUND
from teamfoned.routing.model import FallbackKind, TeamRoute

# Contexts shipped in asterisk-config/extensions.conf.
DEFAULT_CONTEXT = "teamfoned-fallback"
DIAL_CONTEXT = "teamfoned-dial"
ANNOUNCE_CONTEXT = "teamfoned-announce"
UNKNOWN_NUMBER_CONTEXT = "teamfoned-unknown"
CLOSED_CONTEXT = "teamfoned-closed"
TRUNK_CONTEXT = "from-trunk"
DEFAULT_SOUND = "ss-noservice"

# The shapes the administration accepts (teamfoned.domain.names) are checked again here
# because these values reach Asterisk.


@dataclass(frozen=True)
class FallbackPlan:
    """A place in the dialplan to continue the caller at, and channel variables to set first."""

    kind: str
    context: str
    extension: str
    priority: int = 1
    variables: tuple[tuple[str, str], ...] = ()
    # A number to dial (`number` kind): the runner turns it into a validated dial string.
    dial_number: str | None = None
    # Another team's name (`team` kind): the runner finds its number and the caller re-enters.
    overflow_team: str | None = None


def plan_fallback(route: TeamRoute, dialled: str) -> FallbackPlan:
    """The team's configured fallback.

    `dialplan`: continue at context[,extension[,priority]] (default: teamfoned-fallback at the
    dialled number), so voicemail or an operator stays the sysadmin's choice. `number`: dial
    one number through the trunk. `team`: overflow into another team of the tenant.
    `announce`: play a sound (default ss-noservice) and hang up. A stored value that does not
    fit goes to the shipped fallback context, never to silence.
    """
    kind, target = route.fallback_kind or FallbackKind.DIALPLAN, (route.fallback_target or "").strip()
    if kind == FallbackKind.DIALPLAN:
        match = _DIALPLAN_TARGET.match(target) if target else None
        if match:
            context, extension, priority = match.groups()
            return FallbackPlan(kind, context, extension or dialled, int(priority or 1))
        return FallbackPlan(kind, DEFAULT_CONTEXT, dialled)
    if kind == FallbackKind.NUMBER and _DID.match(target):
        return FallbackPlan(kind, DIAL_CONTEXT, "s", dial_number=target if target.startswith("+") else f"+{target}")
    if kind == FallbackKind.TEAM and target:
        return FallbackPlan(kind, TRUNK_CONTEXT, "", overflow_team=target)
    if kind == FallbackKind.ANNOUNCE and (not target or _SOUND.match(target)):
        return FallbackPlan(kind, ANNOUNCE_CONTEXT, "s",
                            variables=(("TEAMFONED_SOUND", target or DEFAULT_SOUND),))
    return FallbackPlan(FallbackKind.DIALPLAN, DEFAULT_CONTEXT, dialled)
