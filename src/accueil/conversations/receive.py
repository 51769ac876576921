"""Receiving inbound contacts: the hot path of accueil, written for throughput.

``do_receive_inbound`` turns one inbound contact, whatever its channel, into — in the caller's single
transaction — a customer (found by identity or created), a case (the customer's open case with the
same motif, or a new one, flagged as a repeat when a same-motif case was resolved within the repeat
window), an interaction, a message with its attachments, the first events of the interaction's log and
a receipt of the provider's message id, so a second delivery returns the first result and creates
nothing.

Every contact passes through here, so lookups and inserts go through ``receive_batch`` (a few
multi-row statements per batch of contacts, no ORM flush); rare paths (merged customers, reopening,
chat continuations) use the ORM helpers of ``service``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accueil.config import Settings
from accueil.conversations.cases import access_interaction, do_reopen_case
from accueil.conversations.content import (
    AttachmentIn,
    ContentLimits,
    check_content,
    html_to_text,
    safe_filename,
    sanitise_html,
    store_attachment_bytes,
)
from accueil.conversations.events import MessageReceived
from accueil.conversations.models import (
    Attachment,
    AuthorKind,
    Case,
    CaseStatus,
    ChannelKind,
    Direction,
    Interaction,
    Motif,
)
from accueil.conversations.receive_batch import (
    BATCH,
    INSERT_CASE,
    INSERT_CUSTOMER,
    INSERT_EVENT,
    INSERT_IDENTITY,
    INSERT_INTERACTION,
    INSERT_JOB,
    INSERT_MESSAGE,
    INSERT_RECEIPT,
    CaseRef,
    InboundBatch,
    current_batch,
)
from accueil.conversations.reply_targets import ReplyTargets
from accueil.core import clock
from accueil.core.errors import Conflict, ValidationFailed
from accueil.core.ids import id_at, new_id
from accueil.customers.events import CustomerCreated
from accueil.customers.service import IdentityRef, access_customer
from accueil.db.session import TRANSACTION_CACHE, WRITTEN_FILES, queue_event
from accueil.identity.models import Skill

log = logging.getLogger(__name__)

# When a motif names no SLA: synchronous contacts are due the same business day, written ones in 48 h.
DEFAULT_SLA = {True: timedelta(hours=8), False: timedelta(hours=48)}


class WorkDoor(Protocol):
    """Where received work goes to wait for an agent: routing's door (``routing.enqueue.ArrivalDoor``).

    A port, so conversations never imports the routing domain above it; the composition root plugs
    routing in (``runtime.make_runtime``)."""

    def queue_level(self, session: Session, queue_code: str) -> int: ...

    def place(self, session: Session, *, queue_code: str, arrived: datetime) -> Any: ...

    def item_row(self, *, placement: Any, interaction_id: str, case_id: str, priority: int, arrived: datetime,
                 now: datetime, skills: list[list], motif_id: str | None,
                 due: datetime | None = None) -> tuple[Any, dict]: ...

    def announce(self, session: Session, *, interaction_id: str, case_id: str, customer_id: str, channel: str,
                 queue_id: str | None, motif: str | None, case_created: bool, now: datetime) -> None: ...

    def held_interactions(self, session: Session, *, case_id: str, agent_id: str) -> Any: ...


@dataclass(frozen=True)
class ConversationConfig:
    limits: ContentLimits
    attachments_root: Path
    repeat_window: timedelta
    work: WorkDoor
    phone_region: str = "FR"
    reply_targets: ReplyTargets | None = None  # None: written contacts get no reply due time

    @classmethod
    def from_settings(cls, settings: Settings, *, work: WorkDoor) -> ConversationConfig:
        return cls(work=work, reply_targets=ReplyTargets.from_settings(settings),
            limits=ContentLimits(
                max_body_chars=settings.max_body_chars,
                max_attachment_bytes=settings.max_attachment_bytes,
                max_attachments=settings.max_attachments,
                attachment_types=settings.attachment_types,
            ),
            attachments_root=settings.attachments_dir,
            repeat_window=timedelta(days=settings.repeat_contact_window_days),
            phone_region=settings.default_phone_region,
        )


CONVERSATION_CONFIG = "accueil_conversation_config"  # on every session of a runtime (durable jobs read it)


def conversation_config_of(session: Session) -> ConversationConfig:
    found = session.info.get(CONVERSATION_CONFIG)
    if found is None:
        raise RuntimeError("this session belongs to no runtime (runtime.make_runtime attaches the config)")
    return found


@dataclass
class InboundContact:
    """A normalised inbound message, whatever channel or provider it came from."""

    channel: ChannelKind
    identities: list[IdentityRef]
    provider_message_id: str | None = None
    display_name: str | None = None
    language: str | None = None
    motif_code: str | None = None
    queue_code: str | None = None
    case_reference: str | None = None
    interaction_id: str | None = None  # continue a live exchange (next chat line) instead of a new one
    subject: str | None = None
    body_text: str = ""
    body_html: str | None = None
    attachments: list[AttachmentIn] = field(default_factory=list)
    occurred_at: datetime | None = None
    priority: int = 0


@dataclass
class ReceiveResult:
    customer_id: str
    case_id: str
    case_reference: str
    interaction_id: str
    message_id: str
    customer_created: bool
    case_created: bool
    duplicate: bool
    repeat_contact: bool
    queue_closed: str | None = None  # the queue was closed: "reject" or "callback" (not queued)


# Pre-built statements: compiled once, then only parameters change.
_MOTIF = select(Motif.id, Motif.code, Motif.sla_hours, Motif.reply_targets).where(Motif.code == bindparam("code"), Motif.active.is_(True))
_CASE_BY_REFERENCE = select(Case.id, Case.reference, Case.status, Case.customer_id, Case.motif_id).where(
    Case.reference == bindparam("reference")
)


def begin_batch(session: Session, contacts: list[InboundContact], *, config: ConversationConfig,
                now: datetime) -> InboundBatch:
    """Start receiving ``contacts`` in this transaction: their lookups are read here, at once."""
    batch = InboundBatch()
    earliest = min((c.occurred_at or now) for c in contacts) if contacts else now
    batch.prefetch(session, contacts, since=earliest - config.repeat_window)
    session.info[BATCH] = batch
    return batch


def flush_batch(session: Session) -> None:
    """Write what the batch queued; required before the transaction commits."""
    batch = current_batch(session)
    if batch is not None:
        batch.flush(session)


def _duplicate_result(session: Session, interaction_id: str, message_id: str) -> ReceiveResult:
    flush_batch(session)
    interaction = session.get(Interaction, interaction_id)
    assert interaction is not None
    return ReceiveResult(
        customer_id=access_customer(session, interaction.customer_id).id, case_id=interaction.case_id,
        case_reference=interaction.case.reference, interaction_id=interaction.id, message_id=message_id,
        customer_created=False, case_created=False, duplicate=True, repeat_contact=interaction.is_repeat_contact,
    )


def _resolve_customer(session: Session, batch: InboundBatch, contact: InboundContact,
                      now: datetime) -> tuple[str, bool]:
    """The customer any identity belongs to (following merges), or a new one; unknown identities join it.

    Identities of two different customers are not merged silently: the first match wins, and merging
    stays an explicit, traced decision (``customers.service.do_merge_customers``).
    """
    if not contact.identities:
        raise ValidationFailed("identity_required")
    owners = {ref: batch.owner(session, ref.kind, ref.value) for ref in dict.fromkeys(contact.identities)}
    customer_id = next((owner for owner in owners.values() if owner is not None), None)
    created = customer_id is None
    if customer_id is None:
        customer_id = new_id()
        batch.add(INSERT_CUSTOMER, {
            "id": customer_id, "display_name": contact.display_name, "preferred_language": contact.language or "fr",
            "created_at": now, "updated_at": now,
        })
        batch.customers_loaded.add(customer_id)  # a new customer has no cases yet
        queue_event(session, CustomerCreated(customer_id=customer_id), now)
    missing = [ref for ref, owner in owners.items() if owner is None]
    if missing:
        batch.add(INSERT_IDENTITY, [
            {"id": new_id(), "customer_id": customer_id, "kind": ref.kind, "value": ref.value, "verified": False,
             "created_at": now}
            for ref in missing
        ])
        for ref in missing:
            batch.owners[(ref.kind, ref.value)] = customer_id
    return customer_id, created


def _reference_row(session: Session, statement: Any, code: str | None, error: str) -> Any:
    """A motif by code, read once per transaction (a batch of contacts shares the answer)."""
    if code is None:
        return None
    cache = session.info.setdefault(TRANSACTION_CACHE, {})
    key = (error, code)
    if key not in cache:
        cache[key] = session.connection().execute(statement, {"code": code}).first()
    row = cache[key]
    if row is None:
        raise ValidationFailed(error, value=code)
    return row


def do_receive_inbound(
    session: Session, *, contact: InboundContact, config: ConversationConfig, now: datetime | None = None,
) -> ReceiveResult:
    """Receive one inbound contact (see the module docstring); the caller's transaction commits it.

    Inside a batch (``begin_batch``) rows are only queued, and the batch's owner calls ``flush_batch``
    before committing; alone, the contact is its own batch and is written before this returns.
    """
    now = now or clock.now()
    batch = current_batch(session)
    if batch is not None:
        return _receive(session, batch, contact, config, now)
    batch = begin_batch(session, [contact], config=config, now=now)
    try:
        result = _receive(session, batch, contact, config, now)
        batch.flush(session)
    finally:
        session.info.pop(BATCH, None)
    return result


def _receive(session: Session, batch: InboundBatch, contact: InboundContact, config: ConversationConfig,
             now: datetime) -> ReceiveResult:
    arrived = contact.occurred_at or now
    if contact.provider_message_id is not None:
        seen = batch.receipts.get((contact.channel, contact.provider_message_id))
        if seen is not None:
            return _duplicate_result(session, *seen)
    body_html = sanitise_html(contact.body_html) if contact.body_html else None
    body_text = contact.body_text or (html_to_text(body_html) if body_html else "")
    check_content(body_text=body_text, body_html=body_html, attachments=contact.attachments, limits=config.limits)
    motif = _reference_row(session, _MOTIF, contact.motif_code, "unknown_motif")
    queue_level = config.work.queue_level(session, contact.queue_code) if contact.queue_code is not None else None
    placement = None
    motif_id = motif.id if motif else None
    customer_id, customer_created = _resolve_customer(session, batch, contact, now)

    interaction_id: str | None = None
    case: CaseRef | None = None
    if contact.interaction_id is not None:
        batch.flush(session)
        live = access_interaction(session, contact.interaction_id)
        if live.customer_id != customer_id or live.ended_at is not None:
            raise Conflict("invalid_transition", current="ended", target="message")
        interaction_id = live.id
        case = _case_by_reference(session, live.case.reference, customer_id)
    elif contact.case_reference is not None:
        batch.flush(session)
        case = _case_by_reference(session, contact.case_reference, customer_id)
    if case is None and contact.interaction_id is None:
        batch.load_cases(session, {customer_id}, since=arrived - config.repeat_window)
        case = batch.open_cases.get((customer_id, motif_id))
    if case is not None and case.status is CaseStatus.closed:
        case = None  # a closed case stays closed; the contact opens a new one
    if case is not None and case.status is CaseStatus.resolved:
        do_reopen_case(session, case_id=case.id, reason="customer_contact", now=now)
        case.status = CaseStatus.open
        batch.open_cases[(customer_id, case.motif_id)] = case

    result = ReceiveResult(
        customer_id=customer_id, case_id="", case_reference="", interaction_id="", message_id="",
        customer_created=customer_created, case_created=case is None, duplicate=False, repeat_contact=False,
    )
    if case is None:
        case = _open_case(session, batch, contact=contact, config=config, customer_id=customer_id, motif=motif,
                          queue_level=queue_level, arrived=arrived, body_text=body_text, now=now,
                          result=result)
    else:
        batch.touch(case, now)
    result.case_id, result.case_reference = case.id, case.reference or ""
    if case.reference is None:
        batch.awaiting_reference.setdefault(case.id, []).append(result)  # numbered when written

    if interaction_id is None:
        interaction_id = id_at(arrived.timestamp())
        if contact.queue_code is not None:
            placement = config.work.place(session, queue_code=contact.queue_code, arrived=arrived)
        queued = placement is not None and placement.queued
        reply_due = (config.reply_targets.due(contact.channel.value, arrived, motif.reply_targets if motif else None)
                     if config.reply_targets is not None else None)
        batch.add(INSERT_INTERACTION, {
            "id": interaction_id, "case_id": case.id, "customer_id": customer_id, "channel": contact.channel,
            "direction": Direction.inbound, "queue_id": placement.queue_id if placement else None, "agent_id": None,
            "arrived_at": arrived, "queued_at": now if queued else None, "is_repeat_contact": result.repeat_contact,
            "reply_due_at": reply_due,
        })
        events = [{"id": new_id(), "interaction_id": interaction_id, "kind": "arrived", "at": arrived,
                   "agent_id": None, "data": {"channel": contact.channel.value}}]
        if placement is not None and not queued:
            result.queue_closed = placement.closed
            events.append({"id": new_id(), "interaction_id": interaction_id, "kind": "closed", "at": now,
                           "agent_id": None, "data": {"queue_id": placement.queue_id, "behaviour": placement.closed}})
        elif queued:
            events.append({"id": new_id(), "interaction_id": interaction_id, "kind": "queued", "at": now,
                           "agent_id": None, "data": {"queue_id": placement.queue_id}})
            batch.add(*config.work.item_row(
                placement=placement, interaction_id=interaction_id, case_id=case.id, priority=contact.priority,
                arrived=arrived, now=now, skills=_language_requirement(session, contact.language),
                motif_id=case.motif_id, due=reply_due))
        batch.add(INSERT_EVENT, events)
    message_id = id_at(arrived.timestamp())
    batch.add(INSERT_MESSAGE, {
        "id": message_id, "interaction_id": interaction_id, "case_id": case.id, "author_kind": AuthorKind.customer,
        "author_user_id": None, "direction": Direction.inbound, "internal": False, "subject": contact.subject,
        "body_text": body_text, "body_html": body_html, "created_at": arrived,
    })
    if contact.attachments:
        batch.flush(session)  # attachment rows refer to the message
        store_attachments(session, message_id=message_id, created_at=arrived, attachments=contact.attachments,
                          config=config)
    if contact.provider_message_id is not None:
        batch.add(INSERT_RECEIPT, {
            "channel": contact.channel, "provider_message_id": contact.provider_message_id,
            "interaction_id": interaction_id, "message_id": message_id, "received_at": now,
        })
        batch.receipts[(contact.channel, contact.provider_message_id)] = (interaction_id, message_id)
    result.interaction_id, result.message_id = interaction_id, message_id
    if contact.interaction_id is not None:  # the next line of a live exchange (a chat): not a new arrival
        queue_event(session, MessageReceived(
            interaction_id=interaction_id, case_id=case.id, customer_id=customer_id,
            message_id=message_id, channel=contact.channel.value), now)
        return result
    config.work.announce(
        session, interaction_id=interaction_id, case_id=case.id, customer_id=customer_id,
        channel=contact.channel.value, queue_id=placement.queue_id if placement else None,
        motif=motif.code if motif else None, case_created=result.case_created, now=now)
    return result


def _language_requirement(session: Session, language: str | None) -> list[list]:
    """A contact in English needs an agent with the ``lang_en`` skill, when that skill is defined."""
    if not language:
        return []
    cache = session.info.setdefault(TRANSACTION_CACHE, {})
    if "skill_codes" not in cache:
        cache["skill_codes"] = set(session.connection().execute(select(Skill.code)).scalars())
    code = f"lang_{language}"
    return [[code, 1]] if code in cache["skill_codes"] else []


def _case_by_reference(session: Session, reference: str, customer_id: str) -> CaseRef | None:
    """The case a reply names — only if it is this customer's: a reference is never a way into another's."""
    row = session.connection().execute(_CASE_BY_REFERENCE, {"reference": reference}).first()
    if row is None or access_customer(session, row.customer_id).id != customer_id:
        return None
    return CaseRef(row.id, row.reference, row.status, row.motif_id)


def _open_case(session: Session, batch: InboundBatch, *, contact: InboundContact, config: ConversationConfig,
               customer_id: str, motif: Any, queue_level: int | None, arrived: datetime, body_text: str, now: datetime,
               result: ReceiveResult) -> CaseRef:
    previous_id = None
    if motif is not None and config.repeat_window > timedelta(0):
        previous = batch.resolved.get((customer_id, motif.id))
        if previous is not None and previous[1] >= arrived - config.repeat_window:
            previous_id = previous[0]
            batch.repeats.append(previous_id)
    result.repeat_contact = previous_id is not None
    case_id = id_at(arrived.timestamp())
    hours = motif.sla_hours if motif is not None else None
    sla_due = arrived + (timedelta(hours=hours) if hours else DEFAULT_SLA[contact.channel.synchronous])
    row = {
        "id": case_id, "reference": None, "customer_id": customer_id, "motif_id": motif.id if motif else None,
        "subject": contact.subject or body_text[:120] or None, "status": CaseStatus.new,
        "level": queue_level or 1, "priority": contact.priority, "sla_due_at": sla_due,
        "team_id": None, "agent_id": None, "resolution_code": None, "reopen_count": 0, "repeat_contact_count": 0,
        "repeat_of_id": previous_id, "first_channel": contact.channel, "created_at": arrived, "updated_at": now,
        "resolved_at": None, "closed_at": None,
    }
    batch.add(INSERT_CASE, row)
    batch.unnumbered.append(row)  # numbered when the batch is written, without gaps
    batch.add(INSERT_JOB, {
        "id": new_id(), "kind": "case.sla_check", "payload": {"case_id": case_id}, "run_at": sla_due,
        "status": "pending", "attempts": 0, "max_attempts": 5, "dedupe_key": f"case.sla_check:{case_id}",
        "created_at": now,
    })
    case = CaseRef(case_id, None, CaseStatus.new, row["motif_id"])
    batch.open_cases[(customer_id, row["motif_id"])] = case
    return case


def store_attachments(session: Session, *, message_id: str, created_at: datetime, attachments: list[AttachmentIn],
                      config: ConversationConfig) -> None:
    """Bytes to disk first (atomic rename), rows second; files of a rolled-back transaction are removed."""
    written: list[Path] = []
    try:
        for item in attachments:
            attachment_id = id_at(created_at.timestamp())
            relative, digest = store_attachment_bytes(config.attachments_root, attachment_id, item.data)
            written.append(config.attachments_root / relative)
            session.add(Attachment(
                id=attachment_id, message_id=message_id, filename=safe_filename(item.filename),
                content_type=item.content_type.split(";")[0].strip().lower(), size_bytes=len(item.data),
                sha256=digest, storage_path=relative,
            ))
        session.flush()
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    session.info.setdefault(WRITTEN_FILES, []).extend(written)


def receive_inbound(
    factory: sessionmaker[Session], *, contact: InboundContact, config: ConversationConfig,
    now: datetime | None = None,
) -> ReceiveResult:
    """Run ``do_receive_inbound`` in its own transaction. Losing a race on a unique key (the same
    delivery twice at once, a new identity twice at once) is retried: the retry then finds the receipt
    or the identity the other transaction committed."""
    for attempt in range(4):
        try:
            with factory() as session, session.begin():
                return do_receive_inbound(session, contact=contact, config=config, now=now)
        except (IntegrityError, OperationalError) as exc:
            if attempt == 3 or not is_retryable(exc):
                raise
            log.info("inbound contact raced a concurrent one (%s); retrying", type(exc.orig).__name__)
    raise AssertionError("unreachable")


def is_retryable(exc: DBAPIError) -> bool:
    """Lost races worth one more try: unique keys, deadlocks and serialisation failures, a busy SQLite."""
    if isinstance(exc, IntegrityError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in ("40P01", "40001") or "database is locked" in str(exc.orig)
