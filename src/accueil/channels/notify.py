"""Tell a customer something by email (SMTP) or SMS (HTTP gateway), durably.

A notification is a job row written in the caller's transaction: if the transaction rolls back, nothing is
sent; if the process dies before sending, the job runner sends it after the restart; a failed send is retried
with backoff. The same ``dedupe_key`` never queues twice. Sending is at least once: a crash between the
SMTP/gateway acknowledgement and the job's commit may send a second copy.

Transports are configured once per process from the settings (``configure``); with none configured, the
``do_queue_*`` functions queue nothing and return False, so callers can fall back to another channel.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import httpx
from sqlalchemy.orm import Session

from accueil.config import Settings
from accueil.db.jobs import do_schedule_job, job_handler

EMAIL_KIND = "notify.email"
SMS_KIND = "notify.sms"
MAX_SUBJECT = 200
MAX_BODY = 50_000
MAX_SMS = 1_600  # ten concatenated SMS segments


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

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def sms_enabled(self) -> bool:
        return bool(self.sms_gateway_url)


_transports = Transports()


def configure(transports: Transports) -> Transports:
    """Set this process's transports; returns the previous ones (tests restore them)."""
    global _transports
    previous, _transports = _transports, transports
    return previous


def current() -> Transports:
    return _transports


def email_enabled() -> bool:
    return _transports.email_enabled


def sms_enabled() -> bool:
    return _transports.sms_enabled


def do_queue_email(session: Session, *, to: str, subject: str, body: str, dedupe_key: str,
                   now: datetime) -> bool:
    """Queue a plain-text email to ``to``; False (nothing queued) when no SMTP server is configured."""
    if not _transports.email_enabled or not to:
        return False
    payload = {"to": to, "subject": " ".join(subject.split())[:MAX_SUBJECT], "body": body[:MAX_BODY]}
    do_schedule_job(session, kind=EMAIL_KIND, run_at=now, payload=payload, dedupe_key=f"email:{dedupe_key}"[:200])
    return True


def do_queue_sms(session: Session, *, to: str, text: str, dedupe_key: str, now: datetime) -> bool:
    """Queue an SMS to ``to`` (E.164); False (nothing queued) when no SMS gateway is configured."""
    if not _transports.sms_enabled or not to:
        return False
    do_schedule_job(session, kind=SMS_KIND, run_at=now, payload={"to": to, "text": text[:MAX_SMS]},
                    dedupe_key=f"sms:{dedupe_key}"[:200])
    return True


def build_email(transports: Transports, *, to: str, subject: str, body: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = transports.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=transports.mail_from.rpartition("@")[2].strip(" >") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


@job_handler(EMAIL_KIND)
def _send_email(session: Session, payload: dict, now: datetime) -> None:
    transports = _transports
    if not transports.email_enabled:
        raise RuntimeError("no SMTP server configured (ACCUEIL_SMTP_HOST)")
    message = build_email(transports, to=payload["to"], subject=payload["subject"], body=payload["body"], now=now)
    with smtplib.SMTP(transports.smtp_host, transports.smtp_port, timeout=transports.timeout_seconds) as smtp:
        if transports.smtp_starttls:
            smtp.starttls()
        if transports.smtp_username:
            smtp.login(transports.smtp_username, transports.smtp_password)
        smtp.send_message(message)


@job_handler(SMS_KIND)
def _send_sms(session: Session, payload: dict, now: datetime) -> None:
    transports = _transports
    if not transports.sms_enabled:
        raise RuntimeError("no SMS gateway configured (ACCUEIL_SMS_GATEWAY_URL)")
    headers = {"Authorization": f"Bearer {transports.sms_gateway_token}"} if transports.sms_gateway_token else {}
    body = {"to": payload["to"], "text": payload["text"], "from": transports.sms_sender or None}
    response = httpx.post(transports.sms_gateway_url, json=body, headers=headers,
                          timeout=transports.timeout_seconds)
    response.raise_for_status()
