"""The sound each availability-line prompt plays: one table for the Stasis and the FastAGI adapter.

Asterisk picks the file in the channel's language (CHANNEL(language), set to the member's),
falling back to its default language where a language has no such file.
"""

from __future__ import annotations

from teamfoned.domain.availability_line import LINE_LANGUAGES, LinePrompt

# Sounds of Asterisk's own English set until the project's prompt catalogue names its own.
LINE_SOUNDS: dict[LinePrompt, str] = {
    LinePrompt.ENTER_PIN: "agent-pass",  # "please enter your password followed by the pound key"
    LinePrompt.PIN_WRONG: "auth-incorrect",
    LinePrompt.CURRENTLY_AVAILABLE: "activated",
    LinePrompt.CURRENTLY_UNAVAILABLE: "de-activated",
    LinePrompt.MENU: "vm-press",
    LinePrompt.NOW_AVAILABLE: "activated",
    LinePrompt.NOW_AVAILABLE_TODAY: "activated",
    LinePrompt.NOW_UNAVAILABLE: "de-activated",
    LinePrompt.GOODBYE: "goodbye",
}
# Seconds the caller has to press a key once the prompts have played.
KEY_TIMEOUT_S = 6


def line_language(language: str) -> str:
    """A language the line speaks: the member's, or the first for one it does not."""
    return language if language in LINE_LANGUAGES else LINE_LANGUAGES[0]
