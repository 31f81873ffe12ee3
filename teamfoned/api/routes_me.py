"""The caller's own data: profile, availability, schedule, photo, erasure; nobody else's."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, Request, Response

from teamfoned.api.auth import ApiDep, CallerDep
from teamfoned.api.errors import COMMON, responses
from teamfoned.api.photo_upload import PHOTO_BODY, PHOTO_RESPONSE, photo_response, read_photo
from teamfoned.api.schemas import (
    AvailabilityIn,
    MemberOut,
    MePatch,
    PhoneLineIn,
    ScheduleIn,
    ScheduleOut,
)
from teamfoned.api.views import member_out, periods_out
from teamfoned.domain.pins import check_pin, hash_pin
from teamfoned.domain.timetable import check_timezone
from teamfoned.store import hours_repo, line_repo, members_repo, own_availability, personal_data

router = APIRouter(prefix="/v1/me", tags=["me"], responses=responses(*COMMON))


@router.get("", response_model=MemberOut, summary="Own profile, availability and teams")
async def get_me(caller: CallerDep, api: ApiDep) -> MemberOut:
    async with api.transaction() as session:
        found = await members_repo.profile(session, caller.tenant_id, caller.member_id)
    return member_out(found, api.clock())


@router.patch("", response_model=MemberOut, summary="Edit own name or phone")
async def patch_me(body: MePatch, caller: CallerDep, api: ApiDep) -> MemberOut:
    # Checked before the transaction opens: a refused phone writes nothing.
    phone = api.check_phone(body.phone) if body.phone is not None else None
    async with api.transaction() as session:
        await members_repo.update_member(session, caller.tenant_id, caller.member_id,
                                         name=body.name, phone=phone)
        found = await members_repo.profile(session, caller.tenant_id, caller.member_id)
    return member_out(found, api.clock())


@router.delete("", status_code=204, responses=responses("conflict"),
               summary="Erase own personal data (the account goes too)",
               description="Refused (409) for the tenant's last admin: another member must be "
                           "made admin first.")
async def delete_me(caller: CallerDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await members_repo.erase_member(session, caller.tenant_id, caller.member_id)
    api.tokens.forget_member(caller.member_id)
    # Committed: now the log of the database must not keep what was erased either.
    async with api.sessions() as session:
        await personal_data.empty_write_ahead_log(session)
    return Response(status_code=204)


@router.put("/availability", response_model=MemberOut,
            summary="Set own availability (also to turn it back on after auto or schedule)")
async def put_availability(body: AvailabilityIn, caller: CallerDep, api: ApiDep) -> MemberOut:
    now = api.clock()
    async with api.transaction() as session:
        found = await own_availability.set_own_availability(
            session, caller.tenant_id, caller.member_id, body.available, body.until, now=now,
            away=body.away)
    if body.available:
        api.member_available()
    return member_out(found, now)


@router.put("/phone-line", status_code=204,
            summary="Set own PIN and language for the availability line",
            description="The availability line is the number you call from your own phone to "
                        "switch your availability. A new PIN clears the count of wrong PINs "
                        "(after 9 in a row the line refuses you until you set a new one).")
async def put_phone_line(body: PhoneLineIn, caller: CallerDep, api: ApiDep) -> Response:
    values: dict[str, object] = {}
    if body.pin is not None:
        pin = check_pin(body.pin)
        # scrypt is slow on purpose (a PIN has few digits): off the event loop.
        values["pin_hash"] = await asyncio.to_thread(hash_pin, pin, secrets.token_bytes(16))
    if body.language is not None:
        values["language"] = body.language
    if values:
        async with api.transaction() as session:
            await line_repo.set_line(session, caller.tenant_id, caller.member_id,
                                     now=api.clock(), **values)
    return Response(status_code=204)


@router.get("/schedule", response_model=ScheduleOut, summary="Own availability schedule")
async def get_schedule(caller: CallerDep, api: ApiDep) -> ScheduleOut:
    async with api.transaction() as session:
        periods, zone = await hours_repo.member_schedule(session, caller.tenant_id,
                                                         caller.member_id)
    return ScheduleOut(timezone=zone, periods=periods_out(periods))


@router.put("/schedule", response_model=ScheduleOut,
            summary="Replace own availability schedule ([] clears it)",
            description="Availability follows the schedule at each start and end of a period; "
                        "a manual change holds until the next one. A new schedule applies at "
                        "once.")
async def put_schedule(body: ScheduleIn, caller: CallerDep, api: ApiDep) -> ScheduleOut:
    # A zone is refused even with no periods (which clear the schedule and need none).
    if body.timezone is not None:
        check_timezone(body.timezone)
    async with api.transaction() as session:
        await hours_repo.replace_member_schedule(session, caller.tenant_id, caller.member_id,
                                                 [p.period() for p in body.periods],
                                                 body.timezone)
        periods, zone = await hours_repo.member_schedule(session, caller.tenant_id,
                                                         caller.member_id)
    return ScheduleOut(timezone=zone, periods=periods_out(periods))


@router.get("/photo", response_class=Response, responses=PHOTO_RESPONSE, summary="Own photo")
async def get_photo(caller: CallerDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        data, kind = await members_repo.photo(session, caller.tenant_id, caller.member_id)
    return photo_response(data, kind)


@router.put("/photo", status_code=204, openapi_extra=PHOTO_BODY,
            responses=responses("too_large", "unsupported_media_type"),
            summary="Upload own photo (JPEG or PNG, raw body)")
async def put_photo(request: Request, caller: CallerDep, api: ApiDep) -> Response:
    data, kind = await read_photo(request, api.settings.http.photo_max_bytes)
    async with api.transaction() as session:
        await members_repo.set_photo(session, caller.tenant_id, caller.member_id, data, kind)
    return Response(status_code=204)


@router.delete("/photo", status_code=204, summary="Remove own photo")
async def delete_photo(caller: CallerDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await members_repo.set_photo(session, caller.tenant_id, caller.member_id, None, None)
    return Response(status_code=204)
