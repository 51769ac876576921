"""WhatsApp deliveries in, and the rule on what may go out.

In: one signed Cloud API delivery is one transaction — every message in it received through the one
door (``conversations.receive``, idempotent by ``wamid``), every status moving our deliveries forward —
and the webhook answers 200 only once it has committed, so Meta retries anything not stored. A message
continues the customer's live WhatsApp exchange (or their open WhatsApp case); otherwise it is a new
contact routed to ``ACCUEIL_WHATSAPP_QUEUE``. A file the customer sent is fetched afterwards by a
durable job through the Graph API and stored as an attachment within the usual limits.

Out: free text only within 24 hours of the customer's last message (``window.py``); outside it, only an
approved template (``templates.py``), checked in the reply's own transaction by a send policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.base import channels_of
from accueil.channels.messaging.outbox import do_record_status
from accueil.channels.whatsapp.adapter import MediaUnavailable
from accueil.channels.whatsapp.models import MediaStatus, WhatsappMedia
from accueil.channels.whatsapp.payload import WaDelivery, WaMessage
from accueil.channels.whatsapp.window import WindowState, window_state
from accueil.config import Settings
from accueil.conversations.content import AttachmentIn, safe_filename
from accueil.conversations.models import (
    Attachment,
    Case,
    CaseStatus,
    ChannelKind,
    Direction,
    Interaction,
    Message,
)
from accueil.conversations.receive import (
    ConversationConfig,
    InboundContact,
    conversation_config_of,
    do_receive_inbound,
    is_retryable,
    store_attachments,
)
from accueil.core import clock
from accueil.core.errors import ValidationFailed
from accueil.customers.models import Identity, IdentityKind
from accueil.customers.service import access_customer, normalise_identity
from accueil.db.jobs import do_schedule_job, job_handler

log = logging.getLogger(__name__)

MEDIA_KIND = "whatsapp.media"
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf",
              "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "video/mp4": ".mp4", "text/plain": ".txt"}


@dataclass
class DeliveryOutcome:
    received: int = 0
    duplicates: int = 0
    statuses: int = 0  # statuses of our own messages recorded (others are not ours: ignored)
    refused: int = 0  # messages from a WhatsApp id that is no valid number


def _where_it_goes(session: Session, customer_id: str) -> tuple[str | None, str | None]:
    """The customer's live WhatsApp exchange (the next line of it), else their open WhatsApp case."""
    latest = session.scalar(select(Interaction).where(
        Interaction.customer_id == customer_id, Interaction.channel == ChannelKind.whatsapp)
        .order_by(Interaction.arrived_at.desc()).limit(1))
    if latest is None:
        return None, None
    if latest.ended_at is None:
        return latest.id, None
    case = session.get(Case, latest.case_id)
    if case is not None and case.status in (CaseStatus.new, CaseStatus.open, CaseStatus.pending):
        return None, case.reference
    return None, None


def _contact(session: Session, message: WaMessage, *, config: ConversationConfig,
             settings: Settings) -> InboundContact:
    sender = normalise_identity(IdentityKind.whatsapp, message.wa_id, phone_region=config.phone_region)
    phone = normalise_identity(IdentityKind.phone, sender.value, phone_region=config.phone_region)
    owner = session.scalar(select(Identity.customer_id).where(Identity.kind == sender.kind,
                                                              Identity.value == sender.value))
    interaction_id = case_reference = None
    if owner is not None:
        interaction_id, case_reference = _where_it_goes(session, access_customer(session, owner).id)
    return InboundContact(
        channel=ChannelKind.whatsapp, identities=[sender, phone], provider_message_id=message.wamid,
        display_name=(message.profile_name or "")[:200] or None, body_text=message.text[:config.limits.max_body_chars],
        occurred_at=message.at, interaction_id=interaction_id, case_reference=case_reference,
        queue_code=settings.whatsapp_queue or None, motif_code=settings.whatsapp_motif or None,
    )


def do_receive_delivery(session: Session, *, delivery: WaDelivery, config: ConversationConfig, settings: Settings,
                        now: datetime | None = None) -> DeliveryOutcome:
    """Everything one delivery carries, in the caller's transaction (see the module docstring)."""
    now = now or clock.now()
    outcome = DeliveryOutcome()
    for message in delivery.messages:
        try:
            contact = _contact(session, message, config=config, settings=settings)
        except ValidationFailed:
            outcome.refused += 1  # not a phone number: nobody to answer; logged without the number
            log.warning("WhatsApp message %s from an invalid WhatsApp id left out", message.wamid)
            continue
        result = do_receive_inbound(session, contact=contact, config=config, now=now)
        if result.duplicate:
            outcome.duplicates += 1
            continue
        outcome.received += 1
        if message.media is not None:
            media = WhatsappMedia(message_id=result.message_id, media_id=message.media.media_id[:200],
                                  mime_type=message.media.mime_type[:120], sha256=message.media.sha256,
                                  filename=(message.media.filename or "")[:255] or None, created_at=now)
            session.add(media)
            session.flush()
            do_schedule_job(session, kind=MEDIA_KIND, run_at=now, payload={"media_id": media.id},
                            dedupe_key=f"{MEDIA_KIND}:{media.id}", max_attempts=6, fresh=True)
    providers = list(channels_of(session).by_kind.get(ChannelKind.whatsapp, {})) or ["cloud_api"]
    for status in delivery.statuses:
        for provider in providers:
            if do_record_status(session, provider=provider, provider_message_id=status.wamid, status=status.status,
                                at=status.at, error=status.error) is not None:
                outcome.statuses += 1
                break
    return outcome


def receive_delivery(factory: sessionmaker[Session], *, delivery: WaDelivery, config: ConversationConfig,
                     settings: Settings) -> DeliveryOutcome:
    """One transaction per delivery; the same delivery racing itself (Meta's retry) is tried again, and then
    finds what the other committed."""
    for attempt in range(4):
        try:
            with factory() as session, session.begin():
                return do_receive_delivery(session, delivery=delivery, config=config, settings=settings)
        except (IntegrityError, OperationalError) as exc:
            if attempt == 3 or not is_retryable(exc):
                raise
            log.info("WhatsApp delivery raced a concurrent one (%s); retrying", type(exc.orig).__name__)
    raise AssertionError("unreachable")


# --- the customer-service window ------------------------------------------------------------------------------

def last_inbound_at(session: Session, customer_id: str) -> datetime | None:
    """When the customer last wrote on WhatsApp (the time Meta stamped on their message)."""
    return session.scalar(select(func.max(Message.created_at)).join(Interaction, Message.interaction_id == Interaction.id)
                          .where(Interaction.customer_id == customer_id, Interaction.channel == ChannelKind.whatsapp,
                                 Message.direction == Direction.inbound))


def window_of(session: Session, customer_id: str, now: datetime) -> WindowState:
    return window_state(last_inbound_at(session, customer_id), now)


# --- files customers send ---------------------------------------------------------------------------------------

def _prepare_media(factory: sessionmaker[Session], payload: dict[str, Any]) -> dict[str, Any]:
    """Download outside any transaction (the network is slow; SQLite has one writer)."""
    with factory() as session:
        media = session.get(WhatsappMedia, payload["media_id"])
        if media is None or media.status != MediaStatus.pending:
            return {"skip": True}
        adapter = channels_of(session).get(ChannelKind.whatsapp)
        media_id = media.media_id
    fetch = getattr(adapter, "fetch_media", None)
    if fetch is None:
        return {"unavailable": "no WhatsApp provider configured"}
    try:
        data, content_type = fetch(media_id)
    except MediaUnavailable as exc:  # final; a network or HTTP error raises on, and the job retries
        return {"unavailable": str(exc)[:300]}
    return {"data": data, "content_type": content_type}


@job_handler(MEDIA_KIND, prepare=_prepare_media)
def _store_media(session: Session, payload: dict, now: datetime) -> None:
    media = session.get(WhatsappMedia, payload["media_id"])
    if payload.get("skip") or media is None or media.status != MediaStatus.pending:
        return
    if "unavailable" in payload:
        media.status, media.reason = MediaStatus.failed, payload["unavailable"]
        return
    config = conversation_config_of(session)
    data: bytes = payload["data"]
    content_type = payload["content_type"] or media.mime_type
    limits = config.limits
    if len(data) > limits.max_attachment_bytes:
        media.status, media.reason = MediaStatus.refused, f"larger than {limits.max_attachment_bytes} bytes"
        return
    if content_type.split(";")[0].strip().lower() not in limits.attachment_types:
        media.status, media.reason = MediaStatus.refused, f"type {content_type[:100]} not allowed"
        return
    message = session.get(Message, media.message_id)
    assert message is not None
    name = media.filename or f"whatsapp-{media.id[-8:]}{EXTENSIONS.get(content_type, '')}"
    store_attachments(session, message_id=message.id, created_at=message.created_at,
                      attachments=[AttachmentIn(filename=safe_filename(name), content_type=content_type, data=data)],
                      config=config)
    media.attachment_id = session.scalar(select(Attachment.id).where(Attachment.message_id == message.id)
                                         .order_by(Attachment.id.desc()).limit(1))
    media.status = MediaStatus.stored
