"""The shapes of the names and numbers teamfoned stores and later hands to Asterisk; no I/O.

The telephony side checks stored values against the same shapes again before they reach the
dialplan, so a hand-edited row cannot inject anything.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException

from teamfoned.domain.errors import Invalid

# Tenant and team names.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# A team number (DID) or a fallback number.
DID = re.compile(r"^\+?[0-9]{2,20}$")
# A dialplan context name as the sysadmin lists it in the configuration.
CONTEXT = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# context[,extension[,priority]] as Asterisk's Goto takes it; the groups are the three parts.
# Only the shape: which contexts, extensions and priorities a team may name is the fallback
# policy's rule (teamfoned.domain.team_settings.FallbackPolicy).
DIALPLAN_TARGET = re.compile(r"^([A-Za-z0-9_-]{1,80})(?:,([A-Za-z0-9_+*#-]+)(?:,([0-9]+))?)?$")
# A team number as stored: E.164, a "+" and 2 to 15 digits, the country code not starting with 0.
CANONICAL_NUMBER = re.compile(r"^\+[1-9][0-9]{1,14}$")
# What people write between the digits of a number ("+31 20 765-4321"); dropped.
NUMBER_SEPARATORS = re.compile(r"[ ().-]")
# A team's sound: a plain name, no path ("desk-call"); the daemon puts it in the tenant's own
# sound directory, so no "/" and no "." may reach Asterisk from a tenant.
SOUND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def check_name(what: str, name: Any) -> str:
    """A tenant or team name (`what` says which)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise Invalid.value("name", f"{what} name {name!r} must be letters, digits, _ . - (at most 100)")
    return name


def canonical_number(number: Any, *, default_region: str | None = None) -> str:
    """A team number in its one stored form: "+" and digits (E.164).

    A DID reaches exactly one team, so every spelling of one number must be one string:
    "+31207654321", "0031207654321", "31207654321" and "+31 20 765 4321" are all
    "+31207654321" (digits without a prefix are international, as Asterisk hands DIDs over).
    A national form ("0207654321") is read in `default_region` (telephony.default_region)
    and refused without one: stored as given it would be a second spelling of a number
    that no uniqueness check could see.
    """
    if isinstance(number, bool) or not isinstance(number, str | int):
        raise Invalid.value("number", "a team number must be digits, optionally with a leading +")
    raw = str(number).strip()
    text = NUMBER_SEPARATORS.sub("", raw)
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00"):  # the international call prefix
        digits = text[2:]
    elif text.startswith("0"):
        digits = _national(raw, text, default_region)
    else:
        digits = text
    canonical = "+" + digits
    if not CANONICAL_NUMBER.fullmatch(canonical):
        raise Invalid.value("number", f"team number {raw!r} must be an international number: "
                                      "digits with a leading + or 00 and the country code, "
                                      "at most 15 digits")
    return canonical


def _national(raw: str, text: str, default_region: str | None) -> str:
    if default_region is None:
        raise Invalid.value("number", f"team number {raw!r} is in national format: write it "
                                      "with its country code (+31...), or set "
                                      "telephony.default_region")
    if not text[1:].isdigit() or not text.isascii():
        return text  # refused by the caller's shape check, with the number as written
    try:
        parsed = phonenumbers.parse(text, default_region)
    except NumberParseException:
        raise Invalid.value("number", f"team number {raw!r} is not a number in "
                                      f"{default_region}") from None
    return f"{parsed.country_code}{parsed.national_number}"
