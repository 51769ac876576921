"""Shared set-up for the agency visit tests (no tests here): an agency open every day, its agent, a booking."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from accueil.channels.visit.agencies import do_save_agency_settings
from accueil.db.jobs import Job
from accueil.identity.models import Role, SiteKind
from accueil.identity.service import do_create_api_token, do_create_site, do_create_user

ALL_DAY = {day: [["00:00", "23:30"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LINK = re.compile(r"(https?://\S+/portal/appointments/cancel/([A-Za-z0-9_\-]+))")


def make_agency(runtime, *, code: str = "opera", counters: int = 2, hours: dict | None = None,
                motifs: tuple[str, ...] = ("remboursement", "reclamation"), staff: str | None = "lucas") -> dict:
    """An agency open all day every day (tests run at any hour), holidays included, and one agent of it."""
    made: dict = {}
    with runtime.factory() as session, session.begin():
        site = do_create_site(session, code=code, name=f"Agence {code.title()}", kind=SiteKind.agency,
                              address="8 boulevard des Capucines, 75009 Paris")
        do_save_agency_settings(session, site_id=site.id, opening_hours=hours or ALL_DAY, slot_minutes=30,
                                counters=counters, motif_codes=list(motifs), closed_on_public_holidays=False,
                                booking_lead_minutes=60)
        made["site_id"] = site.id
        if staff:
            user = do_create_user(session, username=staff, display_name=staff.title(), role=Role.agent,
                                  password=None, site=site)
            made["user_id"] = user.id
            made["token"] = do_create_api_token(session, user=user, name="tests").secret
    return made


def first_slot(http, code: str = "opera", index: int = 0) -> str:
    days = http.get(f"/api/v1/public/agencies/{code}/slots").json()["days"]
    day = days[1]["day"]  # tomorrow: well past the lead time whatever the hour
    return http.get(f"/api/v1/public/agencies/{code}/slots", params={"day": day}).json()["slots"][index]["starts_at"]


def booking(starts_at: str, **overrides) -> dict:
    body = {"agency": "opera", "motif": "remboursement", "starts_at": starts_at, "name": "Émilie Durand",
            "email": "emilie.durand@example.fr", "phone": "06 11 22 33 44", "language": "fr"}
    body.update(overrides)
    return body


def cancel_token_from_jobs(runtime, kind: str = "confirm") -> str:
    """The secret of the cancel link in the queued confirmation email (only its hash is in appointments)."""
    with runtime.factory() as session:
        bodies = [job.payload["body"] for job in session.query(Job).filter(Job.kind == "notify.email")
                  if job.dedupe_key and f"visit.{kind}:" in job.dedupe_key]
    assert bodies, "no confirmation email queued"
    return LINK.search(bodies[-1]).group(2)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
