"""Every sound name teamfoned plays is in the prompt catalogue, with both languages' texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from teamfoned.domain import prompts
from teamfoned.domain.prompts import BY_NAME, PROMPTS, sound, to_generate

ROOT = Path(__file__).resolve().parents[2]
# A literal media URI in code, and a literal Playback()/Background() in the shipped dialplan;
# names built from variables (${...}, {...}) are a tenant's own recordings.
MEDIA = re.compile(r"sound:([A-Za-z0-9_/\-]+)")
DIALPLAN_PLAY = re.compile(r"\b(?:Playback|Background)\(([^)$,]+)")


def uncatalogued(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [name for name in pattern.findall(text) if name not in BY_NAME]


def test_code_plays_only_catalogued_sounds() -> None:
    bad = []
    for path in sorted((ROOT / "teamfoned").rglob("*.py")):
        bad += [f"{path.relative_to(ROOT)}: {n}" for n in uncatalogued(path.read_text(), MEDIA)]
    for path in sorted((ROOT / "asterisk-config").glob("extensions*.conf*")):
        bad += [f"{path.relative_to(ROOT)}: {n}" for n in uncatalogued(path.read_text(), DIALPLAN_PLAY)]
    assert bad == []


def test_the_check_sees_an_uncatalogued_sound() -> None:
    assert uncatalogued('ari.play(ch, "sound:calling,sound:no-such-prompt")', MEDIA) == ["no-such-prompt"]
    assert uncatalogued(" same => n,Playback(ss-noservice)\n same => n,Playback(beep-boop)\n"
                        " same => n,Playback(${TEAMFONED_SOUND})", DIALPLAN_PLAY) == ["beep-boop"]
    with pytest.raises(KeyError, match="no-such-prompt"):
        sound("no-such-prompt")


def test_the_named_constants_are_catalogued() -> None:
    names = [v for k, v in vars(prompts).items() if k.isupper() and isinstance(v, str)
             and k not in ("OWN_DIRECTORY",)]
    assert names and all(n in BY_NAME for n in names), [n for n in names if n not in BY_NAME]


def test_every_prompt_has_both_texts_and_one_name() -> None:
    assert len(BY_NAME) == len(PROMPTS)
    assert all(p.en.strip() and p.nl.strip() for p in PROMPTS)


def say_number_nl(n: int) -> list[str]:
    """The files Asterisk's Dutch number rules (say.c) open for 0-999, written out again so
    the catalogue is checked against the rules rather than against itself."""
    if n == 0:
        return ["digits/0"]
    files: list[str] = []
    if n >= 200:
        files += [f"digits/{n // 100}", "digits/hundred"]
    elif n >= 100:
        files.append("digits/hundred")
    n %= 100
    if 0 < n < 20:
        files.append(f"digits/{n}")
    elif n >= 20:
        if n % 10:
            files += [f"digits/{n % 10}", "digits/nl-en"]
        files.append(f"digits/{n - n % 10}")
    return files


def test_dutch_numbers_0_to_999_are_all_in_the_set() -> None:
    dutch = {p.name for p in to_generate("nl")}
    missing = {f for n in range(1000) for f in say_number_nl(n)} - dutch
    assert missing == set()
    assert say_number_nl(121) == ["digits/hundred", "digits/1", "digits/nl-en", "digits/20"]


def test_english_generates_only_what_asterisk_does_not_ship() -> None:
    english = to_generate("en")
    assert english and not any(p.shipped_en for p in english)
    assert "calling" not in {p.name for p in english}
    assert prompts.QUEUE_ALL_BUSY in {p.name for p in english}


def test_an_unknown_language_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'de'.*en, nl"):
        to_generate("de")


def test_the_docs_list_every_prompt() -> None:
    text = (ROOT / "docs/prompts.md").read_text()
    assert [p.name for p in PROMPTS if f"| `{p.name}` |" not in text] == []
