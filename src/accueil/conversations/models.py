"""Motifs, cases, interactions, messages, attachments and the append-only interaction event log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class ChannelKind(enum.StrEnum):
    voice = "voice"
    callback = "callback"
    chat = "chat"
    email = "email"
    webform = "webform"
    sms = "sms"
    whatsapp = "whatsapp"
    social = "social"
    letter = "letter"
    visit = "visit"

    @property
    def synchronous(self) -> bool:
        """The customer waits on the line (answered in seconds) rather than within a delay."""
        return self in SYNCHRONOUS_CHANNELS


SYNCHRONOUS_CHANNELS = frozenset({ChannelKind.voice, ChannelKind.callback, ChannelKind.chat, ChannelKind.visit})


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class CaseStatus(enum.StrEnum):
    new = "new"
    open = "open"
    pending = "pending"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = frozenset({CaseStatus.new, CaseStatus.open, CaseStatus.pending})


class Outcome(enum.StrEnum):
    handled = "handled"
    abandoned = "abandoned"
    deflected = "deflected"
    missed = "missed"
    failed = "failed"


class AuthorKind(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    bot = "bot"
    system = "system"


class Motif(IdMixin, Base):
    """A contact reason, on two levels (family › motif), labelled in French and English."""

    __tablename__ = "motifs"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("motifs.id"), index=True)
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    sla_hours: Mapped[int | None] = mapped_column(Integer)  # the case's resolution deadline (wall-clock hours)
    # First personal reply targets of written contacts, per channel, over the business calendar
    # ({"letter": "10d"}); a channel not named keeps its default (conversations/reply_targets.py).
    reply_targets: Mapped[dict[str, Any] | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Motif | None] = relationship(remote_side="Motif.id")


class Case(IdMixin, Base):
    """What the customer needs; spans interactions on any channel until resolved."""

    __tablename__ = "cases"
    __table_args__ = (
        # "The customer's open case with this motif" and "resolved within the repeat window" are asked on
        # every inbound contact: one index answers both (and SQLite's planner, without statistics, would
        # otherwise pick a single-column index and scan every case of the motif).
        Index("ix_cases_customer_motif_status", "customer_id", "motif_id", "status"),
        Index("ix_cases_status_sla", "status", "sla_due_at"),
    )

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    motif_id: Mapped[str | None] = mapped_column(ForeignKey("motifs.id"))
    subject: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.new)
    level: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    sla_due_at: Mapped[datetime | None]
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    resolution_code: Mapped[str | None] = mapped_column(String(60))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Same-motif contacts from the same customer within the repeat window after resolution.
    repeat_contact_count: Mapped[int] = mapped_column(Integer, default=0)
    repeat_of_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    first_channel: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    motif: Mapped[Motif | None] = relationship()
    interactions: Mapped[list[Interaction]] = relationship(
        back_populates="case", order_by="Interaction.arrived_at"
    )


AWAITING_REPLY = text("reply_due_at IS NOT NULL AND answered_at IS NULL AND ended_at IS NULL")


class Interaction(IdMixin, Base):
    """One exchange on one channel; every KPI is computed from these rows and their events."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_id_id", "customer_id", "id"),  # the timeline: newest first
        Index("ix_interactions_channel_arrived", "channel", "arrived_at"),
        # Written work awaiting its first reply (the console's order, the wallboard's backlog): a partial
        # index, so it holds only the backlog and rows leave it once answered or ended.
        Index("ix_interactions_awaiting_reply", "reply_due_at", postgresql_where=AWAITING_REPLY,
              sqlite_where=AWAITING_REPLY),
    )

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    queue_id: Mapped[str | None] = mapped_column(ForeignKey("queues.id"), index=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    arrived_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wrapup_ended_at: Mapped[datetime | None]
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    is_repeat_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    # Written contacts: when the first personal reply is due (business calendar); None = no target.
    reply_due_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="interactions")
    messages: Mapped[list[Message]] = relationship(back_populates="interaction", order_by="Message.created_at")


class Message(IdMixin, Base):
    __tablename__ = "messages"

    # Internal notes belong to the case, not to an exchange with the customer: no interaction.
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    author_kind: Mapped[AuthorKind] = mapped_column(enum_column(AuthorKind))
    author_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # internal notes never reach customers
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)  # always sanitised before it is stored
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    interaction: Mapped[Interaction | None] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


class Attachment(IdMixin, Base):
    """Metadata in the database; the bytes live on disk under the data directory, named by id."""

    __tablename__ = "attachments"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    message: Mapped[Message] = relationship(back_populates="attachments")


class InteractionEvent(IdMixin, Base):
    """Append-only: durations (queue, talk, hold, wrap-up) are derived from these, never edited."""

    __tablename__ = "interaction_events"
    __table_args__ = (Index("ix_interaction_events_interaction_at", "interaction_id", "at"),)

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboundReceipt(Base):
    """The provider's message id of every inbound contact: a second delivery finds it and creates nothing."""

    __tablename__ = "inbound_receipts"
    # Provider id first: a batch looks its receipts up by provider id (the channel is checked after).
    __table_args__ = (UniqueConstraint("provider_message_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    provider_message_id: Mapped[str] = mapped_column(String(255))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"))
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"))
    received_at: Mapped[datetime] = mapped_column(default=clock.now)


class CaseCounter(Base):
    """The case-reference serial on SQLite (one writer at a time, so a row is enough).

    PostgreSQL uses the sequence ``CASE_REFERENCE_SEQUENCE`` instead: a counter row would be locked by
    every transaction that opens a case until it commits, and serialise all writers behind it.
    """

    __tablename__ = "case_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


CASE_REFERENCE_SEQUENCE = "case_reference_seq"


class CannedResponse(IdMixin, Base):
    """A ready-made answer agents insert and adapt; ``{customer_name}``-style variables are filled in."""

    __tablename__ = "canned_responses"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_fr: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    motif_id: Mapped[str | None] = mapped_column(ForeignKey("motifs.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
