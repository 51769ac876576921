"""The composition root: settings, database engines, event bus, writers, adapters and caches, built once.

Everything a process needs lives on one ``Runtime`` object handed to the interfaces (the API, the web
pages, the CLI, the worker); nothing below this module reads module-level globals to find its
collaborators.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels import registry
from accueil.channels.base import ChannelAdapters
from accueil.config import Settings
from accueil.conversations.receive import CONVERSATION_CONFIG
from accueil.conversations.service import ConversationConfig
from accueil.conversations.writer import InboundWriter, InlineInboundWriter
from accueil.core.errors import Unauthenticated
from accueil.core.events import EventBus, make_event_bus
from accueil.core.permissions import ROLE_SCOPES, Principal
from accueil.core.security import LoginThrottle
from accueil.db import migrate
from accueil.db.session import (
    SETTINGS,
    attach_to_sessions,
    make_engine,
    make_read_session_factory,
    make_session_factory,
    write_lock_for,
)
from accueil.identity.events import TokenRevoked
from accueil.identity.service import authenticate_token
from accueil.knowledge.service import IndexCache
from accueil.routing import reactions as routing_reactions
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.enqueue import ArrivalDoor


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
    channels: ChannelAdapters = field(default_factory=ChannelAdapters)  # the channel adapters, by kind
    knowledge_index: IndexCache = field(default_factory=lambda: IndexCache())  # the help centre's search

    def __post_init__(self) -> None:
        self.bus.subscribe(self.principals.clear, prefix=TokenRevoked.name)


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


def build_runtime(settings: Settings) -> Runtime:
    url = settings.effective_database_url
    if settings.auto_migrate:
        migrate.upgrade(url)
    engine = make_engine(url)
    bus = make_event_bus(settings.redis_url)
    return make_runtime(settings, engine, bus)


# Reactions of one domain to another's events, run in the transaction that queues them (registered on import).
REACTIONS = (routing_reactions,)


def make_runtime(settings: Settings, engine: Engine, bus: EventBus) -> Runtime:
    factory, read_factory = make_session_factory(engine, bus), make_read_session_factory(engine)
    channels = registry.build_adapters(settings)
    channels.attach(factory, read_factory)  # every unit of work sends through this runtime's adapters
    config = ConversationConfig.from_settings(settings, work=ArrivalDoor())
    attach_to_sessions(factory, read_factory, **{SETTINGS: settings, CONVERSATION_CONFIG: config})
    writer = (InlineInboundWriter(factory, config, write_lock=write_lock_for(engine), max_batch=32)
              if engine.dialect.name == "sqlite" else InboundWriter(factory, config, threads=4))
    return Runtime(settings=settings, factory=factory, read_factory=read_factory, bus=bus,
                   conversation_config=config, inbound_writer=writer, channels=channels)


def lookup_principal(rt: Runtime, secret: str) -> Principal:
    """The caller behind an API token (its scopes capped by the user's current role)."""
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
