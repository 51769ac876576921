"""WhatsApp's own rows: the message templates Meta approved, which reply used which template, and the
files customers sent (fetched from the Graph API after the message is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin


class TemplateCategory:
    utility = "utility"  # an update on the customer's order, case, appointment…
    marketing = "marketing"
    authentication = "authentication"


CATEGORIES = (TemplateCategory.utility, TemplateCategory.marketing, TemplateCategory.authentication)


class WhatsappTemplate(IdMixin, Base):
    """A message template as registered with Meta (its name and language there), with ``{{1}}`` variables.

    Only an approved template may leave outside the 24-hour window; ``approved`` mirrors Meta's review."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("name", "language"),)

    name: Mapped[str] = mapped_column(String(120))  # Meta's template name: lower-case letters, digits, _
    language: Mapped[str] = mapped_column(String(5))  # fr or en
    category: Mapped[str] = mapped_column(String(20), default=TemplateCategory.utility)
    body: Mapped[str] = mapped_column(Text)  # "Bonjour {{1}}, votre dossier {{2}} …"
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class WhatsappTemplateUse(Base):
    """An agent's reply that is a template: what the Graph API is sent instead of free text."""

    __tablename__ = "whatsapp_template_uses"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("whatsapp_templates.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(5))
    variables: Mapped[list[Any]] = mapped_column(default=list)


class MediaStatus:
    pending = "pending"  # the message is stored; its file is being fetched (a durable job)
    stored = "stored"  # an attachment of the message
    refused = "refused"  # over the attachment limits (size, type): the reason is kept
    failed = "failed"  # the Graph API never gave it (the job's attempts ran out)


class WhatsappMedia(IdMixin, Base):
    __tablename__ = "whatsapp_media"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    media_id: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default=MediaStatus.pending)
    reason: Mapped[str | None] = mapped_column(String(300))
    attachment_id: Mapped[str | None] = mapped_column(ForeignKey("attachments.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
