"""What every API handler needs: the app's runtime, the caller (token + scopes) and their language."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from accueil.config import Settings
from accueil.conversations.intake import InboundWriter
from accueil.conversations.service import ConversationConfig
from accueil.core.errors import PermissionDenied, Unauthenticated
from accueil.core.events import EventBus
from accueil.core.i18n import pick_language
from accueil.core.security import LoginThrottle
from accueil.db.idempotency import do_remember_response, find_replay, request_fingerprint
from accueil.identity.models import Role
from accueil.identity.service import ROLE_SCOPES, authenticate_token
from accueil.routing.config_loader import RoutingConfigCache


@dataclass
class Runtime:
    """Everything built once per app: settings, database, event bus."""

    settings: Settings
    factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    bus: EventBus
    conversation_config: ConversationConfig
    inbound_writer: InboundWriter
    principals: PrincipalCache = field(default_factory=lambda: PrincipalCache())
    routing_rules: RoutingConfigCache = field(default_factory=lambda: RoutingConfigCache())
    login_throttle: LoginThrottle = field(default_factory=lambda: LoginThrottle())

    def __post_init__(self) -> None:
        self.bus.subscribe(self.principals.clear, prefix="token.revoked")


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


async def runtime(request: Request) -> Runtime:
    # ``async`` on purpose: FastAPI runs plain ``def`` dependencies in its thread pool (a hop per request).
    return request.app.state.runtime


def session_dep(rt: Runtime = Depends(runtime)) -> Iterator[Session]:
    """A read session; writes open their own transaction through the runtime's factory."""
    with rt.read_factory() as session:
        yield session


async def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"), request.app.state.runtime.settings.default_language)


class PrincipalCache:
    """Recently verified tokens, so a busy integration does not cost a database read per request.

    An entry lives at most ``ttl`` seconds; revoking a token publishes ``token.revoked``, which empties
    the cache of every process listening on the event bus at once.
    """

    def __init__(self, ttl: float = 10.0, size: int = 1024) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self.inflight: dict[str, asyncio.Future[Principal]] = {}
        self._lock = threading.Lock()

    def get(self, secret: str) -> Principal | None:
        entry = self._entries.get(secret)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, secret: str, found: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[secret] = (time.monotonic() + self.ttl, found)

    def clear(self, _event: object = None) -> None:
        with self._lock:
            self._entries.clear()


def _lookup_principal(rt: Runtime, secret: str) -> Principal:
    with rt.read_factory() as session:
        token = authenticate_token(session, secret)
        if token is None:
            raise Unauthenticated("unauthenticated")
        return Principal(
            user_id=token.user_id, username=token.user.username, role=token.user.role,
            # capped by the user's role now, not only when the token was made: a demotion takes effect
            site_id=token.user.site_id, scopes=frozenset(token.scopes.split()) & ROLE_SCOPES[token.user.role],
            token_id=token.id,
        )


async def principal(request: Request, rt: Runtime = Depends(runtime)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("unauthenticated")
    found = rt.principals.get(secret)
    if found is not None:
        return found
    # One database check per token at a time: concurrent requests with the same token wait for it.
    inflight = rt.principals.inflight
    if secret not in inflight:
        inflight[secret] = asyncio.ensure_future(run_in_threadpool(_lookup_principal, rt, secret))
        inflight[secret].add_done_callback(lambda _task: inflight.pop(secret, None))
    found = await asyncio.shield(inflight[secret])
    rt.principals.put(secret, found)
    return found


def needs(scope: str) -> Callable[..., Principal]:
    """Dependency: the caller must hold ``scope``."""

    async def check(caller: Principal = Depends(principal)) -> Principal:
        caller.require(scope)
        return caller

    check.__name__ = f"needs_{scope.replace(':', '_')}"
    return check


async def run_idempotent(
    request: Request, rt: Runtime, caller: Principal, status_code: int, work: Callable[[Session], Any]
) -> tuple[int, Any]:
    """Run ``work`` in one transaction; with an ``Idempotency-Key`` a repeat returns the stored answer."""
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
