"""Web chat in the agent console (the visitor's lines and typing, live) and the widget's demo page.

The console's own stream (``/live``) refreshes panels on work and case changes; a chat also needs the
visitor's lines the moment they arrive and a typing indicator both ways. ``/agent/chat/live`` carries
those for the chats the signed-in agent holds; ``agent/_chat_extras.html`` and ``static/chat/agent.js``
listen to it, refresh the open conversation and announce the agent's typing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from accueil.channels.chat.events import ChatAgentTyping, ChatClosed, ChatMessageReceived, ChatVisitorTyping
from accueil.conversations.scope import check_case_scope
from accueil.conversations.service import access_case
from accueil.core import clock
from accueil.core.events import Event
from accueil.core.i18n import error_message
from accueil.web.i18n import translate
from accueil.web.live import event_stream
from accueil.web.render import SECURITY_HEADERS, render
from accueil.web.session import WebUser, check_csrf
from accueil.web.views.agent import _read, agent_user

router = APIRouter(include_in_schema=False)

SIGNALS = {ChatMessageReceived.name: "chat-message", ChatVisitorTyping.name: "chat-typing",
           ChatClosed.name: "chat-closed"}


@router.get("/agent/chat/live")
async def agent_chat_live(request: Request, user: WebUser = Depends(agent_user)) -> StreamingResponse:
    """The visitor's lines and typing, for the chats this agent holds (offered or taken)."""
    def signals(event: Event) -> list[tuple[str, dict]]:
        kind = SIGNALS.get(event.name)
        if kind is None or event.data.get("agent_id") != user.user_id:
            return []
        return [(kind, {"case_id": event.data.get("case_id"), "chat_id": event.data.get("chat_id"),
                        "seq": event.data.get("seq")})]  # never the visitor's own message ids

    return event_stream(request, signals, prefix="chat.")


@router.post("/agent/chat/{case_id}/typing")
async def agent_typing(request: Request, case_id: str, user: WebUser = Depends(agent_user)) -> Response:
    """The agent is typing a reply: the visitor sees "… is typing" (nothing is stored)."""
    await check_csrf(request, user)
    await _read(request, lambda s: check_case_scope(s, user.principal(), access_case(s, case_id)))
    request.app.state.runtime.bus.publish(ChatAgentTyping(
        case_id=case_id, agent_id=user.user_id, name_=user.display_name).envelope(clock.now()))
    return Response(status_code=204)


@router.get("/chat/demo")
async def demo(request: Request) -> Response:
    """A host page embedding the widget with its one script tag, as a customer's site would."""
    host = request.headers.get("host", "")
    headers = dict(SECURITY_HEADERS)
    # The widget talks to this server over a WebSocket: allowed explicitly (older browsers' 'self' omits ws:).
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
        "connect-src 'self'", f"connect-src 'self' ws://{host} wss://{host}")
    response = render(request, "chat/demo.html", {})
    response.headers.update(headers)
    return response


def error_text(language: str, code: str, details: dict[str, Any]) -> str:
    """A chat error frame's text in the visitor's language (the chat's codes here, the domain's in ``core.i18n``).

    Kept in the web layer, where the catalog extraction finds it."""
    if code == "body_too_long":
        return translate(language, "Your message is too long (%(length)s characters; at most %(limit)s).",
                         length=details.get("length", "?"), limit=details.get("limit", "?"))
    if code == "frame_too_large":
        return translate(language, "This message is far too long (at most %(limit)s characters).",
                         limit=details.get("limit", "?"))
    if code == "empty_message":
        return translate(language, "Write a message first.")
    if code == "rate_limited":
        return translate(language, "You are sending messages too fast; wait a few seconds.")
    if code == "bad_frame":
        return translate(language, "This request is not understood.")
    if code == "not_started":
        return translate(language, "Start the chat first.")
    if code == "already_started":
        return translate(language, "This chat has already started.")
    if code == "chat_closed":
        return translate(language, "This chat has ended.")
    if code == "email_unavailable":
        return translate(language, "Sending by email is not available right now.")
    if code == "callback_unavailable":
        return translate(language, "Callback requests are not available right now.")
    if code == "not_found":
        return translate(language, "This chat cannot be found; start a new one.")
    return error_message(code, language, details)


def transcript_texts(language: str) -> tuple[str, str]:
    """Subject and opening line of the transcript email."""
    return (translate(language, "Your chat transcript"),
            translate(language, "Here is the transcript of your chat with our customer service."))
