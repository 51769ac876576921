"""Appointments: booking through the public API (capacity, races, repeats, bad input), cancellation by link,
the reminder job over real SMTP — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accueil.channels.visit import service
from accueil.channels.visit.models import Appointment, AppointmentStatus
from accueil.channels.visit.public_api import PUBLIC_BOOKINGS
from accueil.conversations.models import Case, Interaction
from accueil.core.errors import Conflict
from accueil.customers.models import Customer
from accueil.db.jobs import Job, run_due_jobs
from tests.channels.visit.test_support import booking, cancel_token_from_jobs, first_slot, make_agency


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    PUBLIC_BOOKINGS.clear()
    yield
    PUBLIC_BOOKINGS.clear()


def count(runtime, model) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_booking_creates_customer_case_and_place_and_a_repeat_creates_nothing(runtime, http, cast, smtp_server):
    make_agency(runtime)
    agencies = http.get("/api/v1/public/agencies").json()["items"]
    assert [a["code"] for a in agencies] == ["opera"]
    assert {m["code"] for m in agencies[0]["motifs"]} == {"remboursement", "reclamation"}
    assert http.get("/api/v1/public/agencies", params={"motif": "suivi_commande"}).json()["items"] == []
    starts = first_slot(http)
    made = http.post("/api/v1/public/appointments", json=booking(starts, request_key="form-1"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "booked" and body["starts_at"] == starts
    assert "case_id" not in body and "case_reference" not in body  # a public answer never names a case
    again = http.post("/api/v1/public/appointments", json=booking(starts, request_key="form-1"))
    assert again.status_code == 200 and again.json()["id"] == body["id"]  # double click
    same_person = http.post("/api/v1/public/appointments", json=booking(starts, email="EMILIE.DURAND@example.fr"))
    assert same_person.status_code == 200 and same_person.json()["id"] == body["id"]
    assert count(runtime, Appointment) == 1 and count(runtime, Case) == 1
    with runtime.factory() as session:
        appointment = session.get(Appointment, body["id"])
        assert appointment.contact_phone == "+33611223344" and appointment.counter == 1
        case = session.get(Case, appointment.case_id)
        assert case.motif.code == "remboursement" and case.first_channel.value == "webform"
        exchange = session.scalars(select(Interaction).where(Interaction.case_id == case.id)).one()
        assert exchange.ended_at is not None and exchange.outcome.value == "deflected"
        customer = session.get(Customer, appointment.customer_id)
        assert customer.display_name == "Émilie Durand"
    # the confirmation reaches the customer, in French, with a cancel link
    assert run_due_jobs(runtime.factory, worker="test") >= 1
    mail = smtp_server.wait_for(1)[0]
    assert mail["To"] == "emilie.durand@example.fr" and "Votre rendez-vous du" in mail["Subject"]
    assert "/portal/appointments/cancel/" in mail.get_content() and "Remboursement" in mail.get_content()


def test_capacity_is_the_number_of_counters_and_a_full_slot_writes_nothing(runtime, http, cast):
    make_agency(runtime, counters=2)
    starts = first_slot(http)
    day = starts[:10]
    for n in range(2):
        made = http.post("/api/v1/public/appointments", json=booking(starts, email=f"p{n}@example.fr", phone=None))
        assert made.status_code == 201, made.text
    customers = count(runtime, Customer)
    full = http.post("/api/v1/public/appointments", json=booking(starts, email="late@example.fr", phone=None))
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_unavailable"
    assert count(runtime, Customer) == customers and count(runtime, Appointment) == 2  # nothing written
    slots = http.get("/api/v1/public/agencies/opera/slots", params={"day": day}).json()["slots"]
    assert starts not in [s["starts_at"] for s in slots]


def test_concurrent_bookings_never_share_the_last_place(runtime, http, cast):
    make_agency(runtime, counters=1)
    starts = datetime.fromisoformat(first_slot(http))
    results: list[str] = []
    barrier = threading.Barrier(4)

    def book(n: int) -> None:
        request = service.BookingRequest(agency_code="opera", motif_code="remboursement", starts_at=starts,
                                         name=f"Client {n}", email=f"client{n}@example.fr")
        barrier.wait()
        try:
            service.book_appointment(runtime.factory, request=request, config=runtime.conversation_config,
                                     base_url="http://test")
            results.append("booked")
        except Conflict as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["booked"] + ["slot_unavailable"] * 3
    assert count(runtime, Appointment) == 1


def test_the_database_refuses_two_appointments_on_one_place(runtime, http, cast):
    make_agency(runtime)
    made = http.post("/api/v1/public/appointments", json=booking(first_slot(http)))
    with runtime.factory() as session:
        first = session.get(Appointment, made.json()["id"])
        twin = Appointment(**{c: getattr(first, c) for c in ("site_id", "motif_id", "customer_id", "case_id",
                                                             "starts_at", "ends_at", "counter")})
        session.add(twin)
        with pytest.raises(IntegrityError):
            session.flush()


@pytest.mark.parametrize("change, code, status", [
    ({"email": "not-an-email"}, "invalid_email", 422),
    ({"email": None, "phone": None}, "contact_required", 422),
    ({"phone": "12"}, "invalid_phone", 422),
    ({"name": "   "}, "name_required", 422),
    ({"motif": "suivi_commande"}, "motif_not_bookable", 422),
    ({"agency": "nowhere"}, "not_found", 404),
    ({"language": "de"}, "validation_error", 422),
])
def test_bad_bookings_are_refused_and_write_nothing(runtime, http, cast, change, code, status):
    make_agency(runtime)
    starts = first_slot(http)
    customers = count(runtime, Customer)
    refused = http.post("/api/v1/public/appointments", json=booking(starts, **change))
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code
    assert count(runtime, Customer) == customers and count(runtime, Appointment) == 0


def test_times_that_are_not_free_slots_are_refused(runtime, http, cast):
    make_agency(runtime)
    starts = datetime.fromisoformat(first_slot(http))
    for wrong in (starts + timedelta(minutes=10), datetime.now(starts.tzinfo) + timedelta(minutes=5),
                  starts + timedelta(days=40)):
        refused = http.post("/api/v1/public/appointments", json=booking(wrong.isoformat()))
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "slot_unavailable"
    naive = http.post("/api/v1/public/appointments", json=booking(starts.replace(tzinfo=None).isoformat()))
    assert naive.status_code == 422
    assert count(runtime, Appointment) == 0


def test_cancelling_from_the_link_frees_the_place(runtime, http, cast, smtp_server):
    make_agency(runtime, counters=1)
    starts = first_slot(http)
    made = http.post("/api/v1/public/appointments", json=booking(starts))
    token = cancel_token_from_jobs(runtime)
    taken = http.post("/api/v1/public/appointments", json=booking(starts, email="other@example.fr", phone=None))
    assert taken.status_code == 409
    assert http.post("/api/v1/public/appointments/cancel", json={"token": "forged"}).status_code == 404
    cancelled = http.post("/api/v1/public/appointments/cancel", json={"token": token})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert http.post("/api/v1/public/appointments/cancel", json={"token": token}).json()["status"] == "cancelled"
    with runtime.factory() as session:
        appointment = session.get(Appointment, made.json()["id"])
        assert appointment.counter is None and appointment.cancel_token_hash != token  # only a hash is kept
        assert session.get(Case, appointment.case_id).status.value == "resolved"
    other = http.post("/api/v1/public/appointments", json=booking(starts, email="other@example.fr", phone=None))
    assert other.status_code == 201  # the place is free again


def test_the_reminder_goes_a_day_before_with_its_own_cancel_link(runtime, http, cast, smtp_server):
    make_agency(runtime)
    days = http.get("/api/v1/public/agencies/opera/slots").json()["days"]
    slot = http.get("/api/v1/public/agencies/opera/slots", params={"day": days[3]["day"]}).json()["slots"][0]
    made = http.post("/api/v1/public/appointments", json=booking(slot["starts_at"], language="en"))
    second = http.post("/api/v1/public/appointments",
                       json=booking(slot["starts_at"], email="second@example.fr", phone=None))
    assert made.status_code == 201 and second.status_code == 201
    with runtime.factory() as session, session.begin():  # the second one is cancelled: no reminder
        service.do_cancel_appointment(session, appointment=session.get(Appointment, second.json()["id"]))
    run_due_jobs(runtime.factory, worker="test")
    sent = len(smtp_server.wait_for(3))  # two confirmations and one cancellation
    assert sent == 3
    starts = datetime.fromisoformat(slot["starts_at"])
    remind_at = starts - timedelta(hours=24)
    run_due_jobs(runtime.factory, worker="test", now=remind_at - timedelta(minutes=1))  # (SLA checks may run)
    assert reminder_jobs(runtime) == ["pending", "pending"]
    run_due_jobs(runtime.factory, worker="test", now=remind_at + timedelta(seconds=1))
    assert reminder_jobs(runtime) == ["done", "done"]
    run_due_jobs(runtime.factory, worker="test", now=remind_at + timedelta(seconds=2))  # the reminder's email
    received = smtp_server.wait_for(4)
    reminder = received[-1]
    assert reminder["To"] == "emilie.durand@example.fr" and "Reminder: your appointment on" in str(reminder["Subject"])
    assert len(smtp_server.wait_for(5, timeout=0.5)) == 4  # none for the cancelled appointment
    token = cancel_token_from_jobs(runtime, kind="reminder")
    cancelled = http.post("/api/v1/public/appointments/cancel", json={"token": token})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def reminder_jobs(runtime) -> list[str]:
    with runtime.factory() as session:
        return sorted(session.scalars(select(Job.status).where(Job.kind == service.REMINDER_KIND)))


def test_public_bookings_are_rate_limited_per_address(runtime, http, cast):
    make_agency(runtime)
    limit = runtime.settings.portal_booking_rate
    for _ in range(limit):
        assert http.post("/api/v1/public/appointments/cancel", json={"token": "nope"}).status_code == 404
    limited = http.post("/api/v1/public/appointments", json=booking(first_slot(http)))
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "too_many_requests"
    assert count(runtime, Appointment) == 0


def test_a_booked_appointment_cannot_be_cancelled_once_the_visitor_arrived(runtime, http, cast):
    made = make_agency(runtime)
    starts = first_slot(http)
    booked = http.post("/api/v1/public/appointments", json=booking(starts)).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert http.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=headers).status_code == 200
    with runtime.factory() as session, session.begin():
        appointment = session.get(Appointment, booked["id"])
        with pytest.raises(Conflict):
            service.do_cancel_appointment(session, appointment=appointment)
        assert appointment.status is AppointmentStatus.arrived
