"""Callbacks on the web: the public request page (same-origin, rate limit, FR/EN) and the agent's outcome
buttons in the console, over real HTTP — then both in a real browser."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from accueil.channels.callback.models import Callback
from accueil.channels.callback.public_api import REQUESTS
from accueil.core import clock
from accueil.db.jobs import run_due_jobs
from accueil.routing import service as routing
from accueil.routing.admin import do_save_queue
from accueil.routing.decisions import Presence
from accueil.web.i18n import translate
from tests.web.conftest import LIVE_MS, sign_in

pytestmark = pytest.mark.usefixtures("callback_queue")


@pytest.fixture
def callback_queue(runtime, cast):
    REQUESTS.clear()
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="rappel", channel="callback", name_fr="Rappels", name_en="Callbacks")
    yield cast
    REQUESTS.clear()


def post_form(server_url: str, data: dict, *, origin: str | None = "self", language: str = "fr") -> httpx.Response:
    headers = {"Accept-Language": language}
    if origin:
        headers["Origin"] = server_url if origin == "self" else origin
    return httpx.post(server_url + "/portal/callback", data=data, headers=headers, timeout=20)


def test_the_public_page_in_both_languages_checks_origin_and_validates(server_url, runtime):
    french = httpx.get(server_url + "/portal/callback", headers={"Accept-Language": "fr"})
    assert french.status_code == 200 and "Être rappelé" in french.text and "Dès que possible" in french.text
    assert 'name="slot"' in french.text and "Suivi de commande" in french.text  # slots and motifs offered
    english = httpx.get(server_url + "/portal/callback", headers={"Accept-Language": "en"})
    assert "Be called back" in english.text and "As soon as possible" in english.text

    assert post_form(server_url, {"phone": "0698765432"}, origin=None).status_code == 403
    assert post_form(server_url, {"phone": "0698765432"}, origin="https://evil.example").status_code == 403
    wrong = post_form(server_url, {"phone": "123", "name": "Zoé <b>"})
    assert wrong.status_code == 422 and "pas un numéro de téléphone valide" in wrong.text
    assert 'value="Zoé &lt;b&gt;"' in wrong.text  # what was typed stays, escaped
    done = post_form(server_url, {"phone": "06 98 76 54 32", "when": "asap", "motif": "remboursement"},
                     language="en")
    assert done.status_code == 200 and "as soon as possible" in done.text and "A confirmation is on its way" in done.text
    with runtime.factory() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.phone == "+33698765432" and callback.language == "en" and callback.asap

    slot = french.text.split('name="slot"')[1].split('value="')[1].split('"')[0]
    booked = post_form(server_url, {"phone": "0698765432", "when": "slot", "slot": slot})
    assert booked.status_code == 200 and "Nous vous appellerons au +33698765432 le" in booked.text
    for _ in range(2):  # the 4th and 5th from this address (the refused number counted too)
        assert post_form(server_url, {"phone": "0698765432"}).status_code == 200
    refused = post_form(server_url, {"phone": "0698765432"})
    assert refused.status_code == 429 and "Trop de demandes" in refused.text
    with runtime.factory() as session:  # asking again for the same number at once is the same request
        assert len(session.scalars(select(Callback)).all()) == 2


def _queued_callback(runtime, cast, *, taken_by: str | None = "alice") -> tuple[str, str, str]:
    """David's callback, due now and (optionally) taken by an agent: (callback id, case id, interaction id)."""
    from accueil.channels.callback.service import do_request_callback

    now = clock.now()
    with runtime.factory() as session, session.begin():
        callback = do_request_callback(session, phone="+33612345678", source="agent", now=now,
                                       config=runtime.conversation_config)
        ids = callback.id, callback.case_id
    run_due_jobs(runtime.factory, worker="test", now=now + timedelta(seconds=1))
    with runtime.factory() as session, session.begin():
        interaction_id = session.get(Callback, ids[0]).interaction_id
        if taken_by:
            user = cast.users[taken_by]
            routing.do_set_presence(session, rules=runtime.routing_rules, user_id=user, presence=Presence.available)
            routing.do_accept(session, rules=runtime.routing_rules, item_id=interaction_id, user_id=user)
    return ids[0], ids[1], interaction_id


def test_the_agent_records_the_outcome_from_the_conversation(web, runtime, cast):
    callback_id, case_id, _ = _queued_callback(runtime, cast)
    bob = web("bob")
    assert 'class="callback-outcome' not in bob.get(f"/agent?case={case_id}").text  # not bob's call
    alice = web("alice")
    page = alice.get(f"/agent?case={case_id}").text
    assert 'class="callback-outcome' in page and "Pas de réponse" in page and "Faux numéro" in page
    url = f"/agent/callbacks/{callback_id}/outcome"
    assert alice.post(url, {"outcome": "no_answer", "attempt": "1"}, csrf=False).status_code == 403
    told = alice.post(url, {"outcome": "no_answer", "attempt": "1"})
    assert told.status_code == 200 and told.text.lstrip().startswith('<section id="conversation"')
    assert 'class="callback-outcome' not in told.text  # nothing left to tell until the next attempt
    with runtime.factory() as session:
        callback = session.get(Callback, callback_id)
        assert callback.status.value == "scheduled" and callback.attempts == 1
    assert alice.post(url, {"outcome": "no_answer", "attempt": "1"}).status_code == 200  # a double click
    assert alice.post(url, {"outcome": "reached", "attempt": "1"}).status_code == 409


def test_in_a_browser_the_customer_asks_and_the_agent_reaches_them(browser, server_url, runtime, cast):  # noqa: F811
    customer = browser.new_page(locale="fr-FR")
    customer.goto(server_url + "/portal/callback")
    customer.get_by_label("Numéro de téléphone").fill("06 12 34 56 78")
    customer.get_by_label("Dès que possible").check()
    customer.get_by_role("button", name="Rappelez-moi").click()
    customer.locator("#callback-done").wait_for(timeout=LIVE_MS)
    assert "+33612345678 dès que possible" in customer.locator("#callback-done").inner_text()
    customer.close()
    with runtime.factory() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.customer_id == cast.david_id and callback.requested_by == "web"
    run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(seconds=1))
    with runtime.factory() as session, session.begin():
        interaction_id = session.get(Callback, callback.id).interaction_id
        routing.do_set_presence(session, rules=runtime.routing_rules, user_id=cast.users["alice"],
                                presence=Presence.available)
        routing.do_accept(session, rules=runtime.routing_rules, item_id=interaction_id, user_id=cast.users["alice"])

    from tests.web.conftest import set_passwords

    set_passwords(runtime, "alice")
    page = sign_in(browser, server_url, "alice")
    page.wait_for_url("**/agent")
    page.goto(f"{server_url}/agent?case={callback.case_id}")
    outcome = page.locator(".callback-outcome")
    outcome.wait_for(timeout=LIVE_MS)
    outcome.get_by_role("button", name="Client joint").click()
    outcome.wait_for(state="detached", timeout=LIVE_MS)
    page.locator(".callbacks", has_text=translate("fr", "done")).wait_for(timeout=LIVE_MS)
    with runtime.factory() as session:
        assert session.get(Callback, callback.id).status.value == "done"
    page.close()
