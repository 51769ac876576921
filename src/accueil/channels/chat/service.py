"""The one write path of web chat: start, visitor messages, the numbered log, close, transcript, callback.

A chat's messages go through the conversations write path (``do_receive_inbound`` for the visitor,
``do_reply`` from the console for the agent), so the console, the customer journey and search see them
like any other channel's. This module adds what a live chat needs on top: a resume token, and a
per-chat sequence number on every line the visitor sees (``chat_log``), assigned under the chat row's
lock so numbers never interleave. Agent replies are numbered when the chat hub hears of them (or, at
the latest, when the visitor resumes: ``do_sync_log`` fills any gap), so nothing depends on a live socket.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from accueil.channels.chat.events import ChatClosed, ChatMessageReceived, ChatStarted
from accueil.channels.chat.models import ChatAuthor, ChatLogEntry, ChatSession, ChatStatus
from accueil.conversations.models import ChannelKind, Direction, Interaction, Message, Motif
from accueil.conversations.receive import ConversationConfig, InboundContact, do_receive_inbound
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.ids import new_id
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, normalise_identity
from accueil.db.session import queue_event
from accueil.identity.models import User
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.models import Queue, RoutingItem
from accueil.routing.service import do_end
from accueil.routing.snapshot import RoutingPass

MAX_NAME = 200


@dataclass(frozen=True)
class ChatLimits:
    max_chars: int
    rate_messages: int
    rate_seconds: float


@dataclass(frozen=True)
class Started:
    chat: ChatSession
    token: str  # shown once; only its hash is stored
    first: ChatLogEntry
    queue_closed: str | None
    duplicate: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_text(text: str, limits: ChatLimits) -> str:
    """A visitor's line: not empty, not longer than the chat limit."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("empty_message")
    if len(text) > limits.max_chars:
        raise ValidationFailed("body_too_long", length=len(text), limit=limits.max_chars)
    return text


def chat_motifs(session: Session) -> list[Motif]:
    """Motifs a visitor may pick: active leaves (a family with children is only a heading)."""
    motifs = list(session.scalars(select(Motif).where(Motif.active.is_(True)).order_by(Motif.label_fr)))
    parents = {m.parent_id for m in motifs if m.parent_id}
    return [m for m in motifs if m.id not in parents]


def chat_queue(session: Session, *, motif_id: str | None, default_code: str) -> Queue:
    """The motif's own chat queue, else the configured one, else the first active chat queue."""
    active = select(Queue).where(Queue.active.is_(True), Queue.channel == ChannelKind.chat.value)
    if motif_id is not None:
        found = session.scalars(active.where(Queue.motif_id == motif_id).order_by(Queue.level, Queue.code)).first()
        if found is not None:
            return found
    found = session.scalars(active.where(Queue.code == default_code)).first()
    found = found or session.scalars(active.order_by(Queue.level, Queue.code)).first()
    if found is None:
        raise ValidationFailed("unknown_queue", value=default_code)
    return found


def holder_of(session: Session, interaction_id: str) -> str | None:
    """The agent the chat is with now (offered or taken), if any."""
    item = session.get(RoutingItem, interaction_id)
    if item is not None:
        return item.agent_id
    return session.scalar(select(Interaction.agent_id).where(Interaction.id == interaction_id))


def _append(session: Session, chat: ChatSession, *, author: ChatAuthor, body: str, now: datetime,
            client_id: str | None = None, message_id: str | None = None,
            author_name: str | None = None) -> ChatLogEntry:
    """Next number of the chat (the caller holds the chat row's lock)."""
    chat.last_seq += 1
    entry = ChatLogEntry(chat_id=chat.id, seq=chat.last_seq, author=author, client_id=client_id,
                         message_id=message_id, author_name=author_name, body=body, created_at=now)
    session.add(entry)
    session.flush()
    return entry


def _locked(session: Session, chat_id: str) -> ChatSession:
    chat = session.get(ChatSession, chat_id, with_for_update=True, populate_existing=True)
    if chat is None:
        raise NotFound("not_found", kind="chat", id=chat_id)
    return chat


def do_start_chat(session: Session, *, name: str, email: str, motif_code: str | None, text: str,
                  language: str, client_id: str, limits: ChatLimits, config: ConversationConfig,
                  default_queue: str, now: datetime) -> Started:
    """The pre-chat form: the customer found or created by email, a case, a chat interaction in a queue.

    Sending the same form twice (same ``client_id``) creates nothing new; a fresh token replaces the first.
    """
    name = " ".join((name or "").split())[:MAX_NAME]
    if not name:
        raise ValidationFailed("validation_error", summary="name: required")
    identity = normalise_identity(IdentityKind.email, email)
    text = check_text(text, limits)
    language = language if language in ("fr", "en") else "fr"
    motif = None
    if motif_code:
        motif = session.scalar(select(Motif).where(Motif.code == motif_code, Motif.active.is_(True)))
        if motif is None:
            raise ValidationFailed("unknown_motif", value=motif_code)
    queue = chat_queue(session, motif_id=motif.id if motif else None, default_code=default_queue)
    result = do_receive_inbound(session, contact=InboundContact(
        channel=ChannelKind.chat, identities=[identity], provider_message_id=f"chat:{client_id}",
        display_name=name, language=language, motif_code=motif_code or None, queue_code=queue.code,
        body_text=text, occurred_at=now,
    ), config=config, now=now)
    token = secrets.token_urlsafe(32)
    if result.duplicate:
        chat = session.scalar(select(ChatSession).where(ChatSession.interaction_id == result.interaction_id))
        if chat is None:
            raise Conflict("validation_error", summary="this message id was already used")
        chat.token_hash = hash_token(token)
        first = session.scalar(select(ChatLogEntry).where(ChatLogEntry.chat_id == chat.id, ChatLogEntry.seq == 1))
        return Started(chat, token, first, None, True)
    chat = ChatSession(interaction_id=result.interaction_id, case_id=result.case_id,
                       customer_id=result.customer_id, token_hash=hash_token(token), email=identity.value,
                       display_name=name, language=language, last_seq=0, created_at=now)
    session.add(chat)
    session.flush()
    first = _append(session, chat, author=ChatAuthor.customer, body=text, now=now, client_id=client_id,
                    message_id=result.message_id, author_name=name)
    queue_event(session, ChatStarted(
        chat_id=chat.id, case_id=chat.case_id, interaction_id=chat.interaction_id, queue_id=queue.id), now)
    return Started(chat, token, first, result.queue_closed, False)


def access_chat_by_token(session: Session, token: str) -> ChatSession:
    chat = session.scalar(select(ChatSession).where(ChatSession.token_hash == hash_token(token or "")))
    if chat is None:
        raise NotFound("not_found", kind="chat", id="token")
    return chat


_LOG = ChatLogEntry.__table__
_SESSIONS = ChatSession.__table__
_SEEN = select(_LOG).where(_LOG.c.chat_id == bindparam("chat_id"), _LOG.c.client_id == bindparam("client_id"))
# Taking the next number also locks the chat's row until commit: numbers never interleave.
_NEXT_SEQ = (update(_SESSIONS).where(_SESSIONS.c.id == bindparam("chat_id")).values(last_seq=_SESSIONS.c.last_seq + 1)
             .returning(_SESSIONS.c.last_seq, _SESSIONS.c.status, _SESSIONS.c.interaction_id, _SESSIONS.c.case_id,
                        _SESSIONS.c.email, _SESSIONS.c.display_name))
_HOLDER = select(RoutingItem.agent_id).where(RoutingItem.interaction_id == bindparam("interaction_id"))


def do_receive_visitor_message(session: Session, *, chat_id: str, client_id: str, text: str,
                               limits: ChatLimits, config: ConversationConfig,
                               now: datetime) -> tuple[ChatLogEntry, bool]:
    """A visitor's line, stored once whatever the resends: returns (its log entry, was it a repeat).

    The hot path of a busy chat service, so written with a few Core statements (no ORM loads); the
    returned entry is a detached copy.
    """
    text = check_text(text, limits)
    connection = session.connection()
    seen = connection.execute(_SEEN, {"chat_id": chat_id, "client_id": client_id}).first()
    if seen is not None:
        return ChatLogEntry(**seen._asdict()), True
    chat = connection.execute(_NEXT_SEQ, {"chat_id": chat_id}).first()
    if chat is None:
        raise NotFound("not_found", kind="chat", id=chat_id)
    if chat.status == ChatStatus.closed.value:
        raise Conflict("chat_closed")
    # No provider id: the chat log's (chat, client id) key already makes a resend a no-op.
    result = do_receive_inbound(session, contact=InboundContact(
        channel=ChannelKind.chat, identities=[IdentityRef(IdentityKind.email, chat.email)],
        interaction_id=chat.interaction_id, body_text=text, occurred_at=now,
    ), config=config, now=now)
    row = {"id": new_id(), "chat_id": chat_id, "seq": chat.last_seq, "author": ChatAuthor.customer,
           "client_id": client_id, "message_id": result.message_id, "author_name": chat.display_name,
           "body": text, "created_at": now}
    connection.execute(_LOG.insert(), row)
    queue_event(session, ChatMessageReceived(
        chat_id=chat_id, case_id=chat.case_id, interaction_id=chat.interaction_id,
        agent_id=connection.execute(_HOLDER, {"interaction_id": chat.interaction_id}).scalar(),
        seq=chat.last_seq, client_id=client_id, message_id=result.message_id), now)
    return ChatLogEntry(**row), False


def do_sync_log(session: Session, *, chat_id: str) -> list[ChatLogEntry]:
    """Number the agent replies of this chat not yet in its log (oldest first); returns them. Only this chat's
    own exchange: its case may hold other exchanges (an email, another chat) the visitor must not see."""
    chat = _locked(session, chat_id)
    logged = select(ChatLogEntry.message_id).where(ChatLogEntry.chat_id == chat.id,
                                                   ChatLogEntry.message_id.is_not(None))
    missing = session.execute(
        select(Message.id, Message.body_text, Message.created_at, User.display_name)
        .outerjoin(User, User.id == Message.author_user_id)
        .where(Message.interaction_id == chat.interaction_id, Message.direction == Direction.outbound,
               Message.internal.is_(False), Message.created_at >= chat.created_at, Message.id.not_in(logged))
        .order_by(Message.created_at, Message.id)
    ).all()
    return [_append(session, chat, author=ChatAuthor.agent, body=row.body_text, now=row.created_at,
                    message_id=row.id, author_name=row.display_name) for row in missing]


def entries_after(session: Session, *, chat_id: str, seq: int) -> list[ChatLogEntry]:
    return list(session.scalars(select(ChatLogEntry).where(ChatLogEntry.chat_id == chat_id, ChatLogEntry.seq > seq)
                                .order_by(ChatLogEntry.seq)))


def do_close_chat(session: Session, *, chat_id: str, rules: RoutingConfigCache, now: datetime) -> ChatSession:
    """The visitor left: a waiting chat is abandoned; a taken one ends and its agent wraps up."""

    chat = _locked(session, chat_id)
    if chat.status is ChatStatus.closed:
        return chat
    item = session.get(RoutingItem, chat.interaction_id)
    if item is not None and item.status in ("waiting", "offered", "active"):
        do_end(session, rules=rules, item_id=chat.interaction_id, wrapup=item.status == "active", now=now)
    chat.status, chat.closed_at = ChatStatus.closed, now
    queue_event(session, ChatClosed(chat_id=chat.id, case_id=chat.case_id, interaction_id=chat.interaction_id,
                                    agent_id=item.agent_id if item else None), now)
    return chat


def transcript_text(session: Session, chat: ChatSession, *, language: str, fmt_time) -> str:  # noqa: ANN001
    """The chat as plain text, one line per message, times in the centre's zone."""
    lines = []
    for entry in entries_after(session, chat_id=chat.id, seq=0):
        who = entry.author_name or ("Conseiller" if language == "fr" else "Advisor")
        lines.append(f"[{fmt_time(entry.created_at)}] {who} : {entry.body}" if language == "fr"
                     else f"[{fmt_time(entry.created_at)}] {who}: {entry.body}")
    return "\n".join(lines)


@dataclass(frozen=True)
class QueueStatus:
    position: int  # 1 = next; 0 = with an agent (offered or taken)
    wait_seconds: float | None  # None: nobody to answer now


def queue_status(session: Session, *, rules: RoutingConfigCache, interaction_ids: list[str],
                 now: datetime) -> dict[str, QueueStatus]:
    """Place in the queue and estimated wait of each chat, read in one pass (the engine's prediction)."""
    items = session.execute(select(RoutingItem.interaction_id, RoutingItem.queue_id, RoutingItem.status)
                            .where(RoutingItem.interaction_id.in_(interaction_ids))).all()
    waiting_queues = {row.queue_id for row in items if row.status == "waiting"}
    status: dict[str, QueueStatus] = {row.interaction_id: QueueStatus(0, 0.0) for row in items
                                      if row.status != "waiting"}
    if not waiting_queues:
        return status
    config = rules.get(session)
    routing = RoutingPass(session, config, now, lock=False)  # a read: nothing is saved
    routing.load_agents(available_only=True)
    queues = [q for q in waiting_queues if q in config.queues]
    routing.load_waiting(queue_ids=queues, skip_locked=False)
    wanted = {row.interaction_id for row in items if row.status == "waiting"}
    for queue_id in queues:
        for ahead, item_id in enumerate(routing.engine.waiting_items(queue_id)):
            if item_id in wanted:
                wait = routing.engine.predicted_wait(queue_id, routing.t, ahead=ahead)
                status[item_id] = QueueStatus(ahead + 1, None if math.isinf(wait) else wait)
    return status
