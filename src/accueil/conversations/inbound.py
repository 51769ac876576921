"""Receiving inbound contacts: the hot path of accueil, written for throughput.

``do_receive_inbound`` turns one inbound contact, whatever its channel, into — in the caller's single
transaction — a customer (found by identity or created), a case (the customer's open case with the
same motif, or a new one, flagged as a repeat when a same-motif case was resolved within the repeat
window), an interaction, a message with its attachments, the first events of the interaction's log and
a receipt of the provider's message id, so a second delivery returns the first result and creates
nothing.

Every contact passes through here, so the common path uses pre-built statements and plain inserts
(about ten statements, no ORM flush); rare paths (merged customers, reopening, chat continuations)
use the ORM helpers of ``service``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

from accueil.config import Settings
from accueil.conversations.content import (
    AttachmentIn,
    ContentLimits,
    check_content,
    html_to_text,
    safe_filename,
    sanitise_html,
    store_attachment_bytes,
)
from accueil.conversations.models import (
    CASE_REFERENCE_SEQUENCE,
    OPEN_STATUSES,
    Attachment,
    AuthorKind,
    Case,
    CaseCounter,
    CaseStatus,
    ChannelKind,
    Direction,
    InboundReceipt,
    Interaction,
    InteractionEvent,
    Message,
    Motif,
)
from accueil.core import clock
from accueil.core.errors import Conflict, ValidationFailed
from accueil.core.events import Event
from accueil.core.ids import id_at, new_id
from accueil.core.jobs import Job
from accueil.customers.models import Customer, Identity
from accueil.customers.service import IdentityRef, access_customer
from accueil.db.session import TRANSACTION_CACHE, WRITTEN_FILES, queue_event
from accueil.routing.models import Queue

log = logging.getLogger(__name__)

# When a motif names no SLA: synchronous contacts are due the same business day, written ones in 48 h.
DEFAULT_SLA = {True: timedelta(hours=8), False: timedelta(hours=48)}


@dataclass(frozen=True)
class ConversationConfig:
    limits: ContentLimits
    attachments_root: Path
    repeat_window: timedelta
    phone_region: str = "FR"

    @classmethod
    def from_settings(cls, settings: Settings) -> ConversationConfig:
        return cls(
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


@dataclass(frozen=True)
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


# Pre-built statements: compiled once, then only parameters change.
_RECEIPT = select(InboundReceipt.interaction_id, InboundReceipt.message_id).where(
    InboundReceipt.channel == bindparam("channel"), InboundReceipt.provider_message_id == bindparam("pid")
)
_MOTIF = select(Motif.id, Motif.code, Motif.sla_hours).where(Motif.code == bindparam("code"), Motif.active.is_(True))
_QUEUE = select(Queue.id, Queue.level).where(Queue.code == bindparam("code"), Queue.active.is_(True))
_IDENTITIES = (
    select(Identity.kind, Identity.value, Identity.customer_id, Customer.merged_into_id)
    .join(Customer, Customer.id == Identity.customer_id)
    .where(Identity.value.in_(bindparam("values", expanding=True)))
)
# PostgreSQL: lock the customer while receiving, so two contacts of one customer handled at the same
# time by two writers never both open a case for the same motif (SQLite has one writer anyway).
_IDENTITIES_LOCKING = _IDENTITIES.with_for_update(of=Customer)
_CASE_COLUMNS = (Case.id, Case.reference, Case.status, Case.customer_id)
_OPEN_CASE_WITH_MOTIF = (
    select(*_CASE_COLUMNS)
    .where(Case.customer_id == bindparam("customer"), Case.status.in_(OPEN_STATUSES), Case.motif_id == bindparam("motif"))
    .order_by(Case.created_at.desc())
    .limit(1)
)
_OPEN_CASE_WITHOUT_MOTIF = (
    select(*_CASE_COLUMNS)
    .where(Case.customer_id == bindparam("customer"), Case.status.in_(OPEN_STATUSES), Case.motif_id.is_(None))
    .order_by(Case.created_at.desc())
    .limit(1)
)
_CASE_BY_REFERENCE = select(*_CASE_COLUMNS).where(Case.reference == bindparam("reference"))
_PREVIOUS_RESOLVED = (
    select(Case.id)
    .where(
        Case.customer_id == bindparam("customer"), Case.motif_id == bindparam("motif"),
        Case.status.in_([CaseStatus.resolved, CaseStatus.closed]), Case.resolved_at >= bindparam("since"),
    )
    .order_by(Case.resolved_at.desc())
    .limit(1)
)
_CASES = Case.__table__
_TOUCH_CASE = _CASES.update().where(_CASES.c.id == bindparam("case_id")).values(updated_at=bindparam("now"))
_TOUCH_AND_OPEN_CASE = (
    _CASES.update().where(_CASES.c.id == bindparam("case_id"))
    .values(updated_at=bindparam("now"), status=bindparam("status"))
)
_COUNT_REPEAT = (
    _CASES.update().where(_CASES.c.id == bindparam("case_id"))
    .values(repeat_contact_count=_CASES.c.repeat_contact_count + 1)
)
_COUNTER_TABLE = CaseCounter.__table__
_BUMP_COUNTER = (
    _COUNTER_TABLE.update()
    .where(_COUNTER_TABLE.c.name == "case_reference")
    .values(value=_COUNTER_TABLE.c.value + 1)
    .returning(_COUNTER_TABLE.c.value)
)
_NEXT_IN_SEQUENCE = text(f"SELECT nextval('{CASE_REFERENCE_SEQUENCE}')")
_INSERT_CUSTOMER = Customer.__table__.insert()
_INSERT_IDENTITY = Identity.__table__.insert()
_INSERT_CASE = Case.__table__.insert()
_INSERT_INTERACTION = Interaction.__table__.insert()
_INSERT_EVENT = InteractionEvent.__table__.insert()
_INSERT_MESSAGE = Message.__table__.insert()
_INSERT_RECEIPT = InboundReceipt.__table__.insert()
_INSERT_JOB = Job.__table__.insert()


# Rows nobody reads back within the same batch (interactions, their events, messages, receipts, SLA
# timers) are queued and written with one multi-row INSERT per table when the batch ends; a
# receipt queued this way is still found by a duplicate later in the same batch.
_DEFERRED = "accueil_inbound_deferred"
_FLUSH_ORDER = (_INSERT_INTERACTION, _INSERT_EVENT, _INSERT_MESSAGE, _INSERT_RECEIPT, _INSERT_JOB)


def _defer(session: Session, statement: Any, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
    pending = session.info.setdefault(_DEFERRED, {"rows": {}, "receipts": {}})
    pending["rows"].setdefault(statement, []).extend(rows if isinstance(rows, list) else [rows])
    if statement is _INSERT_RECEIPT:
        row = rows if isinstance(rows, dict) else rows[0]
        pending["receipts"][(row["channel"], row["provider_message_id"])] = (row["interaction_id"], row["message_id"])


def flush_deferred_inserts(session: Session) -> None:
    """Write the queued rows, parents first; call before committing a batch (and before ORM reads)."""
    pending = session.info.pop(_DEFERRED, None)
    if not pending:
        return
    connection = session.connection()
    for statement in _FLUSH_ORDER:
        rows = pending["rows"].get(statement)
        if rows:
            connection.execute(statement, rows)


@event.listens_for(Session, "before_commit")
def _refuse_unflushed(session: Session) -> None:
    # Committing with queued rows would acknowledge contacts that were never written: refuse loudly.
    if session.info.get(_DEFERRED):
        raise RuntimeError("inbound rows queued but not flushed before commit")


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, _previous: Any) -> None:
    session.info.pop(_DEFERRED, None)


def _deferred_receipt(session: Session, channel: ChannelKind, pid: str) -> tuple[str, str] | None:
    pending = session.info.get(_DEFERRED)
    return pending["receipts"].get((channel, pid)) if pending else None


def _next_reference(session: Session, at: datetime) -> str:
    """D-YYYY-NNNNNN (year of creation, then a serial unique across years): short enough to read over
    the phone, unique on both databases."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        value = connection.execute(_NEXT_IN_SEQUENCE).scalar_one()
    else:
        value = connection.execute(_BUMP_COUNTER).scalar()
        if value is None:
            connection.execute(insert(_COUNTER_TABLE), {"name": "case_reference", "value": 1})
            value = 1
    return f"D-{at.year}-{value:06d}"


def _duplicate_result(session: Session, interaction_id: str, message_id: str) -> ReceiveResult:
    flush_deferred_inserts(session)
    interaction = session.get(Interaction, interaction_id)
    assert interaction is not None
    return ReceiveResult(
        customer_id=access_customer(session, interaction.customer_id).id, case_id=interaction.case_id,
        case_reference=interaction.case.reference, interaction_id=interaction.id, message_id=message_id,
        customer_created=False, case_created=False, duplicate=True, repeat_contact=interaction.is_repeat_contact,
    )


def _resolve_customer(session: Session, contact: InboundContact, now: datetime) -> tuple[str, bool]:
    """The customer any identity belongs to (following merges), or a new one; unknown identities join it.

    Identities of two different customers are not merged silently: the first match wins, and merging
    stays an explicit, traced decision (``customers.service.do_merge_customers``).
    """
    if not contact.identities:
        raise ValidationFailed("identity_required")
    connection = session.connection()
    statement = _IDENTITIES_LOCKING if connection.dialect.name == "postgresql" else _IDENTITIES
    rows = connection.execute(statement, {"values": [ref.value for ref in contact.identities]}).all()
    found = {(row.kind, row.value): (row.customer_id, row.merged_into_id) for row in rows}
    customer_id: str | None = None
    for ref in contact.identities:
        if (ref.kind, ref.value) in found:
            owner, merged_into = found[(ref.kind, ref.value)]
            customer_id = access_customer(session, owner).id if merged_into else owner
            break
    created = customer_id is None
    if customer_id is None:
        customer_id = new_id()
        session.connection().execute(_INSERT_CUSTOMER, {
            "id": customer_id, "display_name": contact.display_name, "preferred_language": contact.language or "fr",
            "created_at": now, "updated_at": now,
        })
        queue_event(session, Event("customer.created", {"customer_id": customer_id}, now))
    missing = [ref for ref in dict.fromkeys(contact.identities) if (ref.kind, ref.value) not in found]
    if missing:
        session.connection().execute(_INSERT_IDENTITY, [
            {"id": new_id(), "customer_id": customer_id, "kind": ref.kind, "value": ref.value, "verified": False,
             "created_at": now}
            for ref in missing
        ])
    return customer_id, created


def _reference_row(session: Session, statement: Any, code: str | None, error: str) -> Any:
    """A motif or queue by code, read once per transaction (a batch of contacts shares the answer)."""
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
    defer_inserts: bool = False,
) -> ReceiveResult:
    """Receive one inbound contact (see the module docstring); the caller's transaction commits it.

    With ``defer_inserts`` (group commit) some rows are only queued: the caller must call
    ``flush_deferred_inserts`` before committing.
    """
    now = now or clock.now()
    arrived = contact.occurred_at or now
    if contact.provider_message_id is not None:
        queued = _deferred_receipt(session, contact.channel, contact.provider_message_id)
        if queued is not None:
            return _duplicate_result(session, *queued)
        seen = session.connection().execute(
            _RECEIPT, {"channel": contact.channel, "pid": contact.provider_message_id}
        ).first()
        if seen is not None:
            return _duplicate_result(session, seen.interaction_id, seen.message_id)
    body_html = sanitise_html(contact.body_html) if contact.body_html else None
    body_text = contact.body_text or (html_to_text(body_html) if body_html else "")
    check_content(body_text=body_text, body_html=body_html, attachments=contact.attachments, limits=config.limits)
    motif = _reference_row(session, _MOTIF, contact.motif_code, "unknown_motif")
    queue = _reference_row(session, _QUEUE, contact.queue_code, "unknown_queue")
    customer_id, customer_created = _resolve_customer(session, contact, now)

    interaction_id: str | None = None
    case = None
    if contact.interaction_id is not None:
        from accueil.conversations.service import access_interaction

        flush_deferred_inserts(session)
        live = access_interaction(session, contact.interaction_id)
        if live.customer_id != customer_id or live.ended_at is not None:
            raise Conflict("invalid_transition", current="ended", target="message")
        interaction_id = live.id
        case = session.connection().execute(_CASE_BY_REFERENCE, {"reference": live.case.reference}).first()
    elif not customer_created:
        case = _pick_case(session, customer_id=customer_id, motif_id=motif.id if motif else None,
                          reference=contact.case_reference)
    if case is not None and case.status is CaseStatus.closed:
        case = None  # a closed case stays closed; the contact opens a new one
    if case is not None and case.status is CaseStatus.resolved:
        from accueil.conversations.service import do_reopen_case

        flush_deferred_inserts(session)
        do_reopen_case(session, case_id=case.id, reason="customer_contact", now=now)

    repeat = False
    if case is None:
        case_id, reference, repeat = _open_case(session, contact=contact, config=config, customer_id=customer_id,
                                                motif=motif, queue=queue, arrived=arrived, body_text=body_text,
                                                now=now)
        case_created = True
    else:
        case_id, reference, case_created = case.id, case.reference, False
        if case.status is CaseStatus.pending:
            # The customer answered what we were waiting for.
            _update_case(session, case_id, _TOUCH_AND_OPEN_CASE, {"now": now, "status": CaseStatus.open})
        else:
            _update_case(session, case_id, _TOUCH_CASE, {"now": now})

    if interaction_id is None:
        interaction_id = id_at(arrived.timestamp())
        _defer(session, _INSERT_INTERACTION, {
            "id": interaction_id, "case_id": case_id, "customer_id": customer_id, "channel": contact.channel,
            "direction": Direction.inbound, "queue_id": queue.id if queue else None, "agent_id": None,
            "arrived_at": arrived, "queued_at": now if queue else None, "is_repeat_contact": repeat,
        })
        events = [{"id": new_id(), "interaction_id": interaction_id, "kind": "arrived", "at": arrived,
                   "agent_id": None, "data": {"channel": contact.channel.value}}]
        if queue is not None:
            events.append({"id": new_id(), "interaction_id": interaction_id, "kind": "queued", "at": now,
                           "agent_id": None, "data": {"queue_id": queue.id}})
        _defer(session, _INSERT_EVENT, events)
    message_id = id_at(arrived.timestamp())
    _defer(session, _INSERT_MESSAGE, {
        "id": message_id, "interaction_id": interaction_id, "case_id": case_id, "author_kind": AuthorKind.customer,
        "author_user_id": None, "direction": Direction.inbound, "internal": False, "subject": contact.subject,
        "body_text": body_text, "body_html": body_html, "created_at": arrived,
    })
    if contact.attachments:
        flush_deferred_inserts(session)  # attachments refer to the message
        store_attachments(session, message_id=message_id, created_at=arrived, attachments=contact.attachments,
                          config=config)
    if contact.provider_message_id is not None:
        _defer(session, _INSERT_RECEIPT, {
            "channel": contact.channel, "provider_message_id": contact.provider_message_id,
            "interaction_id": interaction_id, "message_id": message_id, "received_at": now,
        })
    if not defer_inserts:
        flush_deferred_inserts(session)
    queue_event(session, Event("interaction.arrived", {
        "interaction_id": interaction_id, "case_id": case_id, "customer_id": customer_id,
        "channel": contact.channel.value, "queue_id": queue.id if queue else None,
        "motif": motif.code if motif else None, "case_created": case_created,
    }, now))
    return ReceiveResult(
        customer_id=customer_id, case_id=case_id, case_reference=reference, interaction_id=interaction_id,
        message_id=message_id, customer_created=customer_created, case_created=case_created, duplicate=False,
        repeat_contact=repeat,
    )


def _update_case(session: Session, case_id: str, statement: Any, params: dict[str, Any]) -> None:
    """A plain UPDATE (no ORM bookkeeping); a copy of the case already loaded in this session is flushed
    first (so its pending changes are kept) and expired after (so it reloads what was written)."""
    loaded = session.identity_map.get(identity_key(Case, case_id))
    if loaded is not None:
        session.flush()
    session.connection().execute(statement, {"case_id": case_id, **params})
    if loaded is not None:
        session.expire(loaded)


def _pick_case(session: Session, *, customer_id: str, motif_id: str | None, reference: str | None) -> Any:
    if reference is not None:
        case = session.connection().execute(_CASE_BY_REFERENCE, {"reference": reference}).first()
        if case is not None and access_customer(session, case.customer_id).id == customer_id:
            return case
        return None  # a reference that is not this customer's is ignored, never leaked into
    if motif_id is None:
        return session.connection().execute(_OPEN_CASE_WITHOUT_MOTIF, {"customer": customer_id}).first()
    return session.connection().execute(_OPEN_CASE_WITH_MOTIF, {"customer": customer_id, "motif": motif_id}).first()


def _open_case(session: Session, *, contact: InboundContact, config: ConversationConfig, customer_id: str,
               motif: Any, queue: Any, arrived: datetime, body_text: str, now: datetime) -> tuple[str, str, bool]:
    previous_id = None
    if motif is not None and config.repeat_window > timedelta(0):
        previous_id = session.connection().execute(_PREVIOUS_RESOLVED, {
            "customer": customer_id, "motif": motif.id, "since": arrived - config.repeat_window,
        }).scalar()
    if previous_id is not None:
        _update_case(session, previous_id, _COUNT_REPEAT, {})
    case_id = id_at(arrived.timestamp())
    reference = _next_reference(session, arrived)
    hours = motif.sla_hours if motif is not None else None
    sla_due = arrived + (timedelta(hours=hours) if hours else DEFAULT_SLA[contact.channel.synchronous])
    session.connection().execute(_INSERT_CASE, {
        "id": case_id, "reference": reference, "customer_id": customer_id, "motif_id": motif.id if motif else None,
        "subject": contact.subject or body_text[:120] or None, "status": CaseStatus.new,
        "level": queue.level if queue else 1, "priority": contact.priority, "sla_due_at": sla_due,
        "team_id": None, "agent_id": None, "resolution_code": None, "reopen_count": 0, "repeat_contact_count": 0,
        "repeat_of_id": previous_id, "first_channel": contact.channel, "created_at": arrived, "updated_at": now,
        "resolved_at": None, "closed_at": None,
    })
    _defer(session, _INSERT_JOB, {
        "id": new_id(), "kind": "case.sla_check", "payload": {"case_id": case_id}, "run_at": sla_due,
        "status": "pending", "attempts": 0, "max_attempts": 5, "dedupe_key": f"case.sla_check:{case_id}",
        "created_at": now,
    })
    return case_id, reference, previous_id is not None


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
