"""API shapes for users, sites, teams, skills and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accueil.identity.models import Role, SiteKind


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    kind: SiteKind
    timezone: str
    address: str | None
    max_level: int


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    site_id: str
    name: str
    level: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    role: Role
    site_id: str | None
    team_id: str | None
    language: str
    active: bool


class MeOut(UserOut):
    scopes: list[str]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] | None = None


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    token: str | None = Field(default=None, description="the secret, shown only once at creation")
