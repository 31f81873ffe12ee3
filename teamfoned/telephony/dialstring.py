"""A member's phone becomes an Asterisk dial string only after validation, and is checked again on the way out."""

from __future__ import annotations

import functools
import re

from teamfoned.domain.phones import E164, SIP_ENDPOINT, PhoneKind, PhoneRejected, trunk_endpoints

# Dial-string syntax an attacker could use to add targets, options or applications.
FORBIDDEN = re.compile(r"[,&|()\s]")
# What a trunk template may contain besides its single {number} placeholder.
TEMPLATE_SAFE = re.compile(r"^[A-Za-z0-9_./@:+-]+$")


class BadTrunkTemplate(ValueError):
    """The trunk dial template is not a safe template with exactly one {number}."""


@functools.cache  # pure, and the template is fixed for the daemon's life: checked once per dial otherwise
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
    if kind == PhoneKind.E164:
        if not E164.match(phone):
            raise PhoneRejected(f"{phone!r} is not an E.164 number")
        return check_trunk_template(trunk_template).format(number=phone)
    if kind == PhoneKind.SIP:
        if not SIP_ENDPOINT.match(phone):
            raise PhoneRejected(f"{phone!r} is not a valid SIP endpoint name")
        if phone.lower() in trunk_endpoints(trunk_template):
            # A hand-edited row may even assign the trunk to a tenant: never ring it as a member.
            raise PhoneRejected(f"{phone!r} is the trunk, never a member's phone")
        return f"PJSIP/{phone}"
    raise PhoneRejected(f"unknown phone kind {kind!r}")
