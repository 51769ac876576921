"""An appointment booked through the public portal in a real browser (Debian's Chromium via Playwright),
then seen and checked in on the agency's desk page by its agent.

Skips when no ``chromium`` is on PATH, except under CI, where that fails.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accueil.channels.visit.models import Appointment
from accueil.channels.visit.public_api import PUBLIC_BOOKINGS
from accueil.conversations.models import Interaction
from tests.channels.visit.test_support import make_agency
from tests.web.conftest import set_passwords, sign_in


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    PUBLIC_BOOKINGS.clear()


def test_a_customer_books_in_the_portal_and_the_agency_checks_them_in(browser, server_url, runtime, cast):
    make_agency(runtime, staff="lucas")
    set_passwords(runtime, "lucas")

    page = browser.new_page(locale="fr-FR")
    page.goto(server_url + "/portal/appointments?lang=fr")
    assert page.url.endswith("/portal/appointments")  # the language is remembered, the address stays clean
    page.get_by_label("Motif de votre visite").select_option("remboursement")
    page.get_by_role("button", name="Suivant").click()
    agency = page.locator('[data-agency="opera"]')
    assert "8 boulevard des Capucines" in agency.inner_text()
    agency.get_by_role("link").click()
    assert "Horaires d'ouverture" in page.content()
    page.locator("nav.subnav a").nth(1).click()  # tomorrow: past the lead time whatever the hour
    page.locator('input[name="starts_at"]').first.check()
    chosen = page.locator('input[name="starts_at"]').first.get_attribute("value")
    page.get_by_label("Votre nom").fill("Émilie Durand")
    page.get_by_label("Téléphone mobile").fill("12")  # not a number: the form comes back, nothing booked
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    assert "n'est pas un numéro de téléphone valide" in page.locator('[role="alert"]').inner_text()
    assert page.get_by_label("Votre nom").input_value() == "Émilie Durand"
    page.locator(f'input[name="starts_at"][value="{chosen}"]').check()
    page.get_by_label("Téléphone mobile").fill("06 11 22 33 44")
    page.get_by_label("E-mail").fill("emilie.durand@example.fr")
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    confirmation = page.locator("#confirmation")
    confirmation.wait_for()
    text = confirmation.inner_text()
    assert "Votre rendez-vous est confirmé" in text and "Agence Opera" in text and "Remboursement" in text
    page.reload()  # the browser re-sends the form: the same booking, nothing new
    page.locator("#confirmation").wait_for()
    with runtime.factory() as session:
        booked = session.scalars(select(Appointment)).all()
        assert len(booked) == 1 and booked[0].status.value == "booked"
        appointment_id = booked[0].id
        day = booked[0].starts_at

    desk = sign_in(browser, server_url, "lucas")
    desk.wait_for_url("**/agent")
    desk.get_by_role("link", name="Agence").click()
    desk.wait_for_url("**/agency")
    from zoneinfo import ZoneInfo

    local_day = day.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    desk.goto(server_url + f"/agency?site=opera&day={local_day}")
    row = desk.locator(f'tr[data-appointment="{appointment_id}"]')
    assert "Émilie Durand" in row.inner_text() and "réservé" in row.inner_text()
    row.get_by_role("button", name="Enregistrer l'arrivée").click()
    row = desk.locator(f'tr[data-appointment="{appointment_id}"][data-status="arrived"]')
    row.wait_for()
    row.get_by_role("button", name="Commencer la visite").click()
    row = desk.locator(f'tr[data-appointment="{appointment_id}"][data-status="in_progress"]')
    row.wait_for()
    row.get_by_label("Résultat").select_option("follow_up")
    row.get_by_role("button", name="Terminer la visite").click()
    desk.locator(f'tr[data-appointment="{appointment_id}"][data-status="done"]').wait_for()
    with runtime.factory() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment.outcome.value == "follow_up" and appointment.agent_id is not None
        visit = session.get(Interaction, appointment.interaction_id)
        assert visit.channel.value == "visit" and visit.ended_at is not None and visit.outcome.value == "handled"
