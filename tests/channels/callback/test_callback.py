"""Callbacks: scheduled on a case, fired by a durable job into the callback queue, once, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accueil.channels.callback.models import Callback
from accueil.conversations.models import Interaction
from accueil.core import clock
from accueil.db.jobs import run_due_jobs
from accueil.routing.admin import do_save_queue
from accueil.routing.models import RoutingItem
from tests.factories import inbound


def setup(runtime, http, cast, **extra) -> dict:
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="rappel", channel="callback", name_fr="Rappels", name_en="Callbacks")
    posted = http.post("/api/v1/inbound", json=inbound("email", **extra), headers=cast.auth("alice"))
    assert posted.status_code == 201, posted.text
    return posted.json()


def test_a_callback_is_routed_when_due_and_only_once(runtime, http, cast):
    case = setup(runtime, http, cast)
    due = clock.now() + timedelta(minutes=10)
    made = http.post(f"/api/v1/cases/{case['case_id']}/callbacks", headers=cast.auth("alice"),
                     json={"due_at": due.isoformat(), "note": "rappeler avant midi"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "scheduled" and body["phone"] == "+33612345678" and body["interaction_id"] is None
    assert run_due_jobs(runtime.factory, worker="test", now=due - timedelta(minutes=1)) == 0  # not yet
    assert run_due_jobs(runtime.factory, worker="test", now=due + timedelta(seconds=1)) == 1
    assert run_due_jobs(runtime.factory, worker="test", now=due + timedelta(minutes=5)) == 0  # nothing twice
    with runtime.factory() as session:
        callback = session.get(Callback, body["id"])
        assert callback.status.value == "queued" and callback.interaction_id is not None
        interaction = session.get(Interaction, callback.interaction_id)
        assert interaction.channel.value == "callback" and interaction.direction.value == "outbound"
        assert interaction.case_id == case["case_id"]
        item = session.get(RoutingItem, callback.interaction_id)
        assert item.status == "waiting" and item.media == "voice"
    assert "interaction.arrived" in runtime.bus.names()


def test_bad_callbacks_are_refused_and_a_cancelled_one_never_fires(runtime, http, cast):
    case = setup(runtime, http, cast)
    url = f"/api/v1/cases/{case['case_id']}/callbacks"
    soon = (clock.now() + timedelta(hours=1)).isoformat()
    assert http.post(url, json={"due_at": (clock.now() - timedelta(days=1)).isoformat()},
                     headers=cast.auth("alice")).status_code == 422
    assert http.post(url, json={"due_at": soon, "phone": "+33700000000"},
                     headers=cast.auth("alice")).status_code == 422
    assert http.post(url, json={"due_at": "2026-11-23T09:30:00"}, headers=cast.auth("alice")).status_code == 422
    no_phone = http.post("/api/v1/inbound", json=inbound("email", email="zoe@example.fr"),
                         headers=cast.auth("alice")).json()
    assert http.post(f"/api/v1/cases/{no_phone['case_id']}/callbacks", json={"due_at": soon},
                     headers=cast.auth("alice")).status_code == 422
    made = http.post(url, json={"due_at": soon}, headers=cast.auth("alice")).json()
    cancelled = http.delete(f"/api/v1/callbacks/{made['id']}", headers=cast.auth("alice"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(hours=2))
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(RoutingItem)) == 0
