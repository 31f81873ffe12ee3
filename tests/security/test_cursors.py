"""Finding 9: a cursor at the edge of the calendar is a 422 like any other bad cursor, never a 500."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401


def _cursor(path: str, when: str) -> str:
    # The shapes the API hands out: calls (started_at|id), missed (handled|started_at|id).
    raw = f"{'0|' if path == 'missed' else ''}{when}|{uuid.uuid4().hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


EDGES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+00:00",
         "9999-12-31T23:59:59+00:00"]


@pytest.mark.parametrize("path", ["calls", "missed"])
async def test_cursors_at_the_calendar_edges_are_refused_cleanly(api: LiveApi, path: str) -> None:
    team = api.world.teams["desk"]
    before = await api.snapshot()
    for when in EDGES:
        answer = await api.client.get(f"/v1/teams/{team}/{path}", params={"cursor": _cursor(path, when)},
                                      headers=api.world.auth("ann"))
        assert answer.status_code == 422, (when, answer.status_code, answer.text)
        assert error_of(answer)["fields"][0]["field"] == "cursor"
    assert await api.snapshot() == before
