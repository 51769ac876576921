"""Queues: where work waits, with a target and opening hours (routing itself comes with the engine)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accueil.agents.models import enum_column
from accueil.core import clock
from accueil.db.base import Base, IdMixin


class TargetKind(enum.StrEnum):
    service_level = "service_level"  # synchronous: X % answered within T seconds
    reply_delay = "reply_delay"  # asynchronous: X % first replies within T seconds


class Queue(IdMixin, Base):
    __tablename__ = "queues"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    motif_id: Mapped[str | None] = mapped_column(ForeignKey("motifs.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    target_percent: Mapped[int] = mapped_column(Integer, default=80)
    target_seconds: Mapped[int] = mapped_column(Integer, default=20)
    # {"mon": [["08:30", "18:00"]], ...} in the queue's time zone; empty means always open.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
