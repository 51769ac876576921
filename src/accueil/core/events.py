"""Domain events and the bus that carries them to live views and other processes.

Services queue events on their session (``db.session.queue_event``); they are published only after the
transaction commits, so nobody ever reacts to work that was rolled back. The in-process bus serves the
embedded mode; ``RedisEventBus`` fills the same interface for scale-out (several app processes).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Protocol

from accueil.core import clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, named ``domain.thing_happened`` (e.g. ``interaction.arrived``)."""

    name: str
    data: dict[str, Any]
    at: datetime = field(default_factory=clock.now)

    def to_json(self) -> str:
        payload = asdict(self)
        payload["at"] = clock.iso_z(self.at)
        return json.dumps(payload, default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        payload = json.loads(raw)
        return cls(name=payload["name"], data=payload["data"], at=datetime.fromisoformat(payload["at"]))


class DomainEvent:
    """Base of the typed events: a frozen dataclass per event, declared in its domain's ``events.py``.

    ``name`` is the public name (``domain.thing_happened``) that the live views, outbound webhooks,
    analytics and privacy see; the fields are the payload. ``envelope`` wraps it for the bus.
    """

    name: ClassVar[str]
    registry: ClassVar[dict[str, type[DomainEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in DomainEvent.registry and DomainEvent.registry[cls.name] is not cls:
                raise TypeError(f"event {cls.name!r} declared twice")
            DomainEvent.registry[cls.name] = cls

    def envelope(self, at: datetime | None = None) -> Event:
        # A payload key that is a Python keyword (``from``) is spelt with a trailing underscore.
        payload = {f.name.removesuffix("_"): getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        return Event(self.name, payload, at or clock.now())


def event_type(name: str) -> type[DomainEvent]:
    """The typed event of a published name (every published name has one: see docs/events.md)."""
    return DomainEvent.registry[name]


Handler = Callable[[Event], None]


class EventBus(Protocol):
    def publish(self, event: Event) -> None: ...

    def subscribe(self, handler: Handler, *, prefix: str = "") -> Callable[[], None]:
        """Call ``handler`` for every event whose name starts with ``prefix``; returns an unsubscribe."""
        ...


class InProcessEventBus:
    """Synchronous fan-out inside one process. A failing handler is logged and never breaks the caller."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()

    def publish(self, event: Event) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for prefix, handler in handlers:
            if event.name.startswith(prefix):
                try:
                    handler(event)
                except Exception:  # noqa: BLE001 - a subscriber must not break the publisher
                    log.exception("event handler failed for %s", event.name)

    def subscribe(self, handler: Handler, *, prefix: str = "") -> Callable[[], None]:
        entry = (prefix, handler)
        with self._lock:
            self._handlers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._handlers:
                    self._handlers.remove(entry)

        return unsubscribe


class RedisEventBus:
    """Pub/sub fan-out between processes: publish goes to Redis; a listener thread re-publishes locally.

    Every process delivers both its own and other processes' events to its local subscribers through
    the Redis round trip, so ordering is the same for all of them.
    """

    CHANNEL = "accueil:events"

    def __init__(self, url: str) -> None:
        import redis  # imported here: only scale-out deployments need the package

        self._redis = redis.Redis.from_url(url)
        self._local = InProcessEventBus()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{self.CHANNEL: self._on_message})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.05, daemon=True)

    def _on_message(self, message: dict[str, Any]) -> None:
        self._local.publish(Event.from_json(message["data"]))

    def publish(self, event: Event) -> None:
        self._redis.publish(self.CHANNEL, event.to_json())

    def subscribe(self, handler: Handler, *, prefix: str = "") -> Callable[[], None]:
        return self._local.subscribe(handler, prefix=prefix)

    def close(self) -> None:
        self._thread.stop()
        self._thread.join(timeout=2)  # let the listener leave its read before its socket closes
        self._pubsub.close()
        self._redis.close()


def make_event_bus(redis_url: str = "") -> EventBus:
    return RedisEventBus(redis_url) if redis_url else InProcessEventBus()
