"""Callbacks: a customer to call back at a given time, and what became of the call."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accueil.agents.models import enum_column
from accueil.core import clock
from accueil.db.base import Base, IdMixin


class CallbackStatus(enum.StrEnum):
    scheduled = "scheduled"  # waiting for its time (a durable job fires it)
    queued = "queued"  # due: an outbound call is in the callback queue for an agent
    cancelled = "cancelled"


class Callback(IdMixin, Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_due", "status", "due_at"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    due_at: Mapped[datetime]
    queue_id: Mapped[str] = mapped_column(ForeignKey("queues.id"))
    status: Mapped[CallbackStatus] = mapped_column(enum_column(CallbackStatus), default=CallbackStatus.scheduled)
    requested_by: Mapped[str] = mapped_column(String(20))  # agent, customer, ivr, web
    requested_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
