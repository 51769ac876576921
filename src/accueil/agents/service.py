"""The one write path for users, sites, teams, skills and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.agents.models import ApiToken, Role, Site, SiteKind, Skill, Team, User
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.events import Event
from accueil.core.security import SCOPES, hash_api_token, hash_password, new_api_token
from accueil.db.session import queue_event
from accueil.routing.config_loader import bump_config_version

# The widest set of scopes each role's tokens may carry.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(SCOPES),
    Role.supervisor: frozenset(SCOPES) - {"admin"},
    Role.agent: frozenset({"contacts:write", "cases:read", "cases:write", "customers:read", "customers:write",
                           "routing:work"}),
    Role.partner_agent: frozenset({"cases:read", "cases:write", "customers:read", "routing:work"}),
}


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is kept


def access_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("not_found", kind="user", id=username)
    return user


def do_create_site(session: Session, *, code: str, name: str, kind: SiteKind, timezone: str = "Europe/Paris",
                   address: str | None = None, max_level: int = 3) -> Site:
    site = Site(code=code, name=name, kind=kind, timezone=timezone, address=address, max_level=max_level)
    session.add(site)
    session.flush()
    bump_config_version(session)
    return site


def do_create_team(session: Session, *, site: Site, name: str, level: int = 1) -> Team:
    team = Team(site_id=site.id, name=name, level=level)
    session.add(team)
    session.flush()
    bump_config_version(session)
    return team


def do_create_user(
    session: Session, *, username: str, display_name: str, role: Role, password: str | None = None,
    email: str | None = None, site: Site | None = None, team: Team | None = None, language: str = "fr",
) -> User:
    username = username.strip().lower()
    if not username or len(username) > 80 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise ValidationFailed("validation_error", summary=f"invalid username {username!r}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("validation_error", summary=f"username {username!r} already exists")
    if role is Role.partner_agent and (site is None or site.kind is not SiteKind.partner):
        raise ValidationFailed("validation_error", summary="a partner agent belongs to a partner site")
    user = User(
        username=username, display_name=display_name, role=role, email=email,
        password_hash=hash_password(password) if password else None,
        site_id=site.id if site else None, team_id=team.id if team else None, language=language,
    )
    session.add(user)
    session.flush()
    bump_config_version(session)
    return user


def do_set_skill(session: Session, *, user: User, skill: Skill, level: int) -> None:
    from accueil.agents.models import AgentSkill

    if not 1 <= level <= 5:
        raise ValidationFailed("validation_error", summary="skill level must be between 1 and 5")
    existing = session.get(AgentSkill, (user.id, skill.id))
    if existing is None:
        session.add(AgentSkill(user_id=user.id, skill_id=skill.id, level=level))
    else:
        existing.level = level
    session.flush()
    bump_config_version(session)


def do_create_api_token(session: Session, *, user: User, name: str, scopes: list[str] | None = None,
                        now: datetime | None = None) -> CreatedToken:
    allowed = ROLE_SCOPES[user.role]
    wanted = set(scopes) if scopes else set(allowed)
    unknown = wanted - set(SCOPES)
    if unknown:
        raise ValidationFailed("invalid_scope", value=sorted(unknown)[0], allowed=sorted(SCOPES))
    if not wanted <= allowed:
        raise ValidationFailed("invalid_scope", value=sorted(wanted - allowed)[0], allowed=sorted(allowed))
    secret = new_api_token()
    token = ApiToken(
        user_id=user.id, name=name, prefix=secret[:12], token_hash=hash_api_token(secret),
        scopes=" ".join(sorted(wanted)), created_at=now or clock.now(),
    )
    session.add(token)
    session.flush()
    return CreatedToken(token, secret)


def authenticate_token(session: Session, secret: str) -> ApiToken | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token


def do_revoke_api_token(session: Session, *, token_id: str, now: datetime | None = None) -> None:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("not_found", kind="token", id=token_id)
    token.revoked_at = now or clock.now()
    queue_event(session, Event("token.revoked", {"token_id": token.id}, token.revoked_at))
