"""Live updates to open pages over Server-Sent Events.

One stream per open page. Domain events arrive from the event bus (this process's, or every process's
through Redis) on the publisher's thread; each is turned into the few named signals a page listens to
(``offer``, ``work``, ``case``, ``board``) and handed to the page's asyncio queue. The page's HTMX panels
re-fetch themselves on those signals, so the server keeps one rendering path for first load and update.
An agent hears only about their own work; supervisors hear every routing change (for the wallboard).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from accueil.conversations.events import (
    CaseAssigned,
    CaseEscalated,
    CaseMotifChanged,
    CaseNoteAdded,
    CaseReopened,
    CaseStatusChanged,
    MessageReceived,
    MessageSent,
)
from accueil.core.events import Event
from accueil.identity.models import Role
from accueil.routing.events import (
    RoutingAccepted,
    RoutingEnded,
    RoutingFreed,
    RoutingOffered,
    RoutingPresence,
    RoutingRequeued,
)
from accueil.web.session import WebUser, current_user

router = APIRouter(include_in_schema=False)

HEARTBEAT_SECONDS = 15.0
MAX_PENDING = 200  # a page that stopped reading is dropped rather than buffered without end

# An agent's offer and work panels refresh on these (when the event is about them).
_MY_WORK_CHANGED = frozenset(event.name for event in (
    RoutingRequeued, RoutingFreed, RoutingPresence, RoutingAccepted, RoutingEnded))
# A case's page refreshes on these.
_CASE_CHANGED = frozenset(event.name for event in (
    MessageSent, MessageReceived, CaseNoteAdded, CaseStatusChanged, CaseEscalated, CaseReopened, CaseMotifChanged,
    CaseAssigned))


def signals_for(user: WebUser, event: Event) -> list[tuple[str, dict]]:
    """The signals this user's pages get for one domain event (none for most)."""
    data, name = event.data, event.name
    signals: list[tuple[str, dict]] = []
    mine = data.get("agent_id") == user.user_id
    if name == RoutingOffered.name and mine:
        signals += [("offer", {"interaction_id": data.get("interaction_id")}), ("work", {})]
    elif name in _MY_WORK_CHANGED and mine:
        signals += [("offer", {}), ("work", {})]
        if name == RoutingPresence.name:  # e.g. paused by the routing after a missed call: the switcher shows it
            signals.append(("presence", {}))
    elif name in _CASE_CHANGED:
        if user.role is not Role.partner_agent:  # a partner may not see every case: not even its activity
            signals.append(("case", {"case_id": data.get("case_id")}))
        if name == CaseAssigned.name and mine:
            signals.append(("work", {}))
    if user.is_supervisor and (name.startswith("routing.") or name.startswith("interaction.")):
        signals.append(("board", {}))
    return signals


def format_sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def event_stream(request: Request, signals: Callable[[Event], list[tuple[str, dict]]], *,
                 prefix: str = "") -> StreamingResponse:
    """A server-sent-event response carrying ``signals(event)`` for each bus event (bounded, with heartbeats;
    the subscription ends with the connection)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()

    def on_event(event: Event) -> None:
        for signal in signals(event):
            if queue.qsize() < MAX_PENDING:
                loop.call_soon_threadsafe(queue.put_nowait, signal)

    unsubscribe = request.app.state.runtime.bus.subscribe(on_event, prefix=prefix)

    async def stream() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while True:
                try:
                    kind, data = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield format_sse(kind, data)
        finally:
            unsubscribe()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/live")
async def live(request: Request, user: WebUser = Depends(current_user)) -> StreamingResponse:
    return event_stream(request, lambda event: signals_for(user, event))
