"""The API's JSON shapes: what comes in is strict (unknown fields refused), what goes out is explicit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
)

from teamfoned.store.line_state import LineState

STRATEGY = Literal["ring_all", "linear", "round_robin", "longest_idle", "fewest_calls", "random"]
FALLBACK_KIND = Literal["dialplan", "number", "announce", "team"]
PHOTO_TYPES = ("image/jpeg", "image/png")


def _printable(value: str) -> str:
    # Control characters have no place in a name; NUL would even be refused by PostgreSQL.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("must be valid Unicode text")
    return value


def _utc(value: datetime) -> datetime:
    # Far-off years overflow when converted to UTC, and no one is available in the year 9999.
    if not 1970 <= value.year <= 9000:
        raise ValueError("must be between the years 1970 and 9000")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Text = Annotated[str, AfterValidator(_printable)]
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- errors ------------------------------------------------------------------------------------

class ErrorField(_Out):
    field: str = Field(description="dotted path of the offending value ('' for the whole request)")
    message: str


class ErrorDetail(_Out):
    code: str = Field(description="stable machine-readable code, e.g. invalid, not_found")
    message: str
    fields: list[ErrorField] = []


class ErrorBody(_Out):
    error: ErrorDetail


# -- me ----------------------------------------------------------------------------------------

class TeamRefOut(_Out):
    id: uuid.UUID
    name: str
    label: str


class AvailabilityOut(_Out):
    available: bool = Field(description="as routing sees it now: false once `until` has passed")
    until: datetime | None
    changed_at: datetime | None


class MemberOut(_Out):
    id: uuid.UUID
    name: str
    phone: str
    phone_kind: Literal["e164", "sip"]
    is_admin: bool
    has_photo: bool
    availability: AvailabilityOut
    teams: list[TeamRefOut]


class MePatch(_In):
    name: Text | None = Field(None, min_length=1, max_length=200)
    phone: Text | None = Field(None, min_length=1, max_length=64,
                               description="+CC number (E.164), or a SIP endpoint name")


class AvailabilityIn(_In):
    available: StrictBool
    until: Instant | None = Field(None, description="RFC 3339 time the availability ends")


# -- teams -------------------------------------------------------------------------------------

class TeammateOut(_Out):
    id: uuid.UUID
    name: str
    priority: int
    has_photo: bool
    available: bool
    until: datetime | None
    line_state: LineState


class TeamOut(_Out):
    id: uuid.UUID
    name: str
    label: str
    strategy: str
    ring_time_s: int
    max_wait_s: int
    wrap_up_s: int
    numbers: list[str]
    members: list[TeammateOut]


class AttemptOut(_Out):
    id: uuid.UUID
    member_id: uuid.UUID | None = Field(description="null once the member was erased")
    member_name: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    result: str | None = Field(description="null while the leg is still ringing or connected")


class CallOut(_Out):
    id: uuid.UUID
    caller_number: str | None
    dialled_number: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str | None = Field(description="null while the call is in progress")
    wait_seconds: float | None
    talk_seconds: float | None
    answered_by: uuid.UUID | None
    node: str
    attempts: list[AttemptOut]


class CallPage(_Out):
    calls: list[CallOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page")


class StatsOut(_Out):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    received: int
    answered: int
    abandoned: int
    missed: int = Field(description="neither answered nor abandoned: nobody available, "
                                    "timed out, fallback, failed")
    average_wait_s: float | None = Field(description="over answered calls")
    p90_wait_s: float | None = Field(description="over answered calls, nearest rank")

    model_config = ConfigDict(populate_by_name=True)


# -- administration ----------------------------------------------------------------------------

class TeamSettingsPatch(_In):
    label: Text | None = Field(None, min_length=1, max_length=200)
    strategy: STRATEGY | None = None
    ring_time: int | None = Field(None, ge=5, le=300)
    max_wait: int | None = Field(None, ge=10, le=3600)
    wrap_up: int | None = Field(None, ge=0, le=3600)
    confirm_calls: StrictBool | None = None
    fallback_kind: FALLBACK_KIND | None = None
    fallback_target: Text | None = Field(None, max_length=200)


class TeamCreate(TeamSettingsPatch):
    name: Text = Field(min_length=1, max_length=100,
                       description="letters, digits, _ . - (used by the CLI and the import file)")


class MembershipOut(_Out):
    member_id: uuid.UUID
    priority: int


class TeamAdminOut(_Out):
    id: uuid.UUID
    name: str
    label: str
    strategy: str
    ring_time: int
    max_wait: int
    wrap_up: int
    confirm_calls: bool
    fallback_kind: str
    fallback_target: str | None
    numbers: list[str]
    members: list[MembershipOut]


class MembershipIn(_In):
    priority: int = Field(0, ge=0, le=10_000, description="lower rings first")


class MemberCreate(_In):
    name: Text = Field(min_length=1, max_length=200)
    phone: Text = Field(min_length=1, max_length=64)
    is_admin: StrictBool = False


class MemberAdminPatch(MePatch):
    is_admin: StrictBool | None = None


class TokenCreate(_In):
    label: Text | None = Field(None, max_length=100)
    expires_at: Instant | None = None


class TokenOut(_Out):
    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class TokenCreated(_Out):
    id: uuid.UUID
    member_id: uuid.UUID
    token: str = Field(description="shown this once; only its hash is kept")
    expires_at: datetime | None


# -- operations --------------------------------------------------------------------------------

class HealthOut(_Out):
    status: Literal["ok"]


class ReadyOut(_Out):
    ready: bool
    database: bool
    ari: bool | None = Field(description="null when the API runs without the routing daemon")


ExportDocument = dict[str, Any]
