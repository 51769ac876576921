"""The administrators' messaging page: which provider each channel sends through, the webhook addresses, the
settings set (secrets never shown), and WhatsApp templates added and approved."""

from __future__ import annotations

from sqlalchemy import select

from accueil.channels.whatsapp.models import WhatsappTemplate


def test_providers_and_settings_are_shown_without_their_secrets(runtime, web, monkeypatch):
    monkeypatch.setattr(runtime.settings, "whatsapp_app_secret", "tres-secret-42")
    monkeypatch.setattr(runtime.settings, "sms_senders", "tel_n1=MLUMIERE")
    admin = web("admin")
    page = admin.get("/admin/messaging")
    assert page.status_code == 200
    assert "ACCUEIL_WHATSAPP_APP_SECRET" in page.text and "tres-secret-42" not in page.text
    assert "/webhooks/whatsapp</code>" in page.text and "/webhooks/twilio/sms/status</code>" in page.text
    assert "MLUMIERE" in page.text and "Canaux de messagerie" in page.text  # the admin reads French
    assert 'data-missing-queue="whatsapp"' in page.text  # no such queue in the test database: said loudly
    assert web("bob").get("/admin/messaging").status_code == 403


def test_a_whatsapp_template_added_refused_when_bad_and_approved(runtime, web):
    admin = web("admin")
    bad = admin.post("/admin/messaging/templates", {"name": "Pas Bon", "language": "fr", "body": "x"}, htmx=False)
    assert bad.status_code == 422
    made = admin.post("/admin/messaging/templates", {"name": "suivi_commande", "language": "fr",
                                                     "category": "utility", "body": "Bonjour {{1}}, votre commande {{2}}."},
                      htmx=False)
    assert made.status_code == 303
    again = admin.post("/admin/messaging/templates", {"name": "suivi_commande", "language": "fr", "body": "y"},
                       htmx=False)
    assert again.status_code == 422
    with runtime.factory() as session:
        template = session.scalars(select(WhatsappTemplate)).one()
        assert not template.approved
    assert admin.post(f"/admin/messaging/templates/{template.id}/approval", {"approved": "true"},
                      htmx=False).status_code == 303
    with runtime.factory() as session:
        assert session.get(WhatsappTemplate, template.id).approved
    page = admin.get("/admin/messaging")
    assert 'data-template="suivi_commande-fr"' in page.text and "Bonjour {{1}}" in page.text
