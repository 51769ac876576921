"""Callback requests (public API, IVR virtual hold) and attempt outcomes (API), over real HTTP, on both
databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from accueil.analytics.wallboard import queue_board
from accueil.channels.callback.models import Callback, CallbackAttempt
from accueil.channels.callback.outcomes import do_record_outcome
from accueil.channels.callback.policy import RetryPolicy, window_of
from accueil.channels.callback.public_api import REQUESTS
from accueil.channels.callback.service import do_request_callback
from accueil.conversations.models import ChannelKind, Interaction, InteractionEvent
from accueil.conversations.service import do_receive_inbound
from accueil.core import clock
from accueil.core.errors import Conflict
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef
from accueil.db.jobs import Job, run_due_jobs
from accueil.routing import service as routing
from accueil.routing.admin import do_save_queue
from accueil.routing.decisions import Presence
from accueil.routing.models import RoutingItem
from tests.factories import DAVID_PHONE, contact, inbound


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    REQUESTS.clear()
    yield
    REQUESTS.clear()


@pytest.fixture
def callback_queue(runtime, cast):
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="rappel", channel="callback", name_fr="Rappels", name_en="Callbacks")
    return cast


def test_a_public_request_finds_or_creates_the_customer_opens_a_case_and_confirms(runtime, http, callback_queue,
                                                                                  smtp_server):
    body = {"phone": "06 98 76 54 32", "name": "Zoé Durand", "email": "Zoe@Example.fr", "motif": "remboursement",
            "language": "en", "note": "after 5 pm if possible"}
    made = http.post("/api/v1/public/callbacks", json=body, headers={"Idempotency-Key": "form-1"})
    assert made.status_code == 201, made.text
    out = made.json()
    assert out["phone"] == "+33698765432" and out["asap"] is True and out["status"] == "scheduled"
    assert "reference" not in out  # the number's owner gets it by SMS/email, not whoever typed the number
    again = http.post("/api/v1/public/callbacks", json=body, headers={"Idempotency-Key": "form-1"})
    assert again.status_code == 201 and again.json() == out  # the same answer, nothing new
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 1
        callback = session.get(Callback, out["id"])
        assert callback.requested_by == "web" and callback.language == "en"
        customer = session.get(Customer, callback.customer_id)
        assert customer.display_name == "Zoé Durand"
        assert {i.value for i in session.scalars(select(Identity).where(Identity.customer_id == customer.id))} == {
            "+33698765432", "zoe@example.fr"}
        request = session.scalars(select(Interaction).where(Interaction.case_id == callback.case_id)).one()
        assert request.channel.value == "callback" and request.direction.value == "inbound"
        assert request.outcome.value == "deflected" and request.ended_at is not None  # no answer owed
        assert request.case.motif.code == "remboursement"
        reference = request.case.reference
    assert run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(seconds=1)) == 2  # call + email
    mail = smtp_server.wait_for(1)[0]
    assert mail["Subject"] == "Your callback request" and mail["To"] == "zoe@example.fr"
    assert "+33698765432 as soon as possible" in mail.get_content() and reference in mail.get_content()
    with runtime.factory() as session:
        callback = session.get(Callback, out["id"])
        assert callback.status.value == "queued"
        assert session.get(RoutingItem, callback.interaction_id).status == "waiting"

    known = http.post("/api/v1/public/callbacks", json={"phone": DAVID_PHONE,
                                                        "due_at": (clock.now() + timedelta(days=1)).isoformat()})
    assert known.status_code == 201, known.text
    with runtime.factory() as session:
        assert session.get(Callback, known.json()["id"]).customer_id == callback_queue.david_id
        assert session.scalar(select(func.count()).select_from(Customer)) == 2  # David was found, not created


def test_bad_public_requests_are_refused_and_the_rate_limit_holds(runtime, http, callback_queue):
    bad = http.post("/api/v1/public/callbacks", json={"phone": "123"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_phone"
    past = http.post("/api/v1/public/callbacks",
                     json={"phone": "0698765432", "due_at": (clock.now() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and past.json()["error"]["code"] == "validation_error"
    unknown = http.post("/api/v1/public/callbacks", json={"phone": "0698765432", "motif": "nope"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_motif"
    extra = http.post("/api/v1/public/callbacks", json={"phone": "0698765432", "admin": True})
    assert extra.status_code == 422
    fifth = http.post("/api/v1/public/callbacks", json={"phone": "0698765432"})
    assert fifth.status_code == 201
    refused = http.post("/api/v1/public/callbacks", json={"phone": "0698765432"}, headers={"Accept-Language": "fr"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests" and "réessayez" in refused.json()["error"]["message"]
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 1


def _call(runtime, phone: str, at: datetime) -> str:
    with runtime.factory() as session, session.begin():
        found = contact(ChannelKind.voice, identities=[IdentityRef(IdentityKind.phone, phone)], queue_code="tel_n1",
                        body_text="(appel)")
        return do_receive_inbound(session, contact=found,
                                  config=runtime.conversation_config, now=at).interaction_id


def test_virtual_hold_keeps_the_callers_place_and_is_not_an_abandon(runtime, cast):
    t0 = clock.now().replace(microsecond=0)
    first = _call(runtime, "+33600000001", t0)
    caller = _call(runtime, "+33600000002", t0 + timedelta(seconds=10))
    later = _call(runtime, "+33600000003", t0 + timedelta(seconds=20))
    moment = t0 + timedelta(seconds=40)
    with runtime.factory() as session, session.begin():  # the IVR offers a callback to the second caller
        callback = do_request_callback(session, phone="+33600000002", source="ivr", keep_position_of=caller,
                                       now=moment, config=runtime.conversation_config)
        callback_id, attempt = callback.id, callback.interaction_id
    with runtime.factory() as session:
        assert session.get(RoutingItem, caller) is None
        call = session.get(Interaction, caller)
        assert call.outcome.value == "deflected" and call.ended_at == moment
        ended = session.scalars(select(InteractionEvent).where(InteractionEvent.interaction_id == caller,
                                                               InteractionEvent.kind == "ended")).one()
        assert ended.data == {"reason": "virtual_hold", "callback_id": callback_id}
        item = session.get(RoutingItem, attempt)
        assert item.queue_id == call.queue_id and item.status == "waiting"
        assert item.arrived_at == t0 + timedelta(seconds=10)  # the caller's own place
        assert session.get(Callback, callback_id).case_id == call.case_id
        board = {b.code: b for b in queue_board(session, now=moment, timezone="Europe/Paris")}
        assert board["tel_n1"].abandoned == 0 and board["tel_n1"].waiting == 3
    with pytest.raises(Conflict):  # the place is taken: a second request for the same call is refused
        with runtime.factory() as session, session.begin():
            do_request_callback(session, phone="+33600000002", source="ivr", keep_position_of=caller,
                                now=moment, config=runtime.conversation_config)

    # One agent serves tel_n1 in order: the first caller, then the callback — before the later caller.
    served = []
    alice = cast.users["alice"]
    with runtime.factory() as session, session.begin():
        result = routing.do_set_presence(session, rules=runtime.routing_rules, user_id=alice,
                                         presence=Presence.available, now=moment)
        served += [o.item for o in result.offers]
    for step in range(2):
        now = moment + timedelta(seconds=5 * step + 1)
        with runtime.factory() as session, session.begin():
            routing.do_accept(session, rules=runtime.routing_rules, item_id=served[-1], user_id=alice, now=now)
        with runtime.factory() as session, session.begin():
            result = routing.do_end(session, rules=runtime.routing_rules, item_id=served[-1], now=now)
            served += [o.item for o in result.offers]
    assert served == [first, attempt, later]


def test_outcomes_through_the_api(runtime, http, callback_queue):
    cast = callback_queue
    case = http.post("/api/v1/inbound", json=inbound("email"), headers=cast.auth("alice")).json()
    due = clock.now() + timedelta(minutes=1)
    made = http.post(f"/api/v1/cases/{case['case_id']}/callbacks", headers=cast.auth("alice"),
                     json={"due_at": due.isoformat()}).json()
    url = f"/api/v1/callbacks/{made['id']}/attempts"
    assert http.post(url, json={"outcome": "no_answer"}, headers=cast.auth("alice")).status_code == 404  # no call yet
    run_due_jobs(runtime.factory, worker="test", now=due)
    with runtime.factory() as session:
        attempt = session.get(Callback, made["id"]).interaction_id
    early = http.post(url, json={"outcome": "no_answer"}, headers=cast.auth("alice"))
    assert early.status_code == 409  # nobody has taken the call yet
    alice = cast.users["alice"]
    with runtime.factory() as session, session.begin():
        routing.do_set_presence(session, rules=runtime.routing_rules, user_id=alice, presence=Presence.available)
        routing.do_accept(session, rules=runtime.routing_rules, item_id=attempt, user_id=alice)
    assert http.post(url, json={"outcome": "maybe"}, headers=cast.auth("alice")).status_code == 422
    assert http.post(url, json={"outcome": "reached"}, headers=cast.auth("chloe")).status_code == 403  # not hers

    told = http.post(url, json={"outcome": "no_answer"}, headers=cast.auth("alice"))
    assert told.status_code == 200, told.text
    out = told.json()
    assert out["status"] == "scheduled" and out["attempts"] == 1
    assert [(h["number"], h["outcome"], h["agent_id"]) for h in out["history"]] == [(1, "no_answer", alice)]
    retry_at = datetime.fromisoformat(out["due_at"].replace("Z", "+00:00"))
    assert window_of(RetryPolicy(), retry_at) is not None  # in a retry window
    assert http.post(url, json={"outcome": "no_answer"}, headers=cast.auth("alice")).json() == out  # a repeat
    assert http.post(url, json={"outcome": "reached", "attempt": 1},
                     headers=cast.auth("alice")).status_code == 409  # attempt 1 was already told otherwise
    with runtime.factory() as session:
        assert session.get(RoutingItem, attempt) is None  # the call ended: alice is free
        assert session.get(Interaction, attempt).outcome.value == "failed"
        keys = set(session.scalars(select(Job.dedupe_key).where(Job.kind == "callback.due")))
        assert keys == {f"callback.due:{made['id']}", f"callback.due:{made['id']}:2"}

    run_due_jobs(runtime.factory, worker="test", now=retry_at)
    with runtime.factory() as session, session.begin():
        second = session.get(Callback, made["id"]).interaction_id
        routing.do_dispatch(session, rules=runtime.routing_rules, now=retry_at)
        routing.do_accept(session, rules=runtime.routing_rules, item_id=second, user_id=alice, now=retry_at)
    reached = http.post(url, json={"outcome": "reached", "attempt": 2}, headers=cast.auth("alice"))
    assert reached.status_code == 200 and reached.json()["status"] == "done"
    assert http.post(url, json={"outcome": "reached", "attempt": 2}, headers=cast.auth("alice")).json() == reached.json()
    with runtime.factory() as session:
        assert session.get(Interaction, second).outcome.value == "handled"
        assert session.scalar(select(func.count()).select_from(CallbackAttempt)) == 2


def test_a_wrong_number_closes_the_callback_for_good(runtime, callback_queue):
    cast = callback_queue
    alice = cast.users["alice"]
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with runtime.factory() as session, session.begin():
        callback_id = do_request_callback(session, phone="0698765432", source="agent", user_id=alice,
                                          now=now, config=runtime.conversation_config).id
    run_due_jobs(runtime.factory, worker="test", now=now)
    with runtime.factory() as session, session.begin():
        attempt = session.get(Callback, callback_id).interaction_id
        routing.do_set_presence(session, rules=runtime.routing_rules, user_id=alice, presence=Presence.available,
                                now=now)
        routing.do_accept(session, rules=runtime.routing_rules, item_id=attempt, user_id=alice, now=now)
    with runtime.factory() as session, session.begin():
        closed = do_record_outcome(session, callback_id=callback_id, outcome="wrong_number", user_id=alice,
                                   rules=runtime.routing_rules, policy=RetryPolicy(), now=now + timedelta(minutes=1))
        assert closed.status.value == "closed"
    assert run_due_jobs(runtime.factory, worker="test", now=now + timedelta(days=3)) <= 1  # at most the SLA check
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "callback.due")) == 1
        assert session.get(Callback, callback_id).attempts == 1


def test_a_public_request_sent_twice_is_one_callback(runtime, http, callback_queue):
    body = {"phone": "06 98 76 54 32", "name": "Zoé Durand"}
    first = http.post("/api/v1/public/callbacks", json=body)
    second = http.post("/api/v1/public/callbacks", json=body)  # a double click, without an Idempotency-Key
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 1
