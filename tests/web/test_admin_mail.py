"""The administrators' email page: mailboxes, and the inbox where quarantined mails show with their reason."""

from __future__ import annotations

from accueil.channels.email.intake import accept_mail, process_mail
from accueil.channels.email.mailboxes import do_add_mailbox


def receive(runtime, raw: bytes, mailbox_id: str) -> str:
    mail_id = accept_mail(runtime.factory, raw=raw, source="smtp", mailbox_id=mailbox_id,
                          envelope_from="someone@example.fr", envelope_to=["service@maison-lumiere.example"],
                          root=runtime.settings.mail_dir)
    process_mail(runtime.factory, mail_id, config=runtime.conversation_config, root=runtime.settings.mail_dir)
    return mail_id


def test_quarantined_mails_are_shown_to_administrators_with_their_reason(runtime, web):
    with runtime.factory() as session, session.begin():
        box = do_add_mailbox(session, address="service@maison-lumiere.example", name="Service client",
                             queue_code="email_n2").id
    bad = receive(runtime, b"From: x@localhost\r\nSubject: Hello\r\n\r\nfrom nowhere real\r\n", box)
    admin = web("admin")
    page = admin.get("/admin/mail?status=quarantined")
    assert page.status_code == 200
    assert "service@maison-lumiere.example" in page.text and "invalid_sender" in page.text
    assert "en quarantaine (1)" in page.text
    one = admin.get(f"/admin/mail/{bad}")
    assert one.status_code == 200 and "Hello" in one.text
    assert web("alice").get("/admin/mail").status_code == 403
