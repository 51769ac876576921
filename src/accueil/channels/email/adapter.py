"""Email out: through an SMTP server (``ACCUEIL_SMTP_*``), or into a local Maildir a mail program can read
(``ACCUEIL_MAIL_OUTBOX_MAILDIR``: the demo's outbox when no SMTP server is configured)."""

from __future__ import annotations

import mailbox
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import dkim

from accueil.channels.base import Capabilities, OutboundMessage
from accueil.config import Settings
from accueil.conversations.models import ChannelKind
from accueil.core import clock

DKIM_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
                b"mime-version", b"content-type", b"auto-submitted"]


@dataclass(frozen=True)
class SmtpEmail:
    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    mail_from: str = "accueil <noreply@localhost>"
    timeout_seconds: float = 10.0
    dkim_selector: str = ""  # with the key: every mail is DKIM-signed for the From address's domain
    dkim_private_key: bytes = b""  # PEM
    kind: ChannelKind = ChannelKind.email
    name: str = "smtp"
    capabilities: Capabilities = Capabilities(attachments=True, html=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpEmail:
        key = Path(settings.mail_dkim_key_file).read_bytes() if settings.mail_dkim_key_file else b""
        return cls(host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
                   password=settings.smtp_password, starttls=settings.smtp_starttls, mail_from=settings.mail_from,
                   dkim_selector=settings.mail_dkim_selector, dkim_private_key=key)

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def build(self, message: OutboundMessage, *, now: datetime) -> EmailMessage:
        email = EmailMessage()
        sender = message.extra.get("from") or self.mail_from
        headers = dict(message.extra.get("headers") or {})
        email["From"] = sender
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        email["Date"] = format_datetime(now)
        email["Message-ID"] = headers.pop("Message-ID", None) or make_msgid(
            domain=sender.rpartition("@")[2].strip(" >") or None)
        for name, value in headers.items():  # threading (In-Reply-To, References), Auto-Submitted…
            email[name] = value
        if "Auto-Submitted" not in headers:
            email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-reply loops with our notifications
        email.set_content(message.text)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        for filename, content_type, data in message.extra.get("attachments") or ():
            maintype, _, subtype = content_type.partition("/")
            email.add_attachment(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                                 filename=filename)
        return email

    def send(self, message: OutboundMessage, *, now: datetime | None = None) -> None:
        if not self.enabled:
            raise RuntimeError("no SMTP server configured (ACCUEIL_SMTP_HOST)")
        email = self.build(message, now=now or clock.now())
        data = self.signed(email)
        sender = email["From"].addresses[0].addr_spec
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.sendmail(sender, [address.addr_spec for address in email["To"].addresses], data)

    def signed(self, email: EmailMessage) -> bytes:
        """The mail's bytes, with a DKIM-Signature for its From domain when a key is configured."""
        data = email.as_bytes(policy=email.policy.clone(linesep="\r\n"))
        if not (self.dkim_selector and self.dkim_private_key):
            return data
        domain = email["From"].addresses[0].domain
        signature = dkim.sign(data, self.dkim_selector.encode(), domain.encode(), self.dkim_private_key,
                              include_headers=DKIM_HEADERS)
        return signature + data


@dataclass(frozen=True)
class MaildirEmail:
    """Writes each mail into a Maildir (``new/``), as a local mailbox would receive it; nothing leaves the machine."""

    path: str = ""
    mail_from: str = "accueil <noreply@localhost>"
    kind: ChannelKind = ChannelKind.email
    name: str = "maildir"
    capabilities: Capabilities = Capabilities(attachments=True, html=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> MaildirEmail:
        return cls(path=settings.mail_outbox_maildir, mail_from=settings.mail_from)

    @property
    def enabled(self) -> bool:
        return bool(self.path)

    def send(self, message: OutboundMessage, *, now: datetime | None = None) -> None:
        email = SmtpEmail(mail_from=self.mail_from).build(message, now=now or clock.now())
        mailbox.Maildir(self.path, create=True).add(email)
