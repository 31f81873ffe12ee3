"""Store values become response models here, so routes stay one call in and one value out."""

from __future__ import annotations

from datetime import datetime

from teamfoned.api.schemas import (
    AvailabilityOut,
    MemberOut,
    MembershipOut,
    TeamAdminOut,
    TeamRefOut,
)
from teamfoned.store.directory_repo import TeamAdminView
from teamfoned.store.line_state import is_available
from teamfoned.store.members_repo import Profile


def member_out(p: Profile, now: datetime) -> MemberOut:
    return MemberOut(
        id=p.id, name=p.name, phone=p.phone, phone_kind=p.phone_kind, is_admin=p.is_admin,
        has_photo=p.has_photo,
        availability=AvailabilityOut(available=is_available(p.available, p.until, now),
                                     until=p.until if p.available else None,
                                     changed_at=p.changed_at),
        teams=[TeamRefOut(id=t.id, name=t.name, label=t.label) for t in p.teams])


def team_admin_out(t: TeamAdminView) -> TeamAdminOut:
    s = t.settings
    return TeamAdminOut(
        id=t.id, name=t.name, label=s.label, strategy=s.strategy, ring_time=s.ring_time,
        max_wait=s.max_wait, wrap_up=s.wrap_up, confirm_calls=s.confirm_calls,
        fallback_kind=s.fallback_kind, fallback_target=s.fallback_target, numbers=t.numbers,
        members=[MembershipOut(member_id=m.member_id, priority=m.priority) for m in t.members])
