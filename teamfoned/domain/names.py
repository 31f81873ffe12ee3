"""The shapes of the names and numbers teamfoned stores and later hands to Asterisk; no I/O.

The telephony side checks stored values against the same shapes again before they reach the
dialplan, so a hand-edited row cannot inject anything.
"""

from __future__ import annotations

import re
from typing import Any

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
# A team's sound: a plain name, no path ("desk-call"); the daemon puts it in the tenant's own
# sound directory, so no "/" and no "." may reach Asterisk from a tenant.
SOUND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def check_name(what: str, name: Any) -> str:
    """A tenant or team name (`what` says which)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise Invalid.value("name", f"{what} name {name!r} must be letters, digits, _ . - (at most 100)")
    return name


def check_number(number: Any) -> str:
    """A team number as entered, without surrounding spaces."""
    text = str(number).strip()
    if not DID.match(text):
        raise Invalid.value("number", f"team number {text!r} must be digits, optionally with a leading +")
    return text
