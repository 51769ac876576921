"""What changes among users, sites, teams, skills and tokens (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class StaffingChanged(DomainEvent):
    """A user, site, team or skill was created or changed: routing recompiles its rules (every process)."""

    name: ClassVar[str] = "identity.staffing_changed"
    kind: str  # "user", "site", "team", "skill", "agent_skill"


@dataclass(frozen=True)
class TokenRevoked(DomainEvent):
    """An API token was revoked, or a user's role changed: every process forgets the tokens it cached."""

    name: ClassVar[str] = "token.revoked"
    token_id: str | None = None
    user_id: str | None = None
    reason: str | None = None
