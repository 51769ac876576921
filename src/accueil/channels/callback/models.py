"""Callbacks: a customer to call back at a given time, each attempt made, and what became of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accueil.conversations.models import Interaction
from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class CallbackStatus(enum.StrEnum):
    scheduled = "scheduled"  # waiting for its time (a durable job fires it)
    queued = "queued"  # due: an outbound call is in a queue for an agent, its outcome not yet known
    done = "done"  # the customer was reached
    closed = "closed"  # wrong number: never tried again
    exhausted = "exhausted"  # every attempt allowed by the retry policy went unanswered
    cancelled = "cancelled"


class CallbackSource(enum.StrEnum):
    """Where the request came from (stored in ``requested_by``)."""

    web = "web"  # website or help-centre form
    chat = "chat"  # chat widget
    ivr = "ivr"  # phone menu (virtual hold when it keeps the caller's place)
    agent = "agent"  # an agent, for the customer


class CallbackOutcome(enum.StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    voicemail = "voicemail"
    wrong_number = "wrong_number"


RETRIED_OUTCOMES = frozenset({CallbackOutcome.no_answer, CallbackOutcome.voicemail})


class Callback(IdMixin, Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_due", "status", "due_at"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    due_at: Mapped[datetime]
    queue_id: Mapped[str] = mapped_column(ForeignKey("queues.id"))
    status: Mapped[CallbackStatus] = mapped_column(enum_column(CallbackStatus), default=CallbackStatus.scheduled)
    requested_by: Mapped[str] = mapped_column(String(20))  # a CallbackSource value
    requested_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))  # the current attempt's
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Language of the customer's notifications, and the email they gave (when not known by identity).
    language: Mapped[str] = mapped_column(String(5), default="fr")
    email: Mapped[str | None] = mapped_column(String(320))
    asap: Mapped[bool] = mapped_column(default=False)  # "as soon as possible" rather than a chosen slot
    kept_position_of: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))  # virtual hold

    # Loaded with the callback: the console shows outcome buttons to the agent of the current attempt.
    interaction: Mapped[Interaction | None] = relationship(foreign_keys=[interaction_id], lazy="selectin")


class CallbackAttempt(IdMixin, Base):
    """One call made for a callback: its outbound interaction, who made it, and how it went."""

    __tablename__ = "callback_attempts"
    __table_args__ = (UniqueConstraint("callback_id", "number"),)

    callback_id: Mapped[str] = mapped_column(ForeignKey("callbacks.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3…
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[CallbackOutcome | None] = mapped_column(enum_column(CallbackOutcome))
    queued_at: Mapped[datetime]
    at: Mapped[datetime | None]  # when the outcome was recorded
