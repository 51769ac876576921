"""Outbound campaigns: the list to call (or write to), every attempt with the law's verdict at dial time,
the opposition list (Bloctel-style) and the consents that lift the legal hours.

An attempt row is written for every dial the dialer *considered*: ``placed`` is False when the law refused
it (nothing was dialled; the verdict's reason and article say why), True when the call was made. The
compliance report is computed from these rows alone.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accueil.channels.outbound.law import Purpose
from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class CampaignChannel(enum.StrEnum):
    voice = "voice"
    sms = "sms"
    email = "email"


class CampaignMode(enum.StrEnum):
    preview = "preview"  # the agent sees the customer, then dials
    progressive = "progressive"  # the next call is placed when an agent of the campaign's queue is free


class CampaignStatus(enum.StrEnum):
    draft = "draft"
    running = "running"
    paused = "paused"
    finished = "finished"


class TargetStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next attempt (``next_attempt_at``)
    in_call = "in_call"  # an agent has it on screen or on the line
    done = "done"  # a final outcome (reached, sale, refused, wrong number)
    exhausted = "exhausted"  # the campaign's attempts ran out
    excluded = "excluded"  # never called: opposition list, no number… (``excluded_reason``)


class AttemptOutcome(enum.StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    busy = "busy"
    voicemail = "voicemail"
    wrong_number = "wrong_number"
    refused = "refused"  # the consumer refused the offer: sixty days of quiet (art. D. 223-9)
    sale = "sale"
    sent = "sent"  # an SMS or email campaign's message left (its delivery says whether it arrived)


RETRIED = frozenset({AttemptOutcome.no_answer, AttemptOutcome.busy, AttemptOutcome.voicemail})
REACHED = frozenset({AttemptOutcome.reached, AttemptOutcome.refused, AttemptOutcome.sale})


class Campaign(IdMixin, Base):
    __tablename__ = "campaigns"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose), default=Purpose.prospecting)
    channel: Mapped[CampaignChannel] = mapped_column(enum_column(CampaignChannel), default=CampaignChannel.voice)
    mode: Mapped[CampaignMode] = mapped_column(enum_column(CampaignMode), default=CampaignMode.preview)
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus), default=CampaignStatus.draft)
    queue_id: Mapped[str | None] = mapped_column(ForeignKey("queues.id"))  # progressive: whose agents call
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)  # per target, within the law's 4 in 30 days
    retry_delay_minutes: Mapped[int] = mapped_column(Integer, default=240)
    subject: Mapped[str | None] = mapped_column(String(300))  # email campaigns
    template: Mapped[str | None] = mapped_column(Text)  # SMS / email text, ``{name}``-style variables
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CampaignTarget(IdMixin, Base):
    """One person to reach: a known customer, or a prospect known only by a number or an address."""

    __tablename__ = "campaign_targets"
    __table_args__ = (Index("ix_campaign_targets_next", "campaign_id", "status", "next_attempt_at"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[TargetStatus] = mapped_column(enum_column(TargetStatus), default=TargetStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # placed calls only
    next_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[AttemptOutcome | None] = mapped_column(enum_column(AttemptOutcome))
    excluded_reason: Mapped[str | None] = mapped_column(String(60))
    skipped_reason: Mapped[str | None] = mapped_column(String(60))  # the law's last refusal (rescheduled)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # who has it while in_call
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))  # the case its calls are recorded on
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CampaignAttempt(IdMixin, Base):
    """A dial considered by the dialer, with the law's verdict at that instant; placed or refused."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (Index("ix_campaign_attempts_phone_started", "phone", "started_at"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("campaign_targets.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    timezone: Mapped[str] = mapped_column(String(40))  # the consumer's, for the legal hours
    consent: Mapped[bool] = mapped_column(Boolean, default=False)  # a recorded consent at dial time
    on_opposition_list: Mapped[bool] = mapped_column(Boolean, default=False)
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)  # a contract in force (L. 223-1)
    placed: Mapped[bool] = mapped_column(Boolean, default=False)  # False: the law refused, nothing dialled
    verdict_reason: Mapped[str | None] = mapped_column(String(40))
    verdict_article: Mapped[str | None] = mapped_column(String(120))
    next_allowed_at: Mapped[datetime | None]
    dialled_by: Mapped[str | None] = mapped_column(String(40))  # the provider, or "hand" (no provider)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[AttemptOutcome | None] = mapped_column(enum_column(AttemptOutcome))
    sale_amount_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))

    target: Mapped[CampaignTarget] = relationship(lazy="selectin")


class OppositionNumber(IdMixin, Base):
    """A number registered on the opposition list (art. L. 223-1), from an imported file."""

    __tablename__ = "opposition_numbers"

    phone: Mapped[str] = mapped_column(String(32), unique=True)  # E.164
    source_file: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime]


class ProspectingConsent(IdMixin, Base):
    """A consumer's express, prior consent to be called outside the legal hours, and its proof."""

    __tablename__ = "prospecting_consents"

    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    given_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(500))  # the proof: form, recording reference, signed paper…
    recorded_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]
