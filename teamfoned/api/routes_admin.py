"""Tenant administration: teams, hours, holidays, numbers, members, memberships, tokens, webhooks, export; admins of that tenant only."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from teamfoned.api.auth import AdminDep, ApiDep
from teamfoned.api.errors import COMMON, ApiProblem, responses
from teamfoned.api.export import export_document
from teamfoned.api.schemas import (
    DeliveryOut,
    HolidayIn,
    HolidayOut,
    HoursIn,
    HoursOut,
    MemberAdminPatch,
    MemberCreate,
    MemberOut,
    MembershipIn,
    SignedOut,
    SignInLinkCreated,
    TeamAdminOut,
    TeamCreate,
    TeamSettingsPatch,
    TokenCreate,
    TokenCreated,
    TokenOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from teamfoned.api.views import member_out, periods_out, team_admin_out
from teamfoned.domain.team_settings import CLEAR, OPTIONAL_SETTINGS, TeamSettings
from teamfoned.store import (
    directory_repo,
    hours_repo,
    members_repo,
    personal_data,
    tokens_repo,
    web_sessions_repo,
    webhooks_repo,
)
from teamfoned.web.links import invite
from teamfoned.webhooks.admin import add_webhook

router = APIRouter(prefix="/v1/admin", tags=["admin"],
                   responses=responses(*COMMON, "forbidden", "conflict"))
export_router = APIRouter(tags=["admin"], responses=responses(*COMMON, "forbidden"))

Number = Annotated[str, Path(min_length=2, max_length=32, pattern=r"^\+?[0-9]+$",
                             description="the DID in international form: +CC..., 00CC... or "
                                         "CC... are one number, stored and shown as +CC...")]


# Settings that may be switched off with an explicit null; the others keep their value on null.
CLEARABLE = OPTIONAL_SETTINGS


def _changes(body: TeamSettingsPatch) -> dict[str, Any]:
    # JSON mode: the enums' plain values, as the store keeps them.
    changes = body.model_dump(exclude_unset=True, exclude={"name"}, mode="json")
    # TeamSettings.with_changes reads None as "unchanged"; CLEAR is how null says "off".
    return {k: CLEAR if v is None and k in CLEARABLE else v for k, v in changes.items()}


# -- teams -------------------------------------------------------------------------------------

@router.get("/teams", response_model=list[TeamAdminOut], summary="Every team of the tenant")
async def list_teams(caller: AdminDep, api: ApiDep) -> list[TeamAdminOut]:
    async with api.transaction() as session:
        return [team_admin_out(t) for t in await directory_repo.list_teams(session, caller.tenant_id)]


@router.post("/teams", response_model=TeamAdminOut, status_code=201, summary="Create a team")
async def create_team(body: TeamCreate, caller: AdminDep, api: ApiDep) -> TeamAdminOut:
    settings = TeamSettings.defaults(api.settings.routing, body.label or body.name)
    changes = {k: v for k, v in _changes(body).items() if v is not None and v is not CLEAR}
    async with api.transaction() as session:
        team_id = await directory_repo.create_team(
            session, caller.tenant_id, body.name, settings.with_changes(**changes),
            now=api.clock(), fallbacks=api.settings.telephony.fallback_policy())
        return team_admin_out(await directory_repo.team_admin_view(session, caller.tenant_id,
                                                                   team_id))


@router.get("/teams/{team_id}", response_model=TeamAdminOut, summary="A team, with its settings")
async def get_team(team_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> TeamAdminOut:
    async with api.transaction() as session:
        return team_admin_out(await directory_repo.team_admin_view(session, caller.tenant_id,
                                                                   team_id))


@router.patch("/teams/{team_id}", response_model=TeamAdminOut, summary="Change team settings")
async def patch_team(team_id: uuid.UUID, body: TeamSettingsPatch, caller: AdminDep,
                     api: ApiDep) -> TeamAdminOut:
    changes = _changes(body)
    async with api.transaction() as session:
        # CLEARABLE settings are cleared with null; other settings keep their value on null.
        await directory_repo.update_team(session, caller.tenant_id, team_id, changes,
                                         fallbacks=api.settings.telephony.fallback_policy())
        return team_admin_out(await directory_repo.team_admin_view(session, caller.tenant_id,
                                                                   team_id))


@router.delete("/teams/{team_id}", status_code=204,
               summary="Delete a team (its call history stays until retention)")
async def delete_team(team_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await directory_repo.delete_team(session, caller.tenant_id, team_id)
    return Response(status_code=204)


@router.get("/teams/{team_id}/hours", response_model=HoursOut,
            summary="The team's opening hours (none: always open)")
async def get_hours(team_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> HoursOut:
    async with api.transaction() as session:
        zone, periods = await hours_repo.team_hours(session, caller.tenant_id, team_id)
    return HoursOut(timezone=zone, periods=periods_out(periods))


@router.put("/teams/{team_id}/hours", response_model=HoursOut,
            summary="Replace the team's opening hours ([]: always open)",
            description="Periods are wall-clock times in the team's time zone; overlapping "
                        "periods of one day are refused. Outside them, and on holidays, calls "
                        "go to the closed fallback.")
async def put_hours(team_id: uuid.UUID, body: HoursIn, caller: AdminDep,
                    api: ApiDep) -> HoursOut:
    async with api.transaction() as session:
        await hours_repo.replace_team_hours(session, caller.tenant_id, team_id,
                                            [p.period() for p in body.periods])
        zone, periods = await hours_repo.team_hours(session, caller.tenant_id, team_id)
    return HoursOut(timezone=zone, periods=periods_out(periods))


@router.get("/teams/{team_id}/holidays", response_model=list[HolidayOut],
            summary="The team's holidays (closed all day), oldest first")
async def list_holidays(team_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> list[HolidayOut]:
    async with api.transaction() as session:
        found = await hours_repo.holidays(session, caller.tenant_id, team_id)
    return [HolidayOut(date=day, name=name) for day, name in found]


@router.post("/teams/{team_id}/holidays", response_model=HolidayOut, status_code=201,
             responses={200: {"model": HolidayOut,
                              "description": "already a holiday: only its name changed"}},
             summary="Close the team all day on a date (idempotent)")
async def add_holiday(team_id: uuid.UUID, body: HolidayIn, caller: AdminDep, api: ApiDep,
                      response: Response) -> HolidayOut:
    async with api.transaction() as session:
        new = await hours_repo.add_holiday(session, caller.tenant_id, team_id, body.date,
                                           body.name)
        name = dict(await hours_repo.holidays(session, caller.tenant_id, team_id))[body.date]
    if not new:
        response.status_code = 200
    return HolidayOut(date=body.date, name=name)


@router.delete("/teams/{team_id}/holidays/{day}", status_code=204,
               summary="Open the team again on a date")
async def delete_holiday(team_id: uuid.UUID, day: Annotated[date, Path(description="YYYY-MM-DD")],
                         caller: AdminDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await hours_repo.remove_holiday(session, caller.tenant_id, team_id, day)
    return Response(status_code=204)


@router.put("/teams/{team_id}/numbers/{number}", status_code=204,
            summary="Give the team a number (idempotent)",
            description="Any spelling of a number another team holds is a conflict; the number "
                        "is stored, and listed on the team, in its canonical form (+CC...).")
async def put_number(team_id: uuid.UUID, number: Number, caller: AdminDep,
                     api: ApiDep) -> Response:
    async with api.transaction() as session:
        await directory_repo.add_number(session, caller.tenant_id, team_id, number,
                                        default_region=api.settings.telephony.default_region)
    return Response(status_code=204)


@router.delete("/teams/{team_id}/numbers/{number}", status_code=204,
               summary="Take a number (in any spelling) from the team")
async def delete_number(team_id: uuid.UUID, number: Number, caller: AdminDep,
                        api: ApiDep) -> Response:
    async with api.transaction() as session:
        await directory_repo.remove_number(session, caller.tenant_id, team_id, number,
                                           default_region=api.settings.telephony.default_region)
    return Response(status_code=204)


@router.put("/teams/{team_id}/members/{member_id}", status_code=204,
            summary="Put a member in the team, or change their priority and tier")
async def put_membership(team_id: uuid.UUID, member_id: uuid.UUID, body: MembershipIn,
                         caller: AdminDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await directory_repo.put_membership(session, caller.tenant_id, team_id, member_id,
                                            body.priority, tier=body.tier)
    return Response(status_code=204)


@router.delete("/teams/{team_id}/members/{member_id}", status_code=204,
               summary="Take a member out of the team")
async def delete_membership(team_id: uuid.UUID, member_id: uuid.UUID, caller: AdminDep,
                            api: ApiDep) -> Response:
    async with api.transaction() as session:
        await directory_repo.remove_membership(session, caller.tenant_id, team_id, member_id)
    return Response(status_code=204)


# -- members -----------------------------------------------------------------------------------

@router.get("/members", response_model=list[MemberOut], summary="Every member of the tenant")
async def list_members(caller: AdminDep, api: ApiDep) -> list[MemberOut]:
    now = api.clock()
    async with api.transaction() as session:
        found = await members_repo.list_members(session, caller.tenant_id)
    return [member_out(p, now) for p in found]


@router.post("/members", response_model=MemberOut, status_code=201, summary="Add a member")
async def create_member(body: MemberCreate, caller: AdminDep, api: ApiDep) -> MemberOut:
    phone = api.check_phone(body.phone)
    now = api.clock()
    async with api.transaction() as session:
        member_id = await members_repo.create_member(session, caller.tenant_id, body.name,
                                                     phone, is_admin=body.is_admin, now=now)
        found = await members_repo.profile(session, caller.tenant_id, member_id)
    return member_out(found, now)


@router.get("/members/{member_id}", response_model=MemberOut, summary="A member")
async def get_member(member_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> MemberOut:
    async with api.transaction() as session:
        found = await members_repo.profile(session, caller.tenant_id, member_id)
    return member_out(found, api.clock())


@router.patch("/members/{member_id}", response_model=MemberOut,
              summary="Change a member's name, phone or admin role",
              description="Demoting the tenant's last admin is refused (409).")
async def patch_member(member_id: uuid.UUID, body: MemberAdminPatch, caller: AdminDep,
                       api: ApiDep) -> MemberOut:
    phone = api.check_phone(body.phone) if body.phone is not None else None
    async with api.transaction() as session:
        await members_repo.update_member(session, caller.tenant_id, member_id, name=body.name,
                                         phone=phone, is_admin=body.is_admin)
        found = await members_repo.profile(session, caller.tenant_id, member_id)
    if body.is_admin is not None:
        # The role is part of what a cached token grants.
        api.tokens.forget_member(member_id)
    return member_out(found, api.clock())


@router.delete("/members/{member_id}", status_code=204,
               summary="Erase a member: no name, number or photo remains; calls stay anonymous",
               description="Erasing the tenant's last admin is refused (409).")
async def erase_member(member_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await members_repo.erase_member(session, caller.tenant_id, member_id)
    api.tokens.forget_member(member_id)
    # Committed: now the log of the database must not keep what was erased either.
    async with api.sessions() as session:
        await personal_data.empty_write_ahead_log(session)
    return Response(status_code=204)


# -- tokens ------------------------------------------------------------------------------------

@router.post("/members/{member_id}/tokens", response_model=TokenCreated, status_code=201,
             summary="Create an API token for a member (shown once)")
async def create_token(member_id: uuid.UUID, body: TokenCreate, caller: AdminDep,
                       api: ApiDep) -> TokenCreated:
    async with api.transaction() as session:
        token_id, token = await tokens_repo.create_token(
            session, caller.tenant_id, member_id, now=api.clock(), expires_at=body.expires_at,
            label=body.label)
    return TokenCreated(id=token_id, member_id=member_id, token=token,
                        expires_at=body.expires_at)


@router.post("/members/{member_id}/sign-in-links", response_model=SignInLinkCreated,
             status_code=201, summary="Create a one-time web app sign-in link for a member",
             description="The link works once, within `http.sign_in_link_minutes`; opening it "
                         "and pressing Sign in gives the browser a session.")
async def create_sign_in_link(member_id: uuid.UUID, caller: AdminDep,
                              api: ApiDep) -> SignInLinkCreated:
    async with api.transaction() as session:
        url, expires_at = await invite(session, api.settings.http, caller.tenant_id, member_id,
                                       now=api.clock())
    return SignInLinkCreated(member_id=member_id, url=url, expires_at=expires_at)


@router.delete("/members/{member_id}/sessions", response_model=SignedOut,
               summary="Sign a member out of the web app everywhere",
               description="Ends every web app session of the member and voids their unused "
                           "sign-in links; their API tokens are not touched.")
async def sign_out_everywhere(member_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> SignedOut:
    async with api.transaction() as session:
        ended = await web_sessions_repo.sign_out_everywhere(session, caller.tenant_id, member_id)
    return SignedOut(member_id=member_id, sessions_ended=ended)


@router.get("/tokens", response_model=list[TokenOut],
            summary="The tenant's tokens: whose data each could read (never the token)")
async def list_tokens(caller: AdminDep, api: ApiDep) -> list[TokenOut]:
    # The uses this process has seen but not yet written belong in the answer.
    await api.token_uses.flush()
    async with api.transaction() as session:
        found = await tokens_repo.list_tokens(session, tenant_id=caller.tenant_id)
    return [TokenOut(id=t.id, member_id=t.member_id, member_name=t.member_name, label=t.label,
                     created_at=t.created_at, last_used_at=t.last_used_at,
                     expires_at=t.expires_at) for t in found]


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def revoke_token(token_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        await tokens_repo.revoke_token(session, token_id, tenant_id=caller.tenant_id)
    api.tokens.forget_token(token_id)
    return Response(status_code=204)


# -- webhooks ----------------------------------------------------------------------------------

@router.get("/webhooks", response_model=list[WebhookOut],
            summary="The tenant's webhooks (never their secrets)")
async def list_webhooks(caller: AdminDep, api: ApiDep) -> list[WebhookOut]:
    async with api.transaction() as session:
        found = await webhooks_repo.list_webhooks(session, caller.tenant_id)
    return [WebhookOut(id=h.id, url=h.url, events=h.events, created_at=h.created_at)
            for h in found]


@router.post("/webhooks", response_model=WebhookCreated, status_code=201,
             summary="Add a webhook; its signing secret is shown this once",
             description="Each request carries an HMAC-SHA256 signature of "
                         "`<delivery id>.<timestamp>.<body>` made with the secret.")
async def create_webhook(body: WebhookIn, caller: AdminDep, api: ApiDep) -> WebhookCreated:
    async with api.transaction() as session:
        # Refused (Invalid, per field) before anything is written.
        hook_id, secret = await add_webhook(session, caller.tenant_id, body.url, body.events,
                                            allowed=api.settings.webhooks.allow_destinations)
        hook = await webhooks_repo.webhook(session, caller.tenant_id, hook_id)
    return WebhookCreated(id=hook.id, url=hook.url, events=hook.events,
                          created_at=hook.created_at, secret=secret)


@router.delete("/webhooks/{webhook_id}", status_code=204,
               summary="Remove a webhook (its pending deliveries go too)")
async def delete_webhook(webhook_id: uuid.UUID, caller: AdminDep, api: ApiDep) -> Response:
    async with api.transaction() as session:
        if not await webhooks_repo.remove_webhook(session, caller.tenant_id, webhook_id):
            raise ApiProblem("not_found", "no such webhook")
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut],
            summary="A webhook's recent deliveries, newest first")
async def list_deliveries(webhook_id: uuid.UUID, caller: AdminDep, api: ApiDep,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[DeliveryOut]:
    async with api.transaction() as session:
        found = await webhooks_repo.deliveries(session, caller.tenant_id, webhook_id,
                                               limit=limit)
    return [DeliveryOut(id=d.id, event=d.event, created_at=d.created_at, attempts=d.attempts,
                        next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at,
                        last_error=d.last_error) for d in found]


# -- export ------------------------------------------------------------------------------------

@export_router.get("/v1/export", summary="Every personal datum of the tenant as one JSON document",
                   description="Validates against the JSON Schema `urn:teamfoned:export:v3` "
                               "shipped as teamfoned/api/export.schema.json.")
async def export(caller: AdminDep, api: ApiDep) -> dict[str, Any]:
    async with api.transaction() as session:
        return await export_document(session, caller.tenant_id, now=api.clock())
