"""Raw mails for the email tests, built the way real mail programs write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from accueil.core import clock

CUSTOMER = "david.martin@example.fr"
SERVICE = "service@maison-lumiere.example"
COMPLAINTS = "reclamations@maison-lumiere.example"


def mail(*, sender: str = f"David Martin <{CUSTOMER}>", to: str = SERVICE, subject: str = "Ma commande 12345",
         text: str = "Bonjour,\n\nma commande 12345 n'est toujours pas arrivée.\n\nDavid", html: str | None = None,
         message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
         headers: dict[str, str] | None = None, attachments: list[tuple[str, str, bytes]] = ()) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id or make_msgid(domain="example.fr")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # as mail programs send it


def bounce(original_message_id: str, *, to: str = SERVICE, failed: str = "nobody@example.fr") -> bytes:
    """A delivery-status report (RFC 3464) as a mail server sends it back."""
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.example.fr>\r\nTo: {to}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: {make_msgid(domain='mx.example.fr')}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.fr\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original_message_id}\r\n\r\n--B--\r\n"
    ).encode()
