"""The agency desk through the staff API: check-in, walk-in, start and finish a visit (an interaction with a
duration and an outcome on the customer's journey), and who may do it — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accueil.channels.visit import desk
from accueil.channels.visit.models import Appointment
from accueil.channels.visit.public_api import PUBLIC_BOOKINGS
from accueil.conversations.models import Case, Interaction, InteractionEvent
from accueil.core import clock
from tests.channels.visit.test_support import booking, first_slot, make_agency


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    PUBLIC_BOOKINGS.clear()


def staff(made: dict) -> dict:
    return {"Authorization": f"Bearer {made['token']}"}


def test_a_booked_visit_from_check_in_to_outcome(runtime, http, cast):
    made = make_agency(runtime)
    booked = http.post("/api/v1/public/appointments", json=booking(first_slot(http))).json()
    day = datetime.fromisoformat(booked["starts_at"]).astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    listed = http.get("/api/v1/agencies/opera/appointments", params={"day": day}, headers=staff(made)).json()
    assert [(i["id"], i["status"], i["customer_name"]) for i in listed["items"]] == [
        (booked["id"], "booked", "Émilie Durand")]
    url = f"/api/v1/appointments/{booked['id']}"
    arrived = http.post(f"{url}/check-in", headers=staff(made))
    assert arrived.status_code == 200 and arrived.json()["status"] == "arrived"
    assert http.post(f"{url}/check-in", headers=staff(made)).json()["interaction_id"] == arrived.json()["interaction_id"]
    assert http.post(f"{url}/finish", headers=staff(made), json={"outcome": "resolved"}).status_code == 409
    started = http.post(f"{url}/start", headers=staff(made))
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    finished = http.post(f"{url}/finish", headers=staff(made), json={"outcome": "resolved", "note": "Remboursé"})
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["status"] == "done" and body["outcome"] == "resolved" and body["duration_seconds"] >= 0
    with runtime.factory() as session:
        visit = session.get(Interaction, body["interaction_id"])
        assert visit.channel.value == "visit" and visit.agent_id == made["user_id"]
        assert visit.answered_at is not None and visit.ended_at is not None and visit.outcome.value == "handled"
        kinds = list(session.scalars(select(InteractionEvent.kind).where(
            InteractionEvent.interaction_id == visit.id).order_by(InteractionEvent.at, InteractionEvent.id)))
        assert kinds[0] == "arrived" and "answered" in kinds and kinds[-1] == "ended"
        case = session.get(Case, body["case_id"])
        assert case.status.value == "resolved" and case.resolution_code == "visit_resolved"
        customer_id = case.customer_id
    journey = http.get(f"/api/v1/customers/{customer_id}/timeline", headers=cast.auth("bob"))
    assert journey.status_code == 200, journey.text
    assert "visit" in {item["interaction"]["channel"] for item in journey.json()["items"]}


def test_duration_is_start_to_end_and_no_show_is_recorded(runtime, http, cast):
    made = make_agency(runtime)
    first = http.post("/api/v1/public/appointments", json=booking(first_slot(http))).json()
    other = http.post("/api/v1/public/appointments",
                      json=booking(first_slot(http, index=1), email="absent@example.fr", phone=None)).json()
    config = runtime.conversation_config
    begin = clock.now()
    with runtime.factory() as session, session.begin():
        desk.do_check_in(session, appointment_id=first["id"], now=begin)
        desk.do_start_visit(session, appointment_id=first["id"], agent_id=made["user_id"],
                            now=begin + timedelta(minutes=4))
        desk.do_finish_visit(session, appointment_id=first["id"], outcome="follow_up", agent_id=made["user_id"],
                             config=config, now=begin + timedelta(minutes=21, seconds=30))
        desk.do_finish_visit(session, appointment_id=other["id"], outcome="no_show", agent_id=made["user_id"],
                             config=config, now=begin + timedelta(minutes=40))
    with runtime.factory() as session:
        done = session.get(Appointment, first["id"])
        assert (done.ended_at - done.started_at) == timedelta(minutes=17, seconds=30)
        visit = session.get(Interaction, done.interaction_id)
        assert visit.ended_at - visit.answered_at == timedelta(minutes=17, seconds=30)
        assert visit.answered_at - visit.arrived_at == timedelta(minutes=4)  # waited in the agency
        assert session.get(Case, done.case_id).status.value == "open"  # follow-up: still open
        absent = session.get(Appointment, other["id"])
        assert absent.status.value == "no_show" and absent.interaction_id is None


def test_a_walk_in_is_found_or_created_and_gets_a_visit(runtime, http, cast):
    made = make_agency(runtime)
    payload = {"motif": "reclamation", "name": "David Martin", "phone": "06 12 34 56 78", "request_key": "desk-1"}
    walked = http.post("/api/v1/agencies/opera/walk-ins", headers=staff(made), json=payload)
    assert walked.status_code == 201, walked.text
    again = http.post("/api/v1/agencies/opera/walk-ins", headers=staff(made), json=payload)
    assert again.json()["id"] == walked.json()["id"]  # the same form twice: once
    body = walked.json()
    assert body["walk_in"] and body["status"] == "arrived" and body["interaction_id"]
    with runtime.factory() as session:
        case = session.get(Case, body["case_id"])
        assert case.customer_id == cast.david_id  # found by his phone number
        assert session.get(Interaction, body["interaction_id"]).channel.value == "visit"
        assert len(session.scalars(select(Appointment)).all()) == 1
    url = f"/api/v1/appointments/{body['id']}"
    assert http.post(f"{url}/start", headers=staff(made)).status_code == 200
    assert http.post(f"{url}/finish", headers=staff(made), json={"outcome": "redirected"}).json()["outcome"] == \
        "redirected"
    refused = http.post("/api/v1/agencies/opera/walk-ins", headers=staff(made), json={"motif": "reclamation",
                                                                                     "name": "Anonyme"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "contact_required"


def test_only_the_agency_staff_supervisors_and_admins_work_its_desk(runtime, http, cast):
    made = make_agency(runtime)
    booked = http.post("/api/v1/public/appointments", json=booking(first_slot(http))).json()
    url = f"/api/v1/appointments/{booked['id']}/check-in"
    for outsider in ("alice", "chloe"):  # an agent of another site, a partner agent
        refused = http.post(url, headers=cast.auth(outsider))
        assert refused.status_code == 403, (outsider, refused.text)
        assert http.get("/api/v1/agencies/opera/appointments", headers=cast.auth(outsider)).status_code == 403
    assert http.post(url, headers=cast.auth("bob")).status_code == 200
    with runtime.factory() as session:
        assert session.get(Appointment, booked["id"]).status.value == "arrived"
    assert http.post(url, headers={}).status_code == 401
    unknown = http.post("/api/v1/appointments/nope/start", headers=staff(made))
    assert unknown.status_code == 404
    bad = http.post(f"/api/v1/appointments/{booked['id']}/finish", headers=staff(made), json={"outcome": "great"})
    assert bad.status_code == 422
