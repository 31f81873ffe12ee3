"""My data: name, phone and photo through the same checks as the API; my data as JSON; erasure after a clear confirmation."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from teamfoned.api.context import context
from teamfoned.api.errors import status_of
from teamfoned.api.export import export_document, member_document
from teamfoned.api.photos import PhotoRefused, normalise_photo
from teamfoned.api.schemas import PHOTO_TYPES
from teamfoned.domain.errors import Invalid, LastAdmin
from teamfoned.domain.phones import PhoneRejected
from teamfoned.store import members_repo, personal_data
from teamfoned.web.pages import (
    Visitor,
    checked_form,
    form_of,
    member,
    page,
    router,
    see,
)
from teamfoned.web.security import PREFIX, expired_session_cookie

ME = PREFIX + "/me"


async def _me_page(request: Request, who: Visitor, *, problems: dict[str, str] | None = None,
                   saved: bool = False, values: dict[str, str] | None = None) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        me = await members_repo.profile(session, who.caller.tenant_id, who.caller.member_id)
    shown = {"name": me.name, "phone": me.phone if me.phone_kind != "sip" else "sip:" + me.phone,
             **(values or {})}
    return page("me.html", who, status=status_of("invalid") if problems else 200, me=me,
                values=shown, problems=problems or {}, saved=saved, photo_types=PHOTO_TYPES)


@router.get("/me")
async def me_page(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    return await _me_page(request, who, saved=request.query_params.get("saved") == "1")


@router.post("/me")
async def edit_me(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    name, raw_phone = form.get("name", ""), form.get("phone", "")
    try:
        # The API's own checks, in the API's order: a refused phone writes nothing.
        phone = api.check_phone(raw_phone)
        async with api.transaction() as session:
            await members_repo.update_member(session, who.caller.tenant_id,
                                             who.caller.member_id, name=name, phone=phone)
    except PhoneRejected as exc:
        return await _me_page(request, who, problems={"phone": str(exc)},
                              values={"name": name, "phone": raw_phone})
    except Invalid as exc:
        return await _me_page(request, who, problems=dict(exc.fields),
                              values={"name": name, "phone": raw_phone})
    return see(ME + "?saved=1")


@router.post("/me/photo")
async def upload_photo(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    form = await checked_form(request, who)
    api = context(request)
    assert who.caller is not None
    upload = form.get("photo")
    if form.get("remove") == "1":
        stored: tuple[bytes | None, str | None] = (None, None)
    elif not isinstance(upload, UploadFile) or upload.content_type not in PHOTO_TYPES:
        return await _me_page(request, who, problems={"photo": who.t("photo_type")})
    else:
        try:
            # Re-encoded off the event loop, exactly as an API upload is.
            stored = await asyncio.to_thread(normalise_photo, await upload.read(),
                                             upload.content_type)
        except PhotoRefused as exc:
            return await _me_page(request, who, problems={"photo": str(exc)})
    async with api.transaction() as session:
        await members_repo.set_photo(session, who.caller.tenant_id, who.caller.member_id,
                                     *stored)
    return see(ME + "?saved=1")


@router.get("/me/photo")
async def own_photo(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    from teamfoned.api.photo_upload import photo_response

    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        data, kind = await members_repo.photo(session, who.caller.tenant_id, who.caller.member_id)
    return photo_response(data, kind)


@router.get("/me/data.json")
async def my_data(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        document = await export_document(session, who.caller.tenant_id, now=api.clock())
    mine = member_document(document, who.caller.member_id)
    return Response(json.dumps(mine, indent=2), media_type="application/json", headers={
        "content-disposition": 'attachment; filename="my-teamfoned-data.json"'})


@router.get("/me/delete")
async def delete_page(who: Annotated[Visitor, Depends(member)]) -> Response:
    return page("delete.html", who, problem=None)


@router.post("/me/delete")
async def delete_me(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    if form.get("confirm") != "yes":
        return page("delete.html", who, status=status_of("invalid"),
                    problem=who.t("delete_unconfirmed"))
    try:
        async with api.transaction() as session:
            await members_repo.erase_member(session, who.caller.tenant_id, who.caller.member_id)
    except LastAdmin:
        return page("delete.html", who, status=status_of("conflict"),
                    problem=who.t("delete_last_admin"))
    # Their API tokens went with them: this process must not accept one from memory.
    api.tokens.forget_member(who.caller.member_id)
    # Committed: now the log of the database must not keep what was erased either.
    async with api.sessions() as session:
        await personal_data.empty_write_ahead_log(session)
    done = see(PREFIX + "/deleted")
    done.headers.append("set-cookie", expired_session_cookie())
    return done


@router.get("/deleted")
async def deleted(request: Request) -> Response:
    from teamfoned.web.pages import visitor

    who = await visitor(request)
    return page("message.html", who, title=who.t("deleted_title"), text=who.t("deleted_explain"))
