"""Who is asking, and what they may do: roles, the scopes each role's tokens may carry, the caller.

One ``Principal`` for every interface (an API token, a web session, a worker acting for a user), so the
domain rules that depend on the caller — the partner scope of ``conversations.scope`` among them —
never import the HTTP layer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from accueil.core.errors import PermissionDenied
from accueil.core.security import SCOPES


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"
    partner_agent = "partner_agent"


# The roles that take work (calls, chats, cases): everyone but administrators.
ROUTABLE_ROLES = (Role.agent, Role.partner_agent, Role.supervisor)

# The widest set of scopes each role's tokens may carry.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(SCOPES),
    Role.supervisor: frozenset(SCOPES) - {"admin"},
    Role.agent: frozenset({"contacts:write", "cases:read", "cases:write", "customers:read", "customers:write",
                           "routing:work"}),
    Role.partner_agent: frozenset({"cases:read", "cases:write", "customers:read", "routing:work"}),
}


@dataclass(frozen=True)
class Principal:
    """The caller: a user with a role and site, and the scopes of the credential they came with."""

    user_id: str
    username: str
    role: Role
    site_id: str | None
    scopes: frozenset[str]
    token_id: str

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied("missing_scope", scope=scope)
