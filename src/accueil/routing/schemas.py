"""Request and response bodies of the routing API (presence, work, queue rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Literal["available", "paused", "offline"]
    reason: str | None = Field(default=None, max_length=60, description="Why paused (lunch, training, …)")


class OfferOut(BaseModel):
    interaction_id: str
    agent_id: str
    queue_id: str
    offered_at: datetime
    expires_at: datetime | None = Field(description="Accept before this, or it goes to someone else")


class HeldItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    interaction_id: str
    case_id: str
    queue_id: str
    media: str
    status: str
    priority: int
    arrived_at: datetime
    offered_at: datetime | None
    offer_expires_at: datetime | None
    accepted_at: datetime | None


class AgentRoutingOut(BaseModel):
    user_id: str
    presence: str
    reason: str | None
    presence_since: datetime
    capacity: dict[str, int]
    items: list[HeldItemOut]
    offers: list[OfferOut] = Field(default_factory=list, description="Work offered by this change")


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wrapup: bool = Field(default=False, description="Keep the capacity for after-call work until wrap-up ends")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str | None = Field(default=None, description="Queue code or id")
    agent: str | None = Field(default=None, description="Username or user id")


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str | None = Field(default=None, description="A queue of a higher level (code or id); omitted: "
                              "the next level up on the same channel, same motif first")
    reason: str | None = Field(default=None, max_length=500)


class ResultOut(BaseModel):
    offers: list[OfferOut]


class OverflowStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_seconds: float = Field(ge=0)
    min_skill_level: int | None = Field(default=None, ge=1, le=5)
    any_skill: bool = False
    add_sites: list[str] = Field(default_factory=list)
    to_queue: str | None = None


class QueueIn(BaseModel):
    """Create a queue (channel, names required) or change some of its fields."""

    model_config = ConfigDict(extra="forbid")

    channel: str | None = None
    name_fr: str | None = None
    name_en: str | None = None
    motif: str | None = None
    level: int | None = None
    priority: int | None = None
    target_kind: str | None = None
    target_percent: int | None = None
    target_seconds: int | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    timezone: str | None = None
    active: bool | None = None
    skills: dict[str, int] | None = Field(default=None, description="{skill code: minimum level 1–5}")
    selection: str | None = Field(default=None, description="best_skill or longest_idle")
    delivery: str | None = Field(default=None, description="push or pull (asynchronous channels only)")
    order_by: str | None = Field(default=None, description="age or sla")
    sites: list[str] | None = Field(default=None, description="Site codes served first; omit for every site")
    overflow: list[OverflowStepIn] | None = None
    ring_timeout_seconds: int | None = None
    callback_offer_after_seconds: int | None = None
    default_handle_seconds: int | None = None
    closed_behaviour: str | None = Field(default=None, description="wait, reject, callback or overflow")
    closed_queue: str | None = None


class QueueOut(BaseModel):
    id: str
    code: str
    name_fr: str
    name_en: str
    channel: str
    level: int
    priority: int
    active: bool
    target_kind: str
    target_percent: int
    target_seconds: int
    opening_hours: dict[str, Any]
    timezone: str
    skills: dict[str, int]
    selection: str
    delivery: str
    order_by: str
    sites: list[str] | None
    overflow: list[dict[str, Any]]
    ring_timeout_seconds: int
    callback_offer_after_seconds: int | None
    default_handle_seconds: int
    closed_behaviour: str
    closed_queue_id: str | None


class QueueLiveOut(BaseModel):
    id: str
    code: str
    name_fr: str
    name_en: str
    waiting: int
    oldest_waiting_since: datetime | None
    predicted_wait_seconds: float | None = Field(description="For a contact arriving now; null: nobody to answer")


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: dict[str, int] = Field(description='{"voice": 1, "chat": 3, "email": 10}; others keep defaults')


class SkillsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: dict[str, int] = Field(description="{skill code: level 1–5}")
