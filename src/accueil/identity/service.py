"""The one write path for users, sites, teams, skills and API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.i18n import LANGUAGES
from accueil.core.permissions import ROLE_SCOPES
from accueil.core.security import SCOPES, hash_api_token, hash_password, new_api_token, verify_password
from accueil.db.session import queue_event
from accueil.identity.events import StaffingChanged, TokenRevoked
from accueil.identity.models import (
    AgentSkill,
    ApiToken,
    Role,
    Site,
    SiteKind,
    Skill,
    SkillKind,
    Team,
    User,
    WebSession,
)


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
                   address: str | None = None, max_level: int = 3, motif_codes: list[str] | None = None) -> Site:
    site = Site(code=code, name=name, kind=kind, timezone=timezone, address=address, max_level=max_level,
                motif_codes=motif_codes)
    session.add(site)
    session.flush()
    queue_event(session, StaffingChanged(kind="site"))
    return site


def do_create_team(session: Session, *, site: Site, name: str, level: int = 1) -> Team:
    team = Team(site_id=site.id, name=name, level=level)
    session.add(team)
    session.flush()
    queue_event(session, StaffingChanged(kind="team"))
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
    queue_event(session, StaffingChanged(kind="user"))
    return user


def do_set_skill(session: Session, *, user: User, skill: Skill, level: int) -> None:
    """Level 1-5; 0 takes the skill away."""

    if not 0 <= level <= 5:
        raise ValidationFailed("validation_error", summary="skill level must be between 1 and 5 (0 removes it)")
    existing = session.get(AgentSkill, (user.id, skill.id))
    if level == 0:
        if existing is not None:
            session.delete(existing)
            session.flush()
            queue_event(session, StaffingChanged(kind="agent_skill"))
        return
    if existing is None:
        session.add(AgentSkill(user_id=user.id, skill_id=skill.id, level=level))
    else:
        existing.level = level
    session.flush()
    queue_event(session, StaffingChanged(kind="agent_skill"))


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
    queue_event(session, TokenRevoked(token_id=token.id), token.revoked_at)


# Web sign-in ------------------------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 10
# Verified when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = hash_password("accueil-no-such-user")


@dataclass(frozen=True)
class StartedSession:
    session: WebSession
    secret: str  # goes in the cookie; only its hash is stored


def check_login(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this username and password, or None (same cost whichever part is wrong)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.password_hash:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def do_start_web_session(session: Session, *, user: User, lifetime: timedelta, user_agent: str | None = None,
                         now: datetime | None = None) -> StartedSession:
    now = now or clock.now()
    secret = secrets.token_urlsafe(32)
    row = WebSession(user_id=user.id, token_hash=hash_api_token(secret), csrf_token=secrets.token_urlsafe(32),
                     user_agent=(user_agent or "")[:300] or None, created_at=now, last_seen_at=now,
                     expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return StartedSession(row, secret)


def authenticate_web_session(session: Session, secret: str, *, now: datetime | None = None) -> WebSession | None:
    """The live session this cookie secret opens (not ended, not expired, its user still active)."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_api_token(secret)))
    now = now or clock.now()
    if row is None or row.ended_at is not None or row.expires_at <= now or not row.user.active:
        return None
    return row


def do_touch_web_session(session: Session, *, session_id: str, lifetime: timedelta,
                         now: datetime | None = None) -> None:
    """Sliding expiry: a session in use stays open ``lifetime`` after its last request."""
    row = session.get(WebSession, session_id)
    if row is not None and row.ended_at is None:
        now = now or clock.now()
        row.last_seen_at = now
        row.expires_at = now + lifetime


def do_end_web_session(session: Session, *, session_id: str, now: datetime | None = None) -> None:
    row = session.get(WebSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now or clock.now()


def do_change_password(session: Session, *, user_id: str, current: str, new: str, keep_session_id: str | None = None,
                       now: datetime | None = None) -> None:
    """Change one's own password; every other browser signed in as this user is signed out."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("not_found", kind="user", id=user_id)
    if not verify_password(user.password_hash, current):
        raise ValidationFailed("wrong_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("password_too_short", limit=MIN_PASSWORD_LENGTH)
    if new == current:
        raise ValidationFailed("password_unchanged")
    user.password_hash = hash_password(new)
    _end_sessions(session, user_id, now or clock.now(), keep=keep_session_id)


def do_set_language(session: Session, *, user_id: str, language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationFailed("validation_error", summary=f"language must be one of {', '.join(LANGUAGES)}")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("not_found", kind="user", id=user_id)
    user.language = language


# Administration ---------------------------------------------------------------------------------------------


def do_update_user(session: Session, *, user_id: str, display_name: str | None = None, role: Role | None = None,
                   site_id: str | None = None, team_id: str | None = None, language: str | None = None,
                   email: str | None = None, active: bool | None = None, now: datetime | None = None) -> User:
    """Change a user's profile; deactivating them also signs them out everywhere."""

    user = session.get(User, user_id)
    if user is None:
        raise NotFound("not_found", kind="user", id=user_id)
    site = session.get(Site, site_id) if site_id else None
    if site_id and site is None:
        raise ValidationFailed("unknown_site", value=site_id)
    team = session.get(Team, team_id) if team_id else None
    if team_id and (team is None or (site is not None and team.site_id != site.id)):
        raise ValidationFailed("validation_error", summary="the team must belong to the user's site")
    new_role = role or user.role
    if new_role is Role.partner_agent and (site is None or site.kind is not SiteKind.partner):
        raise ValidationFailed("validation_error", summary="a partner agent belongs to a partner site")
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed("validation_error", summary=f"language must be one of {', '.join(LANGUAGES)}")
    if display_name is not None:
        if not display_name.strip() or len(display_name) > 200:
            raise ValidationFailed("validation_error", summary="display name: 1 to 200 characters")
        user.display_name = display_name.strip()
    if new_role is not user.role or (site.id if site else None) != user.site_id:  # API caches forget the user
        queue_event(session, TokenRevoked(user_id=user.id, reason="role_changed"))
    user.role, user.site_id, user.team_id = new_role, site.id if site else None, team.id if team else None
    if language is not None:
        user.language = language
    if email is not None:
        user.email = email.strip() or None
    if active is not None and active != user.active:
        user.active = active
        if not active:
            _end_sessions(session, user.id, now or clock.now())
    session.flush()
    queue_event(session, StaffingChanged(kind="user"))
    return user


def _end_sessions(session: Session, user_id: str, now: datetime, keep: str | None = None) -> None:
    open_sessions = select(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None),
                                             WebSession.id != (keep or ""))
    for row in session.scalars(open_sessions):
        row.ended_at = now


def do_set_password(session: Session, *, user_id: str, password: str, now: datetime | None = None) -> None:
    """An administrator sets a new password (a forgotten one): the user's open sessions end."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("not_found", kind="user", id=user_id)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("password_too_short", limit=MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(password)
    _end_sessions(session, user.id, now or clock.now())


def do_save_site(session: Session, *, code: str, name: str, kind: SiteKind, timezone: str = "Europe/Paris",
                 address: str | None = None, max_level: int = 3, motif_codes: list[str] | None = None) -> Site:
    """Create the site ``code`` or update it (``flows.sites.save_site`` first checks the motifs it names)."""
    if not code.strip() or len(code) > 40 or not name.strip():
        raise ValidationFailed("validation_error", summary="a site needs a code (≤ 40) and a name")
    if not 1 <= max_level <= 3:
        raise ValidationFailed("validation_error", summary="max level: 1 to 3")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed("validation_error", summary=f"unknown time zone {timezone!r}") from None
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        return do_create_site(session, code=code, name=name, kind=kind, timezone=timezone, address=address,
                              max_level=max_level, motif_codes=motif_codes)
    site.name, site.kind, site.timezone, site.address = name, kind, timezone, address
    site.max_level, site.motif_codes = max_level, motif_codes
    session.flush()
    queue_event(session, StaffingChanged(kind="site"))
    return site


def do_create_skill(session: Session, *, code: str, kind: str, label_fr: str, label_en: str) -> Skill:
    code = code.strip().lower()
    if not code or len(code) > 60 or not code.replace("_", "").isalnum():
        raise ValidationFailed("validation_error", summary="skill code: letters, digits and _")
    if kind not in {k.value for k in SkillKind}:
        raise ValidationFailed("validation_error", summary=f"skill kind: {', '.join(k.value for k in SkillKind)}")
    if session.scalar(select(Skill.id).where(Skill.code == code)) is not None:
        raise Conflict("validation_error", summary=f"skill {code!r} already exists")
    skill = Skill(code=code, kind=SkillKind(kind), label_fr=label_fr.strip() or code,
                  label_en=label_en.strip() or code)
    session.add(skill)
    session.flush()
    queue_event(session, StaffingChanged(kind="skill"))
    return skill
