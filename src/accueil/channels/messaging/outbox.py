"""An agent's answer on an SMS, WhatsApp or social-network exchange leaves through that channel's adapter:
durable, retried, and tracked until the provider says it was delivered or read.

In the reply's own transaction (``@reacts_to(MessageSent)``) the channel's send policies are asked
first — an opted-out number, a closed WhatsApp customer-service window… — and any of them may refuse by
raising: the reply is then not stored at all and the agent reads why, rather than a message that
silently never leaves. Otherwise a ``Delivery`` row (``queued``) and a ``message.send`` job are written:
the message exists if and only if its delivery does. The job sends through the runtime's adapter for the
channel and records the provider's message id; the provider's status callbacks then move the delivery
forward (``do_record_status``), never backwards, whatever order they arrive in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.base import OutboundMessage, channels_of
from accueil.channels.messaging.models import RANK, Delivery, DeliveryStatus
from accueil.channels.sms import segments as sms_segments
from accueil.conversations.events import MessageSent
from accueil.conversations.models import (
    Attachment,
    ChannelKind,
    Direction,
    Interaction,
    InteractionEvent,
    Message,
)
from accueil.core.errors import ValidationFailed
from accueil.core.events import Event
from accueil.customers.models import Identity, IdentityKind
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import SETTINGS, reacts_to, settings_of
from accueil.routing.models import Queue

SEND_KIND = "message.send"
RECIPIENT_KIND = {ChannelKind.sms: IdentityKind.phone, ChannelKind.whatsapp: IdentityKind.whatsapp,
                  ChannelKind.social: IdentityKind.social}
MESSAGING = frozenset(RECIPIENT_KIND)

# A send policy: looks at the exchange and the reply about to be sent; raises an AccueilError to refuse it.
SendPolicy = Callable[[Session, Interaction, Message], None]
_POLICIES: dict[ChannelKind, list[SendPolicy]] = {}
# What a channel adds to the outbound message of a delivery (a WhatsApp template's name and variables…).
OutboundExtra = Callable[[Session, Delivery, Message], Mapping[str, Any]]
_EXTRAS: dict[ChannelKind, list[OutboundExtra]] = {}


def send_policy(*kinds: ChannelKind) -> Callable[[SendPolicy], SendPolicy]:
    """Register a check every reply on these channels must pass before it is stored."""

    def register(policy: SendPolicy) -> SendPolicy:
        for kind in kinds:
            _POLICIES.setdefault(kind, []).append(policy)
        return policy

    return register


def outbound_extra(*kinds: ChannelKind) -> Callable[[OutboundExtra], OutboundExtra]:
    """Register what the sending job adds to ``OutboundMessage.extra`` on these channels."""

    def register(extra: OutboundExtra) -> OutboundExtra:
        for kind in kinds:
            _EXTRAS.setdefault(kind, []).append(extra)
        return extra

    return register


def recipient_of(session: Session, customer_id: str, channel: ChannelKind) -> str | None:
    """The customer's latest identity on that channel (the number or account they wrote from)."""
    return session.scalar(select(Identity.value).where(
        Identity.customer_id == customer_id, Identity.kind == RECIPIENT_KIND[channel])
        .order_by(Identity.created_at.desc()).limit(1))


def addressed_to(session: Session, interaction: Interaction) -> str | None:
    """The number an outbound interaction was started for (a campaign's SMS goes to the listed number, even
    when the customer has several), from its "arrived" entry's ``to``."""
    if interaction.direction is not Direction.outbound:
        return None
    data = session.scalar(select(InteractionEvent.data).where(InteractionEvent.interaction_id == interaction.id,
                                                              InteractionEvent.kind == "arrived").limit(1))
    return (data or {}).get("to") or None


def recipient_of_exchange(session: Session, interaction: Interaction) -> str | None:
    """Where a message on this exchange goes: the number it was started for, else the customer's latest."""
    return addressed_to(session, interaction) or recipient_of(session, interaction.customer_id, interaction.channel)


@reacts_to(MessageSent)
def schedule_messaging_reply(session: Session, event: Event) -> None:
    if SETTINGS not in session.info:
        return  # the demo's generated history, a bare script: nothing leaves
    interaction = session.get(Interaction, event.data["interaction_id"])
    if interaction is None or interaction.channel not in MESSAGING:
        return
    message = session.get(Message, event.data["message_id"])
    if message is None or message.internal:
        return
    for policy in _POLICIES.get(interaction.channel, ()):
        policy(session, interaction, message)
    to = recipient_of_exchange(session, interaction)
    if to is None:
        raise ValidationFailed("no_recipient", channel=interaction.channel.value)
    adapter = channels_of(session).get(interaction.channel)
    delivery = Delivery(message_id=message.id, channel=interaction.channel.value,
                        provider=adapter.name if adapter is not None else "none", recipient=to,
                        segments=sms_segments.count(message.body_text).segments
                        if interaction.channel is ChannelKind.sms else None, created_at=event.at)
    session.add(delivery)
    session.flush()
    do_schedule_job(session, kind=SEND_KIND, run_at=event.at, payload={"delivery_id": delivery.id},
                    dedupe_key=f"{SEND_KIND}:{delivery.id}", max_attempts=8, fresh=True)


@job_handler(SEND_KIND)
def _send(session: Session, payload: dict, now: datetime) -> None:
    delivery = session.get(Delivery, payload["delivery_id"])
    if delivery is None or delivery.status != DeliveryStatus.queued:
        return  # sent by an earlier attempt whose commit was recorded, or refused since
    adapter = channels_of(session).get(ChannelKind(delivery.channel))
    if adapter is None:
        raise RuntimeError(f"no {delivery.channel} provider configured")  # retried: configure it, it leaves
    message = session.get(Message, delivery.message_id)
    assert message is not None
    root = settings_of(session).attachments_dir
    attachments = [(a.filename, a.content_type, (root / a.storage_path).read_bytes())
                   for a in session.scalars(select(Attachment).where(Attachment.message_id == message.id))]
    interaction = session.get(Interaction, message.interaction_id) if message.interaction_id else None
    queue = session.scalar(select(Queue.code).where(Queue.id == interaction.queue_id)) \
        if interaction is not None and interaction.queue_id else None
    extra: dict[str, Any] = {"delivery_id": delivery.id, "attachments": attachments, "queue": queue}  # queue: its brand's sender
    for add in _EXTRAS.get(ChannelKind(delivery.channel), ()):
        extra.update(add(session, delivery, message))
    provider_id = adapter.send(OutboundMessage(to=delivery.recipient, text=message.body_text, extra=extra))
    delivery.provider, delivery.status, delivery.sent_at = adapter.name, DeliveryStatus.sent, now
    if isinstance(provider_id, str) and provider_id:
        delivery.provider_message_id = provider_id[:200]


def do_record_status(session: Session, *, provider: str, provider_message_id: str, status: str, at: datetime,
                     error: str | None = None) -> Delivery | None:
    """A provider's status callback; returns the delivery (None: not one of ours). Forward only."""
    delivery = session.scalar(select(Delivery).where(Delivery.provider == provider,
                                                     Delivery.provider_message_id == provider_message_id))
    if delivery is None:
        return None
    stamp = {DeliveryStatus.sent: "sent_at", DeliveryStatus.delivered: "delivered_at",
             DeliveryStatus.read: "read_at", DeliveryStatus.failed: "failed_at"}.get(status)
    if stamp is not None and getattr(delivery, stamp) is None:
        setattr(delivery, stamp, at)
    if status == DeliveryStatus.failed:
        delivery.error = (error or "failed")[:500]
        if delivery.status in (DeliveryStatus.queued, DeliveryStatus.sent):
            delivery.status = DeliveryStatus.failed
    elif RANK.get(status, -1) > RANK[delivery.status] and delivery.status != DeliveryStatus.failed:
        delivery.status = status
    return delivery
