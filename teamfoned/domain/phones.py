"""Member phones as entered: an E.164 number of an allowed country and type, or a SIP endpoint name; no I/O."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

SIP_ENDPOINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NUMBER_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# telephony.trunk_dial_template unless the configuration says otherwise.
DEFAULT_TRUNK_TEMPLATE = "PJSIP/{number}@trunk"

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


class PhoneKind(StrEnum):
    """How a member is reached: a number dialled over the trunk, or a SIP desk phone."""

    E164 = "e164"  # "+31612345678", external: may reach a voicemail box
    SIP = "sip"  # a PJSIP endpoint name


class PhoneRejected(ValueError):
    """A member phone that teamfoned will not dial, with the reason in plain words."""


@dataclass(frozen=True, slots=True)
class MemberPhone:
    kind: PhoneKind
    phone: str  # "+31612345678" or an endpoint name


@functools.cache  # pure; asked at every dial of a desk phone
def trunk_endpoints(trunk_template: str) -> frozenset[str]:
    """Every name in the trunk dial template ("PJSIP/{number}@trunk": PJSIP, trunk), lower case.

    None of them may be a member's desk phone: ringing the trunk endpoint itself would hand a
    tenant the carrier line. Taking every name, not only the endpoint's, refuses too much
    rather than too little.
    """
    names = re.split(r"[^A-Za-z0-9_.-]+", trunk_template.replace("{number}", " "))
    return frozenset(name.lower() for name in names if name)


def check_endpoint_name(name: str, *, trunk_template: str) -> str:
    """A PJSIP endpoint name the system administrator may assign to a tenant (never the trunk)."""
    if not SIP_ENDPOINT.fullmatch(name or ""):
        raise PhoneRejected(f"{name!r} is not a valid SIP endpoint name "
                            "(letters, digits, _ . -; at most 64)")
    if name.lower() in trunk_endpoints(trunk_template):
        raise PhoneRejected(f"{name!r} is the trunk (telephony.trunk_dial_template): "
                            "it is never a member's phone")
    return name


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
        return MemberPhone(PhoneKind.SIP, name)
    if (not text.startswith("+") and not text.isdigit() and SIP_ENDPOINT.match(text)
            and not text[:1].isdigit()):
        return MemberPhone(PhoneKind.SIP, text)
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
    return MemberPhone(PhoneKind.E164, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def callable_number(raw: str | None, *, allowed_countries: Collection[str],
                    default_region: str | None = None) -> str | None:
    """A caller's number as the daemon may dial it to call them back: the checks of a member's
    number (E.164 of an allowed country, a mobile, fixed-line or VoIP number), and never a SIP
    endpoint or a withheld number ("anonymous" reads as an endpoint name); None otherwise."""
    try:
        phone = validate_phone(raw or "", allowed_countries=allowed_countries,
                               default_region=default_region)
    except PhoneRejected:
        return None
    return phone.phone if phone.kind is PhoneKind.E164 else None
