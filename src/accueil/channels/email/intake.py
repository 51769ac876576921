"""A mail's way in: stored durably first, read second, and never lost in between.

``accept_mail`` writes the raw bytes to disk (fsync, atomic rename) and commits a ``mail_inbox`` row with a
durable ``mail.process`` job in one transaction — only then does the SMTP listener answer ``250``. Reading
(``do_process_mail``) happens right after in the listener (the fast path) or, if that process died, when the
job comes due: parse, tell a person's mail from an automatic one, find its thread, and hand it to the
conversations door as an email contact of the mailbox's motif and queue. A mail that cannot be read is
quarantined with its reason; an automatic one is kept (on its case when it threads to one) and never
routed; a second delivery of the same Message-ID creates nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.email.acknowledge import do_acknowledge
from accueil.channels.email.models import InboundMail, InboxStatus, Mailbox
from accueil.channels.email.noise import Noise, noise_of
from accueil.channels.email.parse import MailPart, ParsedMail, UnreadableMail, parse_mail
from accueil.channels.email.threads import do_remember_message_id, thread_of
from accueil.conversations.content import (
    AttachmentIn,
    ContentLimits,
    store_attachment_bytes,
    stored_relative_path,
)
from accueil.conversations.models import AuthorKind, ChannelKind, Direction, Message
from accueil.conversations.receive import (
    ConversationConfig,
    InboundContact,
    conversation_config_of,
    do_receive_inbound,
    is_retryable,
)
from accueil.core import clock
from accueil.core.errors import AccueilError
from accueil.core.ids import new_id
from accueil.customers.models import IdentityKind
from accueil.customers.service import do_clear_undeliverable, do_mark_undeliverable, normalise_identity
from accueil.db.jobs import Job, do_schedule_job, job_batch_handler, job_handler
from accueil.db.session import WRITTEN_FILES, settings_of

log = logging.getLogger(__name__)

PROCESS_KIND = "mail.process"
# The listener reads a mail as soon as it is stored; the job is the safety net if that process dies.
SAFETY_NET_DELAY = timedelta(seconds=30)


@dataclass(frozen=True)
class StoredMail:
    """A raw mail already on disk (fsync'd), waiting for its row."""

    mail_id: str
    relative: str
    sha256: str
    size: int
    source: str
    mailbox_id: str | None
    envelope_from: str
    envelope_to: list[str]


def store_mail_file(root: Path, raw: bytes, **envelope) -> StoredMail:  # type: ignore[no-untyped-def]
    """Write the raw bytes durably (fsync, then rename) under a new inbox id; no database work."""
    mail_id = new_id()
    relative, digest = store_attachment_bytes(root, mail_id, raw)
    return StoredMail(mail_id=mail_id, relative=relative, sha256=digest, size=len(raw), **envelope)


def do_record_mails(session: Session, stored: list[StoredMail], *, root: Path, now: datetime,
                    read_delay: timedelta = SAFETY_NET_DELAY) -> None:
    """The inbox rows and read jobs of mails on disk, in the caller's transaction (files removed if it rolls back).

    ``read_delay``: when the job comes due — later when the caller reads the mail itself right after
    (the job is then only the safety net), at once when it leaves the reading to the job runner."""
    for item in stored:
        session.info.setdefault(WRITTEN_FILES, []).append(root / item.relative)
        session.add(InboundMail(id=item.mail_id, received_at=now, source=item.source, mailbox_id=item.mailbox_id,
                                envelope_from=item.envelope_from[:254], envelope_to=item.envelope_to[:100],
                                size_bytes=item.size, sha256=item.sha256, storage_path=item.relative,
                                status=InboxStatus.pending))
        do_schedule_job(session, kind=PROCESS_KIND, run_at=now + read_delay, payload={"mail_id": item.mail_id},
                        dedupe_key=f"{PROCESS_KIND}:{item.mail_id}", max_attempts=10, fresh=True)
    session.flush()


def do_accept_mail(session: Session, *, raw: bytes, source: str, mailbox_id: str | None, envelope_from: str,
                   envelope_to: list[str], root: Path, now: datetime,
                   read_delay: timedelta = SAFETY_NET_DELAY) -> InboundMail:
    """Store one raw mail and its read job in the caller's transaction."""
    stored = store_mail_file(root, raw, source=source, mailbox_id=mailbox_id, envelope_from=envelope_from,
                             envelope_to=envelope_to)
    do_record_mails(session, [stored], root=root, now=now, read_delay=read_delay)
    mail = session.get(InboundMail, stored.mail_id)
    assert mail is not None
    return mail


def accept_mail(factory: sessionmaker[Session], **kwargs) -> str:  # type: ignore[no-untyped-def]
    """``do_accept_mail`` in its own committed transaction; returns the inbox row's id."""
    with factory() as session, session.begin():
        return do_accept_mail(session, now=clock.now(), **kwargs).id


def _attachments(parsed: ParsedMail, limits: ContentLimits) -> tuple[list[AttachmentIn], list[str]]:
    """The parts the limits accept, and a warning for each one left out (the raw mail keeps them all)."""
    kept: list[AttachmentIn] = []
    warnings: list[str] = []
    for part in parsed.attachments:
        content_type = part.content_type.lower()
        if content_type not in limits.attachment_types:
            warnings.append(f"attachment_type_refused: {_name(part)} ({content_type})")
        elif len(part.data) > limits.max_attachment_bytes:
            warnings.append(f"attachment_too_large: {_name(part)} ({len(part.data)} bytes)")
        elif len(kept) >= limits.max_attachments:
            warnings.append(f"too_many_attachments: {_name(part)}")
        else:
            kept.append(AttachmentIn(filename=part.filename, content_type=content_type, data=part.data))
    return kept, warnings


def _name(part: MailPart) -> str:
    return part.filename[:80]


def _finish(session: Session, mail: InboundMail, status: str, *, reason: str | None = None,
            case_id: str | None = None, interaction_id: str | None = None, now: datetime) -> str:
    mail.status, mail.reason, mail.processed_at = status, reason, now
    mail.case_id, mail.interaction_id = case_id, interaction_id
    # the safety-net job has nothing left to do
    session.execute(update(Job).where(Job.dedupe_key == f"{PROCESS_KIND}:{mail.id}", Job.status == "pending")
                    .values(status="done", finished_at=now))
    return status


@dataclass(frozen=True)
class ReadMail:
    """A stored mail parsed ahead of its transaction (parsing is CPU work: no database lock is held for it)."""

    mail_id: str
    relative: str
    parsed: ParsedMail | None
    unreadable: UnreadableMail | None = None


def read_mail_file(root: Path, mail_id: str) -> ReadMail:
    """Parse the raw mail ``store_mail_file`` wrote for ``mail_id``, outside any transaction."""
    relative = stored_relative_path(mail_id).as_posix()
    try:
        return ReadMail(mail_id, relative, parse_mail((root / relative).read_bytes()))
    except UnreadableMail as exc:
        return ReadMail(mail_id, relative, None, exc)


def do_process_mail(session: Session, *, mail_id: str, config: ConversationConfig, root: Path,
                    now: datetime, ready: ReadMail | None = None) -> str:
    """Read one stored mail (see the module docstring); returns the inbox status it ends in.

    ``ready``: the mail already parsed (``read_mail_file``); it is parsed here when not given, or when its
    row names another file."""
    mail = session.get(InboundMail, mail_id)
    if mail is None or mail.status != InboxStatus.pending:
        return mail.status if mail is not None else "missing"
    if ready is None or ready.mail_id != mail_id or ready.relative != mail.storage_path:
        try:
            ready = ReadMail(mail_id, mail.storage_path, parse_mail((root / mail.storage_path).read_bytes()))
        except UnreadableMail as exc:
            ready = ReadMail(mail_id, mail.storage_path, None, exc)
    if ready.parsed is None:
        return _finish(session, mail, InboxStatus.quarantined, reason=f"unreadable: {ready.unreadable}", now=now)
    parsed = ready.parsed
    mail.message_id_header = (parsed.message_id or "")[:255] or None
    mailbox = session.get(Mailbox, mail.mailbox_id) if mail.mailbox_id else None
    thread = thread_of(session, parsed)
    noise = noise_of(parsed, ours=thread.ours)
    if noise is not None:
        return _keep_noise(session, mail, parsed, noise, thread.case_id, now=now)
    try:
        sender = normalise_identity(IdentityKind.email, parsed.sender)
    except AccueilError:
        return _finish(session, mail, InboxStatus.quarantined, reason="invalid_sender", now=now)
    attachments, warnings = _attachments(parsed, config.limits)
    text = parsed.new_text or parsed.text
    if len(text) > config.limits.max_body_chars:
        warnings.append(f"body_truncated: {len(text)} characters")
        text = text[:config.limits.max_body_chars]
    html = parsed.html if parsed.html and len(parsed.html) <= config.limits.max_body_chars else None
    if not text.strip() and not attachments:
        text = "(message vide / empty message)"
    contact = InboundContact(
        channel=ChannelKind.email, identities=[sender],
        provider_message_id=parsed.message_id or f"sha256:{mail.sha256}", display_name=parsed.sender_name,
        language=mailbox.language if mailbox else None, motif_code=mailbox.motif_code if mailbox else None,
        queue_code=mailbox.queue_code if mailbox else None,
        case_reference=thread.case_reference or parsed.subject_reference,
        subject=parsed.subject[:300] or None, body_text=text, body_html=html, attachments=attachments,
        occurred_at=mail.received_at,
    )
    try:
        with session.begin_nested():
            result = do_receive_inbound(session, contact=contact, config=config, now=now)
    except AccueilError as exc:  # the mailbox names a motif or queue that no longer exists, …
        return _finish(session, mail, InboxStatus.quarantined, reason=f"refused: {exc.code} {exc.details}"[:500],
                       now=now)
    if result.duplicate:
        return _finish(session, mail, InboxStatus.duplicate, case_id=result.case_id,
                       interaction_id=result.interaction_id, now=now)
    do_clear_undeliverable(session, kind=IdentityKind.email, value=sender.value)
    if parsed.message_id:
        do_remember_message_id(session, parsed.message_id, case_id=result.case_id, message_id=result.message_id,
                               outbound=False, now=now)
    if mailbox is not None and mailbox.acknowledge and result.case_created:
        do_acknowledge(session, mailbox=mailbox, parsed=parsed, case_id=result.case_id,
                       reference=result.case_reference, now=now)
    return _finish(session, mail, InboxStatus.received, reason="; ".join(warnings)[:2000] or None,
                   case_id=result.case_id, interaction_id=result.interaction_id, now=now)


def _keep_noise(session: Session, mail: InboundMail, parsed: ParsedMail, noise: Noise, case_id: str | None,
                *, now: datetime) -> str:
    """An automatic mail: on its case as a note nobody routes, or only in the inbox when it threads nowhere.
    A bounce marks the addresses it names as undeliverable, so agents know the customer did not get it."""
    failed = parsed.failed_recipients if noise is Noise.bounce else ()
    for address, status in failed:
        do_mark_undeliverable(session, kind=IdentityKind.email, value=address, reason=f"bounce {status}", now=now)
    if case_id is not None:
        summary = " ".join(f"{address} ({status})" for address, status in failed)
        session.add(Message(
            id=new_id(), interaction_id=None, case_id=case_id, author_kind=AuthorKind.system,
            direction=Direction.inbound, internal=True, subject=parsed.subject[:300] or None,
            body_text=f"[{noise.value}] {summary + chr(10) if summary else ''}{(parsed.new_text or parsed.text)[:4000]}",
            created_at=now))
    return _finish(session, mail, InboxStatus.noise, reason=noise.value, case_id=case_id, now=now)


def process_mail(factory: sessionmaker[Session], mail_id: str, *, config: ConversationConfig, root: Path,
                 ready: ReadMail | None = None) -> str:
    """``do_process_mail`` in its own transaction (the listener's fast path). A lost race (the same
    Message-ID read by two threads at once) is retried: the retry finds the other's receipt."""
    ready = ready or read_mail_file(root, mail_id)
    for attempt in range(4):
        try:
            with factory() as session, session.begin():
                return do_process_mail(session, mail_id=mail_id, config=config, root=root, now=clock.now(),
                                       ready=ready)
        except (IntegrityError, OperationalError) as exc:
            if attempt == 3 or not is_retryable(exc):
                raise
    raise AssertionError("unreachable")


def do_process_mails(session: Session, ready: list[ReadMail], *, config: ConversationConfig, root: Path,
                     now: datetime) -> list[str]:
    """Several parsed mails read one after the other in the caller's transaction (one commit for all).

    Each mail is read exactly as alone, and sees what the ones before it created (a reply, a second
    delivery). A mail that cannot be read is quarantined inside the batch like any other outcome."""
    return [do_process_mail(session, mail_id=item.mail_id, config=config, root=root, now=now, ready=item)
            for item in ready]


def process_mails(factory: sessionmaker[Session], mail_ids: list[str], *, config: ConversationConfig,
                  root: Path) -> list[str]:
    """Read a group of stored mails: parsed first, outside any transaction, then read in one transaction.

    Optimistic, as the conversations' group commit: if anything fails in the group (a lost race, a
    database error), it is rolled back whole and each mail is read again in its own transaction, so one
    bad mail only ever fails itself."""
    ready = [read_mail_file(root, mail_id) for mail_id in mail_ids]
    if len(ready) > 1:
        try:
            with factory() as session, session.begin():
                return do_process_mails(session, ready, config=config, root=root, now=clock.now())
        except Exception:  # noqa: BLE001 - read them one by one below
            log.debug("a group of %d mails was rolled back; reading them one by one", len(ready))
    statuses = []
    for item in ready:
        try:
            statuses.append(process_mail(factory, item.mail_id, config=config, root=root, ready=item))
        except Exception:  # noqa: BLE001 - its durable job reads it again later
            log.exception("mail %s could not be read now; its job will retry", item.mail_id)
            statuses.append("error")
    return statuses


@job_handler(PROCESS_KIND)
def _process_job(session: Session, payload: dict, now: datetime) -> None:
    """The safety net: a stored mail the listener did not get to read (it stopped, or the database was busy)."""
    do_process_mail(session, mail_id=payload["mail_id"], config=conversation_config_of(session),
                    root=settings_of(session).mail_dir, now=now)


def _read_for_jobs(factory: sessionmaker[Session], payloads: list[dict]) -> list[ReadMail]:
    """Due mails parsed before their transaction (a session that is never used begins none)."""
    with factory() as session:
        root = settings_of(session).mail_dir
    return [read_mail_file(root, payload["mail_id"]) for payload in payloads]


def _process_jobs(session: Session, prepared: list[ReadMail], now: datetime) -> None:
    do_process_mails(session, prepared, config=conversation_config_of(session), root=settings_of(session).mail_dir,
                     now=now)


job_batch_handler(PROCESS_KIND, prepare=_read_for_jobs, run=_process_jobs)
