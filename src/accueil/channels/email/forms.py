"""Web contact forms: a submission becomes a ``webform`` contact, acknowledged and answered by email.

The form is public and has no session, hence no CSRF token: each page carries a signed form token (HMAC
of the form's code and the moment it was shown) that must come back between ``MIN_FILL`` (robots post at
once) and ``MAX_AGE`` later; a hidden honeypot field that a person never fills makes the submission
vanish quietly (the robot sees the same thank-you page and learns nothing); the client address and the
email address are rate limited; the consent checkbox is required. Attachments go through the usual
limits. The customer's address gets the accusé de réception from the form's mailbox, which is also the
address the agent's answer comes from.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.email.acknowledge import do_acknowledge_contact
from accueil.channels.email.mailboxes import normalise_address
from accueil.channels.email.models import FormSubmission, Mailbox, WebForm
from accueil.conversations.content import AttachmentIn
from accueil.conversations.models import ChannelKind, Motif
from accueil.conversations.receive import ConversationConfig, InboundContact, do_receive_inbound
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.customers.models import IdentityKind
from accueil.customers.service import normalise_identity
from accueil.routing.models import Queue

MIN_FILL_SECONDS = 2.0
MAX_AGE_SECONDS = 2 * 3600.0
MAX_MESSAGE_CHARS = 10_000


def form_token(secret_key: str, code: str, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    signature = hmac.new(secret_key.encode(), f"form:{code}:{issued}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{issued}.{signature}"


def check_form_token(secret_key: str, code: str, token: str, *, now: float | None = None) -> None:
    """ValidationFailed unless ``token`` was signed for this form, at least a moment and at most hours ago."""
    issued_text, _, signature = (token or "").partition(".")
    if not issued_text.isdigit() or not hmac.compare_digest(form_token(secret_key, code, now=int(issued_text)),
                                                            token):
        raise ValidationFailed("form_expired")
    age = (now if now is not None else time.time()) - int(issued_text)
    if age < MIN_FILL_SECONDS:
        raise ValidationFailed("form_too_fast")
    if age > MAX_AGE_SECONDS:
        raise ValidationFailed("form_expired")


@dataclass
class Submission:
    email: str
    message: str
    name: str = ""
    motif_code: str | None = None
    consent: bool = False
    attachments: list[AttachmentIn] = field(default_factory=list)
    language: str = "fr"


def access_form(session: Session, code: str) -> WebForm:
    form = session.scalar(select(WebForm).where(WebForm.code == code, WebForm.active.is_(True)))
    if form is None:
        raise NotFound("not_found", kind="form", id=code)
    return form


def form_motifs(session: Session, form: WebForm) -> list[Motif]:
    if not form.motif_codes:
        return []
    found = {m.code: m for m in session.scalars(select(Motif).where(Motif.code.in_(form.motif_codes),
                                                                    Motif.active.is_(True)))}
    return [found[code] for code in form.motif_codes if code in found]


def do_add_form(session: Session, *, code: str, title_fr: str, title_en: str, mailbox_address: str,
                queue_code: str | None = None, motif_codes: list[str] | None = None) -> WebForm:
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("invalid_code", value=code)
    if session.scalar(select(WebForm.id).where(WebForm.code == code)) is not None:
        raise Conflict("form_exists", code=code)
    mailbox = session.scalar(select(Mailbox).where(Mailbox.address == normalise_address(mailbox_address)))
    if mailbox is None:
        raise ValidationFailed("unknown_mailbox", value=mailbox_address)
    if queue_code and session.scalar(select(Queue.id).where(Queue.code == queue_code)) is None:
        raise ValidationFailed("unknown_queue", value=queue_code)
    for motif in motif_codes or []:
        if session.scalar(select(Motif.id).where(Motif.code == motif)) is None:
            raise ValidationFailed("unknown_motif", value=motif)
    form = WebForm(code=code, title_fr=title_fr[:200], title_en=title_en[:200], mailbox_id=mailbox.id,
                   queue_code=queue_code or None, motif_codes=list(motif_codes or []), active=True)
    session.add(form)
    session.flush()
    return form


def do_submit_form(session: Session, *, form: WebForm, submission: Submission, config: ConversationConfig,
                   now: datetime) -> str:
    """Receive one checked submission; returns the case reference the thank-you page shows."""
    if not submission.consent:
        raise ValidationFailed("consent_required")
    message = submission.message.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    if not message:
        raise ValidationFailed("empty_message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValidationFailed("body_too_long", length=len(message), limit=MAX_MESSAGE_CHARS)
    identity = normalise_identity(IdentityKind.email, submission.email)
    motifs = {m.code: m for m in form_motifs(session, form)}
    if submission.motif_code and submission.motif_code not in motifs:
        raise ValidationFailed("unknown_motif", value=submission.motif_code)
    motif = motifs.get(submission.motif_code or "")
    title = form.title_fr if submission.language == "fr" else form.title_en
    subject = f"{title} — {(motif.label_fr if submission.language == 'fr' else motif.label_en)}" if motif else title
    result = do_receive_inbound(session, contact=InboundContact(
        channel=ChannelKind.webform, identities=[identity], display_name=submission.name.replace("\x00", "").strip()[:200] or None,
        language=submission.language, motif_code=motif.code if motif else None, queue_code=form.queue_code,
        subject=subject[:300], body_text=message, attachments=submission.attachments, occurred_at=now), config=config,
        now=now)
    session.add(FormSubmission(form_id=form.id, case_id=result.case_id, interaction_id=result.interaction_id,
                               email=identity.value, created_at=now))
    mailbox = session.get(Mailbox, form.mailbox_id)
    if mailbox is not None and mailbox.acknowledge:
        do_acknowledge_contact(session, mailbox=mailbox, to=identity.value, subject=subject, message_id=None,
                               references=(), case_id=result.case_id, reference=result.case_reference, now=now)
    return result.case_reference
