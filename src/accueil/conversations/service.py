"""The one write path for cases, interactions and messages.

``do_receive_inbound`` is the heart of accueil: whatever the channel, one inbound contact becomes, in
one transaction, a customer (found by identity or created), a case (the open one with the same motif,
or a new one), an interaction, a message with its attachments, the first events of the interaction's
log and a receipt of the provider's message id, so a second delivery creates nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

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
    Outcome,
)
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.events import Event
from accueil.core.ids import id_at
from accueil.core.jobs import do_schedule_job, job_handler
from accueil.customers.service import IdentityRef, access_customer, do_resolve_identity
from accueil.db.session import WRITTEN_FILES, queue_event
from accueil.routing.models import Queue

log = logging.getLogger(__name__)

# Allowed manual status changes; reopening a resolved/closed case goes through ``do_reopen_case``.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.new: frozenset({CaseStatus.open, CaseStatus.pending, CaseStatus.resolved, CaseStatus.closed}),
    CaseStatus.open: frozenset({CaseStatus.pending, CaseStatus.resolved, CaseStatus.closed}),
    CaseStatus.pending: frozenset({CaseStatus.open, CaseStatus.resolved, CaseStatus.closed}),
    CaseStatus.resolved: frozenset({CaseStatus.closed}),
    CaseStatus.closed: frozenset(),
}

# When a motif names no SLA: synchronous contacts are due the same business day, written ones in 48 h.
DEFAULT_SLA = {True: timedelta(hours=8), False: timedelta(hours=48)}

# Interaction event kinds and the timestamp column each one sets (the first time it happens).
EVENT_TIMESTAMPS = {
    "arrived": "arrived_at",
    "queued": "queued_at",
    "offered": "offered_at",
    "answered": "answered_at",
    "first_reply": "answered_at",
    "ended": "ended_at",
    "wrapup_ended": "wrapup_ended_at",
}
EVENT_KINDS = frozenset(EVENT_TIMESTAMPS) | {
    "held", "unheld", "transferred", "declined", "abandoned", "escalated", "note", "recording",
}


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


def access_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("not_found", kind="case", id=case_id)
    return case


def access_interaction(session: Session, interaction_id: str) -> Interaction:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("not_found", kind="interaction", id=interaction_id)
    return interaction


def find_motif(session: Session, code: str | None) -> Motif | None:
    if code is None:
        return None
    motif = session.scalar(select(Motif).where(Motif.code == code, Motif.active.is_(True)))
    if motif is None:
        raise ValidationFailed("unknown_motif", value=code)
    return motif


def find_queue(session: Session, code: str | None) -> Queue | None:
    if code is None:
        return None
    queue = session.scalar(select(Queue).where(Queue.code == code, Queue.active.is_(True)))
    if queue is None:
        raise ValidationFailed("unknown_queue", value=code)
    return queue


def _next_reference(session: Session, now: datetime) -> str:
    """D-YYYY-NNNNNN: short enough to read over the phone, unique on both databases."""
    year = now.year
    bumped = session.execute(
        update(CaseCounter).where(CaseCounter.year == year).values(value=CaseCounter.value + 1)
    )
    if bumped.rowcount == 0:
        session.add(CaseCounter(year=year, value=1))
        session.flush()
        value = 1
    else:
        value = session.scalar(select(CaseCounter.value).where(CaseCounter.year == year))
    return f"D-{year}-{value:06d}"


def _receipt_result(session: Session, receipt: InboundReceipt) -> ReceiveResult:
    interaction = session.get(Interaction, receipt.interaction_id)
    assert interaction is not None
    case = interaction.case
    return ReceiveResult(
        customer_id=access_customer(session, interaction.customer_id).id,
        case_id=case.id,
        case_reference=case.reference,
        interaction_id=interaction.id,
        message_id=receipt.message_id,
        customer_created=False,
        case_created=False,
        duplicate=True,
        repeat_contact=interaction.is_repeat_contact,
    )


def _record_event(
    session: Session, interaction: Interaction, kind: str, at: datetime, *, agent_id: str | None = None,
    data: dict | None = None,
) -> InteractionEvent:
    column = EVENT_TIMESTAMPS.get(kind)
    if column and getattr(interaction, column) is None:
        setattr(interaction, column, at)
    item = InteractionEvent(
        id=id_at(at.timestamp()), interaction_id=interaction.id, kind=kind, at=at, agent_id=agent_id,
        data=data or {},
    )
    session.add(item)
    return item


def _pick_case(
    session: Session, *, customer_id: str, motif: Motif | None, reference: str | None
) -> Case | None:
    if reference is not None:
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is not None and access_customer(session, case.customer_id).id == customer_id:
            return case
        return None  # a reference that is not this customer's is ignored, never leaked into
    motif_clause = Case.motif_id.is_(None) if motif is None else Case.motif_id == motif.id
    return session.scalar(
        select(Case)
        .where(Case.customer_id == customer_id, Case.status.in_(OPEN_STATUSES), motif_clause)
        .order_by(Case.created_at.desc())
        .limit(1)
    )


def _previous_resolved_case(
    session: Session, *, customer_id: str, motif: Motif, since: datetime
) -> Case | None:
    return session.scalar(
        select(Case)
        .where(
            Case.customer_id == customer_id,
            Case.motif_id == motif.id,
            Case.status.in_([CaseStatus.resolved, CaseStatus.closed]),
            Case.resolved_at >= since,
        )
        .order_by(Case.resolved_at.desc())
        .limit(1)
    )


def _sla_due(motif: Motif | None, channel: ChannelKind, now: datetime) -> datetime:
    if motif is not None and motif.sla_hours:
        return now + timedelta(hours=motif.sla_hours)
    return now + DEFAULT_SLA[channel.synchronous]


def do_receive_inbound(
    session: Session, *, contact: InboundContact, config: ConversationConfig, now: datetime | None = None
) -> ReceiveResult:
    """Receive one inbound contact (see module docstring); the caller's transaction commits it."""
    now = now or clock.now()
    arrived = contact.occurred_at or now
    if contact.provider_message_id is not None:
        receipt = session.scalar(
            select(InboundReceipt).where(
                InboundReceipt.channel == contact.channel,
                InboundReceipt.provider_message_id == contact.provider_message_id,
            )
        )
        if receipt is not None:
            return _receipt_result(session, receipt)
    body_html = sanitise_html(contact.body_html) if contact.body_html else None
    body_text = contact.body_text or (html_to_text(body_html) if body_html else "")
    check_content(body_text=body_text, body_html=body_html, attachments=contact.attachments, limits=config.limits)
    motif = find_motif(session, contact.motif_code)
    queue = find_queue(session, contact.queue_code)
    customer, customer_created = do_resolve_identity(
        session, identities=contact.identities, display_name=contact.display_name,
        language=contact.language, now=now,
    )

    interaction: Interaction | None = None
    if contact.interaction_id is not None:
        interaction = access_interaction(session, contact.interaction_id)
        if interaction.customer_id != customer.id or interaction.ended_at is not None:
            raise Conflict("invalid_transition", current="ended", target="message")
    case = interaction.case if interaction else _pick_case(
        session, customer_id=customer.id, motif=motif, reference=contact.case_reference
    )
    case_created = False
    repeat = False
    if case is not None and case.status is CaseStatus.closed:
        case = None  # a closed case stays closed; the contact opens a new one
    if case is not None and case.status is CaseStatus.resolved:
        _reopen(session, case, now=now, reason="customer_contact")
    if case is None:
        previous = None
        if motif is not None and config.repeat_window > timedelta(0):
            previous = _previous_resolved_case(
                session, customer_id=customer.id, motif=motif, since=arrived - config.repeat_window
            )
        case = Case(
            id=id_at(arrived.timestamp()),
            reference=_next_reference(session, arrived),
            customer_id=customer.id,
            motif_id=motif.id if motif else None,
            subject=(contact.subject or body_text[:120] or None),
            status=CaseStatus.new,
            level=queue.level if queue else 1,
            priority=contact.priority,
            sla_due_at=_sla_due(motif, contact.channel, arrived),
            first_channel=contact.channel,
            created_at=arrived,
            updated_at=now,
        )
        if previous is not None:
            case.repeat_of_id = previous.id
            previous.repeat_contact_count += 1
            repeat = True
        session.add(case)
        session.flush()
        case_created = True
        do_schedule_job(
            session, kind="case.sla_check", run_at=case.sla_due_at, payload={"case_id": case.id},
            dedupe_key=f"case.sla_check:{case.id}:{case.sla_due_at.isoformat()}",
        )
    elif case.status is CaseStatus.pending:
        case.status = CaseStatus.open  # the customer answered what we were waiting for
    case.updated_at = now

    if interaction is None:
        interaction = Interaction(
            id=id_at(arrived.timestamp()),
            case_id=case.id,
            customer_id=customer.id,
            channel=contact.channel,
            direction=Direction.inbound,
            queue_id=queue.id if queue else None,
            arrived_at=arrived,
            is_repeat_contact=repeat,
        )
        session.add(interaction)
        session.flush()
        _record_event(session, interaction, "arrived", arrived, data={"channel": contact.channel.value})
        if queue is not None:
            _record_event(session, interaction, "queued", now, data={"queue_id": queue.id})
    message = Message(
        id=id_at(arrived.timestamp()),
        interaction_id=interaction.id,
        case_id=case.id,
        author_kind=AuthorKind.customer,
        direction=Direction.inbound,
        subject=contact.subject,
        body_text=body_text,
        body_html=body_html,
        created_at=arrived,
    )
    session.add(message)
    session.flush()
    _store_attachments(session, message=message, attachments=contact.attachments, config=config)
    if contact.provider_message_id is not None:
        session.add(
            InboundReceipt(
                channel=contact.channel, provider_message_id=contact.provider_message_id,
                interaction_id=interaction.id, message_id=message.id, received_at=now,
            )
        )
    session.flush()
    queue_event(
        session,
        Event(
            "interaction.arrived",
            {
                "interaction_id": interaction.id, "case_id": case.id, "customer_id": customer.id,
                "channel": contact.channel.value, "queue_id": interaction.queue_id,
                "motif": motif.code if motif else None, "case_created": case_created,
            },
            now,
        ),
    )
    return ReceiveResult(
        customer_id=customer.id, case_id=case.id, case_reference=case.reference,
        interaction_id=interaction.id, message_id=message.id, customer_created=customer_created,
        case_created=case_created, duplicate=False, repeat_contact=repeat,
    )


def _store_attachments(
    session: Session, *, message: Message, attachments: list[AttachmentIn], config: ConversationConfig
) -> None:
    written: list[Path] = []
    try:
        for item in attachments:
            attachment_id = id_at(message.created_at.timestamp())
            relative, digest = store_attachment_bytes(config.attachments_root, attachment_id, item.data)
            written.append(config.attachments_root / relative)
            session.add(
                Attachment(
                    id=attachment_id, message_id=message.id, filename=safe_filename(item.filename),
                    content_type=item.content_type.split(";")[0].strip().lower(),
                    size_bytes=len(item.data), sha256=digest, storage_path=relative,
                )
            )
        session.flush()
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    if written:
        # Files of a transaction that later rolls back would be orphans: remove them on rollback.
        session.info.setdefault(WRITTEN_FILES, []).extend(written)


def receive_inbound(
    factory: sessionmaker[Session], *, contact: InboundContact, config: ConversationConfig,
    now: datetime | None = None,
) -> ReceiveResult:
    """Run ``do_receive_inbound`` in its own transaction; a lost race on a unique key is retried once
    the other transaction committed, and then finds its receipt or identity."""
    for attempt in range(3):
        try:
            with factory() as session, session.begin():
                return do_receive_inbound(session, contact=contact, config=config, now=now)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("inbound contact raced a concurrent one; retrying")
    raise AssertionError("unreachable")


def do_reply(
    session: Session, *, case_id: str, author_user_id: str, body_text: str = "", body_html: str | None = None,
    config: ConversationConfig, attachments: list[AttachmentIn] | None = None,
    set_status: CaseStatus | None = None, now: datetime | None = None,
) -> Message:
    """An agent's answer on the case's latest exchange; the first one sets the first-reply time."""
    now = now or clock.now()
    case = access_case(session, case_id)
    if case.status is CaseStatus.closed:
        raise Conflict("case_closed")
    body_html = sanitise_html(body_html) if body_html else None
    body_text = body_text or (html_to_text(body_html) if body_html else "")
    check_content(body_text=body_text, body_html=body_html, attachments=attachments or [], limits=config.limits)
    interaction = session.scalar(
        select(Interaction).where(Interaction.case_id == case.id).order_by(Interaction.arrived_at.desc()).limit(1)
    )
    if interaction is None:  # pragma: no cover - every case is born with an interaction
        raise NotFound("not_found", kind="interaction", id=case.id)
    if interaction.agent_id is None:
        interaction.agent_id = author_user_id
    _record_event(session, interaction, "first_reply", now, agent_id=author_user_id)
    message = Message(
        id=id_at(now.timestamp()), interaction_id=interaction.id, case_id=case.id, author_kind=AuthorKind.agent,
        author_user_id=author_user_id, direction=Direction.outbound, body_text=body_text, body_html=body_html,
        created_at=now,
    )
    session.add(message)
    session.flush()
    _store_attachments(session, message=message, attachments=attachments or [], config=config)
    if case.agent_id is None:
        case.agent_id = author_user_id
    target = set_status or (CaseStatus.open if case.status is CaseStatus.new else None)
    if target is not None and target is not case.status:
        _change_status(session, case, target, now=now, actor_id=author_user_id)
    case.updated_at = now
    queue_event(session, Event("message.sent", {"case_id": case.id, "message_id": message.id,
                                                "interaction_id": interaction.id}, now))
    return message


def do_add_note(session: Session, *, case_id: str, author_user_id: str, body_text: str,
                config: ConversationConfig, now: datetime | None = None) -> Message:
    """An internal note: on the case, visible to staff only, never sent."""
    now = now or clock.now()
    case = access_case(session, case_id)
    check_content(body_text=body_text, body_html=None, attachments=[], limits=config.limits)
    note = Message(
        id=id_at(now.timestamp()), interaction_id=None, case_id=case.id, author_kind=AuthorKind.agent,
        author_user_id=author_user_id, direction=Direction.outbound, internal=True, body_text=body_text,
        created_at=now,
    )
    session.add(note)
    case.updated_at = now
    session.flush()
    queue_event(session, Event("case.note_added", {"case_id": case.id, "message_id": note.id}, now))
    return note


def _change_status(session: Session, case: Case, target: CaseStatus, *, now: datetime,
                   actor_id: str | None, resolution_code: str | None = None) -> None:
    if target not in TRANSITIONS[case.status]:
        raise Conflict("invalid_transition", current=case.status.value, target=target.value)
    previous = case.status
    case.status = target
    case.updated_at = now
    if target is CaseStatus.resolved:
        case.resolved_at = now
        case.resolution_code = resolution_code
        for interaction in session.scalars(
            select(Interaction).where(Interaction.case_id == case.id, Interaction.ended_at.is_(None))
        ):
            _record_event(session, interaction, "ended", now, agent_id=actor_id, data={"reason": "case_resolved"})
            interaction.outcome = interaction.outcome or Outcome.handled
    if target is CaseStatus.closed:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
    queue_event(session, Event("case.status_changed", {"case_id": case.id, "from": previous.value,
                                                       "to": target.value}, now))


def do_change_status(session: Session, *, case_id: str, status: CaseStatus, actor_id: str | None = None,
                     resolution_code: str | None = None, now: datetime | None = None) -> Case:
    case = access_case(session, case_id)
    _change_status(session, case, status, now=now or clock.now(), actor_id=actor_id,
                   resolution_code=resolution_code)
    return case


def do_resolve_case(session: Session, *, case_id: str, resolution_code: str, actor_id: str | None = None,
                    now: datetime | None = None) -> Case:
    return do_change_status(session, case_id=case_id, status=CaseStatus.resolved, actor_id=actor_id,
                            resolution_code=resolution_code, now=now)


def _reopen(session: Session, case: Case, *, now: datetime, reason: str) -> None:
    if case.status not in (CaseStatus.resolved, CaseStatus.closed):
        raise Conflict("case_not_resolved", status=case.status.value)
    previous = case.status
    case.status = CaseStatus.open
    case.reopen_count += 1  # a reopened case was not resolved at first contact
    case.resolved_at = None
    case.closed_at = None
    case.resolution_code = None
    case.updated_at = now
    queue_event(session, Event("case.reopened", {"case_id": case.id, "from": previous.value, "reason": reason},
                               now))


def do_reopen_case(session: Session, *, case_id: str, reason: str = "agent", now: datetime | None = None) -> Case:
    case = access_case(session, case_id)
    _reopen(session, case, now=now or clock.now(), reason=reason)
    return case


def do_record_interaction_event(
    session: Session, *, interaction_id: str, kind: str, at: datetime | None = None, agent_id: str | None = None,
    outcome: Outcome | None = None, data: dict | None = None,
) -> InteractionEvent:
    """Append to the interaction's log (from CTI, routing or the console); timestamps follow the log."""
    if kind not in EVENT_KINDS:
        raise ValidationFailed("validation_error", summary=f"unknown event kind {kind!r}")
    at = at or clock.now()
    interaction = access_interaction(session, interaction_id)
    item = _record_event(session, interaction, kind, at, agent_id=agent_id, data=data)
    if agent_id and kind in ("offered", "answered") and interaction.agent_id is None:
        interaction.agent_id = agent_id
    if kind == "ended":
        interaction.outcome = outcome or interaction.outcome or (
            Outcome.handled if interaction.answered_at else Outcome.abandoned
        )
    session.flush()
    queue_event(session, Event(f"interaction.{kind}", {"interaction_id": interaction.id,
                                                        "case_id": interaction.case_id}, at))
    return item


@job_handler("case.sla_check")
def _sla_check(session: Session, payload: dict, now: datetime) -> None:
    """At the SLA due time, flag a still-open case so supervisors and routing see the breach."""
    case = session.get(Case, payload["case_id"])
    if case is None or case.status not in OPEN_STATUSES or case.sla_due_at is None:
        return
    if clock.ensure_utc(case.sla_due_at) <= now:
        queue_event(session, Event("case.sla_breached", {"case_id": case.id, "reference": case.reference}, now))
