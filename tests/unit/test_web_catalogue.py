"""The web app's message catalogue speaks every language whole, for every value of every list it shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from teamfoned.domain.availability import AwayReason, UntilChoice, until_of
from teamfoned.domain.errors import Invalid
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import AttemptResult, CallOutcome
from teamfoned.store.line_state import LineState
from teamfoned.web.catalogue import LANGUAGES, MESSAGES, choose_language

TEMPLATES = Path(__file__).resolve().parents[2] / "teamfoned" / "web" / "templates"


def test_every_language_has_every_key_and_every_listed_value() -> None:
    keys = set(MESSAGES["en"])
    for language in LANGUAGES:
        assert set(MESSAGES[language]) == keys, language
    needed = ({f"outcome_{o.value}" for o in CallOutcome} | {f"result_{r.value}" for r in AttemptResult}
              | {f"line_{s.value}" for s in LineState} | {f"until_{c.value}" for c in UntilChoice}
              | {f"away_{r.value}" for r in AwayReason})
    assert needed <= keys, needed - keys
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""t\(["']([a-z_]+)["']\s*[,)]""", template.read_text()))
    assert used <= keys, used - keys


def test_templates_hold_no_words_of_their_own() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = re.sub(r"{[{%#].*?[}%#]}", "", template.read_text(), flags=re.S)
        text = re.sub(r"<[^>]*>", "", text)
        assert not re.search(r"[A-Za-z]{2,}", text), (template.name, text.strip()[:80])


@pytest.mark.parametrize("picked, header, expected", [
    (None, "nl-NL,nl;q=0.9,en;q=0.8", "nl"),
    (None, "de-DE, fr;q=0.9, nl;q=0.3", "nl"),
    (None, "en-GB;q=0.2, nl;q=0.5", "nl"),
    (None, "de", "en"),
    (None, None, "en"),
    (None, "nl;q=bogus, en", "en"),
    ("en", "nl", "en"),
    ("xx", "nl", "nl"),
])
def test_language_choice(picked: str | None, header: str | None, expected: str) -> None:
    assert choose_language(picked, header) == expected


def test_until_choices() -> None:
    zone = ZoneInfo("Europe/Amsterdam")
    now = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)  # 16:30 in Amsterdam
    assert until_of(UntilChoice.OPEN, None, now=now, zone=zone) is None
    assert until_of(UntilChoice.HOUR, None, now=now, zone=zone) == now + timedelta(hours=1)
    assert until_of(UntilChoice.DAY, None, now=now, zone=zone) == datetime(2030, 3, 5, tzinfo=zone)
    assert until_of(UntilChoice.TIME, "17:15", now=now, zone=zone) == datetime(
        2030, 3, 4, 17, 15, tzinfo=zone)
    assert until_of(UntilChoice.TIME, "09:00", now=now, zone=zone) == datetime(
        2030, 3, 5, 9, 0, tzinfo=zone)
    with pytest.raises(Invalid) as no_schedule:
        until_of(UntilChoice.SCHEDULE, None, now=now, zone=zone)
    assert no_schedule.value.fields[0][0] == "until"
    # Mondays and Tuesdays 08:00-17:00; now is Monday 16:30 in Amsterdam.
    week = [WeeklyPeriod(0, "08:00", "17:00"), WeeklyPeriod(1, "08:00", "17:00")]
    assert now.astimezone(zone).weekday() == 0
    assert until_of(UntilChoice.SCHEDULE, None, now=now, zone=zone, schedule=week) == datetime(
        2030, 3, 4, 17, 0, tzinfo=zone)
    evening = now + timedelta(hours=3)
    assert until_of(UntilChoice.SCHEDULE, None, now=evening, zone=zone, schedule=week) == \
        datetime(2030, 3, 5, 8, 0, tzinfo=zone)
    late = datetime(2030, 3, 5, 20, 0, tzinfo=zone)  # Tuesday evening: next Monday
    assert until_of(UntilChoice.SCHEDULE, None, now=late, zone=zone, schedule=week) == datetime(
        2030, 3, 11, 8, 0, tzinfo=zone)
    for bad in ["", "25:00", "9", "ab:cd", None]:
        with pytest.raises(Invalid) as refused:
            until_of(UntilChoice.TIME, bad, now=now, zone=zone)
        assert refused.value.fields[0][0] == "time"
