"""The sound each availability-line prompt plays: one table for the Stasis and the FastAGI adapter.

Asterisk picks the file in the channel's language (CHANNEL(language), set to the member's);
the names are the prompt catalogue's (teamfoned.domain.prompts).
"""

from __future__ import annotations

from teamfoned.domain import prompts
from teamfoned.domain.availability_line import LINE_LANGUAGES, LinePrompt

LINE_SOUNDS: dict[LinePrompt, str] = {
    LinePrompt.ENTER_PIN: prompts.AVAILABILITY_ENTER_PIN,
    LinePrompt.PIN_WRONG: prompts.AVAILABILITY_PIN_INCORRECT,
    LinePrompt.CURRENTLY_AVAILABLE: prompts.AVAILABILITY_CURRENTLY_AVAILABLE,
    LinePrompt.CURRENTLY_UNAVAILABLE: prompts.AVAILABILITY_CURRENTLY_UNAVAILABLE,
    LinePrompt.MENU: prompts.AVAILABILITY_MENU,
    LinePrompt.NOW_AVAILABLE: prompts.AVAILABILITY_NOW_AVAILABLE,
    LinePrompt.NOW_AVAILABLE_TODAY: prompts.AVAILABILITY_NOW_AVAILABLE_TODAY,
    LinePrompt.NOW_UNAVAILABLE: prompts.AVAILABILITY_NOW_UNAVAILABLE,
    LinePrompt.GOODBYE: prompts.GOODBYE,
}
# Seconds the caller has to press a key once the prompts have played.
KEY_TIMEOUT_S = 6


def line_language(language: str) -> str:
    """A language the line speaks: the member's, or the first for one it does not."""
    return language if language in LINE_LANGUAGES else LINE_LANGUAGES[0]
