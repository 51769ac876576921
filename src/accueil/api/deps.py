"""What every API handler needs: the app's runtime, the caller (token + scopes) and their language."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from accueil.agents.models import Role
from accueil.agents.service import authenticate_token
from accueil.config import Settings
from accueil.conversations.service import ConversationConfig
from accueil.core import clock
from accueil.core.errors import PermissionDenied, Unauthenticated
from accueil.core.events import EventBus
from accueil.core.i18n import pick_language
from accueil.core.idempotency import do_remember_response, find_replay, request_fingerprint


@dataclass
class Runtime:
    """Everything built once per app: settings, database, event bus."""

    settings: Settings
    factory: sessionmaker[Session]
    bus: EventBus
    conversation_config: ConversationConfig


@dataclass(frozen=True)
class Principal:
    user_id: str
    username: str
    role: Role
    site_id: str | None
    scopes: frozenset[str]
    token_id: str

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied("missing_scope", scope=scope)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def session_dep(rt: Runtime = Depends(runtime)) -> Iterator[Session]:
    """A read session; writes open their own transaction through the runtime's factory."""
    with rt.factory() as session:
        yield session


def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"), request.app.state.runtime.settings.default_language)


def principal(request: Request, rt: Runtime = Depends(runtime)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("unauthenticated")
    with rt.factory() as session:
        token = authenticate_token(session, secret.strip())
        if token is None:
            raise Unauthenticated("unauthenticated")
        found = Principal(
            user_id=token.user_id, username=token.user.username, role=token.user.role,
            site_id=token.user.site_id, scopes=frozenset(token.scopes.split()), token_id=token.id,
        )
    return found


def needs(scope: str) -> Callable[..., Principal]:
    """Dependency: the caller must hold ``scope``."""

    def check(caller: Principal = Depends(principal)) -> Principal:
        caller.require(scope)
        return caller

    check.__name__ = f"needs_{scope.replace(':', '_')}"
    return check


async def run_idempotent(
    request: Request, rt: Runtime, caller: Principal, status_code: int, work: Callable[[Session], Any]
) -> tuple[int, Any]:
    """Run ``work`` in one transaction; with an ``Idempotency-Key`` a repeat returns the stored answer."""
    from starlette.concurrency import run_in_threadpool

    key = request.headers.get("idempotency-key")
    body = await request.body()

    def transaction() -> tuple[int, Any]:
        with rt.factory() as session, session.begin():
            if key:
                fingerprint = request_fingerprint(request.method, request.url.path, body)
                replay = find_replay(session, principal=caller.user_id, key=key, fingerprint=fingerprint)
                if replay is not None:
                    return replay.status_code, replay.response
            result = work(session)
            payload = json.loads(result.model_dump_json()) if hasattr(result, "model_dump_json") else result
            if key:
                do_remember_response(
                    session, principal=caller.user_id, key=key, fingerprint=fingerprint,
                    status_code=status_code, response=payload,
                )
            return status_code, payload

    return await run_in_threadpool(transaction)


def utc_now() -> Any:
    return clock.now()
