"""One outbound message handed to a messaging provider, and what the provider said became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin


class DeliveryStatus:
    queued = "queued"  # stored with the reply, its sending job scheduled
    sent = "sent"  # the provider took it (its message id is known)
    delivered = "delivered"  # on the customer's phone
    read = "read"  # opened (WhatsApp, Messenger)
    failed = "failed"  # the provider or the network gave up (the reason is kept)
    refused = "refused"  # accueil did not send it: opted out, outside the window… (the reason is kept)


# A status only moves forward: a "delivered" arriving after "read" (webhooks come out of order) changes nothing.
RANK = {DeliveryStatus.queued: 0, DeliveryStatus.sent: 1, DeliveryStatus.delivered: 2, DeliveryStatus.read: 3,
        DeliveryStatus.failed: 4, DeliveryStatus.refused: 4}


class Delivery(IdMixin, Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("provider", "provider_message_id"),)

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.queued)
    segments: Mapped[int | None] = mapped_column(Integer)  # SMS: the parts the text is billed as
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
