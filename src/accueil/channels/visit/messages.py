"""French and English for what customers receive about appointments (emails, SMS) (its error codes are in ``core/i18n.py``). Domain code cannot use the web catalogs (layers point down), so the texts live here."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

TEXTS: dict[str, dict[str, str]] = {
    "confirm_subject": {"en": "Your appointment on {when}", "fr": "Votre rendez-vous du {when}"},
    "confirm_body": {
        "en": "Hello {name},\n\nYour appointment is booked:\n\n  {when}\n  {agency}\n  {address}\n  Reason: {motif}\n"
              "  Reference: {reference}\n\nCannot come? Cancel it here, so someone else can have the slot:\n{link}\n",
        "fr": "Bonjour {name},\n\nVotre rendez-vous est confirmé :\n\n  {when}\n  {agency}\n  {address}\n"
              "  Motif : {motif}\n  Référence : {reference}\n\nVous ne pouvez pas venir ? Annulez-le ici, pour libérer "
              "le créneau :\n{link}\n",
    },
    "confirm_sms": {
        "en": "Appointment booked {when}, {agency}. To cancel: {link}",
        "fr": "RDV confirmé le {when}, {agency}. Pour annuler : {link}",
    },
    "reminder_subject": {"en": "Reminder: your appointment on {when}", "fr": "Rappel : votre rendez-vous du {when}"},
    "reminder_body": {
        "en": "Hello {name},\n\nA reminder of your appointment:\n\n  {when}\n  {agency}\n  {address}\n  Reason: {motif}\n\n"
              "Cannot come? Cancel it here:\n{link}\n",
        "fr": "Bonjour {name},\n\nPetit rappel de votre rendez-vous :\n\n  {when}\n  {agency}\n  {address}\n"
              "  Motif : {motif}\n\nVous ne pouvez pas venir ? Annulez-le ici :\n{link}\n",
    },
    "reminder_sms": {
        "en": "Reminder: appointment {when}, {agency}. To cancel: {link}",
        "fr": "Rappel : RDV le {when}, {agency}. Pour annuler : {link}",
    },
    "cancelled_subject": {"en": "Appointment cancelled", "fr": "Rendez-vous annulé"},
    "cancelled_body": {
        "en": "Hello {name},\n\nYour appointment of {when} at {agency} is cancelled.\n",
        "fr": "Bonjour {name},\n\nVotre rendez-vous du {when} à {agency} est annulé.\n",
    },
    "booked_note": {
        "en": "Appointment booked online: {when}, {agency}.",
        "fr": "Rendez-vous pris en ligne : {when}, {agency}.",
    },
    "walk_in_note": {"en": "Walk-in visit at {agency}.", "fr": "Visite sans rendez-vous à {agency}."},
}


def text(key: str, language: str, **values: object) -> str:
    templates = TEXTS[key]
    return (templates.get(language) or templates["en"]).format(**values)


def when(moment: datetime, timezone: str, language: str) -> str:
    """« lundi 23 novembre 2026 à 09:30 » / "Monday, November 23, 2026 at 9:30 AM", in the agency's zone."""
    pattern = "EEEE d MMMM y 'à' HH:mm" if language == "fr" else "EEEE, MMMM d, y 'at' h:mm a"
    return format_datetime(moment, pattern, tzinfo=ZoneInfo(timezone), locale=language)
