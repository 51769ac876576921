"""An agent's answer on an email exchange leaves as a mail: threaded, signed, durable, retried.

The reply is stored by ``conversations.do_reply``; in that same transaction (``@reacts_to(MessageSent)``)
this module gives it a Message-ID, remembers it with the case (so the customer's answer threads back) and
schedules a ``mail.reply`` job — the mail exists if and only if the reply does. The job builds the mail
from the mailbox the customer wrote to (its address as From), answers the customer's latest mail
(``In-Reply-To``/``References``), carries the case reference in the subject, the agent's signature and the
reply's attachments, and sends it through the runtime's email adapter; a failure is retried with back-off
(the same Message-ID every time, so a mail program shows a double delivery as one).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.base import OutboundMessage, channels_of
from accueil.channels.email.acknowledge import domain_of
from accueil.channels.email.models import (
    FormSubmission,
    InboundMail,
    InboxStatus,
    Mailbox,
    MailMessageId,
    WebForm,
)
from accueil.channels.email.parse import ParsedMail, parse_mail
from accueil.channels.email.threads import do_remember_message_id
from accueil.conversations.events import MessageSent
from accueil.conversations.models import Attachment, Case, ChannelKind, Interaction, Message
from accueil.core.events import Event
from accueil.customers.models import Identity, IdentityKind
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import SETTINGS, reacts_to, settings_of
from accueil.identity.models import User

REPLY_KIND = "mail.reply"
SIGNATURE = {"fr": "{agent}\n{team}", "en": "{agent}\n{team}"}


@reacts_to(MessageSent)
def schedule_email_reply(session: Session, event: Event) -> None:
    """An answer on an email interaction: give it its Message-ID and queue its sending, in this transaction.

    A session that belongs to no runtime (the demo's generated history, a bare script) sends nothing."""
    if SETTINGS not in session.info:
        return
    interaction = session.get(Interaction, event.data["interaction_id"])
    if interaction is None or interaction.channel not in (ChannelKind.email, ChannelKind.webform):
        return  # a web form is answered by email too
    mailbox = _mailbox_of(session, interaction.case_id)
    sender_address = mailbox.address if mailbox else _configured_sender(session)
    message_id = make_msgid(domain=domain_of(sender_address))
    do_remember_message_id(session, message_id, case_id=interaction.case_id, message_id=event.data["message_id"],
                           outbound=True, now=event.at)
    do_schedule_job(session, kind=REPLY_KIND, run_at=event.at, max_attempts=8,
                    payload={"message_id": event.data["message_id"], "header_id": message_id},
                    dedupe_key=f"{REPLY_KIND}:{event.data['message_id']}")


def _configured_sender(session: Session) -> str:
    from_header = settings_of(session).mail_from
    return from_header.rpartition("<")[2].strip("> ") or from_header


def _latest_mail(session: Session, case_id: str) -> InboundMail | None:
    return session.scalar(select(InboundMail).where(
        InboundMail.case_id == case_id, InboundMail.status == InboxStatus.received)
        .order_by(InboundMail.received_at.desc()).limit(1))


def _latest_form(session: Session, case_id: str) -> FormSubmission | None:
    return session.scalar(select(FormSubmission).where(FormSubmission.case_id == case_id)
                          .order_by(FormSubmission.created_at.desc()).limit(1))


def _mailbox_of(session: Session, case_id: str) -> Mailbox | None:
    """The mailbox the customer last wrote to — by mail, or through one of its web forms."""
    latest = _latest_mail(session, case_id)
    form = _latest_form(session, case_id)
    if latest is not None and latest.mailbox_id and (form is None or latest.received_at >= form.created_at):
        return session.get(Mailbox, latest.mailbox_id)
    if form is not None:
        web_form = session.get(WebForm, form.form_id)
        return session.get(Mailbox, web_form.mailbox_id) if web_form is not None else None
    return None


def _recipient(session: Session, case: Case, answered: ParsedMail | None) -> str | None:
    """The address the customer last wrote from (a mail, a form), else one of their email identities."""
    if answered is not None and answered.sender:
        return answered.sender
    form = _latest_form(session, case.id)
    if form is not None:
        return form.email
    return session.scalar(select(Identity.value).where(
        Identity.customer_id == case.customer_id, Identity.kind == IdentityKind.email).order_by(Identity.created_at))


def build_reply(session: Session, *, message: Message, header_id: str) -> OutboundMessage:
    """The mail for one stored reply (see the module docstring)."""
    settings = settings_of(session)
    case = session.get(Case, message.case_id)
    assert case is not None
    latest = _latest_mail(session, case.id)
    answered = parse_mail((settings.mail_dir / latest.storage_path).read_bytes()) if latest is not None else None
    mailbox = _mailbox_of(session, case.id)
    to = _recipient(session, case, answered)
    if not to:
        raise ValueError("the customer has no email address")  # recorded on the job; an agent sees it failed
    language = mailbox.language if mailbox else settings.default_language
    agent = session.get(User, message.author_user_id) if message.author_user_id else None
    team = (mailbox.name if mailbox else "") or settings.mail_from.partition("<")[0].strip()
    signature = SIGNATURE.get(language, SIGNATURE["fr"]).format(agent=agent.display_name if agent else "", team=team)
    subject = (answered.subject if answered and answered.subject else case.subject) or case.reference
    subject = subject if subject.lower().startswith(("re:", "re :", "tr:", "fw:")) else f"Re: {subject}"
    if f"[{case.reference}]" not in subject:
        subject = f"{subject} [{case.reference}]"
    headers = {"Message-ID": header_id, "Auto-Submitted": "no"}  # a person's answer (RFC 3834)
    earlier = _thread_of_case(session, case.id, exclude=header_id)
    if answered is not None and answered.message_id:
        headers["In-Reply-To"] = answered.message_id
        earlier = [*answered.references, *(e for e in earlier if e not in answered.references), answered.message_id]
    if earlier:
        headers["References"] = " ".join(dict.fromkeys(earlier[-20:]))
    attachments = [(a.filename, a.content_type, (settings.attachments_dir / a.storage_path).read_bytes())
                   for a in session.scalars(select(Attachment).where(Attachment.message_id == message.id))]
    sender = formataddr((mailbox.name, mailbox.address)) if mailbox and mailbox.name else (
        mailbox.address if mailbox else None)
    return OutboundMessage(
        to=to, subject=subject, text=f"{message.body_text.rstrip()}\n\n-- \n{signature}\n",
        html=message.body_html, extra={"from": sender, "headers": headers, "attachments": attachments})


def _thread_of_case(session: Session, case_id: str, *, exclude: str) -> list[str]:
    return [value for value in session.scalars(
        select(MailMessageId.message_id_header).where(MailMessageId.case_id == case_id)
        .order_by(MailMessageId.created_at).limit(40)) if value != exclude]


@job_handler(REPLY_KIND)
def _send_reply(session: Session, payload: dict, now: datetime) -> None:
    message = session.get(Message, payload["message_id"])
    if message is None:
        return  # erased since (privacy): nothing to send
    adapter = channels_of(session).get(ChannelKind.email)
    if adapter is None:
        raise RuntimeError("no email adapter configured (ACCUEIL_SMTP_HOST or ACCUEIL_MAIL_OUTBOX_MAILDIR)")
    adapter.send(build_reply(session, message=message, header_id=payload["header_id"]), now=now)
