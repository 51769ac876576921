"""Sites, teams, users (agents, supervisors, admins), skills and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accueil.core import clock
from accueil.core.permissions import Role
from accueil.db.base import Base, IdColumn, IdMixin


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """Enums stored as their value in a plain string column: portable, readable, easy to migrate."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class SiteKind(enum.StrEnum):
    in_house = "in_house"
    partner = "partner"
    agency = "agency"


class SkillKind(enum.StrEnum):
    motif = "motif"
    language = "language"
    channel = "channel"


class Site(IdMixin, Base):
    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SiteKind] = mapped_column(enum_column(SiteKind))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    address: Mapped[str | None] = mapped_column(String(400))
    max_level: Mapped[int] = mapped_column(Integer, default=3)
    # Motif codes a partner site handles (its agents see only those cases); None = every motif.
    motif_codes: Mapped[list[Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Team(IdMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    site: Mapped[Site] = relationship()


class User(IdMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), index=True)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    site: Mapped[Site | None] = relationship()
    team: Mapped[Team | None] = relationship()
    skills: Mapped[list[AgentSkill]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Skill(IdMixin, Base):
    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[SkillKind] = mapped_column(enum_column(SkillKind))
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)

    user: Mapped[User] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship()


class ApiToken(IdMixin, Base):
    """A bearer token; only its SHA-256 is stored, so a database leak does not leak tokens."""

    __tablename__ = "api_tokens"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebSession(IdMixin, Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored, so sessions can be
    listed and ended one by one (logout, password change) and a database leak opens none of them."""

    __tablename__ = "web_sessions"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


_ = IdColumn  # re-exported type used by other domains' foreign keys
