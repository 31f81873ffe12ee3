"""The web app over real HTTP: one-time sign-in links, session cookies, CSRF and Origin checks, sign-out.

Cookies are handled by hand here: the flags are what is under test, and a cookie jar would
hide them (it also keeps Secure cookies from plain http, which browsers allow on loopback).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from teamfoned.cli import main
from teamfoned.web.security import CONTENT_SECURITY_POLICY, SESSION_COOKIE
from tests.integration.test_api_bench import (  # noqa: F401  (api_fixture provides the `api` fixture)
    LiveApi,
    api_fixture,
    error_of,
)

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class Browser:
    """One browser's session cookie against the live API; posts come from our own page."""

    def __init__(self, api: LiveApi, secret: str | None = None) -> None:
        self.api = api
        self.secret = secret

    @property
    def headers(self) -> dict[str, str]:
        found = {"origin": self.api.base_url, "sec-fetch-site": "same-origin"}
        if self.secret:
            found["cookie"] = f"{SESSION_COOKIE}={self.secret}"
        return found

    async def get(self, path: str, **headers: str) -> httpx.Response:
        return await self.api.client.get(path, headers={**self.headers, **headers})

    async def post(self, path: str, form: dict[str, str], **headers: str) -> httpx.Response:
        return await self.api.client.post(path, data=form, headers={**self.headers, **headers})

    async def csrf(self, path: str = "/app/status") -> str:
        page = await self.get(path)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found, page.text
        return found.group(1)


async def invite(api: LiveApi, who: str, admin: str = "ann") -> str:
    made = await api.client.post(f"/v1/admin/members/{api.world.id(who)}/sign-in-links",
                                 headers=api.world.auth(admin))
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url.startswith(api.settings.http.base_url + "/app/sign-in?code=")
    return url.split("code=", 1)[1]


def cookie_of(response: httpx.Response) -> tuple[str, set[str]]:
    """The session cookie's value and its attributes (lower case)."""
    (header,) = [h for h in response.headers.get_list("set-cookie")
                 if h.startswith(SESSION_COOKIE + "=")]
    value, *attributes = [part.strip() for part in header.split(";")]
    return value.split("=", 1)[1], {a.lower() for a in attributes}


async def sign_in(api: LiveApi, who: str) -> Browser:
    code = await invite(api, who)
    done = await Browser(api).post("/app/sign-in", {"code": code})
    assert done.status_code == 303 and done.headers["location"] == "/app/status", done.text
    secret, _ = cookie_of(done)
    return Browser(api, secret)


async def test_a_link_signs_in_once_with_a_strict_cookie(api: LiveApi) -> None:
    code = await invite(api, "bob")
    anonymous = Browser(api)
    # Opening the link (a mail scanner, a link preview) uses nothing up.
    for _ in range(2):
        shown = await anonymous.get(f"/app/sign-in?code={code}")
        assert shown.status_code == 200 and f'value="{code}"' in shown.text
    done = await anonymous.post("/app/sign-in", {"code": code})
    assert done.status_code == 303, done.text
    secret, flags = cookie_of(done)
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags, flags
    assert not any(f.startswith("domain=") for f in flags)
    assert SESSION_COOKIE.startswith("__Host-") and len(secret) >= 43
    page = await Browser(api, secret).get("/app/status")
    assert page.status_code == 200 and "Bob Bakker" not in page.headers.get("set-cookie", "")
    assert "You are not taking calls" in page.text  # bob's "until" passed an hour ago

    again = await anonymous.post("/app/sign-in", {"code": code})
    assert again.status_code == 401 and "set-cookie" not in again.headers
    assert "has been used or has expired" in again.text


async def test_a_link_expires_and_secrets_are_kept_hashed(api: LiveApi) -> None:
    code = await invite(api, "bob")
    api.clock.now += timedelta(minutes=api.settings.http.sign_in_link_minutes, seconds=1)
    refused = await Browser(api).post("/app/sign-in", {"code": code})
    assert refused.status_code == 401
    browser = await sign_in(api, "bob")
    rows = await api.snapshot()
    stored = repr(rows["sign_in_links"]) + repr(rows["web_sessions"])
    assert code not in stored and browser.secret is not None and browser.secret not in stored
    for bad in ["", "x" * 500, "tfd_" + "a" * 40, "\x00" * 30]:
        assert (await Browser(api).post("/app/sign-in", {"code": bad})).status_code == 401


async def test_state_changes_need_our_origin_and_this_sessions_token(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    carol = await sign_in(api, "carol")
    token = await bob.csrf()
    turn_on = {"available": "on", "until": "open"}
    before = await api.snapshot()
    for form, headers in [
        (turn_on, {}),  # no token
        ({**turn_on, "csrf": "0" * 64}, {}),  # a wrong one
        ({**turn_on, "csrf": await carol.csrf()}, {}),  # another session's
        ({**turn_on, "csrf": token}, {"origin": "https://evil.example"}),
        ({**turn_on, "csrf": token}, {"origin": "null"}),
        ({**turn_on, "csrf": token}, {"sec-fetch-site": "cross-site"}),
        ({**turn_on, "csrf": token}, {"sec-fetch-site": "same-site"}),
    ]:
        refused = await bob.post("/app/status", form, **headers)
        assert refused.status_code == 403, (form, headers, refused.text)
        assert "did not come from this app" in refused.text
    # The session cookie alone, without a session: refused before any form is read.
    assert (await Browser(api).post("/app/status", {**turn_on, "csrf": token})).status_code == 401
    assert await api.snapshot() == before

    done = await bob.post("/app/status", {**turn_on, "csrf": token})
    assert done.status_code == 303 and done.headers["location"] == "/app/status?saved=1"
    me = (await api.client.get("/v1/me", headers=api.world.auth("bob"))).json()
    assert me["availability"] == {**me["availability"], "available": True, "until": None,
                                  "reason": "manual"}


async def test_status_until_choices_and_a_refused_time(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    token = await bob.csrf()
    before = await api.snapshot()
    refused = await bob.post("/app/status", {"csrf": token, "available": "on", "until": "time",
                                             "time": "25:99"})
    assert refused.status_code == 422 and "HH:MM" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert await api.snapshot() == before

    done = await bob.post("/app/status", {"csrf": token, "available": "on", "until": "hour"})
    assert done.status_code == 303
    page = await bob.get("/app/status")
    assert "You are available for calls" in page.text and "until" in page.text
    me = (await api.client.get("/v1/me", headers=api.world.auth("bob"))).json()
    assert me["availability"]["until"] is not None
    # "Until my schedule changes it": offered, and accepted, only with a schedule.
    assert (await bob.post("/app/status", {"csrf": token, "available": "off"})).status_code == 303
    unavailable = (await bob.get("/app/status")).text
    assert 'value="hour"' in unavailable and 'value="schedule"' not in unavailable
    before = await api.snapshot()
    refused = await bob.post("/app/status", {"csrf": token, "available": "on",
                                             "until": "schedule"})
    assert refused.status_code == 422 and "no schedule" in refused.text
    assert await api.snapshot() == before
    every_day = [{"weekday": d, "starts": "00:00", "ends": "24:00"} for d in range(7)]
    put = await api.client.put("/v1/me/schedule", headers=api.world.auth("bob"),
                               json={"timezone": "UTC", "periods": every_day})
    assert put.status_code == 200, put.text
    assert (await bob.post("/app/status", {"csrf": token, "available": "off"})).status_code == 303
    assert 'value="schedule"' in (await bob.get("/app/status")).text
    done = await bob.post("/app/status", {"csrf": token, "available": "on", "until": "schedule"})
    assert done.status_code == 303
    me = (await api.client.get("/v1/me", headers=api.world.auth("bob"))).json()
    midnight = (api.clock.now + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    assert me["availability"]["until"].startswith(midnight.strftime("%Y-%m-%dT00:00:00")), me
    off = await bob.post("/app/status", {"csrf": token, "available": "off", "away": "lunch"})
    assert off.status_code == 303
    me = (await api.client.get("/v1/me", headers=api.world.auth("bob"))).json()
    assert me["availability"]["available"] is False
    assert "Away: Lunch" in (await bob.get("/app/status")).text
    exported = (await api.client.get("/v1/export", headers=api.world.auth("ann"))).json()
    (bobs,) = [m for m in exported["members"] if m["name"] == "Bob Bakker"]
    assert bobs["availability"]["away_reason"] == "lunch"
    # Turned back on (by the API, as by the app), the reason goes.
    await api.client.put("/v1/me/availability", headers=api.world.auth("bob"),
                         json={"available": True})
    exported = (await api.client.get("/v1/export", headers=api.world.auth("ann"))).json()
    (bobs,) = [m for m in exported["members"] if m["name"] == "Bob Bakker"]
    assert bobs["availability"]["away_reason"] is None


async def test_devices_list_sign_out_and_admin_sign_out_everywhere(api: LiveApi) -> None:
    phone = await sign_in(api, "bob")
    laptop = await sign_in(api, "bob")
    devices = await phone.get("/app/devices")
    ids = re.findall(r'action="/app/devices/([0-9a-f-]{36})/sign-out"', devices.text)
    assert len(ids) == 2 and "This device" in devices.text
    token = await phone.csrf("/app/devices")
    # The phone signs the laptop out: the laptop's cookie stops working at once.
    other = [i for i in ids if f"/app/devices/{i}/sign-out" not in devices.text.split(
        "This device")[1].split("</li>")[0]]
    assert len(other) == 1
    done = await phone.post(f"/app/devices/{other[0]}/sign-out", {"csrf": token})
    assert done.status_code == 303
    assert (await laptop.get("/app/status")).status_code == 401
    assert (await phone.get("/app/status")).status_code == 200

    # Another member's session is not found, like a missing one, and nothing ends.
    carol = await sign_in(api, "carol")
    carol_devices = await carol.get("/app/devices")
    (carols,) = re.findall(r'action="/app/devices/([0-9a-f-]{36})/sign-out"', carol_devices.text)
    assert (await phone.post(f"/app/devices/{carols}/sign-out",
                             {"csrf": token})).status_code == 404
    assert (await carol.get("/app/status")).status_code == 200

    # An admin of another tenant cannot sign bob out; bob's own admin can, everywhere.
    bob_id = api.world.id("bob")
    foreign = await api.client.delete(f"/v1/admin/members/{bob_id}/sessions",
                                      headers=api.world.auth("gina"))
    assert foreign.status_code == 404 and error_of(foreign)["code"] == "not_found"
    pending = await invite(api, "bob")
    ended = await api.client.delete(f"/v1/admin/members/{bob_id}/sessions",
                                    headers=api.world.auth("ann"))
    assert ended.status_code == 200 and ended.json()["sessions_ended"] == 1
    assert (await phone.get("/app/status")).status_code == 401
    assert (await Browser(api).post("/app/sign-in", {"code": pending})).status_code == 401
    not_admin = await api.client.post(f"/v1/admin/members/{bob_id}/sign-in-links",
                                      headers=api.world.auth("bob"))
    assert not_admin.status_code == 403


async def test_own_sign_out_clears_the_cookie(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    done = await bob.post("/app/sign-out", {"csrf": await bob.csrf()})
    assert done.status_code == 303
    _, flags = cookie_of(done)
    assert "max-age=0" in flags
    assert (await bob.get("/app/status")).status_code == 401


async def test_team_page_shows_line_states_and_only_teammates_photos(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    page = await ann.get("/app/team")
    assert page.status_code == 200
    for name, state in [("Bob Bakker", "ringing"), ("Ann Admin", "in a call"),
                        ("Dave Desk", "wrap-up"), ("Frank Off", "unavailable")]:
        assert re.search(rf"{name}</span>\s*<span class=\"line\"[^>]*>{state}<", page.text), name
    assert "Carol Care" not in page.text and "Gina" not in page.text
    desk, bob, carol = api.world.teams["desk"], api.world.id("bob"), api.world.id("carol")
    photo = await ann.get(f"/app/teams/{desk}/photos/{bob}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    for path in [f"/app/teams/{desk}/photos/{carol}",
                 f"/app/teams/{api.world.teams['care']}/photos/{carol}",
                 f"/app/teams/{api.world.teams['ops']}/photos/{api.world.id('hank')}"]:
        assert (await ann.get(path)).status_code == 404, path


async def test_pages_carry_strict_headers_and_speak_dutch(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    for path in ["/app/status", "/app/team", "/app/devices", "/app/signed-out",
                 "/app/static/app.css"]:
        page = await bob.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["x-frame-options"] == "DENY"
        if path.endswith(".html") or not path.endswith(".css"):
            assert "<script>" not in page.text and "style=" not in page.text
            assert "no-store" in page.headers["cache-control"]
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    dutch = await bob.get("/app/status", **{"accept-language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert '<html lang="nl">' in dutch.text and "Je neemt geen gesprekken aan" in dutch.text
    english = await bob.get("/app/status", **{"accept-language": "de, en;q=0.5"})
    assert '<html lang="en">' in english.text
    # The switch remembers the pick over what the browser asks for.
    token = CSRF.search(english.text)
    assert token
    switched = await bob.post("/app/language", {"csrf": token.group(1), "lang": "nl",
                                                "next": "//evil.example/"})
    assert switched.status_code == 303 and switched.headers["location"] == "/app/status"
    (lang_cookie,) = [h for h in switched.headers.get_list("set-cookie") if "lang=nl" in h]
    picked = await bob.get("/app/status", cookie=f"{SESSION_COOKIE}={bob.secret}; "
                                                 f"{lang_cookie.split(';')[0]}",
                           **{"accept-language": "en"})
    assert '<html lang="nl">' in picked.text


async def test_the_bearer_api_still_refuses_a_session_cookie(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    refused = await bob.get("/v1/me")
    assert refused.status_code == 401 and error_of(refused)["code"] == "unauthenticated"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "teamfoned.yaml"
    path.write_text(f"ari: {{password: pw}}\ndatabase: {{url: 'sqlite+aiosqlite:///{tmp_path}/t.db'}}\n"
                    "http: {public_url: 'https://phones.example.org/'}\n")
    return path


def test_cli_invite_prints_a_link_and_a_qr_code(config: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*argv: str) -> int:
        return main(["--config", str(config), *argv])

    assert cli("db", "upgrade") == 0
    assert cli("tenant", "add", "acme") == 0
    assert cli("member", "add", "--tenant", "acme", "--name", "Alice",
               "--phone", "+31 6 12345678") == 0
    capsys.readouterr()
    assert cli("member", "invite", "--tenant", "acme", "Alice") == 0
    printed = capsys.readouterr()
    url = printed.out.strip()
    assert re.fullmatch(r"https://phones\.example\.org/app/sign-in\?code=[A-Za-z0-9_-]{43}", url)
    assert "works once until" in printed.err and "\u2588" in printed.err  # block characters
    assert cli("member", "sign-out", "--tenant", "acme", "Alice") == 0
    assert "0 web session(s) ended" in capsys.readouterr().err
    assert cli("member", "invite", "--tenant", "acme", "Nobody") == 2
