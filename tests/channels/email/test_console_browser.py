"""In a real browser: a mail sent to the listener is on the agent's screen in its case; the agent's answer,
typed in the console, leaves as a mail threaded to the customer's (read back from a real SMTP sink)."""

from __future__ import annotations

from accueil.db.jobs import run_due_jobs
from tests.channels.email.mails import COMPLAINTS, mail
from tests.web.conftest import LIVE_MS, set_passwords, sign_in


def test_a_mail_is_read_and_answered_from_the_console(browser, server_url, runtime, listener, smtp_server):
    set_passwords(runtime, "alice")
    listener.send(mail(message_id="<console@example.fr>", subject="Facture en double",
                       text="Bonjour,\n\nj'ai été débité deux fois pour la commande ML-7788.\n\nDavid"), to=[COMPLAINTS])
    [row] = listener.inbox()
    run_due_jobs(runtime.factory, worker="test")  # the acknowledgement goes first
    smtp_server.wait_for(1)

    page = sign_in(browser, server_url, "alice")
    page.wait_for_url("**/agent")
    page.goto(f"{server_url}/agent/cases/{row.case_id}")
    conversation = page.locator("#conversation")
    conversation.get_by_text("Facture en double").first.wait_for(timeout=LIVE_MS)
    assert "débité deux fois pour la commande ML-7788" in conversation.inner_text()
    page.locator("#reply-body").fill("Bonjour David,\n\nle second débit vous est remboursé aujourd'hui.")
    page.get_by_role("button", name="Envoyer").click()
    conversation.get_by_text("le second débit vous est remboursé").wait_for(timeout=LIVE_MS)
    page.close()

    run_due_jobs(runtime.factory, worker="test")
    sent = smtp_server.wait_for(2)
    answer = next(m for m in sent if "Accusé" not in m["Subject"])
    assert answer["In-Reply-To"] == "<console@example.fr>" and answer["Subject"].startswith("Re: Facture en double")
    assert "remboursé aujourd'hui" in answer.get_body(preferencelist=("plain",)).get_content()
