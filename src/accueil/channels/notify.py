"""Tell a customer something by email (SMTP) or SMS (HTTP gateway), durably.

A notification is a job row written in the caller's transaction: if the transaction rolls back, nothing is
sent; if the process dies before sending, the job runner sends it after the restart; a failed send is retried
with backoff. The same ``dedupe_key`` never queues twice. Sending is at least once: a crash between the
SMTP/gateway acknowledgement and the job's commit may send a second copy.

The transports are the runtime's email and SMS adapters (``channels/base.py``), reached through the
session of the unit of work; with none configured, the ``do_queue_*`` functions queue nothing and return
False, so callers can fall back to another channel. ``Transports`` gathers their settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from accueil.channels.base import ChannelAdapter, OutboundMessage, channels_of
from accueil.channels.email.adapter import SmtpEmail
from accueil.channels.sms.adapter import MAX_SMS, HttpSmsGateway
from accueil.config import Settings
from accueil.conversations.models import ChannelKind
from accueil.db.jobs import do_schedule_job, job_handler

EMAIL_KIND = "notify.email"
SMS_KIND = "notify.sms"
MAX_SUBJECT = 200
MAX_BODY = 50_000


@dataclass(frozen=True)
class Transports:
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "accueil <noreply@localhost>"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_sender: str = ""
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Transports:
        return cls(smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                   smtp_username=settings.smtp_username, smtp_password=settings.smtp_password,
                   smtp_starttls=settings.smtp_starttls, mail_from=settings.mail_from,
                   sms_gateway_url=settings.sms_gateway_url, sms_gateway_token=settings.sms_gateway_token,
                   sms_sender=settings.sms_sender)

    def email_adapter(self) -> SmtpEmail:
        return SmtpEmail(host=self.smtp_host, port=self.smtp_port, username=self.smtp_username,
                         password=self.smtp_password, starttls=self.smtp_starttls, mail_from=self.mail_from,
                         timeout_seconds=self.timeout_seconds)

    def sms_adapter(self) -> HttpSmsGateway:
        return HttpSmsGateway(url=self.sms_gateway_url, token=self.sms_gateway_token, sender=self.sms_sender,
                              timeout_seconds=self.timeout_seconds)

    def adapters(self) -> list[ChannelAdapter]:
        return [self.email_adapter(), self.sms_adapter()]

    @property
    def email_enabled(self) -> bool:
        return self.email_adapter().enabled

    @property
    def sms_enabled(self) -> bool:
        return self.sms_adapter().enabled


def email_adapter(session: Session) -> SmtpEmail | None:
    """The email adapter of this session's runtime, when one is configured."""
    return channels_of(session).get(ChannelKind.email)  # type: ignore[return-value]


def sms_adapter(session: Session) -> HttpSmsGateway | None:
    return channels_of(session).get(ChannelKind.sms)  # type: ignore[return-value]


def do_queue_email(session: Session, *, to: str, subject: str, body: str, dedupe_key: str,
                   now: datetime) -> bool:
    """Queue a plain-text email to ``to``; False (nothing queued) when no SMTP server is configured."""
    if email_adapter(session) is None or not to:
        return False
    payload = {"to": to, "subject": " ".join(subject.split())[:MAX_SUBJECT], "body": body[:MAX_BODY]}
    do_schedule_job(session, kind=EMAIL_KIND, run_at=now, payload=payload, dedupe_key=f"email:{dedupe_key}"[:200])
    return True


def do_queue_sms(session: Session, *, to: str, text: str, dedupe_key: str, now: datetime) -> bool:
    """Queue an SMS to ``to`` (E.164); False (nothing queued) when no SMS gateway is configured."""
    if sms_adapter(session) is None or not to:
        return False
    do_schedule_job(session, kind=SMS_KIND, run_at=now, payload={"to": to, "text": text[:MAX_SMS]},
                    dedupe_key=f"sms:{dedupe_key}"[:200])
    return True


def build_email(transports: Transports, *, to: str, subject: str, body: str, now: datetime) -> EmailMessage:
    return transports.email_adapter().build(OutboundMessage(to=to, subject=subject, text=body), now=now)


@job_handler(EMAIL_KIND)
def _send_email(session: Session, payload: dict, now: datetime) -> None:
    adapter = email_adapter(session)
    if adapter is None:
        raise RuntimeError("no SMTP server configured (ACCUEIL_SMTP_HOST)")  # retried: it may come back
    adapter.send(OutboundMessage(to=payload["to"], subject=payload["subject"], text=payload["body"]), now=now)


@job_handler(SMS_KIND)
def _send_sms(session: Session, payload: dict, now: datetime) -> None:
    adapter = sms_adapter(session)
    if adapter is None:
        raise RuntimeError("no SMS gateway configured (ACCUEIL_SMS_GATEWAY_URL)")
    adapter.send(OutboundMessage(to=payload["to"], text=payload["text"]))
