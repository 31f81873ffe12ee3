"""Every string the web app shows, in each language it speaks; templates only name them."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
# The cookie that remembers a language the member picked over what the browser asks for.
LANGUAGE_COOKIE = "teamfoned_lang"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "app_name": "teamfoned",
        "language": "Language",
        "language_switch": "Nederlands",
        "nav": "Main",
        "nav_status": "My status",
        "nav_team": "My team",
        "nav_devices": "Signed-in devices",
        "sign_in_title": "Sign in",
        "sign_in_explain": "This link signs you in on this device. It works once.",
        "sign_in_button": "Sign in",
        "sign_in_failed": "This sign-in link has been used or has expired. Ask your administrator "
                          "for a new one.",
        "signed_out_title": "Signed out",
        "signed_out_explain": "You are not signed in on this device. Open the sign-in link your "
                              "administrator sent you.",
        "refused_title": "Refused",
        "refused_explain": "This request did not come from this app's own page. Go back and "
                           "try again.",
        "not_found_title": "Not found",
        "not_found_explain": "There is no such page for you.",
        "status_title": "My status",
        "available": "Available",
        "unavailable": "Unavailable",
        "available_now": "You are available for calls",
        "unavailable_now": "You are not taking calls",
        "until_label": "Until",
        "until_open": "Until I change it",
        "until_hour": "For 1 hour",
        "until_day": "Until the end of the day",
        "until_time": "Until a time",
        "until_time_label": "Time (HH:MM)",
        "until_shown": "until {time}",
        "make_available": "Make me available",
        "make_unavailable": "Make me unavailable",
        "why_schedule": "Your schedule changed this at {time}.",
        "why_auto": "The system made you unavailable at {time} after calls you did not answer.",
        "why_manual": "Changed at {time}.",
        "bad_time": "Give the time as HH:MM, for example 17:30.",
        "saved": "Saved.",
        "offline": "Offline: this is the last known status, it may have changed.",
        "team_title": "My team",
        "no_teams": "You are in no team yet.",
        "teammates": "Teammates",
        "photo_of": "Photo of {name}",
        "line_idle": "idle",
        "line_ringing": "ringing",
        "line_in_call": "in a call",
        "line_wrap_up": "wrap-up",
        "line_unavailable": "unavailable",
        "devices_title": "Signed-in devices",
        "device_since": "Signed in {created}, last used {used}",
        "this_device": "This device",
        "sign_out": "Sign out",
        "sign_out_device": "Sign this device out",
    },
    "nl": {
        "app_name": "teamfoned",
        "language": "Taal",
        "language_switch": "English",
        "nav": "Hoofdmenu",
        "nav_status": "Mijn status",
        "nav_team": "Mijn team",
        "nav_devices": "Aangemelde apparaten",
        "sign_in_title": "Aanmelden",
        "sign_in_explain": "Met deze link meld je je aan op dit apparaat. Hij werkt één keer.",
        "sign_in_button": "Aanmelden",
        "sign_in_failed": "Deze aanmeldlink is al gebruikt of verlopen. Vraag je beheerder om "
                          "een nieuwe.",
        "signed_out_title": "Afgemeld",
        "signed_out_explain": "Je bent op dit apparaat niet aangemeld. Open de aanmeldlink die "
                              "je beheerder je stuurde.",
        "refused_title": "Geweigerd",
        "refused_explain": "Dit verzoek kwam niet van een pagina van deze app. Ga terug en "
                           "probeer het opnieuw.",
        "not_found_title": "Niet gevonden",
        "not_found_explain": "Deze pagina bestaat niet voor jou.",
        "status_title": "Mijn status",
        "available": "Beschikbaar",
        "unavailable": "Niet beschikbaar",
        "available_now": "Je bent beschikbaar voor gesprekken",
        "unavailable_now": "Je neemt geen gesprekken aan",
        "until_label": "Tot",
        "until_open": "Tot ik het verander",
        "until_hour": "Een uur",
        "until_day": "Tot het einde van de dag",
        "until_time": "Tot een tijdstip",
        "until_time_label": "Tijd (UU:MM)",
        "until_shown": "tot {time}",
        "make_available": "Maak me beschikbaar",
        "make_unavailable": "Maak me onbeschikbaar",
        "why_schedule": "Je rooster heeft dit om {time} veranderd.",
        "why_auto": "Het systeem heeft je om {time} onbeschikbaar gemaakt na gesprekken die je "
                    "niet aannam.",
        "why_manual": "Veranderd om {time}.",
        "bad_time": "Geef de tijd als UU:MM, bijvoorbeeld 17:30.",
        "saved": "Opgeslagen.",
        "offline": "Offline: dit is de laatst bekende status, die kan veranderd zijn.",
        "team_title": "Mijn team",
        "no_teams": "Je zit nog in geen enkel team.",
        "teammates": "Teamgenoten",
        "photo_of": "Foto van {name}",
        "line_idle": "vrij",
        "line_ringing": "gaat over",
        "line_in_call": "in gesprek",
        "line_wrap_up": "nawerk",
        "line_unavailable": "niet beschikbaar",
        "devices_title": "Aangemelde apparaten",
        "device_since": "Aangemeld {created}, laatst gebruikt {used}",
        "this_device": "Dit apparaat",
        "sign_out": "Afmelden",
        "sign_out_device": "Meld dit apparaat af",
    },
}


def choose_language(picked: str | None, accept_language: str | None) -> str:
    """The member's own pick if it is one we speak, else the browser's first we speak, else English."""
    if picked in LANGUAGES:
        return picked
    wishes: list[tuple[float, int, str]] = []
    for order, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        wishes.append((-quality, order, tag.strip().lower().split("-")[0]))
    for _, _, language in sorted(wishes):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


class Messages:
    """One language's catalogue, called from templates as t("key", name=...)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = MESSAGES[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text
