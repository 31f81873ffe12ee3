"""Store values become response models here, so routes stay one call in and one value out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from teamfoned.api.schemas import (
    AvailabilityOut,
    MemberOut,
    MembershipOut,
    MissedCallOut,
    PeriodOut,
    TeamAdminOut,
    TeamRefOut,
)
from teamfoned.domain.availability import AvailabilityReason, away_of
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store.directory_repo import TeamAdminView
from teamfoned.store.followup_repo import MissedCall
from teamfoned.store.line_state import is_available
from teamfoned.store.members_repo import Profile


def reason_out(reason: str | None) -> AvailabilityReason | None:
    # A value this API does not know (a hand-edited row) is shown as unknown, not as an error.
    return AvailabilityReason(reason) if reason in set(AvailabilityReason) else None


def periods_out(periods: Iterable[WeeklyPeriod]) -> list[PeriodOut]:
    return [PeriodOut(weekday=p.weekday, starts=p.starts, ends=p.ends) for p in periods]


def missed_out(c: MissedCall) -> MissedCallOut:
    return MissedCallOut(
        id=c.id, caller_number=c.caller_number, dialled_number=c.dialled_number,
        started_at=c.started_at, ended_at=c.ended_at, outcome=c.outcome,
        wait_seconds=c.wait_seconds, handled=c.handled, handled_by=c.handled_by,
        handled_by_name=c.handled_by_name, handled_at=c.handled_at)


def member_out(p: Profile, now: datetime) -> MemberOut:
    available = is_available(p.available, p.until, now)
    return MemberOut(
        id=p.id, name=p.name, phone=p.phone, phone_kind=p.phone_kind, is_admin=p.is_admin,
        has_photo=p.has_photo,
        availability=AvailabilityOut(available=available,
                                     until=p.until if p.available else None,
                                     changed_at=p.changed_at, reason=reason_out(p.reason),
                                     away=away_of(p.away_reason, p.reason, available=available)),
        teams=[TeamRefOut(id=t.id, name=t.name, label=t.label) for t in p.teams])


def team_admin_out(t: TeamAdminView) -> TeamAdminOut:
    # Every setting under its own name: a new setting needs only its field in TeamAdminOut.
    return TeamAdminOut(
        id=t.id, name=t.name, **asdict(t.settings), numbers=t.numbers,
        members=[MembershipOut(member_id=m.member_id, priority=m.priority, tier=m.tier)
                 for m in t.members])
