"""Web chat sessions and their numbered message log (what a reconnecting visitor is replayed from).

A chat is one ``chat`` interaction of a case. Its messages live in the conversations tables like any
channel's; ``chat_log`` numbers them per chat (1, 2, 3…), so a visitor who lost the connection says
"the last I saw was 7" and gets exactly 8, 9… — nothing lost, nothing twice. A visitor's message carries
the id their browser gave it, so a resend after a reconnection is recognised and stored once.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class ChatStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class ChatAuthor(enum.StrEnum):
    customer = "customer"
    agent = "agent"
    system = "system"


class ChatSession(IdMixin, Base):
    """One visitor's chat; the resume token is a random secret of which only the SHA-256 is kept."""

    __tablename__ = "chat_sessions"

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    status: Mapped[ChatStatus] = mapped_column(enum_column(ChatStatus), default=ChatStatus.open)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[datetime | None]


class ChatLogEntry(IdMixin, Base):
    """Message number ``seq`` of a chat (customer, agent or system line), in the order the visitor sees."""

    __tablename__ = "chat_log"
    __table_args__ = (
        UniqueConstraint("chat_id", "seq"),
        UniqueConstraint("chat_id", "client_id"),
        UniqueConstraint("message_id"),
    )

    chat_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id"))
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[ChatAuthor] = mapped_column(enum_column(ChatAuthor))
    client_id: Mapped[str | None] = mapped_column(String(64))  # the visitor's own id for its message
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"))
    author_name: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
