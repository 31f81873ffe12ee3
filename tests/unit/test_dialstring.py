"""Member phones: only valid numbers in allowed countries, or strict endpoint names, reach a dial string."""

from __future__ import annotations

import pytest

from teamfoned.domain.phones import MemberPhone, PhoneKind, PhoneRejected, validate_phone
from teamfoned.telephony.dialstring import BadTrunkTemplate, check_trunk_template, dial_target

NL = {"NL"}
TRUNK = "PJSIP/{number}@carrier"


@pytest.mark.parametrize("raw", ["+31612345678", "+31 6 12345678", "+31 (0)6-1234 5678"])
def test_valid_dutch_mobile_is_normalised_to_e164(raw: str) -> None:
    assert validate_phone(raw, allowed_countries=NL) == MemberPhone("e164", "+31612345678")


def test_national_format_needs_a_default_region() -> None:
    assert validate_phone("06 12345678", allowed_countries=NL, default_region="NL") == MemberPhone(
        "e164", "+31612345678")
    with pytest.raises(PhoneRejected, match="international"):
        validate_phone("0612345678", allowed_countries=NL)


def test_dutch_fixed_line_is_fine() -> None:
    assert validate_phone("+31201234567", allowed_countries=NL).kind == "e164"


@pytest.mark.parametrize("raw", ["+319001234567", "+31900 1234567"])
def test_premium_rate_0900_is_refused(raw: str) -> None:
    with pytest.raises(PhoneRejected, match="premium rate"):
        validate_phone(raw, allowed_countries=NL)


def test_shared_cost_is_refused_even_in_an_allowed_country() -> None:
    with pytest.raises(PhoneRejected, match="shared cost"):
        validate_phone("+3278791234", allowed_countries={"BE"})


def test_dutch_voip_085_is_fine() -> None:
    assert validate_phone("+31851234567", allowed_countries=NL).kind == "e164"


def test_country_not_allowed_is_refused() -> None:
    with pytest.raises(PhoneRejected, match="DE; allowed countries: NL"):
        validate_phone("+4915112345678", allowed_countries=NL)
    assert validate_phone("+4915112345678", allowed_countries={"NL", "DE"}).kind == "e164"


@pytest.mark.parametrize("raw", ["+3161234", "+999123456789", "", "   "])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(PhoneRejected):
        validate_phone(raw, allowed_countries=NL)


def test_sip_endpoint_names() -> None:
    assert validate_phone("desk-101", allowed_countries=NL) == MemberPhone("sip", "desk-101")
    assert validate_phone("sip:1001", allowed_countries=NL) == MemberPhone("sip", "1001")
    with pytest.raises(PhoneRejected):
        validate_phone("sip:-bad", allowed_countries=NL)
    with pytest.raises(PhoneRejected):
        validate_phone("x" * 65, allowed_countries=NL)


@pytest.mark.parametrize("raw", [
    "alice&PJSIP/bob", "alice,30,tT", "PJSIP/alice", "alice|x", "alice bob", "desk(1)",
    "+31612345678&Local/1@evil", "+31612345678,60", "sip:alice&bob", "alice\nbob",
])
def test_injection_attempts_are_refused_at_entry(raw: str) -> None:
    with pytest.raises(PhoneRejected):
        validate_phone(raw, allowed_countries=NL)


def test_dial_target_for_both_kinds() -> None:
    assert dial_target("e164", "+31612345678", trunk_template=TRUNK) == "PJSIP/+31612345678@carrier"
    assert dial_target("sip", "desk-101", trunk_template=TRUNK) == "PJSIP/desk-101"


@pytest.mark.parametrize(("kind", "phone"), [
    ("e164", "+31612345678&PJSIP/x"), ("e164", "+3161234567 8"), ("e164", "0612345678"),
    ("sip", "alice,30"), ("sip", "alice&bob"), ("sip", "a(b)"), ("sip", "a b"),
    ("sip", "a|b"), ("sip", "../x"), ("pots", "123"),
])
def test_dial_target_revalidates_stored_values(kind: str, phone: str) -> None:
    with pytest.raises(PhoneRejected):
        dial_target(kind, phone, trunk_template=TRUNK)


@pytest.mark.parametrize("template", [
    "PJSIP/{number}", "PJSIP/{number}@trunk", "PJSIP/trunk/sip:{number}@10.0.0.1:5060",
])
def test_good_trunk_templates(template: str) -> None:
    assert check_trunk_template(template) == template


@pytest.mark.parametrize("template", [
    "PJSIP/trunk", "PJSIP/{number}@{number}", "PJSIP/{number}&Local/1", "PJSIP/{number},30",
    "PJSIP/{number}@trunk,,tT", "{number}", "PJSIP/{0}{number}", "PJSIP/ {number}",
])
def test_bad_trunk_templates(template: str) -> None:
    with pytest.raises(BadTrunkTemplate):
        check_trunk_template(template)


@pytest.mark.parametrize("endpoint", ["carrier", "CARRIER"])
def test_the_trunk_endpoint_is_never_a_member_dial_target(endpoint):
    # A hand-edited row may hold it (even assigned to a tenant): it is refused on the way out.
    with pytest.raises(PhoneRejected, match="trunk"):
        dial_target(PhoneKind.SIP, endpoint, trunk_template=TRUNK)
    assert dial_target(PhoneKind.SIP, "desk-101", trunk_template=TRUNK) == "PJSIP/desk-101"
