"""The caller's own data over real HTTP: profile, availability, photo, erasure; refusals write nothing."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.test_api_bench import (  # noqa: F401  (api_fixture provides the `api` fixture)
    PHOTO,
    LiveApi,
    api_fixture,
    error_of,
    jpeg_bytes,
    png_bytes,
)


async def test_me_profile_and_edits(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    me = (await api.client.get("/v1/me", headers=bob)).json()
    assert me["name"] == "Bob Bakker" and me["phone"] == "+31612345672"
    assert me["availability"]["available"] is False  # "until" passed an hour ago
    assert [t["name"] for t in me["teams"]] == ["desk"] and me["has_photo"] is True

    done = await api.client.patch("/v1/me", headers=bob,
                                  json={"name": "  Bob B. ", "phone": "06 1234 5699"})
    assert done.status_code == 422  # national format without a default region
    assert error_of(done)["fields"][0]["field"] == "phone"
    done = await api.client.patch("/v1/me", headers=bob,
                                  json={"name": "Bob B.", "phone": "+31 6 1234 5699"})
    assert done.status_code == 200, done.text
    assert (done.json()["name"], done.json()["phone"]) == ("Bob B.", "+31612345699")
    done = await api.client.patch("/v1/me", headers=bob, json={"phone": "sip:bob-desk"})
    assert (done.json()["phone_kind"], done.json()["phone"]) == ("sip", "bob-desk")


async def test_refused_edits_write_nothing(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    before = await api.snapshot()
    for body, field in [
        ({"name": "Bob", "phone": "+319001234567"}, "phone"),  # premium rate
        ({"name": "Bob", "phone": "+4915112345678"}, "phone"),  # not an allowed country
        ({"name": "Bob", "phone": "x&PJSIP/evil"}, "phone"),
        ({"name": ""}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"nickname": "Bobby"}, "nickname"),
    ]:
        done = await api.client.patch("/v1/me", headers=bob, json=body)
        assert done.status_code == 422, (body, done.text)
        assert error_of(done)["fields"][0]["field"] == field, done.text
    for bad in ["not json", "[1, 2]"]:
        done = await api.client.patch("/v1/me", headers={**bob, "content-type": "application/json"},
                                      content=bad)
        assert done.status_code == 422 and error_of(done)["code"] == "invalid"
    assert await api.snapshot() == before


async def test_availability(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    until = (api.clock.now + timedelta(hours=3)).astimezone().isoformat()
    done = await api.client.put("/v1/me/availability", headers=bob,
                                json={"available": True, "until": until})
    assert done.status_code == 200, done.text
    availability = done.json()["availability"]
    assert availability["available"] is True and availability["until"].endswith("Z")
    done = await api.client.put("/v1/me/availability", headers=bob, json={"available": False,
                                                                            "until": until})
    assert done.json()["availability"] == {**done.json()["availability"], "available": False,
                                           "until": None}
    before = await api.snapshot()
    for body in [{"available": "yes"}, {}, {"available": True, "until": "tomorrow"},
                 {"available": True, "until": "2030-01-01T17:00:00"},  # no offset
                 {"available": True, "until": "2001-01-01T17:00:00Z"},  # in the past
                 {"available": True, "until": "9999-12-31T23:59:59-14:00"}]:
        done = await api.client.put("/v1/me/availability", headers=bob, json=body)
        assert done.status_code == 422, (body, done.text)
        error_of(done)
    assert await api.snapshot() == before


async def test_away_reason(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    done = await api.client.put("/v1/me/availability", headers=bob,
                                json={"available": False, "away": "lunch"})
    assert done.status_code == 200, done.text
    assert done.json()["availability"]["away"] == "lunch"
    assert (await api.client.get("/v1/me", headers=bob)).json()["availability"]["away"] == "lunch"
    before = await api.snapshot()
    for body in [{"available": False, "away": "nap"}, {"available": False, "away": 1}]:
        done = await api.client.put("/v1/me/availability", headers=bob, json=body)
        assert done.status_code == 422, (body, done.text)
        assert error_of(done)["fields"][0]["field"] == "away", done.text
    assert await api.snapshot() == before
    # A write without a reason clears it, as before reasons existed.
    done = await api.client.put("/v1/me/availability", headers=bob, json={"available": False})
    assert done.json()["availability"]["away"] is None
    done = await api.client.put("/v1/me/availability", headers=bob,
                                json={"available": False, "away": "training"})
    assert done.json()["availability"]["away"] == "training"
    # Kept only while unavailable: becoming available drops it.
    done = await api.client.put("/v1/me/availability", headers=bob,
                                json={"available": True, "away": "break"})
    assert done.status_code == 200, done.text
    assert done.json()["availability"]["away"] is None


async def test_photo_upload_check_and_removal(api: LiveApi) -> None:
    carol = api.world.auth("carol")
    assert (await api.client.get("/v1/me/photo", headers=carol)).status_code == 404
    before = await api.snapshot()
    refused = [
        (b"GIF89a....", "image/png", 422),
        (png_bytes()[:-12], "image/png", 422),  # truncated
        (png_bytes(0, 3), "image/png", 422),  # zero width
        (png_bytes(), "image/jpeg", 422),  # bytes and type disagree
        (b"\xff\xd8\xff\xd9", "image/jpeg", 422),  # no frame header
        (png_bytes(), "image/gif", 415),
        (png_bytes(), "text/plain", 415),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 2_000_000, "image/png", 413),
    ]
    for data, kind, status in refused:
        done = await api.client.put("/v1/me/photo", headers={**carol, "content-type": kind},
                                    content=data)
        assert done.status_code == status, (kind, done.text)
        error_of(done)
    assert await api.snapshot() == before

    for data, kind in [(jpeg_bytes(), "image/jpeg"), (PHOTO, "image/png")]:
        done = await api.client.put("/v1/me/photo", headers={**carol, "content-type": kind},
                                    content=data)
        assert done.status_code == 204, done.text
        got = await api.client.get("/v1/me/photo", headers=carol)
        assert (got.status_code, got.content, got.headers["content-type"]) == (200, data, kind)
    assert (await api.client.get("/v1/me", headers=carol)).json()["has_photo"] is True
    assert (await api.client.delete("/v1/me/photo", headers=carol)).status_code == 204
    assert (await api.client.get("/v1/me/photo", headers=carol)).status_code == 404
    assert (await api.client.get("/v1/me", headers=carol)).json()["has_photo"] is False


async def test_member_erases_themselves(api: LiveApi) -> None:
    hank = api.world.auth("hank")
    assert (await api.client.delete("/v1/me", headers=hank)).status_code == 204
    # Their token went with them.
    gone = await api.client.get("/v1/me", headers=hank)
    assert gone.status_code == 401 and error_of(gone)["code"] == "unauthenticated"


async def test_authentication_failures(api: LiveApi) -> None:
    valid = api.world.people["ann"].token
    for headers in [{}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {valid}"},
                    {"Authorization": "Bearer tfd_" + "A" * 43},
                    {"Authorization": f"Bearer {valid}x"}, {"Authorization": "Bearer \u00e9".encode("latin-1")}]:
        done = await api.client.get("/v1/me", headers=headers)
        assert done.status_code == 401, headers
        assert done.headers["www-authenticate"] == "Bearer"
        assert error_of(done)["code"] == "unauthenticated"
    # The token in the query string is not a way in.
    assert (await api.client.get("/v1/me", params={"token": valid})).status_code == 401


async def test_failed_authentication_is_rate_limited(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    bad = {"Authorization": "Bearer tfd_wrong-wrong-wrong-wrong-wrong"}
    limit = api.settings.http.auth_failures_per_minute
    # Each test has its own app, so its own limiter: the count starts at zero here.
    for _ in range(limit):
        assert (await api.client.get("/v1/me", headers=bad)).status_code == 401
    blocked = await api.client.get("/v1/me", headers=bad)
    assert blocked.status_code == 429 and error_of(blocked)["code"] == "too_many_failures"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    # A good token is never refused by the limiter (a crowd may share the address); guessing waits.
    assert (await api.client.get("/v1/me", headers=ann)).status_code == 200
    assert (await api.client.get("/v1/me", headers=bad)).status_code == 429
    api.clock.now += timedelta(seconds=61)
    assert (await api.client.get("/v1/me", headers=bad)).status_code == 401
