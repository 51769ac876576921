"""What the customer is told about their callback, in their language: by SMS when an SMS gateway is
configured (we have their number by definition), else by email when SMTP is configured and an address
is known. Sent through ``channels.notify`` (durable jobs, one per dedupe key), so a retried transaction
or a repeated outcome never sends twice.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels import notify
from accueil.channels.callback.models import Callback
from accueil.conversations.models import Case
from accueil.customers.models import Identity, IdentityKind

# Domain-layer texts (like ``core.i18n``): {phone}, {when}, {reference}, {attempts} are filled in.
TEXTS: dict[str, dict[str, str]] = {
    "subject_booked": {"fr": "Votre demande de rappel", "en": "Your callback request"},
    "booked_slot": {
        "fr": "Bonjour, votre demande de rappel est enregistrée : nous vous appellerons au {phone} "
              "le {when}. Référence {reference}.",
        "en": "Hello, your callback request is booked: we will call you on {phone} on {when}. "
              "Reference {reference}.",
    },
    "booked_asap": {
        "fr": "Bonjour, votre demande de rappel est enregistrée : un conseiller vous appellera au {phone} "
              "dès que possible. Référence {reference}.",
        "en": "Hello, your callback request is booked: an adviser will call you on {phone} as soon as "
              "possible. Reference {reference}.",
    },
    "booked_hold": {
        "fr": "Bonjour, vous gardez votre place dans la file : un conseiller vous rappellera au {phone} "
              "dès que votre tour viendra. Référence {reference}.",
        "en": "Hello, you keep your place in the queue: an adviser will call you back on {phone} when your "
              "turn comes. Reference {reference}.",
    },
    "subject_exhausted": {"fr": "Nous n'avons pas pu vous joindre", "en": "We could not reach you"},
    "exhausted": {
        "fr": "Bonjour, nous avons essayé de vous joindre {attempts} fois au {phone}, sans succès. "
              "Vous pouvez refaire une demande de rappel ou nous appeler. Référence {reference}.",
        "en": "Hello, we tried to reach you {attempts} times on {phone}, without success. You may ask for "
              "another callback or call us. Reference {reference}.",
    },
    "request_body": {
        "fr": "Demande de rappel ({source}).",
        "en": "Callback request ({source}).",
    },
}
WHEN_PATTERN = {"fr": "EEEE d MMMM 'à' HH:mm", "en": "EEEE d MMMM 'at' HH:mm"}


def text(key: str, language: str, **values: object) -> str:
    table = TEXTS[key]
    return (table.get(language) or table["fr"]).format(**values)


def format_when(when: datetime, language: str, timezone: str) -> str:
    lang = language if language in WHEN_PATTERN else "fr"
    return format_datetime(when, WHEN_PATTERN[lang], tzinfo=ZoneInfo(timezone), locale=lang)


def _email_of(session: Session, callback: Callback) -> str | None:
    if callback.email:
        return callback.email
    return session.scalar(select(Identity.value).where(Identity.customer_id == callback.customer_id,
                                                       Identity.kind == IdentityKind.email)
                          .order_by(Identity.created_at).limit(1))


def do_notify_customer(session: Session, *, callback: Callback, kind: str, now: datetime,
                       timezone: str = "Europe/Paris") -> str | None:
    """Queue the ``booked`` or ``exhausted`` notice; returns the channel used ("sms", "email") or None."""
    language = callback.language if callback.language in ("fr", "en") else "fr"
    reference = session.scalar(select(Case.reference).where(Case.id == callback.case_id)) or ""
    if kind == "booked":
        key = "booked_hold" if callback.kept_position_of else "booked_asap" if callback.asap else "booked_slot"
        subject = text("subject_booked", language)
    elif kind == "exhausted":
        key, subject = "exhausted", text("subject_exhausted", language)
    else:  # pragma: no cover - a programming error
        raise ValueError(f"unknown callback notice {kind!r}")
    body = text(key, language, phone=callback.phone, reference=reference, attempts=callback.attempts,
                when=format_when(callback.due_at, language, timezone))
    dedupe = f"callback:{callback.id}:{kind}"
    if notify.do_queue_sms(session, to=callback.phone, text=body, dedupe_key=dedupe, now=now):
        return "sms"
    email = _email_of(session, callback)
    if email and notify.do_queue_email(session, to=email, subject=subject, body=body, dedupe_key=dedupe, now=now):
        return "email"
    return None
