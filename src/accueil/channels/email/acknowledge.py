"""The accusé de réception: the customer learns their mail arrived, its reference and when to expect an answer.

Sent once per new case, from the mailbox itself (so a reply comes back to it), threaded to the customer's
mail, marked ``Auto-Submitted: auto-replied`` (RFC 3834) so well-behaved robots do not answer it, and at
most once per sender and mailbox per day (the job's dedupe key), so two robots can never loop through us.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import formataddr, make_msgid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels import notify
from accueil.channels.email.models import Mailbox
from accueil.channels.email.parse import ParsedMail
from accueil.channels.email.threads import do_remember_message_id
from accueil.conversations.models import Case, Interaction
from accueil.db.session import settings_of

TEXTS: dict[str, dict[str, str]] = {
    "subject": {"fr": "[{reference}] Accusé de réception : {subject}", "en": "[{reference}] We received your message: {subject}"},
    "body": {
        "fr": "Bonjour,\n\nNous avons bien reçu votre message et nous vous en remercions.\n\n"
              "  Référence de votre demande : {reference}\n  Réponse d'un conseiller au plus tard le : {due}\n\n"
              "Pour nous écrire à nouveau au sujet de cette demande, répondez simplement à ce message "
              "(gardez la référence dans l'objet).\n\nCe message est envoyé automatiquement : inutile d'y répondre "
              "si vous n'avez rien à ajouter.\n\n{mailbox}\n",
        "en": "Hello,\n\nThank you: we have received your message.\n\n"
              "  Your reference: {reference}\n  An advisor will answer by: {due}\n\n"
              "To write to us again about this request, simply reply to this message (keep the reference in "
              "the subject).\n\nThis message was sent automatically: no need to answer it if you have nothing "
              "to add.\n\n{mailbox}\n",
    },
}


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def do_acknowledge(session: Session, *, mailbox: Mailbox, parsed: ParsedMail, case_id: str, reference: str,
                   now: datetime) -> bool:
    """Queue the acknowledgement of a new case opened by the mail ``parsed``; False when none is sent."""
    return do_acknowledge_contact(session, mailbox=mailbox, to=parsed.sender, subject=parsed.subject,
                                  message_id=parsed.message_id, references=parsed.references, case_id=case_id,
                                  reference=reference, now=now)


def do_acknowledge_contact(session: Session, *, mailbox: Mailbox, to: str, subject: str, message_id: str | None,
                           references: tuple[str, ...], case_id: str, reference: str, now: datetime) -> bool:
    """Queue the acknowledgement of a new case opened by a mail or a web form sent by ``to``."""
    settings = settings_of(session)
    language = mailbox.language if mailbox.language in ("fr", "en") else "fr"
    # the promise of a first personal reply (business time, ``conversations.reply_targets``); else the case's SLA
    due_at = session.scalar(select(Interaction.reply_due_at).where(
        Interaction.case_id == case_id, Interaction.reply_due_at.is_not(None))
        .order_by(Interaction.reply_due_at).limit(1)) or session.scalar(select(Case.sla_due_at).where(Case.id == case_id))
    due = format_datetime(due_at, "EEEE d MMMM y, HH:mm", tzinfo=ZoneInfo(settings.timezone),
                          locale=language) if due_at else "-"
    ack_id = make_msgid(domain=domain_of(mailbox.address))
    headers = {"Message-ID": ack_id, "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if message_id:
        headers["In-Reply-To"] = message_id
        headers["References"] = " ".join((*references[-10:], message_id))
    title = TEXTS["subject"][language].format(reference=reference, subject=subject or "-")
    body = TEXTS["body"][language].format(reference=reference, due=due, mailbox=mailbox.name or mailbox.address)
    queued = notify.do_queue_email(
        session, to=to, subject=title, body=body, now=now,
        sender=formataddr((mailbox.name, mailbox.address)) if mailbox.name else mailbox.address, headers=headers,
        dedupe_key=f"ack:{mailbox.id}:{to}:{now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()}")
    if queued:
        do_remember_message_id(session, ack_id, case_id=case_id, message_id=None, outbound=True, now=now)
    return queued
