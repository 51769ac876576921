"""API shapes for customers, identities and timelines."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accueil.customers.models import IdentityKind


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: IdentityKind
    value: str
    verified: bool
    created_at: datetime
    undeliverable_at: datetime | None = None  # mail to it bounced


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    preferred_language: str = Field(default="fr", pattern="^(fr|en)$")
    identities: list[IdentityIn] = Field(min_length=1, max_length=20)
    consent_email: bool = False
    consent_sms: bool = False


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    display_name: str | None
    preferred_language: str
    consent_email: bool
    consent_sms: bool
    consent_surveys: bool
    merged_into_id: str | None
    created_at: datetime
    identities: list[IdentityOut]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: str = Field(description="id of the customer that survives")
    reason: str | None = Field(default=None, max_length=500)


class MergeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    source_id: str
    target_id: str
    moved: dict[str, int]
    merged_at: datetime
