"""The console and the wallboard in a real browser (Debian's Chromium driven by Playwright), live over SSE.

Skips when no ``chromium`` is on PATH, except under CI (``.ci/run`` installs it), where that fails.
"""

from __future__ import annotations

from tests.factories import inbound
from tests.web.conftest import LIVE_MS, PASSWORD, set_passwords, sign_in


def test_agent_gets_a_live_offer_accepts_replies_and_resolves(browser, server_url, http, cast, runtime, dispatcher):
    set_passwords(runtime, "alice", "bob")
    earlier = http.post("/api/v1/inbound", headers=cast.auth("alice"),
                        json=inbound("voice", motif="remboursement", body_text="(appel de la semaine dernière)"))
    assert earlier.status_code == 201
    rules = http.put("/api/v1/routing/queues/tel_n1/rules", headers=cast.auth("admin"),
                     json={"ring_timeout_seconds": 60})
    assert rules.status_code == 200, rules.text

    board = sign_in(browser, server_url, "bob")
    board.wait_for_url("**/supervisor")
    waiting_cell = board.locator('tr[data-queue="tel_n1"] td[data-field="waiting"]')
    answered_cell = board.locator('tr[data-queue="tel_n1"] td[data-field="answered"]')
    assert waiting_cell.inner_text() == "0" and answered_cell.inner_text() == "0"

    page = sign_in(browser, server_url, "alice")
    page.wait_for_url("**/agent")
    page.get_by_role("button", name="Disponible").click()
    page.locator("#presence.presence-available").wait_for(timeout=LIVE_MS)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # The call arrives through the API while alice and bob look at their screens.
    call = http.post("/api/v1/inbound", headers=cast.auth("alice"),
                     json=inbound("voice", queue="tel_n1", body_text="<script>window.__owned = 1</script>Allô ?"))
    assert call.status_code == 201
    offer = page.locator(".offer")
    offer.wait_for(timeout=LIVE_MS)
    assert "David Martin" in offer.inner_text()
    assert page.evaluate("window.__sameDocument") is True

    offer.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/agent?case=*")
    conversation = page.locator("#conversation")
    conversation.wait_for()
    assert "<script>window.__owned = 1</script>Allô ?" in conversation.inner_text()  # shown as text
    assert page.evaluate("window.__owned") is None  # and never run
    journey = page.locator(".timeline").inner_text()
    assert journey.count("TÉLÉPHONE") == 2  # the earlier call is on the customer's journey

    # The wallboard counted the answer without a reload.
    board.wait_for_function(
        "() => document.querySelector('tr[data-queue=\"tel_n1\"] td[data-field=\"answered\"]').innerText === '1'",
        timeout=LIVE_MS)

    # On a call the box takes notes (internal by default); unticked, it answers the customer.
    page.get_by_label("Notes sur l'échange").fill("Client inquiet pour sa commande 12345.")
    page.get_by_role("button", name="Envoyer").click()
    page.locator(".message.internal", has_text="commande 12345").wait_for(timeout=LIVE_MS)
    page.get_by_label("Notes sur l'échange").fill("Bonjour David, je regarde votre commande.")
    page.get_by_label("Note interne (jamais envoyée)").uncheck()
    page.get_by_role("button", name="Envoyer").click()
    page.locator(".message.outbound", has_text="je regarde votre commande").wait_for(timeout=LIVE_MS)
    page.get_by_label("Code de résolution").fill("info_donnee")
    page.get_by_role("button", name="Résoudre").click()
    page.locator(".status-resolved").wait_for(timeout=LIVE_MS)
    case = http.get(f"/api/v1/cases/{call.json()['case_id']}", headers=cast.auth("alice")).json()["case"]
    assert case["status"] == "resolved" and case["resolution_code"] == "info_donnee"
    board.close()
    page.close()


def test_keyboard_users_can_sign_in_and_reach_the_console(browser, server_url, runtime, cast):
    set_passwords(runtime, "alice")
    page = browser.new_page(locale="en-GB")
    page.goto(server_url + "/login")
    assert page.locator("html").get_attribute("lang") == "en"
    page.keyboard.press("Tab")  # skip link first
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.get_by_label("Username").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/agent")
    assert page.get_by_role("heading", name="Mon travail").count() == 1  # alice's own language (French)
    page.close()


def test_a_live_refresh_keeps_the_agents_draft(browser, server_url, http, cast, runtime):
    """Another agent's note refreshes the conversation live; what alice was typing stays in the boxes."""
    set_passwords(runtime, "alice")
    mail = http.post("/api/v1/inbound", headers=cast.auth("alice"),
                     json=inbound("email", queue="email_n2", body_text="Où est ma commande ?"))
    assert mail.status_code == 201
    case_id = mail.json()["case_id"]
    page = sign_in(browser, server_url, "alice")
    page.wait_for_url("**/agent")
    page.goto(f"{server_url}/agent?case={case_id}")
    page.locator("#conversation").wait_for()
    page.get_by_label("Répondre au client").fill("Bonjour, votre colis part demain")
    page.get_by_label("Note interne (jamais envoyée)").check()
    page.get_by_label("Code de résolution").fill("info_donnee")

    note = http.post(f"/api/v1/cases/{case_id}/notes", headers=cast.auth("bob"),
                     json={"body_text": "Transporteur prévenu."})
    assert note.status_code == 201
    page.locator(".message.internal", has_text="Transporteur prévenu").wait_for(timeout=LIVE_MS)  # refreshed live
    assert page.get_by_label("Répondre au client").input_value() == "Bonjour, votre colis part demain"
    assert page.get_by_label("Note interne (jamais envoyée)").is_checked()
    assert page.get_by_label("Code de résolution").input_value() == "info_donnee"
    page.close()
