"""Web chat end to end: Debian's Chromium (Playwright) as the agent, a real WebSocket client as the customer —
including the customer's connection dropped and resumed — and the embeddable widget on its demo page.

Skips when no ``chromium`` is on PATH, except under CI, where that fails.
"""

from __future__ import annotations

from tests.channels.chat.test_chat import (  # noqa: F401
    Visitor,
    _fresh_limits,
    available,
    chat_queue,
    chat_row,
    offered_to,
    wait_for,
)
from tests.web.conftest import LIVE_MS, set_passwords
from tests.web.conftest import sign_in as shared_sign_in


def sign_in(browser, server_url: str, username: str):
    page = shared_sign_in(browser, server_url, username)
    page.wait_for_url("**/agent")
    return page


def test_agent_in_the_browser_chats_with_a_websocket_customer_who_drops_and_resumes(
        browser, server_url, runtime, cast, http, dispatcher):
    chat_queue(runtime, "alice")
    set_passwords(runtime, "alice")
    page = sign_in(browser, server_url, "alice")
    page.get_by_role("button", name="Disponible").click()
    page.locator("#presence.presence-available").wait_for(timeout=LIVE_MS)

    visitor = Visitor(server_url)
    try:
        started = visitor.start(text="Bonjour, où en est ma commande ?")
        offer = page.locator(".offer")
        offer.wait_for(timeout=LIVE_MS)
        assert "Zoé Visiteuse" in offer.inner_text()
        offer.get_by_role("button", name="Accepter").click()
        page.wait_for_url("**/agent?case=*")
        conversation = page.locator("#conversation")
        conversation.locator(".message.inbound", has_text="où en est ma commande").wait_for(timeout=LIVE_MS)
        assert visitor.expect("agent_joined")["name"] == "Alice Agent"
        page.evaluate("window.__sameDocument = true")  # gone if the page reloads

        # The customer's line shows live in the open conversation; their typing too.
        visitor.send({"type": "typing"})
        page.get_by_text("Le client écrit…").wait_for(timeout=LIVE_MS)
        visitor.say("C'est la commande 12345.")
        conversation.locator(".message.inbound", has_text="commande 12345").wait_for(timeout=LIVE_MS)

        # The agent types (the customer sees it), and answers.
        box = page.locator("#reply-body")
        box.press_sequentially("Je regarde")
        assert visitor.expect("typing")["name"] == "Alice Agent"
        box.press_sequentially(" tout de suite.")
        page.get_by_role("button", name="Envoyer").click()
        assert visitor.expect("message", author="agent")["text"] == "Je regarde tout de suite."
        seen = visitor.watermark

        # The customer's network drops; the agent answers meanwhile; the customer comes back.
        visitor.drop()
        page.locator("#reply-body").fill("Elle est partie ce matin.")
        page.get_by_role("button", name="Envoyer").click()
        conversation.locator(".message.outbound", has_text="partie ce matin").wait_for(timeout=LIVE_MS)
        visitor = Visitor(server_url)
        visitor.send({"type": "resume", "token": started["token"], "last_seq": seen})
        visitor.expect("resumed")
        replayed = [f["text"] for f in visitor.frames if f["type"] == "message"]
        assert replayed == ["Elle est partie ce matin."]  # only what was missed, once
        visitor.say("Merci beaucoup !")
        conversation.locator(".message.inbound", has_text="Merci beaucoup").wait_for(timeout=LIVE_MS)
        assert page.evaluate("window.__sameDocument") is True
        chat = chat_row(runtime, started["chat_id"])
        case = http.get(f"/api/v1/cases/{chat.case_id}", headers=cast.auth("alice")).json()
        assert [m["body_text"] for m in case["messages"]] == [
            "Bonjour, où en est ma commande ?", "C'est la commande 12345.", "Je regarde tout de suite.",
            "Elle est partie ce matin.", "Merci beaucoup !"]
    finally:
        visitor.close()
        page.close()


def test_the_widget_on_its_demo_page_starts_a_chat_and_gets_the_answer(browser, server_url, runtime, cast, http,
                                                                        dispatcher):
    chat_queue(runtime, "alice")
    available(http, cast)
    page = browser.new_page(locale="fr-FR")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(server_url + "/chat/demo")
    widget = page.locator("#accueil-chat")
    widget.get_by_role("button", name="Discuter avec nous").click()
    widget.get_by_role("button", name="Parler à un conseiller").click()
    widget.get_by_label("Votre nom").fill("Yann Widget")
    widget.get_by_label("Votre e-mail").fill("yann@example.org")
    widget.get_by_label("Motif").select_option(label="Remboursement")
    widget.get_by_label("Votre question").fill("Je voudrais un remboursement.")
    widget.get_by_role("button", name="Démarrer la discussion").click()
    widget.get_by_text("Un conseiller va vous répondre.").wait_for(timeout=LIVE_MS)  # offered to alice

    [interaction_id] = wait_for(lambda: offered_to(runtime, "alice", cast))
    assert http.post(f"/api/v1/routing/items/{interaction_id}/accept", headers=cast.auth("alice")).status_code == 200
    widget.get_by_text("Alice Agent a rejoint la discussion.").wait_for(timeout=LIVE_MS)
    case_id = http.get(f"/api/v1/interactions/{interaction_id}", headers=cast.auth("alice")).json()["case_id"]
    assert http.post(f"/api/v1/cases/{case_id}/replies", headers=cast.auth("alice"),
                     json={"body_text": "Bien sûr, je m'en occupe."}).status_code == 201
    widget.locator(".line.agent", has_text="je m'en occupe").wait_for(timeout=LIVE_MS)
    widget.get_by_label("Votre message").fill("Merci !")
    widget.get_by_label("Votre message").press("Enter")
    widget.locator(".line.customer:not(.pending)", has_text="Merci !").wait_for(timeout=LIVE_MS)
    case = http.get(f"/api/v1/cases/{case_id}", headers=cast.auth("alice")).json()
    assert [m["body_text"] for m in case["messages"]][-1] == "Merci !"
    # The host page's loud styles did not reach the widget (shadow DOM).
    color = widget.get_by_role("button", name="Envoyer").evaluate("b => getComputedStyle(b).color")
    assert color != "rgb(255, 0, 0)"
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()
