"""API shapes for inbound contacts, cases, interactions and messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accueil.conversations.models import AuthorKind, CaseStatus, ChannelKind, Direction, Outcome
from accueil.customers.schemas import IdentityIn


class AttachmentUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=120)
    content_base64: str


class InboundIn(BaseModel):
    """One inbound contact. ``provider_message_id`` is the idempotency key: send it on every channel."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="voice, callback, chat, email, webform, sms, whatsapp, social, letter, visit")
    provider_message_id: str | None = Field(default=None, min_length=1, max_length=255)
    identities: list[IdentityIn] = Field(min_length=1, max_length=10)
    display_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, pattern="^(fr|en)$")
    motif: str | None = Field(default=None, max_length=60, description="motif code")
    queue: str | None = Field(default=None, max_length=60, description="queue code")
    case_reference: str | None = Field(default=None, max_length=32)
    interaction_id: str | None = Field(default=None, max_length=26)
    subject: str | None = Field(default=None, max_length=300)
    body_text: str = ""
    body_html: str | None = None
    attachments: list[AttachmentUpload] = Field(default_factory=list)
    occurred_at: datetime | None = Field(default=None, description="when the provider received it (UTC)")
    priority: int = Field(default=0, ge=0, le=9)


class InboundOut(BaseModel):
    customer_id: str
    case_id: str
    case_reference: str
    interaction_id: str
    message_id: str
    customer_created: bool
    case_created: bool
    duplicate: bool
    repeat_contact: bool
    queue_closed: str | None = Field(default=None, description="The queue was closed: reject or callback")


class MotifOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    parent_id: str | None
    label_fr: str
    label_en: str
    sla_hours: int | None


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str
    customer_id: str
    motif: MotifOut | None
    subject: str | None
    status: CaseStatus
    level: int
    priority: int
    sla_due_at: datetime | None
    team_id: str | None
    agent_id: str | None
    resolution_code: str | None
    reopen_count: int
    repeat_contact_count: int
    repeat_of_id: str | None
    first_channel: ChannelKind
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    interaction_id: str | None
    case_id: str
    author_kind: AuthorKind
    author_user_id: str | None
    direction: Direction
    internal: bool
    subject: str | None
    body_text: str
    body_html: str | None
    created_at: datetime
    attachments: list[AttachmentOut]


class InteractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    customer_id: str
    channel: ChannelKind
    direction: Direction
    queue_id: str | None
    agent_id: str | None
    arrived_at: datetime
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wrapup_ended_at: datetime | None
    outcome: Outcome | None
    is_repeat_contact: bool


class InteractionEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    at: datetime
    agent_id: str | None
    data: dict


class InteractionEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=40)
    at: datetime | None = None
    outcome: Outcome | None = None
    data: dict = Field(default_factory=dict)


class TimelineItem(BaseModel):
    interaction: InteractionOut
    case_reference: str
    case_status: CaseStatus
    motif_code: str | None
    preview: str


class CaseDetail(BaseModel):
    case: CaseOut
    interactions: list[InteractionOut]
    messages: list[MessageOut]


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body_text: str = ""
    body_html: str | None = None
    attachments: list[AttachmentUpload] = Field(default_factory=list)
    set_status: CaseStatus | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body_text: str = Field(min_length=1)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CaseStatus
    resolution_code: str | None = Field(default=None, max_length=60)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution_code: str = Field(min_length=1, max_length=60)


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="agent", max_length=60)


class CannedResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_fr: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    body_fr: str = Field(min_length=1, max_length=10_000)
    body_en: str = Field(min_length=1, max_length=10_000)
    motif: str | None = None
    active: bool = True


class CannedResponseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title_fr: str
    title_en: str
    body_fr: str
    body_en: str
    motif_id: str | None
    active: bool
    updated_at: datetime
