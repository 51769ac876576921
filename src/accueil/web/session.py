"""Who is signed in to the web interface, and the CSRF checks every form goes through.

The session cookie is HttpOnly and SameSite=Lax and carries a random secret whose hash names a
``web_sessions`` row. Every state-changing request must carry that session's CSRF token (a form field,
or the ``X-CSRF-Token`` header that HTMX sends from ``<body hx-headers>``); the sign-in form, before any
session exists, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from accueil.core import clock
from accueil.core.errors import PermissionDenied
from accueil.core.permissions import ROLE_SCOPES, Principal
from accueil.identity.models import Role
from accueil.identity.service import authenticate_web_session, do_touch_web_session
from accueil.runtime import Runtime

SESSION_COOKIE = "accueil_session"
LOGIN_CSRF_COOKIE = "accueil_login_csrf"
LANGUAGE_COOKIE = "accueil_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
TOUCH_EVERY = timedelta(minutes=5)  # sliding expiry without a write on every request

STAFF = (Role.admin, Role.supervisor, Role.agent, Role.partner_agent)
SUPERVISORS = (Role.admin, Role.supervisor)


class LoginRequired(Exception):
    """No live session: pages redirect to the sign-in form, HTMX requests are told to go there."""


class CsrfFailed(Exception):
    """A state-changing request without its session's CSRF token (or with a wrong one)."""


@dataclass(frozen=True)
class WebUser:
    user_id: str
    username: str
    display_name: str
    role: Role
    site_id: str | None
    language: str
    session_id: str
    csrf_token: str

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISORS

    def principal(self) -> Principal:
        """The same caller as seen by the API's permission checks (scopes of the user's role)."""
        return Principal(user_id=self.user_id, username=self.username, role=self.role, site_id=self.site_id,
                         scopes=ROLE_SCOPES[self.role], token_id=f"web:{self.session_id}")


def session_lifetime(rt: Runtime) -> timedelta:
    return timedelta(hours=rt.settings.web_session_hours)


def _load(rt: Runtime, secret: str) -> WebUser | None:
    with rt.factory() as session, session.begin():
        now = clock.now()
        row = authenticate_web_session(session, secret, now=now)
        if row is None:
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            do_touch_web_session(session, session_id=row.id, lifetime=session_lifetime(rt), now=now)
        user = row.user
        return WebUser(user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                       site_id=user.site_id, language=user.language, session_id=row.id,
                       csrf_token=row.csrf_token)


async def current_user(request: Request) -> WebUser:
    """Dependency: the signed-in user, or LoginRequired."""
    cached = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired()
    user = await run_in_threadpool(_load, request.app.state.runtime, secret)
    if user is None:
        raise LoginRequired()
    request.state.web_user = user
    return user


def require_role(user: WebUser, roles: tuple[Role, ...]) -> None:
    if user.role not in roles:
        raise PermissionDenied("forbidden")


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


async def check_csrf(request: Request, user: WebUser) -> None:
    """The request must carry the session's CSRF token, in the header (HTMX) or the form."""
    given = request.headers.get(CSRF_HEADER)
    if not given:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(given, user.csrf_token):
        raise CsrfFailed()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def cookie_options(rt: Runtime) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": rt.settings.web_cookie_secure, "path": "/"}
