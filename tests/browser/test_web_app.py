"""The members' web app in a real browser, against the real daemon and real SIP calls through the bench.

Each page is checked with axe-core (no serious or critical violation) and photographed on a
phone and a desktop viewport into build/screenshots/ (`make screenshots` copies them to docs/).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.api.context import system_clock
from teamfoned.config import HttpSettings
from teamfoned.store.engine import create_sessionmaker
from teamfoned.web.links import invite
from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory
from tests.integration.test_api_bench import jpeg_bytes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
AXE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
PHONE_VIEW = {"width": 390, "height": 844}
DESKTOP_VIEW = {"width": 1280, "height": 800}
# The first screen a member sees must stay small on a phone network.
FIRST_SCREEN_BYTES = 100_000


def bench_directory() -> dict[str, Any]:
    doc = directory(strategy="linear", ring_time=5, team_members=("alice", "bob"),
                    available=("bob",))
    for person in doc["tenants"][0]["members"]:
        person["admin"] = person["name"] == "alice"
    return doc


async def link_for(routing: Any, name: str) -> str:
    """A sign-in link for a bench member, on the port the daemon's HTTP module listens on."""
    member = {v: k for k, v in (await routing.member_names()).items()}[name]
    http = HttpSettings(public_url=routing.http_url)
    session: AsyncSession
    async with create_sessionmaker(routing.engine)() as session, session.begin():
        url, _ = await invite(session, http, routing.tenant_id, member, now=system_clock())
    return url


async def check_page(page: Any, name: str) -> None:
    """axe-core finds nothing serious; then the page is photographed at both sizes."""
    # Evaluated over the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(AXE + "\n;true")
    found = await page.evaluate(
        "axe.run(document).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
        "nodes: v.nodes.map(n => n.target.join(' '))})))")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, (name, serious)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for view, size in (("phone", PHONE_VIEW), ("desktop", DESKTOP_VIEW)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SHOTS / f"{name}-{view}.png"), full_page=True)
    await page.set_viewport_size(PHONE_VIEW)


async def new_page(browser: Any, locale: str = "en-GB") -> tuple[Any, Any, list[str]]:
    """A fresh browser profile on a phone viewport; collects console errors (a CSP refusal too)."""
    context = await browser.new_context(viewport=PHONE_VIEW, locale=locale, accept_downloads=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


async def sign_in(page: Any, url: str) -> None:
    await page.goto(url)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/app/status*")


async def answered_call(routing: Any, carrier: Any, expected: int) -> Any:
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    return (await routing.wait_calls_finished(expected))[-1]


async def test_sign_in_status_and_the_next_real_call(routing: Any, carrier: Any,
                                                     browser: Any) -> None:
    await routing.setup(bench_directory())
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "answer", delay=0.3)
    url = await link_for(routing, "alice")

    context, page, errors = await new_page(browser)
    sizes: list[int] = []

    async def count(response: Any) -> None:
        transferred = await response.request.sizes()
        sizes.append(transferred["responseBodySize"] + transferred["responseHeadersSize"])

    await page.goto(url)
    await check_page(page, "sign-in")
    pending: list[asyncio.Task[None]] = []

    def on_response(response: Any) -> None:
        pending.append(asyncio.ensure_future(count(response)))

    page.on("response", on_response)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/app/status*")
    await page.wait_for_load_state("networkidle")
    await asyncio.gather(*pending)
    assert sum(sizes) < FIRST_SCREEN_BYTES, sizes
    page.remove_listener("response", on_response)
    cookies = {c["name"]: c for c in await context.cookies()}
    session = cookies["__Host-teamfoned"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
    assert await page.get_by_text("You are not taking calls").is_visible()
    await check_page(page, "status")

    # The link worked once: another browser that opens it is refused.
    other, again, _ = await new_page(browser)
    await again.goto(url)
    await again.get_by_role("button", name="Sign in").click()
    assert await again.get_by_text("has been used or has expired").is_visible()
    await other.close()

    # Available: alice is first in the linear order, so the very next call rings her.
    await page.get_by_label("For 1 hour").check()
    await page.get_by_role("button", name="Make me available").click()
    await page.wait_for_url("**/app/status?saved=1")
    assert await page.get_by_text("You are available for calls").is_visible()
    first = await answered_call(routing, carrier, 1)
    assert first.attempts == [("alice", "answered")]

    # Unavailable, for lunch: the next call skips her.
    await check_page(page, "status-available")
    await page.get_by_label("Lunch").check()
    await page.get_by_role("button", name="Make me unavailable").click()
    await page.wait_for_url("**/app/status?saved=1")
    assert await page.get_by_text("Away: Lunch").is_visible()
    second = await answered_call(routing, carrier, 2)
    assert second.attempts == [("bob", "answered")]

    # Installed and offline: the service worker shows the last status it saw, marked offline.
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10000)
    await page.goto(routing.http_url + "/app/status")
    await context.set_offline(True)
    await page.reload()
    assert await page.get_by_text("Offline: this is the last known status").is_visible()
    assert await page.get_by_text("You are not taking calls").is_visible()
    await context.set_offline(False)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await context.close()
    await routing.assert_clean()


async def test_live_line_state_call_back_and_my_data(routing: Any, carrier: Any,
                                                     browser: Any) -> None:
    await routing.setup(bench_directory())
    await carrier.set_phone(PHONES["bob"], "never")
    alice_ctx, alice, errors = await new_page(browser)
    await sign_in(alice, await link_for(routing, "alice"))

    await alice.goto(routing.http_url + "/app/team")
    line = alice.locator("li", has_text="bob").locator(".line")
    assert await line.inner_text() == "idle"
    await check_page(alice, "team")

    # A real call rings bob: alice's page shows it without reloading.
    leg = await carrier.call(TEAM_NUMBER, caller_id="+31687654321")
    await alice.wait_for_function(
        "() => [...document.querySelectorAll('.line')].some(e => e.textContent === 'ringing')",
        timeout=15000)
    assert await line.inner_text() == "ringing"
    await carrier.hangup_caller(leg)
    await alice.wait_for_function(
        "() => ![...document.querySelectorAll('.line')].some(e => e.textContent === 'ringing')",
        timeout=15000)
    (missed,) = await routing.wait_calls_finished(1)
    assert missed.outcome == "abandoned"

    # The caller hung up: the call is on the list to call back, with a tel: link.
    await alice.goto(routing.http_url + "/app/calls")
    assert await alice.locator('a[href="tel:+31687654321"]').count() == 1
    await check_page(alice, "calls")
    await alice.get_by_role("button", name="Mark as handled").click()
    await alice.wait_for_url("**/app/calls")
    assert await alice.locator('a[href="tel:+31687654321"]').count() == 0
    assert await alice.get_by_text("Nobody to call back.").is_visible()

    # My data: name and photo, my data as a file.
    await alice.goto(routing.http_url + "/app/me")
    await check_page(alice, "me")
    await alice.get_by_label("Name").fill("Alice Andersen")
    await alice.get_by_role("button", name="Save").click()
    await alice.wait_for_url("**/app/me?saved=1")
    assert await alice.get_by_label("Name").input_value() == "Alice Andersen"
    photo = SHOTS.parent / "browser-photo.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(jpeg_bytes(64, 64))
    await alice.get_by_label("Choose a photo").set_input_files(str(photo))
    await alice.get_by_role("button", name="Upload photo").click()
    await alice.wait_for_url("**/app/me?saved=1")
    assert await alice.get_by_role("img", name="Your photo").is_visible()
    async with alice.expect_download() as download_info:
        await alice.get_by_role("link", name="Download my data").click()
    download = await download_info.value
    mine = json.loads(Path(await download.path()).read_text())
    assert mine["member"]["name"] == "Alice Andersen"
    await alice.goto(routing.http_url + "/app/devices")
    await check_page(alice, "devices")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await alice_ctx.close()
    await routing.assert_clean()


async def test_admin_invites_signs_out_and_deletion_in_dutch(routing: Any, carrier: Any,
                                                             browser: Any) -> None:
    await routing.setup(bench_directory())
    admin_ctx, admin, _ = await new_page(browser)
    await sign_in(admin, await link_for(routing, "alice"))
    await admin.goto(routing.http_url + "/app/admin")
    await admin.get_by_role("button", name="Create a sign-in link for bob").click()
    invited = await admin.get_by_label("Send this link to the member").input_value()
    # The bench's daemon listens on a socket handed to it, not on its configured port.
    invited = routing.http_url + invited[invited.index("/app/"):]
    await check_page(admin, "admin")

    # Bob's browser asks for Dutch: the app speaks it, and switches to English on request.
    bob_ctx, bob, _ = await new_page(browser, locale="nl-NL")
    await bob.goto(invited)
    await bob.get_by_role("button", name="Aanmelden").click()
    await bob.wait_for_url("**/app/status*")
    assert await bob.locator("html").get_attribute("lang") == "nl"
    assert await bob.get_by_text("Je bent beschikbaar voor gesprekken").is_visible()
    await check_page(bob, "status-nl")
    await bob.get_by_role("button", name="English").click()
    assert await bob.get_by_text("You are available for calls").is_visible()
    await bob.get_by_role("button", name="Nederlands").click()

    # The admin signs bob out everywhere: bob's next page asks him to sign in.
    await admin.get_by_role("button", name="Sign bob out everywhere").click()
    assert await admin.get_by_text("Signed out of 1 device(s).").is_visible()
    response = await bob.reload()
    assert response.status == 401
    assert await bob.get_by_text("Je bent op dit apparaat niet aangemeld").is_visible()

    # Bob signs in again with a new link and deletes himself.
    await bob.goto(await link_for(routing, "bob"))
    await bob.get_by_role("button", name="Aanmelden").click()
    await bob.wait_for_url("**/app/status*")
    await bob.goto(routing.http_url + "/app/me/delete")
    await check_page(bob, "delete-nl")
    await bob.get_by_label("Ja, verwijder al mijn gegevens").check()
    await bob.get_by_role("button", name="Verwijder mijn gegevens nu").click()
    await bob.wait_for_url("**/app/deleted")
    assert "bob" not in (await routing.member_names()).values()
    await bob_ctx.close()
    await admin_ctx.close()
    await routing.assert_clean()
