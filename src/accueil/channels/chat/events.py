"""What happens in web chats (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class ChatStarted(DomainEvent):
    """A visitor opened a chat with their first line: its case and interaction exist, it waits in a queue."""

    name: ClassVar[str] = "chat.started"
    chat_id: str
    case_id: str
    interaction_id: str
    queue_id: str


@dataclass(frozen=True)
class ChatMessageReceived(DomainEvent):
    """A visitor's line was stored in the chat's log (once, whatever the resends), numbered ``seq``."""

    name: ClassVar[str] = "chat.message_received"
    chat_id: str
    case_id: str
    interaction_id: str
    agent_id: str | None
    seq: int
    client_id: str
    message_id: str


@dataclass(frozen=True)
class ChatClosed(DomainEvent):
    """The visitor left the chat: waiting, it is abandoned; taken, it ends and its agent wraps up."""

    name: ClassVar[str] = "chat.closed"
    chat_id: str
    case_id: str
    interaction_id: str
    agent_id: str | None


@dataclass(frozen=True)
class ChatVisitorTyping(DomainEvent):
    """The visitor is typing (published straight to the bus, at most every few seconds; nothing stored)."""

    name: ClassVar[str] = "chat.visitor_typing"
    chat_id: str
    case_id: str
    interaction_id: str
    agent_id: str


@dataclass(frozen=True)
class ChatAgentTyping(DomainEvent):
    """The agent is typing a reply (published straight to the bus; nothing stored)."""

    name: ClassVar[str] = "chat.agent_typing"
    case_id: str
    agent_id: str
    name_: str | None  # the agent's display name (payload key ``name``)
