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
        "until_schedule": "Until my schedule changes it",
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
        "bad_until": "Choose how long: you have no schedule to wait for.",
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
        "nav_calls": "Calls",
        "nav_me": "My data",
        "nav_admin": "Administration",
        "me_title": "My data",
        "name": "Name",
        "phone": "Phone",
        "phone_hint": "Your mobile number with country code, for example +31 6 12345678.",
        "save": "Save",
        "photo": "Photo",
        "own_photo": "Your photo",
        "photo_choose": "Choose a photo (JPEG or PNG)",
        "photo_upload": "Upload photo",
        "photo_remove": "Remove photo",
        "photo_type": "Choose a JPEG or PNG photo.",
        "my_data": "Your data",
        "my_data_explain": "Everything teamfoned keeps about you: your name, number, photo, "
                           "availability and the calls you took part in.",
        "download_data": "Download my data (JSON)",
        "delete_me": "Delete me",
        "delete_title": "Delete me",
        "delete_explain": "This removes your name, phone number, photo and availability for "
                          "good, and signs you out. Your team's call history keeps the calls, "
                          "without your name. This cannot be undone.",
        "delete_confirm": "Yes, delete all my data",
        "delete_button": "Delete my data now",
        "delete_cancel": "No, keep my data",
        "delete_unconfirmed": "Tick the box to confirm.",
        "delete_last_admin": "You are the last administrator: make someone else administrator "
                             "first.",
        "deleted_title": "Deleted",
        "deleted_explain": "Your data has been deleted and you are signed out.",
        "calls_title": "Calls",
        "call_back": "To call back",
        "call_back_none": "Nobody to call back.",
        "call_number": "Call {number}",
        "caller_hidden": "Hidden number",
        "mark_handled": "Mark as handled",
        "recent_calls": "Recent calls",
        "in_progress": "in progress",
        "erased_member": "(deleted member)",
        "outcome_answered": "answered",
        "outcome_abandoned": "caller hung up",
        "outcome_no_one_available": "nobody available",
        "outcome_timed_out": "waited too long",
        "outcome_closed": "closed",
        "outcome_fallback": "sent on",
        "outcome_failed": "failed",
        "result_answered": "answered",
        "result_no_answer": "no answer",
        "result_busy": "busy",
        "result_rejected": "rejected",
        "result_unreachable": "unreachable",
        "result_cancelled": "stopped ringing",
        "result_confirm_timeout": "did not confirm",
        "result_declined": "declined",
        "result_too_late": "too late",
        "admin_title": "Administration",
        "admin_members": "Members",
        "admin_is_admin": "administrator",
        "admin_invite": "Sign-in link",
        "admin_invite_who": "Create a sign-in link for {name}",
        "admin_link_for": "Sign-in link for {name}",
        "admin_link_explain": "Send this link to the member; it works once, for a short time.",
        "admin_sign_out": "Sign out everywhere",
        "admin_sign_out_who": "Sign {name} out everywhere",
        "admin_signed_out": "Signed out of {count} device(s).",
        "admin_remove": "Remove",
        "admin_remove_confirm": "Remove {name} and their data",
        "admin_export": "Export",
        "admin_export_download": "Download every member's data (JSON)",
        "result_failed": "failed",
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
        "until_schedule": "Tot mijn rooster het verandert",
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
        "bad_until": "Kies hoe lang: je hebt geen rooster om op te wachten.",
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
        "nav_calls": "Gesprekken",
        "nav_me": "Mijn gegevens",
        "nav_admin": "Beheer",
        "me_title": "Mijn gegevens",
        "name": "Naam",
        "phone": "Telefoon",
        "phone_hint": "Je mobiele nummer met landcode, bijvoorbeeld +31 6 12345678.",
        "save": "Opslaan",
        "photo": "Foto",
        "own_photo": "Je foto",
        "photo_choose": "Kies een foto (JPEG of PNG)",
        "photo_upload": "Foto uploaden",
        "photo_remove": "Foto verwijderen",
        "photo_type": "Kies een JPEG- of PNG-foto.",
        "my_data": "Je gegevens",
        "my_data_explain": "Alles wat teamfoned over je bewaart: je naam, nummer, foto, "
                           "beschikbaarheid en de gesprekken waar je aan meedeed.",
        "download_data": "Download mijn gegevens (JSON)",
        "delete_me": "Verwijder mij",
        "delete_title": "Verwijder mij",
        "delete_explain": "Dit verwijdert je naam, telefoonnummer, foto en beschikbaarheid "
                          "definitief en meldt je af. De gesprekshistorie van je team houdt de "
                          "gesprekken, zonder je naam. Dit kan niet ongedaan worden gemaakt.",
        "delete_confirm": "Ja, verwijder al mijn gegevens",
        "delete_button": "Verwijder mijn gegevens nu",
        "delete_cancel": "Nee, bewaar mijn gegevens",
        "delete_unconfirmed": "Vink het vakje aan om te bevestigen.",
        "delete_last_admin": "Je bent de laatste beheerder: maak eerst iemand anders beheerder.",
        "deleted_title": "Verwijderd",
        "deleted_explain": "Je gegevens zijn verwijderd en je bent afgemeld.",
        "calls_title": "Gesprekken",
        "call_back": "Terugbellen",
        "call_back_none": "Niemand om terug te bellen.",
        "call_number": "Bel {number}",
        "caller_hidden": "Afgeschermd nummer",
        "mark_handled": "Markeer als afgehandeld",
        "recent_calls": "Recente gesprekken",
        "in_progress": "bezig",
        "erased_member": "(verwijderd lid)",
        "outcome_answered": "aangenomen",
        "outcome_abandoned": "beller hing op",
        "outcome_no_one_available": "niemand beschikbaar",
        "outcome_timed_out": "te lang gewacht",
        "outcome_closed": "gesloten",
        "outcome_fallback": "doorgestuurd",
        "outcome_failed": "mislukt",
        "result_answered": "aangenomen",
        "result_no_answer": "niet opgenomen",
        "result_busy": "in gesprek",
        "result_rejected": "geweigerd",
        "result_unreachable": "onbereikbaar",
        "result_cancelled": "gestopt met overgaan",
        "result_confirm_timeout": "niet bevestigd",
        "result_declined": "afgewezen",
        "result_too_late": "te laat",
        "admin_title": "Beheer",
        "admin_members": "Leden",
        "admin_is_admin": "beheerder",
        "admin_invite": "Aanmeldlink",
        "admin_invite_who": "Maak een aanmeldlink voor {name}",
        "admin_link_for": "Aanmeldlink voor {name}",
        "admin_link_explain": "Stuur deze link naar het lid; hij werkt één keer, korte tijd.",
        "admin_sign_out": "Overal afmelden",
        "admin_sign_out_who": "Meld {name} overal af",
        "admin_signed_out": "Afgemeld op {count} apparaat/apparaten.",
        "admin_remove": "Verwijderen",
        "admin_remove_confirm": "Verwijder {name} en diens gegevens",
        "admin_export": "Export",
        "admin_export_download": "Download de gegevens van alle leden (JSON)",
        "result_failed": "mislukt",
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
