"""Queues and their routing rules, agents' presence and capacity, and the work waiting or being handled.

The routing engine is pure; these rows are what it is restored from on each dispatch pass and where its
decisions land. ``routing_items`` holds only live work (waiting, offered, active, wrap-up): the history
is the interactions and their event log, so the table stays small and dispatch stays fast.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column
from accueil.routing.rules import media_of


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
    # Routing rules (see routing.rules.QueueRules).
    selection: Mapped[str] = mapped_column(String(20), default="best_skill")
    delivery: Mapped[str] = mapped_column(String(10), default="push")
    order_by: Mapped[str] = mapped_column(String(10), default="age")
    sites: Mapped[list[Any] | None] = mapped_column()  # site codes served first; null = every site
    # [{"after_seconds": 30, "min_skill_level": 2}, {"after_seconds": 120, "add_sites": ["lille"]}, ...]
    overflow: Mapped[list[Any]] = mapped_column(default=list)
    ring_timeout_seconds: Mapped[int] = mapped_column(Integer, default=20)
    callback_offer_after_seconds: Mapped[int | None] = mapped_column(Integer)
    default_handle_seconds: Mapped[int] = mapped_column(Integer, default=300)
    closed_behaviour: Mapped[str] = mapped_column(String(10), default="wait")
    closed_queue_id: Mapped[str | None] = mapped_column(ForeignKey("queues.id"))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class QueueSkill(Base):
    """A skill an agent needs to take the queue's work, from a minimum level (overflow may relax it)."""

    __tablename__ = "queue_skills"
    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 5", name="min_level_range"),)

    queue_id: Mapped[str] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    min_level: Mapped[int] = mapped_column(Integer, default=1)


class AgentState(Base):
    """An agent's presence now, their capacity per media, and since when they have been ready for work."""

    __tablename__ = "agent_states"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    presence: Mapped[str] = mapped_column(String(10), default="offline")
    reason: Mapped[str | None] = mapped_column(String(60))
    presence_since: Mapped[datetime] = mapped_column(default=clock.now)
    ready_since: Mapped[datetime] = mapped_column(default=clock.now)
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {} = the default capacities
    version: Mapped[int] = mapped_column(Integer, default=0)


class PresencePeriod(IdMixin, Base):
    """One stretch of one presence state: occupancy and schedule adherence are computed from these."""

    __tablename__ = "presence_periods"
    __table_args__ = (Index("ix_presence_periods_user_started", "user_id", "started_at"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    presence: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(60))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class RoutingItem(Base):
    """A live piece of work: one interaction waiting in a queue or held by an agent."""

    __tablename__ = "routing_items"
    __table_args__ = (
        Index("ix_routing_items_status_queue", "status", "queue_id"),
        Index("ix_routing_items_agent_status", "agent_id", "status"),
    )

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    queue_id: Mapped[str] = mapped_column(ForeignKey("queues.id"))
    media: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=1)
    skills: Mapped[list[Any]] = mapped_column(default=list)  # [[skill code, min level]] never relaxed
    arrived_at: Mapped[datetime]
    queued_at: Mapped[datetime]
    stage: Mapped[int] = mapped_column(Integer, default=0)
    sla_due_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    declined_by: Mapped[list[Any]] = mapped_column(default=list)
    pinned_agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    motif_id: Mapped[str | None] = mapped_column(ForeignKey("motifs.id"))  # the case's (partner scope)
    version: Mapped[int] = mapped_column(Integer, default=0)


# Dispatch reads waiting items by priority then age: walking this index avoids sorting the whole queue.
Index("ix_routing_items_waiting_order", RoutingItem.status, RoutingItem.priority.desc(), RoutingItem.arrived_at)


class RoutingConfigVersion(Base):
    """Bumped by every change to queues, skills, sites or agents, so each process recompiles its rules."""

    __tablename__ = "routing_config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


def routing_item_row(*, interaction_id: str, case_id: str, queue_id: str, channel: str, priority: int, level: int,
                     arrived_at: datetime, queued_at: datetime, sla_due_at: datetime | None,
                     skills: list[list], motif_id: str | None = None) -> dict:
    """The row that puts a new interaction in a queue (written by the inbound batch in its transaction)."""
    return {
        "interaction_id": interaction_id, "case_id": case_id, "queue_id": queue_id, "media": media_of(channel),
        "status": "waiting", "agent_id": None, "priority": priority, "level": level,
        "skills": skills, "arrived_at": arrived_at, "queued_at": queued_at, "stage": 0, "sla_due_at": sla_due_at,
        "offered_at": None, "offer_expires_at": None, "accepted_at": None, "declined_by": [],
        "pinned_agent_id": None, "motif_id": motif_id, "version": 0,
    }
