"""A text message's way in, whatever gateway carried it: one SMS becomes one message of the customer's
case, through the one door (``conversations.receive``), acknowledged to the provider only once committed.

- **Idempotent** by the provider's message id (``<provider>:<id>``, the door's receipt): a replay of the
  same delivery creates nothing. A keyword (STOP, START) is kept under the same key in
  ``idempotency_keys``, so its replay changes nothing and confirms nothing twice.
- **Continues the conversation**: the customer's SMS exchange still open (not ended) takes the message as
  its next line (no new work is queued); otherwise the message is a new SMS interaction of the customer's
  open case (whatever channel opened it), else of a new case, queued in the queue of the number it was
  sent to (``ACCUEIL_SMS_SENDERS``) or ``ACCUEIL_SMS_QUEUE`` — routed by the channel's skills and
  capacity like every contact.
- **MMS media** arrive as attachments within the usual limits (type, size, count); what the limits refuse
  or what could not be fetched is named in a system note on the case, never silently dropped.
- **STOP / START** (``keywords.py``, ``opt_out.py``) are recorded on the number, not routed to anyone.

The numbers stay out of the logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.sms.keywords import keyword_of
from accueil.channels.sms.opt_out import do_keyword, is_opted_out
from accueil.config import Settings
from accueil.conversations.content import AttachmentIn, ContentLimits
from accueil.conversations.events import CaseNoteAdded
from accueil.conversations.models import (
    OPEN_STATUSES,
    AuthorKind,
    Case,
    ChannelKind,
    Direction,
    InboundReceipt,
    Interaction,
    Message,
)
from accueil.conversations.receive import ConversationConfig, InboundContact, do_receive_inbound, is_retryable
from accueil.core import clock
from accueil.core.ids import id_at
from accueil.customers.models import IdentityKind
from accueil.customers.service import (
    IdentityRef,
    access_customer,
    find_customer_by_identity,
    normalise_identity,
)
from accueil.db.idempotency import IdempotencyRecord
from accueil.db.session import queue_event
from accueil.routing.models import Queue

log = logging.getLogger(__name__)

KEYWORD_PRINCIPAL = "sms-keyword"  # idempotency_keys.principal of STOP / START deliveries


@dataclass(frozen=True)
class InboundSms:
    """One text message as a gateway delivered it (media already fetched, or named in ``media_notes``)."""

    provider: str  # "twilio", "gateway"
    message_id: str  # the provider's id of this message
    sender: str  # the customer's number, as the provider wrote it
    to: str  # ours: the number or sender id it was sent to
    text: str = ""
    media: list[AttachmentIn] = field(default_factory=list)
    media_notes: list[str] = field(default_factory=list)
    received_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.message_id}"[:255]


@dataclass(frozen=True)
class SmsSettings:
    queue: str  # ACCUEIL_SMS_QUEUE
    motif: str | None  # ACCUEIL_SMS_MOTIF
    queue_of_number: dict[str, str]  # our number or sender id -> queue (ACCUEIL_SMS_SENDERS, read backwards)
    confirm_keywords: bool = True
    phone_region: str = "FR"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsSettings:
        return cls(queue=settings.sms_queue, motif=settings.sms_motif or None,
                   queue_of_number={sender: queue for queue, sender in settings.sms_sender_map.items()},
                   confirm_keywords=settings.sms_confirm_keywords, phone_region=settings.default_phone_region)


@dataclass(frozen=True)
class SmsOutcome:
    status: str  # received, duplicate, opted_out, opted_in, keyword_repeat
    case_id: str | None = None
    interaction_id: str | None = None


def already_received(session: Session, key: str) -> bool:
    """This delivery was committed before (as a message or as a keyword)."""
    return session.scalar(select(InboundReceipt.id).where(InboundReceipt.provider_message_id == key,
                                                          InboundReceipt.channel == ChannelKind.sms)) is not None \
        or session.scalar(select(IdempotencyRecord.id).where(IdempotencyRecord.principal == KEYWORD_PRINCIPAL,
                                                             IdempotencyRecord.key == key)) is not None


def media_within_limits(media: list[AttachmentIn], limits: ContentLimits) -> tuple[list[AttachmentIn], list[str]]:
    """The media the limits accept, and a note for each one left out."""
    kept: list[AttachmentIn] = []
    notes: list[str] = []
    for item in media:
        content_type = item.content_type.split(";")[0].strip().lower()
        if content_type not in limits.attachment_types:
            notes.append(f"attachment_type_refused: {item.filename[:80]} ({content_type})")
        elif len(item.data) > limits.max_attachment_bytes:
            notes.append(f"attachment_too_large: {item.filename[:80]} ({len(item.data)} bytes)")
        elif len(kept) >= limits.max_attachments:
            notes.append(f"too_many_attachments: {item.filename[:80]}")
        else:
            kept.append(AttachmentIn(filename=item.filename, content_type=content_type, data=item.data))
    return kept, notes


def _queue_for(session: Session, sms: InboundSms, settings: SmsSettings) -> str | None:
    code = settings.queue_of_number.get(sms.to) or settings.queue
    if code and session.scalar(select(Queue.id).where(Queue.code == code, Queue.active.is_(True))) is not None:
        return code
    log.warning("SMS queue %r does not exist: the message is kept on its case, not routed (ACCUEIL_SMS_QUEUE, "
                "ACCUEIL_SMS_SENDERS)", code)
    return None


def _continuation(session: Session, customer_id: str) -> tuple[str | None, str | None]:
    """(the open SMS exchange to continue, else the reference of the customer's open case to join)."""
    live = session.scalar(select(Interaction.id).where(
        Interaction.customer_id == customer_id, Interaction.channel == ChannelKind.sms,
        Interaction.ended_at.is_(None)).order_by(Interaction.arrived_at.desc()).limit(1))
    if live is not None:
        return live, None
    reference = session.scalar(select(Case.reference).where(
        Case.customer_id == customer_id, Case.status.in_(OPEN_STATUSES)).order_by(Case.updated_at.desc()).limit(1))
    return None, reference


def _note(session: Session, case_id: str, interaction_id: str, lines: list[str], now: datetime) -> None:
    note = Message(id=id_at(now.timestamp()), interaction_id=interaction_id, case_id=case_id,
                   author_kind=AuthorKind.system, author_user_id=None, direction=Direction.inbound, internal=True,
                   body_text="MMS : " + "; ".join(lines), created_at=now)
    session.add(note)
    session.flush()
    queue_event(session, CaseNoteAdded(case_id=case_id, message_id=note.id), now)


def do_receive_sms(session: Session, *, sms: InboundSms, settings: SmsSettings, config: ConversationConfig,
                   now: datetime) -> SmsOutcome:
    """Receive one text message in the caller's transaction (see the module docstring)."""
    if already_received(session, sms.key):
        return SmsOutcome("duplicate")
    number = normalise_identity(IdentityKind.phone, sms.sender, phone_region=settings.phone_region).value
    keyword = keyword_of(sms.text) if not sms.media and not sms.media_notes else None
    if keyword == "start" and not is_opted_out(session, number):
        keyword = None  # "Yes", "Start" from a number that never opted out: a message like any other
    if keyword is not None:
        changed = do_keyword(session, keyword=keyword, number=number, our_number=sms.to or None,
                             delivery_id=sms.key, confirm=settings.confirm_keywords, now=now)
        session.add(IdempotencyRecord(principal=KEYWORD_PRINCIPAL, key=sms.key, request_hash=keyword,
                                      status_code=200, response={"keyword": keyword, "changed": changed},
                                      created_at=now))
        session.flush()
        return SmsOutcome(("opted_out" if keyword == "stop" else "opted_in") if changed else "keyword_repeat")
    media, notes = media_within_limits(sms.media, config.limits)
    notes = [*sms.media_notes, *notes]
    customer = find_customer_by_identity(session, IdentityRef(IdentityKind.phone, number))
    live, reference = (_continuation(session, access_customer(session, customer.id).id) if customer is not None
                       else (None, None))
    text = sms.text[:config.limits.max_body_chars]
    if not text.strip() and not media:
        text = "(MMS)" if notes else "(SMS)"  # an empty message is still the customer's contact
    contact = InboundContact(
        channel=ChannelKind.sms, identities=[IdentityRef(IdentityKind.phone, number)],
        provider_message_id=sms.key, interaction_id=live, case_reference=reference,
        motif_code=settings.motif if live is None and reference is None else None,
        queue_code=_queue_for(session, sms, settings) if live is None else None,
        body_text=text, attachments=media, occurred_at=sms.received_at)
    result = do_receive_inbound(session, contact=contact, config=config, now=now)
    if result.duplicate:
        return SmsOutcome("duplicate", result.case_id, result.interaction_id)
    if notes:
        _note(session, result.case_id, result.interaction_id, notes, now)
    log.info("SMS %s received on case %s (interaction %s)", sms.key, result.case_id, result.interaction_id)
    return SmsOutcome("received", result.case_id, result.interaction_id)


def receive_sms(factory: sessionmaker[Session], *, sms: InboundSms, settings: SmsSettings,
                config: ConversationConfig) -> SmsOutcome:
    """``do_receive_sms`` in its own transaction, committed before the caller acknowledges the delivery.
    A lost race (the same delivery twice at once) is retried: the retry finds the other's receipt."""
    for attempt in range(4):
        try:
            with factory() as session, session.begin():
                return do_receive_sms(session, sms=sms, settings=settings, config=config, now=clock.now())
        except (IntegrityError, OperationalError) as exc:
            if attempt == 3 or not is_retryable(exc):
                raise
            log.info("inbound SMS raced a concurrent delivery (%s); retrying", type(exc.orig).__name__)
    raise AssertionError("unreachable")
