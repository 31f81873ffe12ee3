"""The API's JSON shapes: what comes in is strict (unknown fields refused), what goes out is explicit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from datetime import date as Day
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from teamfoned.domain.availability import AvailabilityReason, AwayReason
from teamfoned.domain.availability_line import LineLanguage
from teamfoned.domain.phones import PhoneKind
from teamfoned.domain.prompts import LANGUAGES
from teamfoned.routing.hours import BadPeriod, WeeklyPeriod
from teamfoned.routing.model import CALLBACK_KEYS, MISSED_OUTCOMES, CallOutcome, FallbackKind, WaitingSound
from teamfoned.routing.strategies import Strategy
from teamfoned.routing.tiers import TIERS
from teamfoned.store.line_state import LineState

# The API's choices are the domain's lists (enums), so OpenAPI and the code cannot drift apart.
STRATEGY = Strategy
FALLBACK_KIND = FallbackKind
WAITING_SOUND = WaitingSound
# The keys a team may offer for a callback (routing.model.CALLBACK_KEYS, the one list).
CALLBACK_KEY = Literal[CALLBACK_KEYS]  # type: ignore[valid-type]
PHOTO_TYPES = ("image/jpeg", "image/png")
REASON = AvailabilityReason
# A week has room for many periods, but no schedule needs more than this many.
MAX_PERIODS = 100


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


class PeriodIn(_In):
    """One weekly period, in the wall-clock time of the schedule's (or team's) time zone."""

    weekday: int = Field(ge=0, le=6, description="0 Monday .. 6 Sunday")
    starts: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", examples=["08:00"])
    ends: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", description="24:00 is midnight at the end "
                      "of the day", examples=["17:00"])

    @model_validator(mode="after")
    def _weekly_period(self) -> PeriodIn:
        # The routing core's own rule, so what is accepted here is what routing reads.
        try:
            WeeklyPeriod(self.weekday, self.starts, self.ends)
        except BadPeriod as exc:
            raise ValueError(str(exc)) from None
        return self

    def period(self) -> WeeklyPeriod:
        return WeeklyPeriod(self.weekday, self.starts, self.ends)


class PeriodOut(_Out):
    weekday: int = Field(description="0 Monday .. 6 Sunday")
    starts: str
    ends: str


Periods = Annotated[list[PeriodIn], Field(max_length=MAX_PERIODS)]


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
    reason: REASON | None = Field(description="who set it: the member or an admin (manual), the "
                                              "member's schedule, or routing after unanswered "
                                              "calls in a row (auto); null if never set")
    away: AwayReason | None = Field(None, description="what the member said they are away for, "
                                    "while unavailable by their own change; else null")


class MemberOut(_Out):
    id: uuid.UUID
    name: str
    phone: str
    phone_kind: PhoneKind
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
    away: AwayReason | None = Field(None, description="what you are away for (with "
                                    "available: false only); left out or null clears it")


class PhoneLineIn(_In):
    """The availability line's settings for the caller; a field left out is not changed."""

    pin: str | None = Field(None, examples=["4826"], description="4 to 12 digits, asked when "
                            "you call the availability line (if your organisation requires "
                            "one); stored only as a hash. null: leave unchanged")
    language: LineLanguage | None = Field(None, description="the language the line speaks to "
                                          "you in")


class ScheduleIn(_In):
    timezone: Text | None = Field(None, max_length=64, examples=["Europe/Amsterdam"],
                                  description="IANA time zone of the periods; required with "
                                              "periods")
    periods: Periods = Field(description="replaces the whole schedule; [] clears it")


class ScheduleOut(_Out):
    timezone: str | None = Field(description="null without a schedule")
    periods: list[PeriodOut]


# -- teams -------------------------------------------------------------------------------------

class TeammateOut(_Out):
    id: uuid.UUID
    name: str
    priority: int
    has_photo: bool
    available: bool
    until: datetime | None
    reason: REASON | None = Field(description="manual, schedule, or auto: made unavailable "
                                              "after unanswered calls in a row")
    line_state: LineState


class HolidayOut(_Out):
    date: Day
    name: str | None


class TeamOut(_Out):
    id: uuid.UUID
    name: str
    label: str
    strategy: str
    ring_time_s: int
    max_wait_s: int
    wrap_up_s: int
    timezone: str = Field(description="IANA time zone of the opening hours and holidays")
    open_now: bool = Field(description="within opening hours and not a holiday")
    hours: list[PeriodOut] = Field(description="opening hours; none: always open")
    holidays: list[HolidayOut] = Field(description="closed all day, from today on")
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
    handled_by: uuid.UUID | None = Field(description="who called back after a missed call; "
                                                     "null once the member was erased")
    handled_at: datetime | None = Field(description="when the missed call was marked handled")
    node: str
    attempts: list[AttemptOut]


class CallPage(_Out):
    calls: list[CallOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page")


class MissedCallOut(_Out):
    id: uuid.UUID
    caller_number: str | None = Field(description="null when withheld or erased")
    dialled_number: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: CallOutcome = Field(description="one of: " + ", ".join(sorted(MISSED_OUTCOMES)))
    wait_seconds: float | None
    handled: bool = Field(description="a member marked it handled (called back)")
    handled_by: uuid.UUID | None = Field(description="null when unhandled or the member was "
                                                     "erased")
    handled_by_name: str | None
    handled_at: datetime | None


class MissedPage(_Out):
    calls: list[MissedCallOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class StatsOut(_Out):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    received: int
    answered: int
    abandoned: int
    missed: int = Field(description="neither answered nor abandoned: nobody available, "
                                    "timed out, closed, fallback, failed, callback failed")
    average_wait_s: float | None = Field(description="over answered calls")
    p90_wait_s: float | None = Field(description="over answered calls, nearest rank")
    service_level_seconds: int = Field(description="the team's service-level threshold")
    service_level: float | None = Field(description="share of received calls answered within "
                                                    "service_level_seconds (0 to 1); null: "
                                                    "no calls")
    callbacks: int = Field(0, description="callers who asked to be called back")
    callbacks_answered: int = Field(0, description="of them, those a member talked with")
    waited_in_line: int = Field(0, description="finished calls that waited in the team's line "
                                               "(every member busy)")
    average_line_s: float | None = Field(None, description="their average time in the line")
    longest_line_s: float | None = Field(None, description="the longest time in the line")
    abandoned_in_line: int = Field(0, description="callers who hung up while in the line")

    model_config = ConfigDict(populate_by_name=True)


class LineOut(_Out):
    waiting: int = Field(description="callers in the team's waiting line now")
    longest_wait_s: float | None = Field(description="how long the first of them has been in "
                                                     "the line; null: nobody waits")
    callbacks_pending: int = Field(0, description="of them: callers who asked to be called "
                                                  "back (no longer on the line)")


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
    timezone: Text | None = Field(None, max_length=64, examples=["Europe/Amsterdam"],
                                  description="IANA time zone of opening hours and holidays")
    closed_kind: FALLBACK_KIND | None = Field(None, description="where calls go outside opening "
                                                                "hours; null: the shipped closed "
                                                                "context")
    closed_target: Text | None = Field(None, max_length=200)
    auto_unavailable_after: int | None = Field(None, ge=1, le=100,
                                               description="unanswered calls in a row before "
                                                           "a member is made unavailable; null: "
                                                           "never")
    confirm_recording: Text | None = Field(None, max_length=100,
                                           description="the team's sound for the confirmation "
                                                       "prompt (an Asterisk sound name)")
    service_level_seconds: StrictInt | None = Field(None, ge=1, le=3600,
                                              description="statistics: the share of calls "
                                                          "answered within this many seconds")
    wait_when_none_available: StrictBool | None = Field(
        None, description="with no member available at all, callers wait in the line (true) "
                          "or go to the fallback at once (false, the default); with every "
                          "member busy they always wait")
    announce_position_every: StrictInt | None = Field(
        None, ge=10, le=600, description="waiting callers hear their place in the line every "
                                         "this many seconds; null: never")
    # Checked by the domain against the prompt catalogue's languages (one list).
    language: Text | None = Field(None, max_length=8, description="the language of what "
                                                                 "callers hear: "
                                                                 + ", ".join(LANGUAGES))
    next_tier_after: StrictInt | None = Field(
        None, ge=1, le=3600, description="tiers: the next tier of members joins every this many "
                                         "seconds a caller has waited; null: only when the tiers "
                                         "below have nobody available")
    waiting_sound: WAITING_SOUND | None = Field(
        None, description="what callers hear while members are rung and in the line: ringing "
                          "(the default) or music (on hold, as early media: not answered)")
    # Checked by the domain against the sysadmin's list (telephony.moh_classes).
    moh_class: Text | None = Field(None, max_length=80,
                                   description="the music-on-hold class for music: one the "
                                               "sysadmin allows; null: the first of them")
    greeting: Text | None = Field(None, max_length=100,
                                  description="a sound played once to every caller before the "
                                              "ringing or music (a plain sound name from the "
                                              "tenant's sound directory); null: none")
    announce_expected_wait: StrictBool | None = Field(
        None, description="with the position announcement, the expected wait (the median time "
                          "in line of the team's last answered waiting callers of the hour, "
                          "once there are 5)")
    callback_key: CALLBACK_KEY | None = Field(None, description="waiting callers may press this "
                                                                 "key to be called back instead; "
                                                                 "null: not offered")
    callback_attempts: StrictInt | None = Field(None, ge=1, le=5, description="how often a "
                                                "caller who asked is called back before the "
                                                "request goes to the \"to call back\" list")
    callback_retry_after: StrictInt | None = Field(None, ge=5, le=3600, description="seconds "
                                                   "between two callbacks to a caller who did "
                                                   "not answer")


class TeamCreate(TeamSettingsPatch):
    name: Text = Field(min_length=1, max_length=100,
                       description="letters, digits, _ . - (used by the CLI and the import file)")


class MembershipOut(_Out):
    member_id: uuid.UUID
    priority: int
    tier: int


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
    timezone: str
    closed_kind: str | None
    closed_target: str | None
    auto_unavailable_after: int | None
    confirm_recording: str | None
    service_level_seconds: int
    wait_when_none_available: bool
    announce_position_every: int | None
    language: str
    next_tier_after: int | None
    waiting_sound: str
    moh_class: str | None
    greeting: str | None
    announce_expected_wait: bool
    callback_key: str | None
    callback_attempts: int
    callback_retry_after: int
    numbers: list[str]
    members: list[MembershipOut]


class HoursIn(_In):
    periods: Periods = Field(description="replaces all opening hours; []: always open")


class HoursOut(_Out):
    timezone: str = Field(description="the team's time zone, in which the periods are read")
    periods: list[PeriodOut]


class HolidayIn(_In):
    date: Day = Field(description="YYYY-MM-DD, in the team's time zone")
    name: Text | None = Field(None, min_length=1, max_length=100)


class WebhookIn(_In):
    url: Text = Field(min_length=1, max_length=500,
                      description="https (plain http only to a loopback address)")
    events: list[Text] = Field(min_length=1, max_length=10, examples=[["call.missed"]])


class WebhookOut(_Out):
    id: uuid.UUID
    url: str
    events: list[str]
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the HMAC-SHA256 signing key; shown this once")


class DeliveryOut(_Out):
    id: uuid.UUID
    event: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None = Field(description="null once delivered")
    delivered_at: datetime | None
    last_error: str | None


class MembershipIn(_In):
    priority: int = Field(0, ge=0, le=10_000, description="lower rings first")
    tier: StrictInt = Field(TIERS[0], ge=TIERS[0], le=TIERS[-1],
                            description="when the member joins a call's hunt: tier 1 first, the "
                                        "next after the team's next_tier_after or when the tiers "
                                        "below have nobody available")


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


class SignInLinkCreated(_Out):
    member_id: uuid.UUID
    url: str = Field(description="the one-time sign-in link for the web app; shown this once, "
                                 "only its secret's hash is kept")
    expires_at: datetime


class SignedOut(_Out):
    member_id: uuid.UUID
    sessions_ended: int


# -- operations --------------------------------------------------------------------------------

class HealthOut(_Out):
    status: Literal["ok"]


class ReadyOut(_Out):
    ready: bool
    database: bool
    ari: bool | None = Field(description="null when the API runs without the routing daemon")


ExportDocument = dict[str, Any]
