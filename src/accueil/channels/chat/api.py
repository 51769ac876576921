"""The visitor's WebSocket (``/ws/chat``) and the public list of chat motifs.

Thin: each JSON frame is validated (``protocol``), the service does the work in one transaction in the
thread pool, and the answer goes back on the same socket. Whatever the visitor sends, a bad frame gets
an error frame, never a crash; only a frame too large to be a chat line closes the socket (1009).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from accueil.api.public import RateLimiter, client_address
from accueil.channels.callback import service as callbacks
from accueil.channels.callback.public_api import REQUESTS
from accueil.channels.chat import service
from accueil.channels.chat.events import ChatVisitorTyping
from accueil.channels.chat.hub import ChatHub, entry_frame
from accueil.channels.chat.protocol import FRAMES, ChatError
from accueil.channels.notify import do_queue_email
from accueil.conversations.models import Interaction
from accueil.conversations.receive import is_retryable
from accueil.core import clock
from accueil.core.errors import AccueilError, ValidationFailed
from accueil.core.i18n import pick_language
from accueil.identity.models import User
from accueil.routing.models import RoutingItem
from accueil.web.i18n import Formatter
from accueil.web.views.chat import error_text, transcript_texts

log = logging.getLogger(__name__)

router = APIRouter(tags=["chat"])

TYPING_EVERY = 2.0  # seconds: a visitor typing is announced at most this often
FRAMES_PER_MINUTE = 240  # every kind of frame together: beyond, the socket is closed (1008)


@router.get("/api/v1/chat/motifs", summary="Motifs a web chat visitor may choose (public)")
async def chat_motifs(request: Request, lang: str = "fr") -> JSONResponse:
    language = lang if lang in ("fr", "en") else "fr"

    def read() -> list[dict[str, str]]:
        with request.app.state.runtime.read_factory() as session:
            return [{"code": m.code, "label": m.label_fr if language == "fr" else m.label_en}
                    for m in service.chat_motifs(session)]

    # Public and read by widgets embedded on other sites: any origin may read it.
    return JSONResponse(await run_in_threadpool(read), headers={
        "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"})


def limits_of(settings: Any) -> service.ChatLimits:
    return service.ChatLimits(max_chars=settings.chat_max_message_chars, rate_messages=settings.chat_rate_messages,
                              rate_seconds=settings.chat_rate_seconds)


def frame_limit(limits: service.ChatLimits) -> int:
    """Largest frame read: the longest line, every character escaped, plus the envelope."""
    return 6 * limits.max_chars + 4096


# Per client address, whatever the socket: starting chats, asking for transcripts (callbacks share the
# public callback form's budget). A script opening socket after socket meets the same limits.
STARTS, TRANSCRIPTS = RateLimiter(), RateLimiter()
TRANSCRIPTS_PER_ADDRESS, PER_SECONDS = 10, 600.0


def origin_allowed(origin: str | None, allowed: str) -> bool:
    """``ACCUEIL_CHAT_ALLOWED_ORIGINS`` (comma-separated) lists the sites that may embed the widget; empty: any."""
    sites = {o.strip().rstrip("/") for o in allowed.split(",") if o.strip()}
    return not sites or (origin or "").rstrip("/") in sites


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket) -> None:
    if not origin_allowed(websocket.headers.get("origin"), websocket.app.state.runtime.settings.chat_allowed_origins):
        await websocket.close(code=1008)  # refused before the handshake completes: the browser sees a failure
        return
    await websocket.accept()
    language = websocket.query_params.get("lang") or pick_language(websocket.headers.get("accept-language"))
    connection = Connection(websocket, ChatHub.of(websocket.app), language if language in ("fr", "en") else "fr")
    await connection.run()


class Connection:
    """One visitor socket: a reader handling frames in order, a writer sending what is queued for it."""

    def __init__(self, websocket: WebSocket, hub: ChatHub, language: str) -> None:
        self.ws, self.hub, self.language = websocket, hub, language
        self.rt = websocket.app.state.runtime
        self.limits = limits_of(self.rt.settings)
        self.chat_id = self.interaction_id = self.case_id = ""
        self.watermark = 0  # every line up to this number is on the visitor's screen
        self.sent: set[int] = set()  # numbers above the watermark already sent
        self.agent_id: str | None = None
        self.agent_name: str | None = None  # None while no agent has joined
        self.outbox: asyncio.Queue[dict | None] = asyncio.Queue()
        self.last_queue: tuple[int, int | None] | None = None
        self.typing_at = 0.0
        self.frames: list[float] = []

    @property
    def last_seq(self) -> int:
        return self.watermark

    # Sending (event loop) -------------------------------------------------------------------------------------

    def send(self, frame: dict) -> None:
        self.outbox.put_nowait(frame)

    def _mark(self, seq: int) -> bool:
        """Record ``seq`` as on the visitor's screen; False when it already was."""
        if seq <= self.watermark or seq in self.sent:
            return False
        self.sent.add(seq)
        while self.watermark + 1 in self.sent:
            self.watermark += 1
            self.sent.discard(self.watermark)
        return True

    def send_entry(self, frame: dict) -> None:
        if self._mark(frame["seq"]):
            self.send(frame)

    def joined(self, name: str | None) -> None:
        if self.agent_name is None:
            self.agent_name = name or ""
            self.send({"type": "agent_joined", "name": name})

    def queue(self, position: int, wait_seconds: float | None) -> None:
        shown = (position, None if wait_seconds is None else int(round(wait_seconds)))
        if shown != self.last_queue and self.agent_name is None:
            self.last_queue = shown
            self.send({"type": "queue", "position": position, "wait_seconds": shown[1]})

    def error(self, code: str, ref: str | None = None, **details: Any) -> None:
        frame = {"type": "error", "code": code, "message": error_text(self.language, code, details)}
        if ref:
            frame["id"] = ref
        self.send(frame)

    async def _writer(self) -> None:
        while True:
            frame = await self.outbox.get()
            if frame is None:
                return
            try:
                await self.ws.send_text(json.dumps(frame, ensure_ascii=False))
            except (WebSocketDisconnect, RuntimeError):  # the visitor went away: the reader sees it too
                return

    # Reading --------------------------------------------------------------------------------------------------

    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("text")
                if raw is None:
                    raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                if len(raw) > frame_limit(self.limits):
                    self.error("frame_too_large", limit=self.limits.max_chars)
                    await self._close(1009)
                    return
                if not self._allow_frame():
                    self.error("rate_limited")
                    await self._close(1008)
                    return
                if await self.handle(raw) == "close":
                    await self._close(1000)
                    return
        except WebSocketDisconnect:
            return
        finally:
            if self.chat_id:
                self.hub.detach(self)
            if not writer.done():
                self.outbox.put_nowait(None)
                try:
                    await asyncio.wait_for(writer, timeout=5)
                except (TimeoutError, Exception):  # noqa: BLE001 - the socket is going away anyway
                    writer.cancel()

    def _allow_frame(self) -> bool:
        moment = time.monotonic()
        self.frames = [t for t in self.frames if t > moment - 60] + [moment]
        return len(self.frames) <= FRAMES_PER_MINUTE

    async def _close(self, code: int) -> None:
        self.outbox.put_nowait(None)
        await asyncio.sleep(0)  # let the writer flush the error frame first
        try:
            while not self.outbox.empty():
                await asyncio.sleep(0.01)
            await self.ws.close(code)
        except RuntimeError:  # already closed by the peer
            pass

    async def handle(self, raw: str) -> str | None:
        ref = None
        try:
            data = json.loads(raw)
            ref = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
            frame = FRAMES.validate_python(data)
        except (ValueError, ValidationError) as exc:
            summary = exc.errors()[0].get("msg", "") if isinstance(exc, ValidationError) else "not JSON"
            self.error("bad_frame", ref, summary=summary)
            return None
        handler = getattr(self, f"on_{frame.type}")
        try:
            return await handler(frame)
        except ChatError as exc:
            self.error(exc.code, ref, **exc.details)
        except AccueilError as exc:
            self.error(exc.code, ref, **exc.details)
        return None

    async def _transaction(self, work: Callable[[Any], Any]) -> Any:
        """Run ``work(session)`` in one transaction in the thread pool; a lost race is tried again."""
        def run() -> Any:
            for attempt in range(4):
                try:
                    with self.rt.factory() as session, session.begin():
                        return work(session)
                except (IntegrityError, OperationalError) as exc:
                    if attempt == 3 or not is_retryable(exc):
                        raise
            raise AssertionError("unreachable")

        return await run_in_threadpool(run)

    def _attach(self, chat: Any) -> None:
        if self.chat_id:
            self.hub.detach(self)
        self.chat_id, self.interaction_id, self.case_id = chat.id, chat.interaction_id, chat.case_id
        self.language = chat.language
        self.hub.attach(self)

    def _require_chat(self) -> None:
        if not self.chat_id:
            raise ChatError("not_started")

    # Frames -------------------------------------------------------------------------------------------------

    async def on_start(self, frame: Any) -> None:
        if self.chat_id:
            raise ChatError("already_started")
        STARTS.hit(client_address(self.ws), limit=self.rt.settings.chat_starts_per_address, window=PER_SECONDS)
        self.language = frame.language or self.language
        settings = self.rt.settings

        def work(session: Any) -> tuple[Any, str, Any, str | None]:
            started = service.do_start_chat(
                session, name=frame.name, email=frame.email, motif_code=frame.motif, text=frame.text,
                language=self.language, client_id=frame.id, limits=self.limits,
                config=self.rt.conversation_config, default_queue=settings.chat_queue, now=clock.now())
            session.flush()
            session.expunge(started.chat)
            return started.chat, started.token, entry_frame(started.first), started.queue_closed

        chat, token, first, closed = await self._transaction(work)
        self._attach(chat)
        self._mark(first["seq"])
        self.hub.allow_message(chat.id, self.limits.rate_messages, self.limits.rate_seconds)
        self.send({"type": "started", "chat_id": chat.id, "token": token, "case_reference": None,
                   "language": chat.language})
        self.send({"type": "ack", "id": frame.id, "seq": first["seq"], "duplicate": False})
        if closed is not None:
            self.send({"type": "unavailable", "callback": closed == "callback"})
        else:
            await self.hub.refresh_queue(only=[self])

    async def on_resume(self, frame: Any) -> None:
        def work(session: Any) -> tuple[Any, list[dict], str | None, str | None, bool]:
            chat = service.access_chat_by_token(session, frame.token)
            service.do_sync_log(session, chat_id=chat.id)
            entries = [entry_frame(e) for e in service.entries_after(session, chat_id=chat.id, seq=frame.last_seq)]
            item = session.get(RoutingItem, chat.interaction_id)
            agent = session.get(User, item.agent_id) if item is not None and item.status == "active" else None
            holder = item.agent_id if item is not None else None
            interaction = session.get(Interaction, chat.interaction_id)
            ended = chat.status.value == "closed" or interaction.ended_at is not None
            session.expunge(chat)
            return chat, entries, holder, (agent.display_name or "") if agent else None, ended

        chat, entries, holder, agent_name, ended = await self._transaction(work)
        self._attach(chat)
        self.watermark, self.sent = frame.last_seq, set()
        self.agent_id = holder
        for entry in entries:
            self.send_entry(entry)
        # A reply written between the read above and ``_attach`` found no socket to go to: read once more
        # now that this one listens (``send_entry`` skips what was already sent).
        seen = max([frame.last_seq, *(e["seq"] for e in entries)])

        def late(session: Any) -> list[dict]:
            service.do_sync_log(session, chat_id=chat.id)
            return [entry_frame(e) for e in service.entries_after(session, chat_id=chat.id, seq=seen)]

        for entry in await self._transaction(late):
            self.send_entry(entry)
        self.send({"type": "resumed", "chat_id": chat.id, "last_seq": chat.last_seq, "language": chat.language})
        if ended:
            self.send({"type": "ended"})
        elif agent_name is not None:
            self.joined(agent_name)
        else:
            await self.hub.refresh_queue(only=[self])

    async def on_message(self, frame: Any) -> None:
        self._require_chat()
        service.check_text(frame.text, self.limits)
        if not self.hub.allow_message(self.chat_id, self.limits.rate_messages, self.limits.rate_seconds):
            raise ChatError("rate_limited")
        chat_id = self.chat_id

        def work(session: Any) -> tuple[dict, bool]:
            entry, duplicate = service.do_receive_visitor_message(
                session, chat_id=chat_id, client_id=frame.id, text=frame.text, limits=self.limits,
                config=self.rt.conversation_config, now=clock.now())
            return entry_frame(entry), duplicate

        entry, duplicate = await self.hub.writer.run(work)  # lines arriving together share a commit
        self._mark(entry["seq"])
        self.send({"type": "ack", "id": frame.id, "seq": entry["seq"], "duplicate": duplicate})

    async def on_typing(self, frame: Any) -> None:
        self._require_chat()
        moment = time.monotonic()
        if self.agent_id and moment - self.typing_at >= TYPING_EVERY:
            self.typing_at = moment
            self.rt.bus.publish(ChatVisitorTyping(
                chat_id=self.chat_id, case_id=self.case_id, interaction_id=self.interaction_id,
                agent_id=self.agent_id).envelope(clock.now()))

    async def on_transcript(self, frame: Any) -> None:
        self._require_chat()
        TRANSCRIPTS.hit(client_address(self.ws), limit=TRANSCRIPTS_PER_ADDRESS, window=PER_SECONDS)
        chat_id, language = self.chat_id, self.language
        fmt = Formatter(language, self.rt.settings.timezone)

        def work(session: Any) -> bool:
            chat = session.get(service.ChatSession, chat_id)
            body = service.transcript_text(session, chat, language=language, fmt_time=fmt.time)
            subject, intro = transcript_texts(language)
            return do_queue_email(session, to=chat.email, subject=subject,
                                  body=f"{intro}\n\n{body}\n", dedupe_key=f"chat-transcript:{chat.id}:{chat.last_seq}",
                                  now=clock.now())

        if not await self._transaction(work):
            raise ChatError("email_unavailable")
        self.send({"type": "transcript_queued"})

    async def on_callback(self, frame: Any) -> None:
        request_callback = getattr(callbacks, "do_request_callback", None)
        if request_callback is None:
            raise ChatError("callback_unavailable")

        settings = self.rt.settings  # the public callback form's budget: one per address, whatever the way in
        REQUESTS.hit(client_address(self.ws), limit=settings.callback_request_rate,
                     window=settings.callback_request_rate_minutes * 60)
        chat_id, language = self.chat_id, self.language

        def work(session: Any) -> Any:
            chat = session.get(service.ChatSession, chat_id) if chat_id else None
            if chat is None and not frame.name:
                raise ValidationFailed("validation_error", summary="name: required")
            return request_callback(
                session, phone=frame.phone, source="chat", case_id=chat.case_id if chat else None,
                customer_name=(chat.display_name if chat else frame.name), email=chat.email if chat else frame.email,
                language=language, now=clock.now(), config=self.rt.conversation_config,
                timezone=self.rt.settings.timezone)

        callback = await self._transaction(work)
        due = getattr(callback, "due_at", None)
        self.send({"type": "callback_scheduled", "due_at": clock.iso_z(due) if due else None})

    async def on_close(self, frame: Any) -> str:
        self._require_chat()
        chat_id = self.chat_id
        await self._transaction(lambda session: service.do_close_chat(
            session, chat_id=chat_id, rules=self.rt.routing_rules, now=clock.now()))
        self.send({"type": "closed"})
        return "close"
