"""Tell a customer something by email (SMTP) or SMS (HTTP gateway), durably.

A notification is a job row written in the caller's transaction: if the transaction rolls back, nothing is
sent; if the process dies before sending, the job runner sends it after the restart; a failed send is retried
with backoff. The same ``dedupe_key`` never queues twice. Sending is at least once: a crash between the
SMTP/gateway acknowledgement and the job's commit may send a second copy.

The transports are the runtime's email and SMS adapters (``channels/base.py``), reached through the
session of the unit of work; with none configured, the ``do_queue_*`` functions queue nothing and return
False, so callers can fall back to another channel. A number that opted out of text messages (it sent STOP:
``channels/sms/opt_out.py``) gets no SMS: ``do_queue_sms`` returns False (the callback notice falls back to
email), and a notice queued before the STOP is dropped when its job runs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from accueil.channels.base import OutboundMessage, channels_of
from accueil.channels.email.adapter import SmtpEmail
from accueil.channels.sms.adapter import MAX_SMS, HttpSmsGateway
from accueil.channels.sms.opt_out import is_opted_out
from accueil.conversations.models import ChannelKind
from accueil.db.jobs import do_schedule_job, job_handler

log = logging.getLogger(__name__)

EMAIL_KIND = "notify.email"
SMS_KIND = "notify.sms"
MAX_SUBJECT = 200
MAX_BODY = 50_000


def email_adapter(session: Session) -> SmtpEmail | None:
    """The email adapter of this session's runtime, when one is configured."""
    return channels_of(session).get(ChannelKind.email)  # type: ignore[return-value]


def sms_adapter(session: Session) -> HttpSmsGateway | None:
    return channels_of(session).get(ChannelKind.sms)  # type: ignore[return-value]


def do_queue_email(session: Session, *, to: str, subject: str, body: str, dedupe_key: str,
                   now: datetime, sender: str | None = None, headers: dict[str, str] | None = None) -> bool:
    """Queue a plain-text email to ``to``; False (nothing queued) when no SMTP server is configured.

    ``sender`` replaces the configured From (a mailbox answering as itself); ``headers`` adds threading
    headers (Message-ID, In-Reply-To, References)."""
    if email_adapter(session) is None or not to:
        return False
    payload = {"to": to, "subject": " ".join(subject.split())[:MAX_SUBJECT], "body": body[:MAX_BODY],
               "from": sender, "headers": headers or {}}
    do_schedule_job(session, kind=EMAIL_KIND, run_at=now, payload=payload, dedupe_key=f"email:{dedupe_key}"[:200])
    return True


def do_queue_sms(session: Session, *, to: str, text: str, dedupe_key: str, now: datetime) -> bool:
    """Queue an SMS to ``to`` (E.164); False (nothing queued) when no SMS gateway is configured or the number
    opted out."""
    if sms_adapter(session) is None or not to:
        return False
    if is_opted_out(session, to):
        log.info("SMS notice %s not queued: the number opted out", dedupe_key.split(":")[0])
        return False
    do_schedule_job(session, kind=SMS_KIND, run_at=now, payload={"to": to, "text": text[:MAX_SMS]},
                    dedupe_key=f"sms:{dedupe_key}"[:200])
    return True


@job_handler(EMAIL_KIND)
def _send_email(session: Session, payload: dict, now: datetime) -> None:
    adapter = email_adapter(session)
    if adapter is None:
        raise RuntimeError("no SMTP server configured (ACCUEIL_SMTP_HOST)")  # retried: it may come back
    extra = {"from": payload.get("from"), "headers": payload.get("headers") or {}}
    adapter.send(OutboundMessage(to=payload["to"], subject=payload["subject"], text=payload["body"], extra=extra),
                 now=now)


@job_handler(SMS_KIND)
def _send_sms(session: Session, payload: dict, now: datetime) -> None:
    adapter = sms_adapter(session)
    if adapter is None:
        raise RuntimeError("no SMS gateway configured (ACCUEIL_SMS_GATEWAY_URL)")
    if is_opted_out(session, payload["to"]):
        log.info("SMS notice dropped: the number opted out after it was queued")
        return
    adapter.send(OutboundMessage(to=payload["to"], text=payload["text"]))
