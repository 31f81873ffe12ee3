"""Where the dialplan takes a caller the call machine sends to a fallback: always somewhere, never silence."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from teamfoned.domain.names import NAME as _NAME
from teamfoned.domain.prompts import NO_SERVICE
from teamfoned.domain.team_settings import FallbackPolicy, TargetRefused
from teamfoned.routing.model import CallOutcome, FallbackKind, FallbackTarget
from teamfoned.telephony.prompts import tenant_sound

# Contexts shipped in asterisk-config/extensions.conf.
DEFAULT_CONTEXT = "teamfoned-fallback"
DIAL_CONTEXT = "teamfoned-dial"
ANNOUNCE_CONTEXT = "teamfoned-announce"
UNKNOWN_NUMBER_CONTEXT = "teamfoned-unknown"
CLOSED_CONTEXT = "teamfoned-closed"
TRUNK_CONTEXT = "from-trunk"
DEFAULT_SOUND = NO_SERVICE
# The shipped context for a fallback the team did not name: the closed one for a closed
# team, the general one for everything else.
_SHIPPED_CONTEXT = {CallOutcome.CLOSED: CLOSED_CONTEXT}

# The rules the administration applies (teamfoned.domain.team_settings) are applied again
# here, with the installation's policy of now, because these values reach Asterisk: a row
# written by hand, by an older version or under a wider policy is never dialled.


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
    # Why the team's own target was not used (the plan is then the shipped context); logged.
    refused: str | None = None


def plan_fallback(target: FallbackTarget | None, dialled: str, *, outcome: CallOutcome,
                  policy: FallbackPolicy, tenant_id: uuid.UUID) -> FallbackPlan:
    """The dialplan place for the fallback the machine chose (None: the shipped context for
    `outcome`, at the dialled number).

    `dialplan`: continue at a context the sysadmin allows (`policy.contexts`; default:
    teamfoned-fallback), at the dialled number or `s`, priority 1, so voicemail or an operator
    stays the sysadmin's choice. `number`: dial one number through the trunk, if it passes the
    member phones' rules. `team`: overflow into another team of the tenant. `announce`: play
    the tenant's own sound (default ss-noservice) and hang up. A stored value that does not
    pass goes to the shipped context for `outcome`, never to silence, with the reason in
    `refused`.
    """
    shipped = FallbackPlan(FallbackKind.DIALPLAN, _SHIPPED_CONTEXT.get(outcome, DEFAULT_CONTEXT), dialled)
    if target is None:
        return shipped
    kind, text = target.kind, (target.target or "").strip()
    try:
        if kind is FallbackKind.DIALPLAN:
            if not text:
                return shipped  # the shipped context for the outcome: teamfoned-closed when closed
            context, extension = policy.dialplan(text)
            return FallbackPlan(kind, context, extension or dialled)
        if kind is FallbackKind.NUMBER:
            return FallbackPlan(kind, DIAL_CONTEXT, "s", dial_number=policy.number(text))
        if kind is FallbackKind.TEAM:
            if not _NAME.match(text):
                raise TargetRefused(f"{text!r} is not a team name")
            return FallbackPlan(kind, TRUNK_CONTEXT, "", overflow_team=text)
        if kind is FallbackKind.ANNOUNCE:
            sound = tenant_sound(tenant_id, text) if text else DEFAULT_SOUND
            if sound is None:
                raise TargetRefused(f"{text!r} is not a sound name")
            return FallbackPlan(kind, ANNOUNCE_CONTEXT, "s", variables=(("TEAMFONED_SOUND", sound),))
    except TargetRefused as exc:
        return _refused(shipped, f"{kind} target refused: {exc}")
    return _refused(shipped, f"unknown fallback kind {kind!r}")


def _refused(shipped: FallbackPlan, reason: str) -> FallbackPlan:
    return FallbackPlan(shipped.kind, shipped.context, shipped.extension, refused=reason)
