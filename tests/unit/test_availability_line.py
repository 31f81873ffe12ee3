"""The availability line's dialogue: who is let in, what they hear, what changes; pure, no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from teamfoned.domain.availability_line import (
    PIN_LOCK_AFTER,
    Ask,
    AvailabilityLine,
    EndCall,
    LineMember,
    LinePrompt,
    PinEntered,
    Say,
    SetAvailability,
    end_of_day,
)
from teamfoned.domain.errors import Invalid
from teamfoned.domain.pins import check_pin, hash_pin, verify_pin

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
HASH = hash_pin("4826", b"0123456789abcdef")
GOODBYE = [Say((LinePrompt.GOODBYE,), "en"), EndCall(refused=True)]


def member(*, pin=None, required=False, available=True, failures=0, language="en",
           tz="Europe/Amsterdam") -> LineMember:
    return LineMember(uuid.uuid4(), uuid.uuid4(), available=available, pin_required=required,
                      pin_hash=pin, pin_failures=failures, language=language, timezone=tz)


def test_a_known_member_hears_their_status_and_presses_a_key() -> None:
    alice = member(available=True, language="nl")
    line = AvailabilityLine([alice])
    assert line.start() == [Ask((LinePrompt.CURRENTLY_AVAILABLE, LinePrompt.MENU), "nl", 1)]
    assert line.keys("3", now=NOW) == [
        SetAvailability(alice.member_id, alice.tenant_id, False, None),
        Say((LinePrompt.NOW_UNAVAILABLE, LinePrompt.GOODBYE), "nl"), EndCall()]


def test_2_is_available_until_the_next_midnight_in_the_team_zone() -> None:
    alice = member(available=False)
    line = AvailabilityLine([alice])
    line.start()
    [change, *_] = line.keys("2", now=NOW)
    assert change == SetAvailability(alice.member_id, alice.tenant_id, True,
                                     end_of_day(NOW, "Europe/Amsterdam"))
    assert end_of_day(NOW, "Europe/Amsterdam") == datetime(2026, 3, 10, 23, 0, tzinfo=UTC)


def test_a_wrong_key_asks_again_once_then_goodbye() -> None:
    line = AvailabilityLine([member()])
    line.start()
    assert line.keys("9", now=NOW) == [Ask((LinePrompt.MENU,), "en", 1)]
    assert line.keys("", now=NOW) == [Say((LinePrompt.GOODBYE,), "en"), EndCall()]


@pytest.mark.parametrize("matches", [
    [],  # nobody has this phone
    [member(required=True)],  # a PIN is required and the member has none
    [member(), member()],  # two members (tenants) share the phone, no PIN tells them apart
    [member(pin=HASH, required=True, failures=PIN_LOCK_AFTER)],  # locked after wrong PINs
])
def test_callers_the_line_cannot_place_hear_only_goodbye(matches) -> None:
    assert AvailabilityLine(matches).start() == GOODBYE


def test_a_wrong_pin_three_times_ends_the_call_each_counted() -> None:
    alice = member(pin=HASH, required=True)
    line = AvailabilityLine([alice])
    assert line.start() == [Ask((LinePrompt.ENTER_PIN,), "en", 12)]
    again = Ask((LinePrompt.PIN_WRONG, LinePrompt.ENTER_PIN), "en", 12)
    assert line.keys("1111", now=NOW) == [PinEntered(alice.member_id, False), again]
    assert line.keys("", now=NOW) == [PinEntered(alice.member_id, False), again]
    assert line.keys("4827", now=NOW) == [
        PinEntered(alice.member_id, False),
        Say((LinePrompt.PIN_WRONG, LinePrompt.GOODBYE), "en"), EndCall()]
    assert line.member is None


def test_the_pin_tells_members_of_several_tenants_apart() -> None:
    other = member(pin=hash_pin("9371", b"fedcba9876543210"))
    bob = member(pin=HASH, available=False)
    line = AvailabilityLine([other, bob])
    assert line.start() == [Ask((LinePrompt.ENTER_PIN,), "en", 12)]
    assert line.keys("4826", now=NOW) == [
        PinEntered(bob.member_id, True),
        Ask((LinePrompt.CURRENTLY_UNAVAILABLE, LinePrompt.MENU), "en", 1)]
    assert line.member == bob


def test_pins_are_digits_and_hashed_with_a_salt() -> None:
    assert check_pin("4826") == "4826"
    for bad in ("12a4", "123", "1" * 13, "1111"):
        with pytest.raises(Invalid) as info:
            check_pin(bad)
        assert info.value.fields[0][0] == "pin"
    assert "4826" not in HASH and verify_pin("4826", HASH) and not verify_pin("4827", HASH)
    assert hash_pin("4826", b"another-salt-16b") != HASH
    assert not verify_pin("4826", "garbage")


def test_the_line_speaks_the_catalogue_s_languages_and_sounds() -> None:
    from teamfoned.domain.availability_line import LINE_LANGUAGES
    from teamfoned.domain.prompts import BY_NAME, LANGUAGES
    from teamfoned.telephony.line_prompts import LINE_SOUNDS

    assert LINE_LANGUAGES == LANGUAGES
    assert set(LINE_SOUNDS) == set(LinePrompt) and all(s in BY_NAME for s in LINE_SOUNDS.values())
