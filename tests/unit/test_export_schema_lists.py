"""The export's JSON schema spells out each list of names: it must be the very list the code defines."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

import teamfoned.api
from teamfoned.api.schemas import PHOTO_TYPES
from teamfoned.domain.availability import AvailabilityReason, AwayReason
from teamfoned.domain.phones import PhoneKind
from teamfoned.domain.prompts import LANGUAGES
from teamfoned.routing.model import AttemptResult, CallOutcome, FallbackKind, WaitingSound
from teamfoned.routing.strategies import Strategy
from teamfoned.store.outbox import EVENTS

SCHEMA = json.loads((Path(teamfoned.api.__file__).parent / "export.schema.json").read_text())

# Where the schema lists names, and the one definition each must equal (None: nullable there).
LISTS: dict[str, tuple[type[StrEnum] | tuple[str, ...], bool]] = {
    "$defs/member/properties/phone_kind": (PhoneKind, False),
    "$defs/member/properties/photo/anyOf/1/properties/content_type": (PHOTO_TYPES, False),
    "$defs/member/properties/availability/anyOf/1/properties/reason": (AvailabilityReason, True),
    "$defs/member/properties/availability/anyOf/1/properties/away_reason": (AwayReason, True),
    "$defs/team/properties/strategy": (Strategy, False),
    "$defs/team/properties/fallback_kind": (FallbackKind, False),
    "$defs/team/properties/closed_kind": (FallbackKind, True),
    "$defs/team/properties/language": (LANGUAGES, False),
    "$defs/team/properties/waiting_sound": (WaitingSound, False),
    "$defs/call/properties/outcome": (CallOutcome, True),
    "$defs/call/properties/attempts/items/properties/result": (AttemptResult, True),
    "$defs/webhook/properties/events/items": (EVENTS, False),
    "$defs/delivery/properties/event": (EVENTS, False),
    "$defs/delivery/properties/payload/properties/event": (EVENTS, False),
}


def _enums(node: Any, path: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    if isinstance(node, dict):
        if "enum" in node:
            found["/".join(path)] = node["enum"]
        for key, value in node.items():
            found |= _enums(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found |= _enums(value, (*path, str(index)))
    return found


def test_every_list_in_the_schema_is_known() -> None:
    assert set(_enums(SCHEMA)) == set(LISTS)


@pytest.mark.parametrize("path", sorted(LISTS))
def test_the_schema_lists_exactly_the_codes_names(path: str) -> None:
    definition, nullable = LISTS[path]
    expected = [str(v) for v in definition] + ([None] if nullable else [])
    assert sorted(_enums(SCHEMA)[path], key=str) == sorted(expected, key=str)
