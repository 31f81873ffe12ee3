"""Admin pages, kept small: the tenant's members (invite, sign out everywhere, remove) and the tenant export."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from teamfoned.api.context import context
from teamfoned.api.errors import status_of
from teamfoned.api.export import export_document
from teamfoned.domain.errors import LastAdmin, NotFound
from teamfoned.store import members_repo, personal_data, web_sessions_repo
from teamfoned.web.links import invite
from teamfoned.web.pages import Visitor, form_of, member, page, router, see
from teamfoned.web.security import PREFIX

ADMIN = PREFIX + "/admin"


async def admin(who: Annotated[Visitor, Depends(member)]) -> Visitor:
    # Not an admin: the pages do not exist for them, as a foreign object does not.
    if who.caller is None or not who.caller.is_admin:
        raise NotFound("page")
    return who


async def _members_page(request: Request, who: Visitor, *, link: tuple[str, str] | None = None,
                        notice: str | None = None, status: int = 200) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        people = await members_repo.list_members(session, who.caller.tenant_id)
    return page("admin.html", who, status=status, people=people, link=link, notice=notice)


@router.get("/admin")
async def members_page(request: Request, who: Annotated[Visitor, Depends(admin)]) -> Response:
    return await _members_page(request, who)


@router.post("/admin/members/{member_id}/invite")
async def invite_member(member_id: uuid.UUID, request: Request,
                        who: Annotated[Visitor, Depends(admin)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        profile = await members_repo.profile(session, who.caller.tenant_id, member_id)
        url, _ = await invite(session, api.settings.http, who.caller.tenant_id, member_id,
                              now=api.clock())
    # Shown on this one answer only: the page is not cached and the link works once.
    return await _members_page(request, who, link=(profile.name, url))


@router.post("/admin/members/{member_id}/sign-out")
async def sign_out_member(member_id: uuid.UUID, request: Request,
                          who: Annotated[Visitor, Depends(admin)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        ended = await web_sessions_repo.sign_out_everywhere(session, who.caller.tenant_id,
                                                            member_id)
    return await _members_page(request, who, notice=who.t("admin_signed_out", count=ended))


@router.post("/admin/members/{member_id}/remove")
async def remove_member(member_id: uuid.UUID, request: Request,
                        who: Annotated[Visitor, Depends(admin)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    if form.get("confirm") != "yes":
        return await _members_page(request, who, notice=who.t("delete_unconfirmed"),
                                   status=status_of("invalid"))
    try:
        async with api.transaction() as session:
            await members_repo.erase_member(session, who.caller.tenant_id, member_id)
    except LastAdmin:
        return await _members_page(request, who, notice=who.t("delete_last_admin"),
                                   status=status_of("conflict"))
    # Their API tokens went with them: this process must not accept one from memory.
    api.tokens.forget_member(member_id)
    async with api.sessions() as session:
        await personal_data.empty_write_ahead_log(session)
    if member_id == who.caller.member_id:
        return see(PREFIX + "/deleted")
    return see(ADMIN)


@router.get("/admin/export.json")
async def tenant_export(request: Request, who: Annotated[Visitor, Depends(admin)]) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        document = await export_document(session, who.caller.tenant_id, now=api.clock())
    return Response(json.dumps(document, indent=2), media_type="application/json", headers={
        "content-disposition": 'attachment; filename="teamfoned-export.json"'})
