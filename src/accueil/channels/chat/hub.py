"""Live fan-out to the visitors' sockets of this process, driven by the event bus (no polling).

One hub per app subscribes to the bus once. Events arrive on the publisher's thread (with Redis, from
every process); the hub only looks up which of its sockets care and hands the work to the event loop.
Database work (numbering an agent's reply, reading queue positions) runs in the thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.chat import service
from accueil.channels.chat.events import ChatAgentTyping, ChatStarted
from accueil.channels.chat.service import queue_status
from accueil.channels.chat.writer import ChatWriter
from accueil.conversations.events import CaseStatusChanged, MessageSent
from accueil.core import clock
from accueil.core.events import Event, EventBus
from accueil.identity.models import User
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.events import (
    InteractionArrived,
    RoutingAccepted,
    RoutingEnded,
    RoutingOffered,
    RoutingRequeued,
)


class Connection(Protocol):
    """What the hub needs of a visitor's socket (``chat/api.py`` holds the real one)."""

    chat_id: str
    interaction_id: str
    case_id: str
    agent_id: str | None
    agent_name: str | None

    def send(self, frame: dict) -> None: ...

    def send_entry(self, frame: dict) -> None: ...

    def joined(self, name: str) -> None: ...

    def queue(self, position: int, wait_seconds: float | None) -> None: ...

log = logging.getLogger(__name__)

QUEUE_REFRESH_DELAY = 0.3  # routing changes within this delay share one read of the queue positions
ENDED_CASE_STATUSES = ("resolved", "closed")


class ChatHub:
    def __init__(self, *, factory: sessionmaker[Session], read_factory: sessionmaker[Session], bus: EventBus,
                 rules: RoutingConfigCache, loop: asyncio.AbstractEventLoop) -> None:
        self.read_factory, self.rules, self.loop = read_factory, rules, loop
        self.by_interaction: dict[str, set[Connection]] = {}
        self.by_case: dict[str, set[Connection]] = {}
        self.rates: dict[str, deque[float]] = {}  # chat id -> times of its recent messages
        self.writer = ChatWriter(factory)
        self._queue_refresh: asyncio.TimerHandle | None = None
        self._unsubscribe: list[Callable[[], None]] = [
            bus.subscribe(self._on_event, prefix=prefix)
            for prefix in (MessageSent.name, "routing.", InteractionArrived.name, CaseStatusChanged.name, "chat.")
        ]

    @classmethod
    def of(cls, app: Any) -> ChatHub:
        """The app's hub, made on first use by a socket (on the event loop's thread)."""
        hub = getattr(app.state, "chat_hub", None)
        if hub is None:
            rt = app.state.runtime
            hub = app.state.chat_hub = cls(factory=rt.factory, read_factory=rt.read_factory, bus=rt.bus,
                                           rules=rt.routing_rules, loop=asyncio.get_running_loop())
        return hub

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.writer.stop()

    # Sockets ----------------------------------------------------------------------------------------------

    def attach(self, connection: Connection) -> None:
        self.by_interaction.setdefault(connection.interaction_id, set()).add(connection)
        self.by_case.setdefault(connection.case_id, set()).add(connection)

    def detach(self, connection: Connection) -> None:
        for index, key in ((self.by_interaction, connection.interaction_id), (self.by_case, connection.case_id)):
            found = index.get(key)
            if found is not None:
                found.discard(connection)
                if not found:
                    index.pop(key, None)

    def allow_message(self, chat_id: str, limit: int, window: float) -> bool:
        """Per-visitor rate limit (sliding window), kept across reconnections of the same chat."""
        moment = time.monotonic()
        recent = self.rates.setdefault(chat_id, deque())
        while recent and recent[0] <= moment - window:
            recent.popleft()
        if len(recent) >= limit:
            return False
        recent.append(moment)
        if len(self.rates) > 100_000:  # forget idle visitors rather than grow without end
            self.rates = {k: v for k, v in self.rates.items() if v and v[-1] > moment - window}
        return True

    # Events (publisher's thread) ------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        data, name = event.data, event.name
        interaction_id = data.get("interaction_id")
        if name == MessageSent.name and data.get("case_id") in self.by_case:
            self.loop.call_soon_threadsafe(self._spawn, self._sync(data["case_id"]))
        elif name in (RoutingOffered.name, RoutingAccepted.name) and interaction_id in self.by_interaction:
            self.loop.call_soon_threadsafe(self._spawn, self._agent(interaction_id, data.get("agent_id"),
                                                                    joined=name == RoutingAccepted.name))
        elif name in (RoutingRequeued.name, RoutingEnded.name) and interaction_id in self.by_interaction:
            self.loop.call_soon_threadsafe(self._spawn, self._agent(interaction_id, None, joined=False,
                                                                    ended=name == RoutingEnded.name))
        elif name == CaseStatusChanged.name and data.get("to") in ENDED_CASE_STATUSES and data.get("case_id") in self.by_case:
            self.loop.call_soon_threadsafe(self._ended, data["case_id"])
        elif name == ChatAgentTyping.name and data.get("case_id") in self.by_case:
            self.loop.call_soon_threadsafe(self._typing, data["case_id"], data.get("name"))
        if name.startswith("routing.") or name in (InteractionArrived.name, ChatStarted.name):
            self.loop.call_soon_threadsafe(self.refresh_queue_soon)

    # Work (event loop) ------------------------------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task = self.loop.create_task(work)
        task.add_done_callback(_log_failure)

    async def _in_thread(self, fn: Callable[[], Any]) -> Any:
        return await self.loop.run_in_executor(None, fn)

    async def _sync(self, case_id: str) -> None:
        """An agent replied: number the reply in the chat's log and send it to the visitor's sockets."""

        connections = list(self.by_case.get(case_id, ()))
        chats = {c.chat_id for c in connections}

        def work(session: Any) -> dict[str, list[dict]]:
            out: dict[str, list[dict]] = {}
            for chat_id in chats:
                service.do_sync_log(session, chat_id=chat_id)
                lowest = min(c.last_seq for c in connections if c.chat_id == chat_id)
                out[chat_id] = [entry_frame(e) for e in service.entries_after(session, chat_id=chat_id, seq=lowest)]
            return out

        frames = await self.writer.run(work)
        for connection in connections:
            for frame in frames.get(connection.chat_id, ()):
                connection.send_entry(frame)

    async def _agent(self, interaction_id: str, agent_id: str | None, *, joined: bool, ended: bool = False) -> None:

        name = None
        if joined and agent_id:
            def work() -> str | None:
                with self.read_factory() as session:
                    user = session.get(User, agent_id)
                    return user.display_name if user else None

            name = await self._in_thread(work)
        for connection in list(self.by_interaction.get(interaction_id, ())):
            connection.agent_id = agent_id
            if joined:
                connection.joined(name)
            elif ended:
                connection.send({"type": "ended"})
            elif connection.agent_name is not None:
                connection.agent_name = None
                connection.send({"type": "agent_left"})
        if not joined:
            self.refresh_queue_soon()

    def _ended(self, case_id: str) -> None:
        for connection in list(self.by_case.get(case_id, ())):
            connection.send({"type": "ended"})

    def _typing(self, case_id: str, name: str | None) -> None:
        for connection in list(self.by_case.get(case_id, ())):
            connection.send({"type": "typing", "who": "agent", "name": name})

    def refresh_queue_soon(self) -> None:
        if self._queue_refresh is None and any(c.agent_name is None for s in self.by_interaction.values()
                                               for c in s):
            self._queue_refresh = self.loop.call_later(QUEUE_REFRESH_DELAY, self._start_refresh)

    def _start_refresh(self) -> None:
        self._queue_refresh = None
        self._spawn(self.refresh_queue())

    async def refresh_queue(self, only: list[Connection] | None = None) -> None:
        """Place and estimated wait of every waiting visitor of this process, in one read."""

        waiting = only or [c for s in self.by_interaction.values() for c in s if c.agent_name is None]
        if not waiting:
            return
        ids = list({c.interaction_id for c in waiting})

        def work() -> dict:
            with self.read_factory() as session:
                return queue_status(session, rules=self.rules, interaction_ids=ids, now=clock.now())

        found = await self._in_thread(work)
        for connection in waiting:
            status = found.get(connection.interaction_id)
            if status is not None:
                connection.queue(status.position, status.wait_seconds)


def entry_frame(entry: Any) -> dict:
    """A numbered line of the chat as the visitor receives it."""
    return {"type": "message", "seq": entry.seq, "author": entry.author.value, "name": entry.author_name,
            "text": entry.body, "id": entry.client_id, "at": clock.iso_z(entry.created_at)}


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("chat hub task failed", exc_info=task.exception())
