"""The addresses accueil receives mail for, each with the motif and queue its mails go to."""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.email.models import Mailbox
from accueil.conversations.models import Motif
from accueil.core.errors import Conflict, ValidationFailed
from accueil.routing.models import Queue


def normalise_address(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed("invalid_email", value=address) from exc


def do_add_mailbox(session: Session, *, address: str, name: str = "", motif_code: str | None = None,
                   queue_code: str | None = None, language: str = "fr", acknowledge: bool = True,
                   now: datetime | None = None) -> Mailbox:
    """A new mailbox; its motif and queue must exist (a mail must never be refused for a typo made here)."""
    address = normalise_address(address)
    if session.scalar(select(Mailbox.id).where(Mailbox.address == address)) is not None:
        raise Conflict("mailbox_exists", address=address)
    if motif_code and session.scalar(select(Motif.id).where(Motif.code == motif_code)) is None:
        raise ValidationFailed("unknown_motif", value=motif_code)
    if queue_code and session.scalar(select(Queue.id).where(Queue.code == queue_code)) is None:
        raise ValidationFailed("unknown_queue", value=queue_code)
    if language not in ("fr", "en"):
        raise ValidationFailed("invalid_language", value=language)
    mailbox = Mailbox(address=address, name=name[:120], motif_code=motif_code or None, queue_code=queue_code or None,
                      language=language, acknowledge=acknowledge, active=True)
    if now is not None:
        mailbox.created_at = now
    session.add(mailbox)
    session.flush()
    return mailbox


def list_mailboxes(session: Session) -> list[Mailbox]:
    return list(session.scalars(select(Mailbox).order_by(Mailbox.address)))
