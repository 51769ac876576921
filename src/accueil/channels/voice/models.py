"""Calls seen through a telephony provider's CTI events: one row per provider call, beside its interaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin


class VoiceCall(IdMixin, Base):
    """What the interaction's own columns do not hold: the provider's ids, the IVR path, hold time, who hung
    up, the recording, and the abandon kind (in the IVR, in the queue, or a short abandon)."""

    __tablename__ = "voice_calls"
    __table_args__ = (UniqueConstraint("provider", "provider_call_id"),)

    provider: Mapped[str] = mapped_column(String(40))
    provider_call_id: Mapped[str] = mapped_column(String(120))
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"), index=True)
    caller: Mapped[str | None] = mapped_column(String(32))
    called: Mapped[str | None] = mapped_column(String(32))
    ivr_path: Mapped[list[Any]] = mapped_column(default=list)
    ivr_entered_at: Mapped[datetime | None]
    hold_started_at: Mapped[datetime | None]
    held_ms: Mapped[int] = mapped_column(Integer, default=0)
    hung_up_by: Mapped[str | None] = mapped_column(String(20))
    recording_ref: Mapped[str | None] = mapped_column(String(500))
    abandon_kind: Mapped[str | None] = mapped_column(String(10))  # ivr, queue, short
    callback_id: Mapped[str | None] = mapped_column(ForeignKey("callbacks.id"))  # the caller chose a callback
    last_event_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CtiReceipt(Base):
    """One row per CTI event already applied: a provider that delivers an event twice changes nothing."""

    __tablename__ = "cti_receipts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)


class IvrFlow(IdMixin, Base):
    """One IVR definition (see ``ivr.py``), kept whole as the document the admin edits, imports and exports."""

    __tablename__ = "ivr_flows"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)  # answers numbers no other flow claims
    definition: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
