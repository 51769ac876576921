"""The campaign pages: the agent's campaign view in a real browser (next target → dial → a sale recorded,
in French), and the supervisors' pages over HTTP (create, import a CSV file, start, the compliance report
and its CSV export)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from accueil.channels.outbound import service
from accueil.channels.outbound.models import Campaign, CampaignAttempt, CampaignTarget, ProspectingConsent
from accueil.channels.outbound.queries import consumer_of
from accueil.conversations.models import Interaction
from accueil.core import clock
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef
from tests.web.conftest import set_passwords, sign_in

ZOE = "+33611223344"


def test_the_agents_campaign_view_preview_dial_and_a_sale(runtime, cast, server_url, browser):
    set_passwords(runtime, "alice")
    now = clock.now()
    with runtime.factory() as session, session.begin():
        made = service.do_create_campaign(session, code="noel", name_fr="Offre de Noël", name_en="Christmas offer",
                                          now=now)
        service.do_set_campaign_status(session, campaign_id=made.id, status="running", now=now)
        phone = IdentityRef(IdentityKind.phone, ZOE)
        service.do_add_target(session, campaign=made, phone=phone, name="Zoé Durand", now=now)
        # her recorded consent lifts the legal hours, so the test passes whatever the day and time it runs
        service.do_record_consent(session, phone=phone, given_at=now - timedelta(days=1), now=now,
                                  source="formulaire web du 1er décembre, case cochée")
        campaign_id = made.id
    page = sign_in(browser, server_url, "alice")
    page.goto(server_url + "/agent/campaigns")
    page.get_by_role("link", name="Offre de Noël").click()
    page.get_by_role("button", name="Cible suivante").click()
    assert page.get_by_role("heading", name="Zoé Durand").is_visible()
    assert page.get_by_text("Nouveau prospect").is_visible()
    page.get_by_role("button", name=f"Appeler le {ZOE}").click()
    assert "composez le " + ZOE in page.locator("#campaign-notice").inner_text()
    page.get_by_role("radio", name="Vente").check()
    page.get_by_label("Montant de la vente (€)").fill("129,90")
    page.get_by_role("button", name="Enregistrer le résultat").click()
    assert page.locator("#campaign-notice").inner_text() == "Résultat enregistré."
    assert page.get_by_role("button", name="Cible suivante").is_visible()
    page.close()
    with runtime.factory() as session:
        attempt = session.scalars(select(CampaignAttempt)).one()
        assert attempt.outcome.value == "sale" and attempt.sale_amount_cents == 12990 and attempt.consent
        assert attempt.dialled_by == "hand" and attempt.agent_id == cast.users["alice"]
        call = session.get(Interaction, attempt.interaction_id)
        assert call.direction.value == "outbound" and call.outcome.value == "handled"
        assert session.get(CampaignTarget, attempt.target_id).status.value == "done"
        assert session.get(Campaign, campaign_id).status.value == "running"


def test_supervisors_create_import_start_and_read_the_report(runtime, cast, web):
    bob = web("bob")
    made = bob.post("/supervisor/campaigns", {"code": "relance", "name_fr": "Relance", "name_en": "Follow-up",
                                             "purpose": "prospecting", "channel": "voice", "mode": "preview"},
                    htmx=False)
    assert made.status_code == 303, made.text
    url = made.headers["location"]
    refused = bob.post("/supervisor/campaigns", {"code": "relance", "name_fr": "Relance", "name_en": "Follow-up"},
                       htmx=False)
    assert refused.status_code == 409 and "relance" in refused.text  # the form comes back with the reason
    content = "telephone;nom\n06 11 22 33 44;Zoé\nabc;Bad\n"
    imported = bob.http.post(url + "/import", files={"file": ("liste.csv", content.encode(), "text/csv")},
                             headers={"X-CSRF-Token": bob.csrf})
    assert imported.status_code == 200
    assert "1 ajoutés" in imported.text and "ligne 3 : &#39;abc&#39; n&#39;est pas un numéro" in imported.text
    assert bob.post(url + "/status", {"status": "running"}, htmx=False).status_code == 303
    page = bob.http.get(url)
    assert "Rapport de conformité" in page.text and page.text.count("<strong>OK</strong>") == 4
    export = bob.http.get(url + "/report.csv")
    assert export.status_code == 200 and export.text.startswith("attempt,consumer_local_time,timezone")
    agent = web("alice")
    assert agent.http.get(url).status_code == 403  # an agent does not run campaigns


def test_an_sms_campaign_page_shows_its_text_the_message_checks_and_no_dialer(runtime, cast, web):
    bob = web("bob")
    refused = bob.post("/supervisor/campaigns", {"code": "soldes", "name_fr": "Soldes", "name_en": "Sale",
                                                 "channel": "sms", "template": "Bonjour {prenom}"}, htmx=False)
    assert refused.status_code == 422 and "{prenom}" in refused.text and "{first_name}" in refused.text
    made = bob.post("/supervisor/campaigns", {"code": "soldes", "name_fr": "Soldes", "name_en": "Sale",
                                              "channel": "sms", "template": "Bonjour {first_name} !"}, htmx=False)
    assert made.status_code == 303, made.text
    page = bob.http.get(made.headers["location"])
    assert "Texte envoyé" in page.text and "Bonjour {first_name} !" in page.text
    assert 'data-check="consent"' in page.text and 'data-check="quiet_hours"' in page.text
    assert 'data-check="legal_hours"' not in page.text
    with runtime.factory() as session:
        assert session.scalar(select(Campaign.channel)).value == "sms"
    assert bob.post(made.headers["location"] + "/status", {"status": "running"}, htmx=False).status_code == 303
    agent = web("alice")
    assert "Soldes" not in agent.http.get("/agent/campaigns").text  # agents only see (running) call campaigns


def test_supervisors_record_and_withdraw_a_consent_which_the_dialer_then_reads(runtime, cast, web):
    bob = web("bob")
    refused = bob.post("/supervisor/consents", {"phone": "06 11 22 33 44", "given_at": "2026-12-01T10:00",
                                                "proof": ""}, htmx=False)
    assert refused.status_code == 422 and "preuve" in refused.text  # in French: bob's language
    unknown = bob.post("/supervisor/consents", {"customer_number": "NOPE", "given_at": "2026-12-01T10:00",
                                                "proof": "papier signé"}, htmx=False)
    assert unknown.status_code == 422 and "NOPE" in unknown.text
    made = bob.post("/supervisor/consents", {"phone": "06 11 22 33 44", "given_at": "2026-12-01T10:00",
                                             "proof": "formulaire web, case cochée"}, htmx=False)
    assert made.status_code == 303
    now = clock.now()
    with runtime.factory() as session:
        consent = session.scalars(select(ProspectingConsent)).one()
        assert consent.phone == ZOE and consent.recorded_by_id == cast.users["bob"]
        assert consent.given_at.replace(tzinfo=UTC) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris
        assert consumer_of(session, phone=ZOE, customer_id=None, now=now).consent
    page = bob.http.get("/supervisor/consents")
    assert "formulaire web, case cochée" in page.text and "en vigueur" in page.text
    assert bob.post(f"/supervisor/consents/{consent.id}/withdraw", {}, htmx=False).status_code == 303
    with runtime.factory() as session:
        assert not consumer_of(session, phone=ZOE, customer_id=None, now=clock.now()).consent
    assert web("alice").http.get("/supervisor/consents").status_code == 403
