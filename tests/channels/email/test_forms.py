"""Web contact forms: a real HTTP submission becomes a webform case acknowledged by email; robots, stale or
replayed pages, missing consent and floods get a clear answer and create nothing; the agent's answer goes
by email from the form's mailbox; the page can be framed, the rest of accueil cannot."""

from __future__ import annotations

import http.server
import re
import threading
import time

import pytest
from sqlalchemy import func, select

from accueil.channels.email import forms as forms_service
from accueil.channels.email.forms import do_add_form, form_token
from accueil.conversations.models import Case, Interaction
from accueil.db.jobs import run_due_jobs
from accueil.web.views import forms as forms_view
from tests.channels.email.mails import SERVICE

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@pytest.fixture
def contact_form(runtime, mailboxes, monkeypatch):
    monkeypatch.setattr(forms_service, "MIN_FILL_SECONDS", 0.0)  # people take seconds; the tests do not wait
    forms_view.SUBMISSIONS.clear()
    with runtime.factory() as session, session.begin():
        do_add_form(session, code="contact", title_fr="Nous contacter", title_en="Contact us",
                    mailbox_address=SERVICE, queue_code="email_n2", motif_codes=["remboursement", "reclamation"])
    return "contact"


def fields(http, code="contact", **values) -> dict:
    page = http.get(f"/forms/{code}")
    assert page.status_code == 200
    return {"form_token": TOKEN.search(page.text).group(1), "name": "Camille Durand", "email": "camille@example.fr",
            "motif": "remboursement", "message": "Bonjour, je n'ai pas reçu mon remboursement.", "consent": "1",
            **values}


def cases(runtime) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_a_submission_becomes_a_webform_case_acknowledged_by_email(http, runtime, contact_form, smtp_server):
    sent = http.post("/forms/contact", data=fields(http), files={"attachment": ("preuve.pdf", b"%PDF-1.4", "application/pdf")})
    assert sent.status_code == 200 and 'id="form-done"' in sent.text
    assert "D-20" not in sent.text  # no reference on the page: the address typed may not be the typist's
    with runtime.factory() as session:
        interaction = session.scalar(select(Interaction))
        assert interaction.channel == "webform"
        case = session.get(Case, interaction.case_id)
        assert case.motif.code == "remboursement" and case.subject == "Nous contacter — Remboursement"
    run_due_jobs(runtime.factory, worker="test")
    [ack] = smtp_server.wait_for(1)
    assert ack["To"].addresses[0].addr_spec == "camille@example.fr"
    assert ack["From"].addresses[0].addr_spec == SERVICE and case.reference in ack["Subject"]


def test_the_agents_answer_goes_by_email_from_the_forms_mailbox(http, runtime, cast, contact_form, smtp_server):
    http.post("/forms/contact", data=fields(http))
    with runtime.factory() as session:
        case_id = session.scalar(select(Case.id))
    answer = http.post(f"/api/v1/cases/{case_id}/replies", json={"body_text": "C'est fait."},
                       headers=cast.auth("alice"))
    assert answer.status_code == 201
    run_due_jobs(runtime.factory, worker="test")
    sent = smtp_server.wait_for(2)
    reply = next(m for m in sent if m["Subject"].startswith("Re:"))
    assert reply["From"].addresses[0].addr_spec == SERVICE and reply["To"].addresses[0].addr_spec == "camille@example.fr"


def test_a_nul_character_in_the_message_is_dropped(http, runtime, contact_form):
    sent = http.post("/forms/contact", data=fields(http, message="Bonjour\x00 merci", name="Ca\x00mille"))
    assert sent.status_code == 200 and cases(runtime) == 1


def test_a_robot_filling_the_honeypot_is_thanked_and_forgotten(http, runtime, contact_form):
    sent = http.post("/forms/contact", data=fields(http, website="http://spam.example"))
    assert sent.status_code == 200 and 'id="form-done"' in sent.text
    assert cases(runtime) == 0


@pytest.mark.parametrize(("change", "code"), [
    ({"consent": ""}, "accepter que nous"),
    ({"form_token": "12345.forged"}, "a expiré"),
    ({"email": "pas-une-adresse"}, "adresse"),
    ({"message": "   "}, ""),
    ({"motif": "inconnu"}, "Motif inconnu"),
])
def test_bad_submissions_are_refused_clearly_and_keep_what_was_typed(http, runtime, contact_form, change, code):
    sent = http.post("/forms/contact", data=fields(http, **change))
    assert sent.status_code == 422 and 'role="alert"' in sent.text and code in sent.text
    assert "Camille Durand" in sent.text  # the form is shown again with the values
    assert cases(runtime) == 0


def test_a_page_older_than_two_hours_or_sent_at_once_is_refused(runtime, http, contact_form, monkeypatch):
    old = form_token(runtime.settings.secret_key, "contact", now=time.time() - 3 * 3600)
    assert http.post("/forms/contact", data=fields(http, form_token=old)).status_code == 422
    monkeypatch.setattr(forms_service, "MIN_FILL_SECONDS", 2.0)
    assert http.post("/forms/contact", data=fields(http)).status_code == 422  # a robot's speed
    assert cases(runtime) == 0


def test_a_flood_from_one_address_is_limited(http, runtime, contact_form):
    statuses = [http.post("/forms/contact", data=fields(http, email=f"c{n}@example.fr")).status_code
                for n in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]


def test_only_the_form_may_be_framed_by_another_site(http, contact_form):
    form_page = http.get("/forms/contact")
    assert "frame-ancestors *" in form_page.headers["content-security-policy"]
    assert "x-frame-options" not in form_page.headers
    login = http.get("/login")
    assert login.headers["x-frame-options"] == "DENY"


def test_an_unknown_form_is_404(http, contact_form):
    assert http.get("/forms/nope").status_code == 404


def test_a_customer_fills_the_form_embedded_in_another_site(browser, server_url, runtime, contact_form):
    shop = ('<!doctype html><meta charset="utf-8"><h1>Boutique</h1><iframe src="' + server_url + '/forms/contact" '
            'title="Contact" style="width:700px;height:900px"></iframe>').encode()

    class Shop(http.server.BaseHTTPRequestHandler):  # the company's own site, on another origin
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(shop)

        def log_message(self, *args):  # noqa: ANN002
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    page = browser.new_page(locale="fr-FR")
    page.goto(f"http://127.0.0.1:{site.server_address[1]}/")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Votre nom").fill("Camille Durand")
    frame.get_by_label("Votre adresse e-mail").fill("camille@example.fr")
    frame.get_by_label("À quel sujet ?").select_option("reclamation")
    frame.get_by_label("Votre message").fill("Le colis est arrivé ouvert.")
    frame.get_by_label("J'accepte que mes coordonnées soient utilisées pour répondre à ma demande.").check()
    frame.get_by_role("button", name="Envoyer").click()
    frame.locator("#form-done").wait_for(timeout=20_000)
    page.close()
    site.shutdown()
    with runtime.factory() as session:
        case = session.scalar(select(Case))
        assert case.motif.code == "reclamation" and case.first_channel == "webform"
