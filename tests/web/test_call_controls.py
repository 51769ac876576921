"""Console call controls sent through the provider adapter: a Twilio call answered in the console gets the
agent connected, held, resumed, transferred and hung up through (a local stand-in for) Twilio's REST API;
a refusal by the provider records nothing; calls with no provider are still controlled in accueil."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from accueil.channels.voice import adapter
from accueil.channels.voice.cti import call_durations
from accueil.channels.voice.models import VoiceCall
from accueil.conversations.models import ChannelKind, Interaction, InteractionEvent
from accueil.db.jobs import run_due_jobs
from accueil.routing.models import Queue, RoutingItem
from tests.channels.voice.test_twilio import TOKEN, signed_post


class TwilioRest(BaseHTTPRequestHandler):
    """Answers like Twilio's ``Calls/{sid}.json`` update, and remembers each request (or fails on demand)."""

    requests: list = []
    fail = False

    def do_POST(self) -> None:  # noqa: N802
        body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        TwilioRest.requests.append((self.path, self.headers.get("Authorization"), {k: v[0] for k, v in body.items()}))
        self.send_response(500 if TwilioRest.fail else 200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"sid": "CA-ctl"}')

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def twilio_rest(runtime, server_url, monkeypatch):
    monkeypatch.setattr(runtime.settings, "twilio_auth_token", TOKEN)
    server = HTTPServer(("127.0.0.1", 0), TwilioRest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    TwilioRest.requests, TwilioRest.fail = [], False
    restore = runtime.channels.swap(ChannelKind.voice, adapter.TwilioProvider(
        "AC1", TOKEN, server_url, f"http://127.0.0.1:{server.server_port}"))
    yield TwilioRest
    restore()
    server.shutdown()


CALL = {"CallSid": "CA-ctl", "From": "+33612345678", "To": "+33170000000", "AccountSid": "AC1"}


def test_a_twilio_call_from_popup_to_hang_up(web, http, server_url, runtime, cast, twilio_rest):
    assert signed_post(http, server_url, "/webhooks/twilio/voice", CALL).status_code == 200
    with runtime.factory() as session:
        interaction_id = session.scalar(select(VoiceCall.interaction_id))
        assert session.get(RoutingItem, interaction_id).status == "waiting"  # accueil routes the call
    alice = web("alice")
    alice.post("/agent/presence", {"presence": "available"})
    from accueil.routing.service import do_dispatch

    with runtime.factory() as session, session.begin():
        do_dispatch(session, rules=runtime.routing_rules)
    popup = alice.get("/agent/offers", htmx=True).text
    assert "+33612345678" in popup  # the caller identified before answering
    assert alice.post(f"/agent/items/{interaction_id}/accept").status_code == 204
    run_due_jobs(runtime.factory, worker="t")
    path, auth, form = twilio_rest.requests[-1]
    assert path == "/2010-04-01/Accounts/AC1/Calls/CA-ctl.json" and auth.startswith("Basic ")
    assert "<Dial><Client>alice</Client></Dial>" in form["Twiml"]  # the agent's phone rings
    page = alice.get(f"/agent?case={_case(runtime, interaction_id)}").text
    assert "Raccrocher" in page and "Mettre en attente" in page

    assert alice.post(f"/agent/items/{interaction_id}/hold").status_code == 204
    assert "<Enqueue" in twilio_rest.requests[-1][2]["Twiml"] and "hold-CA-ctl" in twilio_rest.requests[-1][2]["Twiml"]
    assert alice.post(f"/agent/items/{interaction_id}/hold").status_code == 409  # already on hold
    assert "En attente" in alice.get(f"/agent?case={_case(runtime, interaction_id)}").text
    assert alice.post(f"/agent/items/{interaction_id}/resume").status_code == 204
    assert "<Client>alice</Client>" in twilio_rest.requests[-1][2]["Twiml"]

    twilio_rest.fail = True  # the provider refuses: the agent is told, nothing is recorded
    refused = alice.post(f"/agent/items/{interaction_id}/hold")
    assert refused.status_code == 502 and "opérateur téléphonique" in refused.text
    with runtime.factory() as session:
        assert session.scalar(select(VoiceCall.hold_started_at)) is None
    twilio_rest.fail = False

    assert alice.post(f"/agent/items/{interaction_id}/hangup", {"wrapup": "1"}).status_code == 204
    assert twilio_rest.requests[-1][2] == {"Status": "completed"}
    with runtime.factory() as session:
        call = session.scalar(select(VoiceCall))
        interaction = session.get(Interaction, interaction_id)
        assert call.hung_up_by == "agent" and session.get(RoutingItem, interaction_id).status == "wrapup"
        kinds = session.scalars(select(InteractionEvent.kind).where(
            InteractionEvent.interaction_id == interaction_id)).all()
        assert kinds.count("held") == 1 and kinds.count("unheld") == 1
        durations = call_durations(interaction, call)
        assert durations["hold"] is not None and durations["talk"] is not None


def test_transfer_of_a_call_holds_the_caller_until_the_next_agent(web, http, server_url, runtime, cast, twilio_rest):
    from accueil.routing.admin import do_save_queue

    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="tel_n2", channel="voice", name_fr="Téléphone N2", name_en="Phone L2", level=2)
    signed_post(http, server_url, "/webhooks/twilio/voice", CALL)
    with runtime.factory() as session:
        interaction_id = session.scalar(select(VoiceCall.interaction_id))
        n2 = session.scalar(select(Queue.id).where(Queue.code == "tel_n2"))
    alice = web("alice")
    alice.post("/agent/presence", {"presence": "available"})
    assert alice.post(f"/agent/items/{interaction_id}/accept").status_code == 204
    moved = alice.post(f"/agent/items/{interaction_id}/transfer", {"target": f"queue:{n2}"})
    assert moved.status_code == 204
    twiml = twilio_rest.requests[-1][2]["Twiml"]
    assert ">tel_n2</Enqueue>" in twiml and f"{server_url}/webhooks/twilio/hold?lang=fr" in twiml
    with runtime.factory() as session:
        row = session.get(RoutingItem, interaction_id)
        assert row.queue_id == n2 and row.agent_id is None


def test_calls_without_a_provider_are_controlled_in_accueil(web, http, runtime, cast):
    from tests.web.test_console import take_call

    alice = web("alice")
    created = take_call(alice, http, cast)
    interaction_id = created["interaction_id"]
    assert alice.post(f"/agent/items/{interaction_id}/hold").status_code == 204
    assert alice.post(f"/agent/items/{interaction_id}/resume").status_code == 204
    bob = web("bob")
    assert bob.post(f"/agent/items/{interaction_id}/hangup").status_code == 204  # a supervisor may
    chloe = web("chloe")
    assert chloe.post(f"/agent/items/{interaction_id}/hold").status_code in (403, 422)
    with runtime.factory() as session:
        call = session.scalar(select(VoiceCall))
        assert call.provider == "accueil" and call.hung_up_by == "agent"
        assert session.get(RoutingItem, interaction_id) is None  # ended without wrap-up: freed


def _case(runtime, interaction_id: str) -> str:
    with runtime.factory() as session:
        return session.get(Interaction, interaction_id).case_id
