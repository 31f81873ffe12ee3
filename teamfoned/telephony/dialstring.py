"""A member's phone becomes an Asterisk dial string only after validation, and is checked again on the way out."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

SIP_ENDPOINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NUMBER_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Dial-string syntax an attacker could use to add targets, options or applications.
FORBIDDEN = re.compile(r"[,&|()\s]")
# What a trunk template may contain besides its single {number} placeholder.
TEMPLATE_SAFE = re.compile(r"^[A-Za-z0-9_./@:+-]+$")

# Number types a team phone may dial; everything else (premium rate, shared cost, unknown)
# could cost money or reach a service rather than a person.
ALLOWED_TYPES = frozenset({
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
})
_TYPE_NAMES = {v: k.lower().replace("_", " ") for k, v in vars(PhoneNumberType).items()
               if k.isupper()}


class PhoneRejected(ValueError):
    """A member phone that teamfoned will not dial, with the reason in plain words."""


class BadTrunkTemplate(ValueError):
    """The trunk dial template is not a safe template with exactly one {number}."""


@dataclass(frozen=True, slots=True)
class MemberPhone:
    kind: str  # "e164" or "sip"
    phone: str  # "+31612345678" or an endpoint name


def validate_phone(
    raw: str, *, allowed_countries: Collection[str], default_region: str | None = None
) -> MemberPhone:
    """Check a phone as entered: an E.164 number in an allowed country, or a SIP endpoint name."""
    text = (raw or "").strip()
    if not text:
        raise PhoneRejected("phone is empty")
    if text.lower().startswith("sip:"):
        # Explicit form, needed for all-digit endpoint names such as "1001".
        name = text[4:]
        if not SIP_ENDPOINT.match(name):
            raise PhoneRejected(f"{name!r} is not a valid SIP endpoint name "
                                "(letters, digits, _ . -; at most 64)")
        return MemberPhone("sip", name)
    if not text.startswith("+") and not text.isdigit():
        if SIP_ENDPOINT.match(text) and not any(c.isdigit() for c in text[:1]):
            return MemberPhone("sip", text)
    # Only digits and the usual separators: phonenumbers alone would accept "+316...,60".
    if not NUMBER_CHARS.match(text):
        raise PhoneRejected(
            f"{text!r} is neither a phone number nor a SIP endpoint name "
            "(letters, digits, _ . -; at most 64)"
        )
    try:
        parsed = phonenumbers.parse(text, default_region)
    except NumberParseException:
        if default_region is None and not text.startswith("+"):
            raise PhoneRejected(
                f"{text!r} is neither an international number (+country code...) "
                "nor a SIP endpoint name"
            ) from None
        raise PhoneRejected(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneRejected(f"{text!r} is not a valid phone number")
    region = phonenumbers.region_code_for_number(parsed)
    allowed = {c.upper() for c in allowed_countries}
    if region not in allowed:
        raise PhoneRejected(
            f"{text!r} is a number in {region}; allowed countries: {', '.join(sorted(allowed))}"
        )
    kind = phonenumbers.number_type(parsed)
    if kind not in ALLOWED_TYPES:
        raise PhoneRejected(
            f"{text!r} is a {_TYPE_NAMES.get(kind, 'unknown type of')} number; "
            "only mobile, fixed-line and VoIP numbers are dialled"
        )
    return MemberPhone("e164", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def check_trunk_template(template: str) -> str:
    """Return the template if it holds exactly one {number} and otherwise only safe characters."""
    if template.count("{number}") != 1:
        raise BadTrunkTemplate("must contain {number} exactly once")
    rest = template.replace("{number}", "")
    if not rest or not TEMPLATE_SAFE.match(rest):
        raise BadTrunkTemplate(
            "may contain only letters, digits and _ . / @ : + - besides {number}"
        )
    if not re.match(r"^[A-Za-z0-9]+/", template):
        raise BadTrunkTemplate("must name a channel technology, e.g. PJSIP/{number}@trunk")
    return template


def dial_target(kind: str, phone: str, *, trunk_template: str) -> str:
    """The Asterisk endpoint to originate to for a stored member phone.

    Everything is validated again here: the database may hold rows written by older
    versions or by hand, and nothing unchecked may reach a dial string.
    """
    if FORBIDDEN.search(phone):
        raise PhoneRejected(f"{phone!r} contains characters not allowed in a dial string")
    if kind == "e164":
        if not E164.match(phone):
            raise PhoneRejected(f"{phone!r} is not an E.164 number")
        return check_trunk_template(trunk_template).format(number=phone)
    if kind == "sip":
        if not SIP_ENDPOINT.match(phone):
            raise PhoneRejected(f"{phone!r} is not a valid SIP endpoint name")
        return f"PJSIP/{phone}"
    raise PhoneRejected(f"unknown phone kind {kind!r}")
