"""Every prompt teamfoned plays, by the sound name Asterisk plays it under: the one list.

The dialplan, the runner, the generator (`teamfoned sounds generate`) and docs/prompts.md all
derive from `PROMPTS`; a test fails when code plays a sound name that is not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Where teamfoned's own prompts live under a language's sounds directory. Tenants' recordings
# live below it too, in directories named by tenant id (uuids), so no prompt name is a uuid.
OWN_DIRECTORY = "teamfoned"

LANGUAGES = ("en", "nl")


@dataclass(frozen=True, slots=True)
class Prompt:
    """One sound: `name` as Asterisk plays it (no extension), its text per language, and
    whether Asterisk's core English set ships it (then English is never generated)."""

    name: str
    en: str
    nl: str
    shipped_en: bool
    purpose: str

    def text(self, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(f"unknown prompt language {language!r} (known: {', '.join(LANGUAGES)})")
        return str(getattr(self, language))


def _own(name: str) -> str:
    return f"{OWN_DIRECTORY}/{name}"


_SPOKEN: tuple[Prompt, ...] = (
    # Played today.
    Prompt("calling", "Calling", "Oproep voor", True, "confirmation: before the team number"),
    Prompt("vm-press", "Press", "Druk op", True, "before a digit to press"),
    Prompt("sorry", "I'm sorry.", "Het spijt me.", True, "too late: a teammate took the call"),
    Prompt("ss-noservice",
           "The number you have dialed is not in service. Please check the number and try again.",
           "Het gekozen nummer is niet in gebruik. Controleer het nummer en probeer het opnieuw.",
           True, "unknown number, shipped fallback, announce fallback default"),
    Prompt("please-try-call-later", "Please try your call again later.",
           "Probeer het later nog eens.", True, "team closed"),
    # The waiting line (the caller).
    Prompt(_own("queue-all-busy"), "Please hold, all team members are busy.",
           "Een ogenblik geduld alstublieft, alle medewerkers zijn in gesprek.", False,
           "waiting line: on entering it"),
    Prompt(_own("queue-you-are-caller"), "You are caller number", "U bent beller nummer", False,
           "waiting line: before the caller's position (a number)"),
    Prompt("queue-thereare", "There are", "Er zijn", True,
           "waiting line: before the number of callers ahead"),
    Prompt("queue-callswaiting", "calls waiting.", "bellers voor u.", True,
           "waiting line: after the number of callers ahead"),
    # The expected wait, in app_queue's own shipped words: "The estimated hold time is
    # currently 3 minutes", or "... less than 1 minute".
    Prompt("queue-holdtime", "The estimated hold time is currently", "De verwachte wachttijd is",
           True, "waiting line: before the expected wait"),
    Prompt("queue-less-than", "less than", "minder dan", True,
           "waiting line: an expected wait under a minute, before 1 minute"),
    Prompt("queue-minute", "minute", "minuut", True, "waiting line: after an expected wait of 1"),
    Prompt("queue-minutes", "minutes", "minuten", True, "waiting line: after the expected wait"),
    Prompt(_own("queue-to-be-called-back"), "to be called back instead.",
           "om in plaats daarvan teruggebeld te worden.", False,
           "waiting line: after vm-press and the callback digit"),
    Prompt(_own("queue-callback-confirmed"), "Thank you, we will call you back. You may hang up now.",
           "Dank u wel, wij bellen u terug. U kunt nu ophangen.", False,
           "waiting line: the caller asked to be called back"),
    # The callback (the member's leg).
    Prompt(_own("callback-for"), "Callback for", "Terugbelverzoek voor", False,
           "callback: before the caller's number (digits)"),
    Prompt(_own("to-accept"), "to accept.", "om aan te nemen.", False,
           "callback: after vm-press and the accept digit"),
    # Availability by phone.
    Prompt(_own("availability-enter-pin"), "Please enter your PIN, followed by the hash key.",
           "Voer uw pincode in, gevolgd door het hekje.", False, "availability menu: PIN"),
    Prompt(_own("availability-pin-incorrect"), "That PIN is not correct.", "Die pincode is niet juist.",
           False, "availability menu: wrong PIN"),
    Prompt(_own("availability-currently-available"), "You are currently available.",
           "U bent op dit moment beschikbaar.", False, "availability menu: status"),
    Prompt(_own("availability-currently-unavailable"), "You are currently unavailable.",
           "U bent op dit moment niet beschikbaar.", False, "availability menu: status"),
    Prompt(_own("availability-menu"),
           "Press 1 to be available, 2 to be available until the end of the day, 3 to be unavailable.",
           "Druk 1 om beschikbaar te zijn, 2 om beschikbaar te zijn tot het einde van de dag, "
           "3 om niet beschikbaar te zijn.", False, "availability menu: choices"),
    Prompt(_own("availability-now-available"), "You are now available.", "U bent nu beschikbaar.",
           False, "availability menu: after 1"),
    Prompt(_own("availability-now-available-today"), "You are now available until the end of the day.",
           "U bent nu beschikbaar tot het einde van de dag.", False, "availability menu: after 2"),
    Prompt(_own("availability-now-unavailable"), "You are now unavailable.", "U bent nu niet beschikbaar.",
           False, "availability menu: after 3"),
    Prompt("vm-goodbye", "Goodbye.", "Tot ziens.", True, "availability menu: the end"),
)

_NL_UNITS = ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien",
             "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien", "achttien",
             "negentien", "twintig")
_EN_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
             "nineteen", "twenty")
_NL_TENS = {30: "dertig", 40: "veertig", 50: "vijftig", 60: "zestig", 70: "zeventig", 80: "tachtig",
            90: "negentig"}
_EN_TENS = {30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty",
            90: "ninety"}


def _numbers() -> Iterator[Prompt]:
    """The files Asterisk's `say` rules open for digits (say_digits) and for numbers 0-999 in
    Dutch (say.c, ast_say_number_full_nl): 0-20, the tens, "en" between unit and ten
    (21 = 1, nl-en, 20), "honderd" (100-199 without a one; 200-999 as N, hundred)."""
    for n in range(21):
        yield Prompt(f"digits/{n}", _EN_UNITS[n], _NL_UNITS[n], True, "numbers and digits")
    for n, word in _NL_TENS.items():
        yield Prompt(f"digits/{n}", _EN_TENS[n], word, True, "numbers")
    yield Prompt("digits/nl-en", "and", "en", False, "numbers (Dutch only: 21 is one-and-twenty)")
    yield Prompt("digits/hundred", "hundred", "honderd", True, "numbers")
    yield Prompt("digits/star", "star", "ster", True, "digits")
    yield Prompt("digits/pound", "pound", "hekje", True, "digits")


PROMPTS: tuple[Prompt, ...] = _SPOKEN + tuple(_numbers())
BY_NAME: dict[str, Prompt] = {p.name: p for p in PROMPTS}

# Media the runner and the dialplan play, by purpose (others code against these names).
CALLING, PRESS, SORRY, NO_SERVICE, TRY_LATER = "calling", "vm-press", "sorry", "ss-noservice", \
    "please-try-call-later"
QUEUE_ALL_BUSY = _own("queue-all-busy")
QUEUE_YOU_ARE_CALLER = _own("queue-you-are-caller")
QUEUE_THERE_ARE, QUEUE_CALLS_WAITING = "queue-thereare", "queue-callswaiting"
QUEUE_HOLDTIME, QUEUE_LESS_THAN = "queue-holdtime", "queue-less-than"
QUEUE_MINUTE, QUEUE_MINUTES = "queue-minute", "queue-minutes"
QUEUE_TO_BE_CALLED_BACK = _own("queue-to-be-called-back")
QUEUE_CALLBACK_CONFIRMED = _own("queue-callback-confirmed")
CALLBACK_FOR, TO_ACCEPT = _own("callback-for"), _own("to-accept")
AVAILABILITY_ENTER_PIN = _own("availability-enter-pin")
AVAILABILITY_PIN_INCORRECT = _own("availability-pin-incorrect")
AVAILABILITY_CURRENTLY_AVAILABLE = _own("availability-currently-available")
AVAILABILITY_CURRENTLY_UNAVAILABLE = _own("availability-currently-unavailable")
AVAILABILITY_MENU = _own("availability-menu")
AVAILABILITY_NOW_AVAILABLE = _own("availability-now-available")
AVAILABILITY_NOW_AVAILABLE_TODAY = _own("availability-now-available-today")
AVAILABILITY_NOW_UNAVAILABLE = _own("availability-now-unavailable")
GOODBYE = "vm-goodbye"


def to_generate(language: str) -> tuple[Prompt, ...]:
    """The prompts a language's set needs from the generator: all of them, except in English
    the ones Asterisk's core sounds already ship."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown prompt language {language!r} (known: {', '.join(LANGUAGES)})")
    return tuple(p for p in PROMPTS if not (language == "en" and p.shipped_en))


def sound(name: str) -> str:
    """The ARI media URI for a catalogued prompt; an uncatalogued name is a programming error."""
    if name not in BY_NAME:
        raise KeyError(f"{name!r} is not in the prompt catalogue (teamfoned.domain.prompts)")
    return f"sound:{name}"
