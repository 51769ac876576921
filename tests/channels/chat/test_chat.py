"""Web chat over a real WebSocket against the live server (both databases): start, routing to chat-skilled
agents (3 chats each), agent replies and typing, limits, idempotent resends, resume after a dropped
connection with nothing lost or twice, transcript by email, callback request, the visitor closing."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from accueil.channels.chat.models import ChatLogEntry, ChatSession
from accueil.conversations.models import Interaction, Message, Outcome
from accueil.db.jobs import run_due_jobs
from accueil.identity.models import User
from accueil.identity.service import do_create_skill, do_set_skill
from accueil.routing.admin import do_save_queue
from accueil.routing.models import RoutingItem

WAIT = 10.0  # seconds: generous; frames normally arrive within milliseconds


class Visitor:
    """A chat visitor: a real WebSocket client that reads frames until the one it waits for."""

    def __init__(self, server_url: str, lang: str = "fr") -> None:
        self.url = server_url.replace("http://", "ws://") + f"/ws/chat?lang={lang}"
        self.ws: ClientConnection = connect(self.url, open_timeout=WAIT)
        self.frames: list[dict] = []  # everything received, in order
        self.token = ""
        self.watermark = 0
        self.seqs: list[int] = []  # numbers of the lines received as "message" frames

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def expect(self, kind: str, *, timeout: float = WAIT, **match: object) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} frame {match} within {timeout} s; got {self.frames[-10:]}")
            frame = json.loads(self.ws.recv(timeout=left))
            self.frames.append(frame)
            if frame["type"] == "message":
                self.seqs.append(frame["seq"])
            if frame["type"] in ("message", "ack"):
                self.watermark = max(self.watermark, frame["seq"])
            if frame["type"] == "started":
                self.token = frame["token"]
            if frame["type"] == "error" and kind != "error":
                raise AssertionError(f"error frame while waiting for {kind}: {frame}")
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    def start(self, *, email: str = "zoe@example.org", text: str = "Bonjour, ma commande ?",
              motif: str | None = "suivi_commande", name: str = "Zoé Visiteuse") -> dict:
        self.send({"type": "start", "id": uuid.uuid4().hex, "name": name, "email": email, "motif": motif,
                   "text": text, "language": "fr"})
        started = self.expect("started")
        self.expect("ack", seq=1)
        return started

    def say(self, text: str, client_id: str | None = None) -> dict:
        client_id = client_id or uuid.uuid4().hex
        self.send({"type": "message", "id": client_id, "text": text})
        return self.expect("ack", id=client_id)

    def drop(self) -> None:
        """The network goes away: the TCP connection dies without a closing handshake."""
        self.ws.socket.shutdown(socket.SHUT_RDWR)
        self.ws.socket.close()

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """Every visitor of these tests comes from 127.0.0.1: each test starts with a fresh per-address budget."""
    from accueil.channels.callback.public_api import REQUESTS
    from accueil.channels.chat.api import STARTS, TRANSCRIPTS

    for limiter in (STARTS, TRANSCRIPTS, REQUESTS):
        limiter.clear()
    yield


@pytest.fixture
def visitors(server_url: str) -> Iterator:
    made: list[Visitor] = []

    def make(lang: str = "fr") -> Visitor:
        made.append(Visitor(server_url, lang))
        return made[-1]

    yield make
    for visitor in made:
        visitor.close()


def chat_queue(runtime, *skilled: str) -> None:
    """A chat queue needing the ``chat`` skill, which the named agents have."""
    with runtime.factory() as session, session.begin():
        skill = do_create_skill(session, code="chat", kind="channel", label_fr="Discussion", label_en="Chat")
        do_save_queue(session, code="chat", channel="chat", name_fr="Discussion", name_en="Chat",
                      skills={"chat": 1}, ring_timeout_seconds=120)
        for username in skilled:
            do_set_skill(session, user=session.scalar(select(User).where(User.username == username)),
                         skill=skill, level=3)


def available(http: httpx.Client, cast, username: str = "alice") -> dict:
    response = http.put("/api/v1/routing/me/presence", headers=cast.auth(username), json={"presence": "available"})
    assert response.status_code == 200, response.text
    return response.json()


def chat_row(runtime, chat_id: str) -> ChatSession:
    with runtime.factory() as session:
        chat = session.get(ChatSession, chat_id)
        session.expunge(chat)
        return chat


def wait_for(condition, timeout: float = WAIT):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def offered_to(runtime, username: str, cast) -> list[str]:
    with runtime.factory() as session:
        return list(session.scalars(select(RoutingItem.interaction_id).where(
            RoutingItem.agent_id == cast.users[username], RoutingItem.status == "offered")))


def test_chat_is_routed_to_a_chat_agent_who_replies_and_types(runtime, cast, http, visitors, dispatcher, server_url):
    from tests.web.conftest import WebClient, set_passwords

    chat_queue(runtime, "alice")
    visitor = visitors()
    started = visitor.start()
    queued = visitor.expect("queue")
    assert queued["position"] == 1 and queued["wait_seconds"] is None  # nobody available yet

    chat = chat_row(runtime, started["chat_id"])
    with runtime.factory() as session:
        interaction = session.get(Interaction, chat.interaction_id)
        assert interaction.channel.value == "chat" and interaction.queue_id is not None
        assert session.get(RoutingItem, chat.interaction_id).status == "waiting"
        assert session.scalar(select(Message.body_text).where(Message.interaction_id == interaction.id)) == \
            "Bonjour, ma commande ?"
        customer_email = session.scalar(select(ChatSession.email).where(ChatSession.id == chat.id))
    assert customer_email == "zoe@example.org"

    available(http, cast)
    wait_for(lambda: offered_to(runtime, "alice", cast))
    assert visitor.expect("queue", position=0)["wait_seconds"] == 0
    accepted = http.post(f"/api/v1/routing/items/{chat.interaction_id}/accept", headers=cast.auth("alice"))
    assert accepted.status_code == 200, accepted.text
    assert visitor.expect("agent_joined")["name"] == "Alice Agent"

    # The visitor's next line goes through the conversations write path (the case shows it).
    visitor.say("Commande 12345")
    case = http.get(f"/api/v1/cases/{chat.case_id}", headers=cast.auth("alice")).json()
    assert [m["body_text"] for m in case["messages"]] == ["Bonjour, ma commande ?", "Commande 12345"]

    # The agent types in the console, then replies: the visitor sees both.
    set_passwords(runtime, "alice")
    console = WebClient(server_url)
    try:
        assert console.sign_in("alice").status_code == 303
        assert console.post(f"/agent/chat/{chat.case_id}/typing").status_code == 204
        assert visitor.expect("typing")["name"] == "Alice Agent"
        assert console.post(f"/agent/cases/{chat.case_id}/reply", {"body": "Je regarde, un instant."}).status_code == 200
    finally:
        console.close()
    reply = visitor.expect("message", author="agent")
    assert reply["text"] == "Je regarde, un instant." and reply["name"] == "Alice Agent" and reply["seq"] == 3


def test_visitor_lines_and_typing_reach_the_agents_live_stream(runtime, cast, http, visitors, dispatcher, server_url):
    from tests.web.conftest import WebClient, set_passwords

    chat_queue(runtime, "alice")
    set_passwords(runtime, "alice")
    console = WebClient(server_url)
    assert console.sign_in("alice").status_code == 303
    available(http, cast)
    visitor = visitors()
    started = visitor.start()
    chat = chat_row(runtime, started["chat_id"])
    wait_for(lambda: offered_to(runtime, "alice", cast))
    assert http.post(f"/api/v1/routing/items/{chat.interaction_id}/accept", headers=cast.auth("alice")).status_code == 200
    visitor.expect("agent_joined")
    events: list[tuple[str, dict]] = []
    try:
        with console.http.stream("GET", "/agent/chat/live", timeout=WAIT) as stream:
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            visitor.send({"type": "typing"})
            visitor.say("Vous êtes là ?", client_id="line-2")
            kind = None
            for line in lines:
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
                    if kind == "chat-message":
                        break
    finally:
        console.close()
    assert ("chat-typing", {"case_id": chat.case_id, "chat_id": chat.id, "seq": None}) in events
    assert events[-1] == ("chat-message", {"case_id": chat.case_id, "chat_id": chat.id, "seq": 2})


def test_each_chat_agent_takes_three_chats_and_the_fourth_waits_first_in_line(runtime, cast, http, visitors,
                                                                               dispatcher):
    chat_queue(runtime, "alice")
    people = [visitors() for _ in range(4)]
    chats = [chat_row(runtime, v.start(email=f"v{n}@example.org")["chat_id"]) for n, v in enumerate(people)]
    available(http, cast)
    offered = wait_for(lambda: (lambda ids: ids if len(ids) == 3 else None)(offered_to(runtime, "alice", cast)))
    for interaction_id in offered:
        assert http.post(f"/api/v1/routing/items/{interaction_id}/accept",
                         headers=cast.auth("alice")).status_code == 200
    waiting = [v for v, c in zip(people, chats, strict=True) if c.interaction_id not in offered]
    assert len(waiting) == 1
    frame = waiting[0].expect("queue", position=1)
    assert frame["wait_seconds"] is None or frame["wait_seconds"] > 0
    with runtime.factory() as session:
        statuses = dict(session.execute(select(RoutingItem.interaction_id, RoutingItem.status)).all())
    assert sorted(statuses.values()) == ["active", "active", "active", "waiting"]
    for visitor, chat in zip(people, chats, strict=True):
        if chat.interaction_id in offered:
            visitor.expect("agent_joined")


def test_limits_answer_with_error_frames_and_oversize_frames_close(runtime, cast, visitors):
    chat_queue(runtime)
    visitor = visitors("en")
    visitor.send({"type": "message", "id": "early", "text": "hello"})
    assert visitor.expect("error")["code"] == "not_started"
    visitor.send({"type": "start", "id": "s1", "name": "", "email": "not-an-email", "text": "Hi"})
    assert visitor.expect("error")["code"] in ("validation_error", "invalid_email")
    visitor.send({"type": "dance"})
    assert visitor.expect("error")["code"] == "bad_frame"
    visitor.ws.send("{not json")
    assert visitor.expect("error")["code"] == "bad_frame"
    visitor.start(email="limits@example.org")
    visitor.send({"type": "message", "id": "long", "text": "x" * 2001})
    error = visitor.expect("error", id="long")
    assert error["code"] == "body_too_long" and "2000" in error["message"]  # in English, with the limit
    for n in range(9):  # the first line counts: 10 messages per 10 s
        visitor.say(f"line {n}")
    visitor.send({"type": "message", "id": "too-fast", "text": "one more"})
    assert visitor.expect("error", id="too-fast")["code"] == "rate_limited"
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 10  # nothing refused was stored
    visitor.ws.send(json.dumps({"type": "message", "id": "huge", "text": "x" * 20_000}))
    assert visitor.expect("error")["code"] == "frame_too_large"
    with pytest.raises(ConnectionClosed) as closed:
        visitor.ws.recv(timeout=WAIT)
    assert closed.value.rcvd.code == 1009


def test_a_resent_message_is_stored_once(runtime, cast, visitors):
    chat_queue(runtime)
    visitor = visitors()
    chat_id = visitor.start()["chat_id"]
    first = visitor.say("Une seule fois", client_id="m-1")
    again = visitor.say("Une seule fois", client_id="m-1")
    assert first["duplicate"] is False and again["duplicate"] is True and again["seq"] == first["seq"] == 2
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.body_text == "Une seule fois")) == 1
        assert session.scalar(select(func.count()).select_from(ChatLogEntry).where(
            ChatLogEntry.chat_id == chat_id)) == 2


def test_a_dropped_connection_resumes_without_loss_or_duplicate(runtime, cast, http, visitors, dispatcher):
    chat_queue(runtime, "alice")
    visitor = visitors()
    started = visitor.start()
    chat = chat_row(runtime, started["chat_id"])
    available(http, cast)
    wait_for(lambda: offered_to(runtime, "alice", cast))
    assert http.post(f"/api/v1/routing/items/{chat.interaction_id}/accept", headers=cast.auth("alice")).status_code == 200
    visitor.expect("agent_joined")
    visitor.say("Avant la coupure")
    seen = visitor.watermark
    assert seen == 2
    # The visitor sends a line and the network drops before the acknowledgement is read.
    visitor.send({"type": "message", "id": "in-flight", "text": "Pendant la coupure"})
    visitor.drop()
    for text in ("Réponse 1 pendant la coupure", "Réponse 2 pendant la coupure"):
        assert http.post(f"/api/v1/cases/{chat.case_id}/replies", headers=cast.auth("alice"),
                         json={"body_text": text}).status_code == 201

    again = visitors()
    again.send({"type": "resume", "token": started["token"], "last_seq": seen})
    again.expect("resumed")
    again.send({"type": "message", "id": "in-flight", "text": "Pendant la coupure"})  # kept until acknowledged
    ack = again.expect("ack", id="in-flight")
    replayed = [f for f in again.frames if f["type"] == "message"]
    texts = [f["text"] for f in replayed]
    assert "Réponse 1 pendant la coupure" in texts and "Réponse 2 pendant la coupure" in texts
    assert len(set(again.seqs)) == len(again.seqs)  # nothing twice
    assert ack["seq"] in again.seqs or ack["duplicate"] is False
    # Everything, numbered 1..n without a gap, each line once — from a fresh replay.
    full = visitors()
    full.send({"type": "resume", "token": started["token"], "last_seq": 0})
    full.expect("resumed")
    lines = [(f["seq"], f["author"], f["text"]) for f in full.frames if f["type"] == "message"]
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    assert [text for _, _, text in lines].count("Pendant la coupure") == 1
    assert sorted(text for _, author, text in lines if author == "agent") == [
        "Réponse 1 pendant la coupure", "Réponse 2 pendant la coupure"]
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.body_text == "Pendant la coupure")) == 1
    # A new line still works on the resumed socket and reaches the agent's case.
    again.say("Merci")
    case = http.get(f"/api/v1/cases/{chat.case_id}", headers=cast.auth("alice")).json()
    assert case["messages"][-1]["body_text"] == "Merci"


def test_an_unknown_token_is_refused(runtime, cast, visitors):
    visitor = visitors("en")
    visitor.send({"type": "resume", "token": "x" * 40, "last_seq": 0})
    error = visitor.expect("error")
    assert error["code"] == "not_found" and "start a new one" in error["message"]


def test_transcript_is_emailed_on_request(runtime, cast, http, visitors, smtp_server):
    chat_queue(runtime)
    visitor = visitors()
    started = visitor.start(email="transcript@example.org", text="Ma question")
    visitor.say("Et une autre ligne")
    chat = chat_row(runtime, started["chat_id"])
    assert http.post(f"/api/v1/cases/{chat.case_id}/replies", headers=cast.auth("alice"),
                     json={"body_text": "Voici la réponse"}).status_code == 201
    visitor.expect("message", author="agent")
    visitor.send({"type": "transcript"})
    visitor.expect("transcript_queued")
    assert run_due_jobs(runtime.factory, worker="t") == 1
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "transcript@example.org"
    assert mail["Subject"] == "Transcription de votre discussion"
    body = mail.get_content()
    assert body.index("Zoé Visiteuse : Ma question") < body.index("Et une autre ligne") < body.index(
        "Alice Agent : Voici la réponse")


def test_transcript_without_email_configured_is_an_error_frame(runtime, cast, visitors):
    chat_queue(runtime)
    visitor = visitors()
    visitor.start()
    visitor.send({"type": "transcript"})
    assert visitor.expect("error")["code"] == "email_unavailable"


def test_callback_request_from_the_chat(runtime, cast, visitors):
    from accueil.channels.callback.models import Callback

    chat_queue(runtime)
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="rappel", channel="callback", name_fr="Rappels", name_en="Callbacks")
    visitor = visitors()
    chat = chat_row(runtime, visitor.start()["chat_id"])
    visitor.send({"type": "callback", "phone": "06 12 34 56 78"})
    visitor.expect("callback_scheduled")
    with runtime.factory() as session:
        [callback] = session.scalars(select(Callback)).all()
        assert callback.case_id == chat.case_id and callback.phone == "+33612345678"


def test_the_visitor_closing_a_waiting_chat_abandons_it(runtime, cast, visitors):
    chat_queue(runtime)
    visitor = visitors()
    chat = chat_row(runtime, visitor.start()["chat_id"])
    visitor.send({"type": "close"})
    visitor.expect("closed")
    with runtime.factory() as session:
        interaction = session.get(Interaction, chat.interaction_id)
        assert interaction.outcome is Outcome.abandoned and interaction.ended_at is not None
        assert session.get(RoutingItem, chat.interaction_id) is None
        assert session.get(ChatSession, chat.id).status.value == "closed"
    with pytest.raises(ConnectionClosed):
        visitor.ws.recv(timeout=WAIT)


def test_motifs_are_public_and_the_demo_page_embeds_the_widget(runtime, cast, http):
    motifs = http.get("/api/v1/chat/motifs?lang=en")
    assert motifs.status_code == 200 and motifs.headers["access-control-allow-origin"] == "*"
    assert {"code": "remboursement", "label": "Refund"} in motifs.json()
    assert "commande" not in [m["code"] for m in motifs.json()]  # a family is a heading, not a choice
    page = http.get("/chat/demo")
    assert page.status_code == 200
    assert page.text.count("<script") == 1 and 'src="/static/chat/widget.js"' in page.text
    assert "ws://" in page.headers["content-security-policy"]
    assert http.get("/static/chat/widget.js").status_code == 200


def test_a_visitor_never_sees_replies_to_another_exchange_of_the_same_case(runtime, cast, http, visitors):
    """Anyone may type someone else's email in the pre-chat form and land on their case: the replies of the
    other exchange (the real customer's chat) must still never reach this visitor."""
    chat_queue(runtime, "alice", "bob")
    genuine, impostor = visitors(), visitors()
    first = genuine.start(email="zoe@example.org")
    second = impostor.start(email="ZOE@example.org", name="Pas Zoé")
    one, two = chat_row(runtime, first["chat_id"]), chat_row(runtime, second["chat_id"])
    assert one.case_id == two.case_id  # same customer, same open case for the motif
    available(http, cast, "alice")
    wait_for(lambda: offered_to(runtime, "alice", cast))
    accepted = http.post(f"/api/v1/routing/items/{one.interaction_id}/accept", headers=cast.auth("alice"))
    if accepted.status_code != 200:  # the router offered her the other chat first: take it, then this one
        http.post(f"/api/v1/routing/items/{two.interaction_id}/accept", headers=cast.auth("alice"))
    assert genuine.expect("agent_joined")["name"] == "Alice Agent"
    from accueil.conversations.service import do_reply
    from accueil.routing.models import RoutingItem as Item

    with runtime.factory() as session, session.begin():
        assert session.get(Item, one.interaction_id).agent_id == cast.users["alice"]
        do_reply(session, case_id=one.case_id, author_user_id=cast.users["alice"], body_text="Votre code : 1234",
                 config=runtime.conversation_config)
    assert genuine.expect("message", author="agent")["text"] == "Votre code : 1234"
    impostor.say("Alors ?")
    with pytest.raises((AssertionError, TimeoutError)):  # nothing comes
        impostor.expect("message", author="agent", timeout=1.0)
    with runtime.factory() as session:
        from accueil.channels.chat.service import do_sync_log

        assert do_sync_log(session, chat_id=two.id) == []


def test_chat_starts_are_limited_per_address_and_origins_can_be_restricted(runtime, cast, visitors, server_url,
                                                                            monkeypatch):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect as ws_connect

    chat_queue(runtime, "alice")
    monkeypatch.setattr(runtime.settings, "chat_starts_per_address", 2)
    for n in range(2):
        visitors().start(email=f"v{n}@example.org")
    third = visitors()
    third.send({"type": "start", "id": uuid.uuid4().hex, "name": "V", "email": "v3@example.org", "text": "Bonjour",
                "language": "fr"})
    assert third.expect("error")["code"] == "too_many_requests"
    monkeypatch.setattr(runtime.settings, "chat_allowed_origins", "https://www.example.fr")
    url = server_url.replace("http://", "ws://") + "/ws/chat"
    with pytest.raises(InvalidStatus):
        ws_connect(url, origin="https://evil.example", open_timeout=WAIT)
    ws_connect(url, origin="https://www.example.fr", open_timeout=WAIT).close()
