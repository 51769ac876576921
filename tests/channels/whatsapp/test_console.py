"""The agent console on a WhatsApp exchange: the window and its time left, or the template picker."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from accueil.channels.whatsapp import templates
from accueil.conversations.models import Case, Message
from accueil.core import clock
from tests.channels.whatsapp.conftest import post, recorded, stamped
from tests.web.conftest import WebClient, set_passwords


def _case(runtime, http, at) -> str:  # noqa: ANN001
    post(http, stamped(recorded("text"), at, wamid=f"wamid.C{at.timestamp():.0f}"))
    with runtime.factory() as session:
        return session.scalar(select(Case.id))


def _page(runtime, server_url: str, case_id: str, language: str = "en") -> tuple[WebClient, str]:  # noqa: ANN001
    set_passwords(runtime, "alice")
    web = WebClient(server_url)
    assert web.sign_in("alice").status_code == 303
    return web, web.http.get(f"/agent?case={case_id}", headers={"Accept-Language": language}).text


def test_an_open_window_shows_free_text_and_the_time_left(whatsapp, graph, http, server_url):
    case_id = _case(whatsapp, http, clock.now() - timedelta(hours=20))
    web, page = _page(whatsapp, server_url, case_id)
    try:
        assert 'data-window="open"' in page
        left = re.search(r"free text allowed for ([^<]+?) more", page) or re.search(r"encore ([^<(]+?) \(", page)
        assert left is not None and left.group(1).strip().startswith(("3 h", "4 h"))
    finally:
        web.close()


def test_a_closed_window_offers_the_approved_templates_and_sends_one(whatsapp, cast, graph, http, server_url):
    case_id = _case(whatsapp, http, clock.now() - timedelta(hours=25))
    with whatsapp.factory() as session, session.begin():
        approved = templates.do_add_template(session, name="relance", language="fr", approved=True,
                                             body="Bonjour {{1}}, avez-vous reçu votre colis ?").id
        templates.do_add_template(session, name="brouillon", language="fr", body="Pas encore approuvé")
    web, page = _page(whatsapp, server_url, case_id)
    try:
        assert 'data-window="closed"' in page and "relance" in page and "brouillon" not in page
        free = web.post(f"/agent/cases/{case_id}/reply", {"body": "Texte libre"})
        assert free.status_code == 409 and "24" in free.text  # the clear reason, not a silent failure
        sent = web.post(f"/agent/cases/{case_id}/whatsapp-template",
                        {"template_id": approved, "variable": "Sheena"})
        assert sent.status_code == 200, sent.text
    finally:
        web.close()
    with whatsapp.factory() as session:
        bodies = list(session.scalars(select(Message.body_text)))
    assert "Bonjour Sheena, avez-vous reçu votre colis ?" in bodies and "Texte libre" not in bodies
