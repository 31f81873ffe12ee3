"""The web app's pages: each one reads and writes through the same store functions as the API, and renders HTML."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from teamfoned.api.context import ApiContext, context
from teamfoned.api.errors import status_of
from teamfoned.api.photo_upload import photo_response
from teamfoned.domain.availability import (
    AvailabilityReason,
    AwayReason,
    UntilChoice,
    away_of,
    until_of,
)
from teamfoned.domain.errors import Invalid, NotFound
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store import hours_repo, members_repo, teams_repo, waiting_repo, web_sessions_repo
from teamfoned.store.line_state import is_available
from teamfoned.store.tokens_repo import Caller
from teamfoned.web.catalogue import LANGUAGE_COOKIE, LANGUAGES, Messages, choose_language
from teamfoned.web.security import (
    PREFIX,
    SESSION_COOKIE,
    SecurityHeaders,
    csrf_ok,
    csrf_token,
    expired_session_cookie,
    same_origin,
    session_cookie,
)

HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True), trim_blocks=True,
                        lstrip_blocks=True)
router = APIRouter(prefix=PREFIX, include_in_schema=False)
# Where a signed-in member lands, and every status change returns to.
STATUS_PAGE = PREFIX + "/status"


class SignInNeeded(Exception):
    """No valid session cookie came with a page that needs one."""


class ForgedRequest(Exception):
    """A state-changing request without our own page's Origin or the session's CSRF token."""


@dataclass(frozen=True)
class Visitor:
    """Who asks for a page: their language, and their session if they are signed in."""

    t: Messages
    caller: Caller | None
    session_secret: str | None

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_secret) if self.session_secret else ""


async def visitor(request: Request) -> Visitor:
    api: ApiContext = context(request)
    t = Messages(choose_language(request.cookies.get(LANGUAGE_COOKIE),
                                 request.headers.get("accept-language")))
    secret = request.cookies.get(SESSION_COOKIE)
    caller = None
    if secret:
        async with api.transaction() as session:
            caller = await web_sessions_repo.session_caller(session, secret, now=api.clock())
    if caller is not None:
        # For the access log: who made the request (never the cookie).
        request.state.member_id = str(caller.member_id)
    return Visitor(t, caller, secret if caller else None)


async def member(request: Request, who: Annotated[Visitor, Depends(visitor)]) -> Visitor:
    if who.caller is None:
        raise SignInNeeded
    return who


def _own_origins(request: Request, api: ApiContext) -> set[str]:
    # The host the browser addressed (behind a proxy, uvicorn has put its scheme in the URL).
    return {f"{request.url.scheme}://{request.headers.get('host', '')}",
            api.settings.http.base_url}


async def checked_form(request: Request, who: Visitor) -> FormData:
    """The whole form (files too) of a state-changing request from our own page and session."""
    api = context(request)
    if not same_origin(request.headers.get("origin"), request.headers.get("sec-fetch-site"),
                       _own_origins(request, api)):
        raise ForgedRequest
    form = await request.form()
    sent = form.get("csrf")
    if who.session_secret is not None and not csrf_ok(
            who.session_secret, sent if isinstance(sent, str) else None):
        raise ForgedRequest
    return form


async def form_of(request: Request, who: Visitor) -> dict[str, str]:
    """The text fields of a state-changing request, once it is shown to come from our own page."""
    return {k: v for k, v in (await checked_form(request, who)).items() if isinstance(v, str)}


def page(template: str, who: Visitor, *, status: int = 200, **values: Any) -> HTMLResponse:
    html = templates.get_template(template).render(
        t=who.t, lang=who.t.language, csrf=who.csrf, signed_in=who.caller is not None,
        is_admin=bool(who.caller and who.caller.is_admin), **values)
    return HTMLResponse(html, status_code=status)


def see(path: str) -> RedirectResponse:
    # 303: after a form post the browser fetches the page with GET; a reload posts nothing again.
    return RedirectResponse(path, status_code=303)


def zone_of(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def clock_text(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M") if moment else ""


# -- sign-in ----------------------------------------------------------------------------------

@router.get("/sign-in")
async def sign_in_page(code: str, who: Annotated[Visitor, Depends(visitor)]) -> Response:
    # Opening the link redeems nothing: a link preview or a mail scanner that fetches it
    # must not use up the member's one sign-in. The button posts the code.
    return page("sign_in.html", who, code=code)


@router.post("/sign-in")
async def sign_in(request: Request, who: Annotated[Visitor, Depends(visitor)]) -> Response:
    api = context(request)
    form = await form_of(request, Visitor(who.t, None, None))
    lifetime = timedelta(days=api.settings.http.web_session_days)
    async with api.transaction() as session:
        secret = await web_sessions_repo.redeem_sign_in_link(
            session, form.get("code", ""), now=api.clock(), lifetime=lifetime)
    if secret is None:
        return page("message.html", who, status=status_of("unauthenticated"),
                    title=who.t("sign_in_title"), text=who.t("sign_in_failed"))
    done = see(STATUS_PAGE)
    done.headers.append("set-cookie", session_cookie(secret, int(lifetime.total_seconds())))
    return done


@router.post("/sign-out")
async def sign_out(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        await web_sessions_repo.sign_out(session, who.caller.tenant_id, who.caller.member_id,
                                         who.caller.token_id)
    done = see(PREFIX + "/signed-out")
    done.headers.append("set-cookie", expired_session_cookie())
    return done


@router.get("/signed-out")
async def signed_out(who: Annotated[Visitor, Depends(visitor)]) -> Response:
    return page("message.html", who, title=who.t("signed_out_title"),
                text=who.t("signed_out_explain"))


@router.post("/language")
async def language(request: Request, who: Annotated[Visitor, Depends(visitor)]) -> Response:
    form = await form_of(request, who)
    picked = form.get("lang")
    back = form.get("next", STATUS_PAGE)
    # Only a page of this app: never an open redirect.
    done = see(back if back.startswith(PREFIX + "/") and "//" not in back else STATUS_PAGE)
    if picked in LANGUAGES:
        done.set_cookie(LANGUAGE_COOKIE, picked, max_age=365 * 86400, secure=True,
                        httponly=True, samesite="strict")
    return done


# -- my status --------------------------------------------------------------------------------

async def _member_time(session: Any, caller: Caller) -> tuple[list[WeeklyPeriod], tzinfo]:
    """The member's schedule, and its zone, else their first team's: where "today" ends for them."""
    periods, zone = await hours_repo.member_schedule(session, caller.tenant_id, caller.member_id)
    if zone is None:
        found = await members_repo.profile(session, caller.tenant_id, caller.member_id)
        if found.teams:
            team = await teams_repo.team_row(session, caller.tenant_id, found.teams[0].id,
                                             caller.member_id)
            zone = team.timezone
    return periods, zone_of(zone)


async def _status_page(request: Request, who: Visitor, *, problem: str | None = None,
                       saved: bool = False) -> Response:
    api = context(request)
    assert who.caller is not None
    now = api.clock()
    async with api.transaction() as session:
        me = await members_repo.profile(session, who.caller.tenant_id, who.caller.member_id)
        periods, zone = await _member_time(session, who.caller)
    available = is_available(me.available, me.until, now)
    why = {AvailabilityReason.SCHEDULE.value: "why_schedule",
           AvailabilityReason.AUTO.value: "why_auto"}.get(me.reason or "", "why_manual")
    return page("status.html", who, status=status_of("invalid") if problem else 200,
                me=me, available=available, until=clock_text(me.until if available else None, zone),
                why=who.t(why, time=clock_text(me.changed_at, zone)) if me.changed_at else "",
                # The end of a schedule only for a member who has one.
                choices=[c for c in UntilChoice if periods or c is not UntilChoice.SCHEDULE],
                problem=problem, saved=saved, away_reasons=list(AwayReason),
                # What the member said they are away for, while their own change holds.
                away=away_of(me.away_reason, me.reason, available=available))


@router.get("")
async def home() -> Response:
    return see(STATUS_PAGE)


@router.get("/status")
async def status_page(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    return await _status_page(request, who, saved=request.query_params.get("saved") == "1")


@router.post("/status")
async def set_status(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    available = form.get("available") == "on"
    try:
        choice = UntilChoice(form.get("until", UntilChoice.OPEN.value))
    except ValueError:
        choice = UntilChoice.OPEN
    away = AwayReason(form["away"]) if form.get("away") in set(AwayReason) else None
    now = api.clock()
    async with api.transaction() as session:
        periods, zone = await _member_time(session, who.caller)
    try:
        until = (until_of(choice, form.get("time"), now=now, zone=zone, schedule=periods)
                 if available else None)
    except Invalid as refused:
        # Refused before anything is written: the page says what to fix.
        field = refused.fields[0][0] if refused.fields else "time"
        return await _status_page(request, who,
                                  problem=who.t("bad_time" if field == "time" else "bad_until"))
    async with api.transaction() as session:
        await members_repo.set_availability(session, who.caller.tenant_id, who.caller.member_id,
                                            available, until, now=now, away=away)
    if available:
        api.member_available()
    return see(STATUS_PAGE + "?saved=1")


# -- my team ----------------------------------------------------------------------------------

def waiting_text(t: Callable[..., str], line: waiting_repo.TeamLine) -> str:
    """What the team page says about the team's waiting line (the page and the stream alike)."""
    if not line.waiting:
        return t("waiting_none")
    text = t("waiting_some", count=line.waiting, seconds=round(line.longest_wait_s or 0))
    if line.callbacks_pending:
        text += " " + t("waiting_callbacks", count=line.callbacks_pending)
    return text


@router.get("/team")
async def team_page(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        me = await members_repo.profile(session, who.caller.tenant_id, who.caller.member_id)
        views = [await teams_repo.team_view(session, who.caller.tenant_id, t.id,
                                            who.caller.member_id, now=api.clock())
                 for t in me.teams]
        lines = {t.id: await waiting_repo.team_line(session, who.caller.tenant_id, t.id, now=api.clock())
                 for t in me.teams}
    return page("team.html", who, teams=views,
                waiting={team_id: waiting_text(who.t, line) for team_id, line in lines.items()})


@router.get("/teams/{team_id}/photos/{member_id}")
async def teammate_photo(team_id: uuid.UUID, member_id: uuid.UUID, request: Request,
                         who: Annotated[Visitor, Depends(member)]) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        view = await teams_repo.team_view(session, who.caller.tenant_id, team_id,
                                          who.caller.member_id, now=api.clock())
        if member_id not in {m.id for m in view.members if m.has_photo}:
            raise NotFound("photo")
        data, kind = await members_repo.photo(session, who.caller.tenant_id, member_id)
    return photo_response(data, kind)


# -- signed-in devices ------------------------------------------------------------------------

@router.get("/devices")
async def devices_page(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        devices = await web_sessions_repo.member_sessions(
            session, who.caller.tenant_id, who.caller.member_id, now=api.clock())
    zone = UTC
    return page("devices.html", who, devices=devices, this=who.caller.token_id,
                when=lambda m: m.astimezone(zone).strftime("%Y-%m-%d %H:%M UTC"))


@router.post("/devices/{session_id}/sign-out")
async def sign_out_device(session_id: uuid.UUID, request: Request,
                          who: Annotated[Visitor, Depends(member)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        await web_sessions_repo.sign_out(session, who.caller.tenant_id, who.caller.member_id,
                                         session_id)
    if session_id == who.caller.token_id:
        done = see(PREFIX + "/signed-out")
        done.headers.append("set-cookie", expired_session_cookie())
        return done
    return see(PREFIX + "/devices")


# -- installing -------------------------------------------------------------------------------

@router.get("/manifest.webmanifest")
async def manifest(who: Annotated[Visitor, Depends(visitor)]) -> Response:
    text = templates.get_template("manifest.webmanifest").render(lang=who.t.language)
    return Response(text, media_type="application/manifest+json")


@router.get("/sw.js")
async def service_worker() -> Response:
    # Served from /app/ (not /app/static/) so that its scope covers every page.
    return Response((HERE / "static" / "sw.js").read_text(), media_type="text/javascript",
                    headers={"cache-control": "no-cache"})


# -- mounting ---------------------------------------------------------------------------------

def _plain_visitor(request: Request) -> Visitor:
    return Visitor(Messages(choose_language(request.cookies.get(LANGUAGE_COOKIE),
                                            request.headers.get("accept-language"))), None, None)


def _is_web(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def install(app: FastAPI) -> None:
    """Mount the pages and assets under /app, with their own HTML answers to refusals."""
    # The other pages' modules add their routes to the one router when imported.
    from teamfoned.web import (  # noqa: F401
        pages_admin,
        pages_calls,
        pages_live,
        pages_me,
        pages_teams,
    )

    app.include_router(router)
    app.mount(PREFIX + "/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.add_middleware(SecurityHeaders)
    api_not_found = app.exception_handlers.get(NotFound)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _: SignInNeeded) -> Response:
        who = _plain_visitor(request)
        return page("message.html", who, status=status_of("unauthenticated"),
                    title=who.t("signed_out_title"), text=who.t("signed_out_explain"))

    @app.exception_handler(ForgedRequest)
    async def _refused(request: Request, _: ForgedRequest) -> Response:
        who = _plain_visitor(request)
        return page("message.html", who, status=status_of("forbidden"),
                    title=who.t("refused_title"), text=who.t("refused_explain"))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        # A foreign or missing object is the same "not found" on a page as in the API.
        if not _is_web(request) and api_not_found is not None:
            return await api_not_found(request, exc)  # type: ignore[no-any-return, misc]
        who = _plain_visitor(request)
        return page("message.html", who, status=status_of("not_found"),
                    title=who.t("not_found_title"), text=who.t("not_found_explain"))
