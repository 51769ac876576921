"""The appointment pages over real HTTP: the public portal (language, validation, same origin, cancel link),
the agency desk (who may see and act, CSRF) and the agency administration."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from accueil.channels.visit.models import AgencyClosure, AgencySettings, Appointment
from accueil.channels.visit.public_api import PUBLIC_BOOKINGS
from accueil.customers.models import Customer
from tests.channels.visit.test_support import LINK, booking, first_slot, make_agency
from tests.web.conftest import set_passwords


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    PUBLIC_BOOKINGS.clear()


def count(runtime, model) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def local_day(starts_at: str) -> str:
    return datetime.fromisoformat(starts_at).astimezone(ZoneInfo("Europe/Paris")).date().isoformat()


def form(starts_at: str, **overrides) -> dict:
    values = {"agency": "opera", "motif": "remboursement", "day": local_day(starts_at), "starts_at": starts_at,
              "name": "Emily Dawson", "email": "emily@example.com", "phone": "", "request_key": "k-1"}
    values.update(overrides)
    return values


def test_the_portal_speaks_the_visitors_language_and_walks_the_steps(server_url, runtime, cast, http):
    make_agency(runtime)
    with httpx.Client(base_url=server_url, follow_redirects=False) as client:
        switched = client.get("/portal/appointments?lang=en&motif=remboursement")
        assert switched.status_code == 303 and switched.headers["location"] == "/portal/appointments?motif=remboursement"
        page = client.get(switched.headers["location"])
        assert "Which agency?" in page.text and "Agence Opera" in page.text and "Refund" in page.text
        assert "content-security-policy" in page.headers
    french = http.get("/portal/appointments", headers={"Accept-Language": "fr-FR"})
    assert "Prendre rendez-vous en agence" in french.text
    starts = first_slot(http)
    day = http.get("/portal/appointments", params={"motif": "remboursement", "agency": "opera",
                                                   "day": local_day(starts)})
    assert f'value="{starts}"' in day.text and 'name="request_key"' in day.text
    nothing = http.get("/portal/appointments", params={"motif": "<script>", "agency": "x", "day": "not-a-day"})
    assert nothing.status_code == 200 and "<script>" not in nothing.text.split("<main", 1)[1]


def test_a_bad_form_comes_back_with_its_values_and_writes_nothing(server_url, runtime, cast, http):
    make_agency(runtime)
    starts = first_slot(http)
    headers = {"Origin": server_url, "Accept-Language": "en"}
    bad = http.post("/portal/appointments", data=form(starts, email="nope", name="Emily <b>D</b>"), headers=headers)
    assert bad.status_code == 422
    assert "is not a valid email address" in bad.text and "Emily &lt;b&gt;D&lt;/b&gt;" in bad.text
    no_time = http.post("/portal/appointments", data={**form(starts), "starts_at": ""}, headers=headers)
    assert no_time.status_code == 422 and "Please choose a time." in no_time.text
    elsewhere = http.post("/portal/appointments", data=form(starts), headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    assert count(runtime, Appointment) == 0 and count(runtime, Customer) == 1  # david only
    done = http.post("/portal/appointments", data=form(starts), headers=headers)
    assert done.status_code == 200 and "Your appointment is booked" in done.text
    twice = http.post("/portal/appointments", data=form(starts), headers=headers)
    assert twice.status_code == 200 and count(runtime, Appointment) == 1
    full = http.post("/portal/appointments", data=form(starts, request_key="k-2", email="b@example.com"),
                     headers=headers)
    assert full.status_code == 200 and "Your appointment is booked" in full.text  # a second counter
    third = http.post("/portal/appointments", data=form(starts, request_key="k-3", email="c@example.com"),
                      headers=headers)
    assert third.status_code == 409 and "no longer available" in third.text
    assert count(runtime, Appointment) == 2


def test_the_cancel_link_asks_first_then_frees_the_slot(server_url, runtime, cast, http, smtp_server):
    make_agency(runtime)
    starts = first_slot(http)
    assert http.post("/api/v1/public/appointments", json=booking(starts)).status_code == 201
    from accueil.db.jobs import run_due_jobs

    run_due_jobs(runtime.factory, worker="test")
    link = LINK.search(smtp_server.wait_for(1)[0].get_content()).group(1)
    path = "/" + link.split("/", 3)[3]
    shown = http.get(path)
    assert shown.status_code == 200 and "Annuler mon rendez-vous" in shown.text
    with runtime.factory() as session:
        assert session.scalars(select(Appointment)).one().status.value == "booked"  # opening changed nothing
    cancelled = http.post(path, headers={"Origin": server_url})
    assert cancelled.status_code == 200 and "le créneau est libéré" in cancelled.text
    assert http.get("/portal/appointments/cancel/forged-token").status_code == 404
    with runtime.factory() as session:
        assert session.scalars(select(Appointment)).one().counter is None


def test_the_desk_is_for_the_agencys_staff(web, runtime, cast, http):
    made = make_agency(runtime)
    set_passwords(runtime, "lucas")
    starts = first_slot(http)
    booked = http.post("/api/v1/public/appointments", json=booking(starts)).json()
    alice = web("alice")  # an agent of another site
    assert "ne faites partie du personnel" in alice.get("/agency").text
    refused = alice.post(f"/agency/appointments/{booked['id']}/check-in", {"site": "opera"}, htmx=False)
    assert refused.status_code == 403
    chloe = web("chloe")
    assert chloe.get("/agency").status_code == 403
    lucas = web("lucas")
    page = lucas.get(f"/agency?site=opera&day={local_day(starts)}")
    assert page.status_code == 200 and booked["id"] in page.text
    no_csrf = lucas.post(f"/agency/appointments/{booked['id']}/check-in", {"site": "opera"}, csrf=False, htmx=False)
    assert no_csrf.status_code == 403
    done = lucas.post(f"/agency/appointments/{booked['id']}/check-in", {"site": "opera"}, htmx=False)
    assert done.status_code == 303
    walk_in = lucas.post("/agency/walk-ins", {"site": "opera", "motif": "reclamation", "name": "Paul",
                                              "phone": "0612345678", "request_key": "w1"}, htmx=False)
    assert walk_in.status_code == 303
    with runtime.factory() as session:
        statuses = sorted(a.status.value for a in session.scalars(select(Appointment)))
        assert statuses == ["arrived", "arrived"] and made["user_id"]


def test_admin_sets_hours_motifs_and_closures(web, runtime, cast, http):
    make_agency(runtime, staff=None)
    admin = web("admin")
    page = admin.get("/admin/agencies/opera")
    assert page.status_code == 200 and 'name="hours_mon"' in page.text
    bad = admin.post("/admin/agencies/opera", {"hours_mon": "18:00-09:00", "slot_minutes": "30", "counters": "2",
                                               "motif_codes": "remboursement"}, htmx=False)
    assert bad.status_code == 422
    saved = admin.post("/admin/agencies/opera", {"hours_mon": "09:00-12:00, 14:00-17:00", "slot_minutes": "20",
                                                 "counters": "3", "motif_codes": ["remboursement"],
                                                 "online_booking": "1"}, htmx=False)
    assert saved.status_code == 303
    with runtime.factory() as session:
        row = session.scalars(select(AgencySettings)).one()
        assert row.opening_hours == {"mon": [["09:00", "12:00"], ["14:00", "17:00"]]}
        assert (row.slot_minutes, row.counters, row.motif_codes) == (20, 3, ["remboursement"])
        assert row.closed_on_public_holidays is False
    days = http.get("/api/v1/public/agencies/opera/slots").json()["days"]
    closed = days[0]["day"]
    added = admin.post("/admin/agencies/opera/closures", {"first_day": closed, "reason": "Travaux"}, htmx=False)
    assert added.status_code == 303 and count(runtime, AgencyClosure) == 1
    assert closed not in [d["day"] for d in http.get("/api/v1/public/agencies/opera/slots").json()["days"]]
    assert web("bob").get("/admin/agencies").status_code == 403
