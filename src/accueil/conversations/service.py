"""The one write path for cases, interactions and messages once they exist: replies, notes, status,
reopening, escalation and the interaction event log. Receiving contacts lives in ``inbound``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from accueil.conversations.cases import (  # noqa: F401 - re-exported: part of the domain's service
    access_case,
    access_interaction,
    do_reopen_case,
)
from accueil.conversations.content import (
    AttachmentIn,
    check_content,
    html_to_text,
    sanitise_html,
)
from accueil.conversations.events import (
    CaseAssigned,
    CaseEscalated,
    CaseMotifChanged,
    CaseNoteAdded,
    CaseSlaBreached,
    CaseStatusChanged,
    InteractionEnded,
    MessageSent,
    logged_event,
)
from accueil.conversations.models import (
    OPEN_STATUSES,
    AuthorKind,
    Case,
    CaseStatus,
    Direction,
    Interaction,
    InteractionEvent,
    Message,
    Motif,
    Outcome,
)
from accueil.conversations.receive import (  # noqa: F401 - re-exported: the domain's one entry point
    ConversationConfig,
    InboundContact,
    ReceiveResult,
    do_receive_inbound,
    receive_inbound,
    store_attachments,
)
from accueil.conversations.scope import check_user_may_take
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.core.ids import id_at, new_id
from accueil.core.permissions import ROUTABLE_ROLES
from accueil.db.jobs import job_handler
from accueil.db.session import queue_event
from accueil.identity.models import User

log = logging.getLogger(__name__)

# Allowed manual status changes; reopening a resolved/closed case goes through ``do_reopen_case``.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.new: frozenset({CaseStatus.open, CaseStatus.pending, CaseStatus.resolved, CaseStatus.closed}),
    CaseStatus.open: frozenset({CaseStatus.pending, CaseStatus.resolved, CaseStatus.closed}),
    CaseStatus.pending: frozenset({CaseStatus.open, CaseStatus.resolved, CaseStatus.closed}),
    CaseStatus.resolved: frozenset({CaseStatus.closed}),
    CaseStatus.closed: frozenset(),
}


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
    "requeued", "overflowed", "closed",
}


@dataclass(frozen=True, slots=True)
class EventRecord:
    interaction_id: str
    kind: str
    at: datetime
    agent_id: str | None = None
    data: dict | None = None
    outcome: Outcome | None = None  # for "ended"


_INTERACTIONS = Interaction.__table__
_INSERT_EVENT = InteractionEvent.__table__.insert()
_UPDATES: dict[tuple[str, ...], Any] = {}


def _interaction_update(columns: tuple[str, ...]) -> Any:
    """UPDATE interactions SET col = COALESCE(col, :v_col)... (outcome is simply set), built once per shape."""
    if columns not in _UPDATES:
        table = _INTERACTIONS
        values = {
            column: (bindparam(f"v_{column}", type_=table.c[column].type) if column == "outcome"
                     else func.coalesce(table.c[column], bindparam(f"v_{column}", type_=table.c[column].type)))
            for column in columns
        }
        _UPDATES[columns] = update(table).where(table.c.id == bindparam("b_id")).values(values)
    return _UPDATES[columns]


def do_record_interaction_events(session: Session, records: list[EventRecord]) -> None:
    """Append many events at once (a routing pass): one INSERT, one UPDATE per timestamp column.

    Same rules as ``do_record_interaction_event``: a timestamp column is set by its kind's first event,
    the first offered/answered agent becomes the interaction's agent, "ended" sets the outcome.
    """
    if not records:
        return
    for record in records:
        if record.kind not in EVENT_KINDS:
            raise ValidationFailed("validation_error", summary=f"unknown event kind {record.kind!r}")
    session.flush()
    connection = session.connection()
    connection.execute(_INSERT_EVENT, [
        {"id": new_id(), "interaction_id": r.interaction_id, "kind": r.kind, "at": r.at,
         "agent_id": r.agent_id, "data": r.data or {}} for r in records
    ])
    # One UPDATE per interaction, grouped by the columns it sets: COALESCE keeps what was set first.
    changes: dict[str, dict[str, Any]] = {}
    for r in records:
        change = changes.setdefault(r.interaction_id, {})
        column = EVENT_TIMESTAMPS.get(r.kind)
        if column:
            change.setdefault(column, r.at)
        if r.agent_id and r.kind in ("offered", "answered"):
            change.setdefault("agent_id", r.agent_id)
        if r.kind == "ended" and r.outcome:
            change["outcome"] = r.outcome
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for interaction_id, change in changes.items():
        if change:
            groups.setdefault(tuple(sorted(change)), []).append({"b_id": interaction_id, **{
                f"v_{column}": value for column, value in change.items()}})
    for columns, params in groups.items():
        connection.execute(_interaction_update(columns), params)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Interaction):
            session.expire(obj)


def _record_event(
    session: Session, interaction: Interaction, kind: str, at: datetime, *, agent_id: str | None = None,
    data: dict | None = None,
) -> InteractionEvent:
    column = EVENT_TIMESTAMPS.get(kind)
    if column and getattr(interaction, column) is None:
        setattr(interaction, column, at)
    item = InteractionEvent(
        id=new_id(), interaction_id=interaction.id, kind=kind, at=at, agent_id=agent_id,
        data=data or {},
    )
    session.add(item)
    return item


def do_reply(
    session: Session, *, case_id: str, author_user_id: str, body_text: str = "", body_html: str | None = None,
    config: ConversationConfig, attachments: list[AttachmentIn] | None = None,
    set_status: CaseStatus | None = None, now: datetime | None = None,
) -> Message:
    """An agent's answer on the exchange of the case they hold (else its latest); the first one sets the
    first-reply time. Two live chats can share a case: the answer belongs to the one being answered."""
    now = now or clock.now()
    case = access_case(session, case_id)
    if case.status is CaseStatus.closed:
        raise Conflict("case_closed")
    body_html = sanitise_html(body_html) if body_html else None
    body_text = body_text or (html_to_text(body_html) if body_html else "")
    check_content(body_text=body_text, body_html=body_html, attachments=attachments or [], limits=config.limits)
    held = config.work.held_interactions(session, case_id=case.id, agent_id=author_user_id)
    interaction = session.scalar(
        select(Interaction).where(Interaction.case_id == case.id)
        .order_by(Interaction.id.in_(held).desc(), Interaction.arrived_at.desc()).limit(1)
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
    if attachments:
        store_attachments(session, message_id=message.id, created_at=now, attachments=attachments, config=config)
    if case.agent_id is None:
        case.agent_id = author_user_id
    target = set_status or (CaseStatus.open if case.status is CaseStatus.new else None)
    if target is not None and target is not case.status:
        _change_status(session, case, target, now=now, actor_id=author_user_id)
    case.updated_at = now
    queue_event(session, MessageSent(case_id=case.id, message_id=message.id, interaction_id=interaction.id), now)
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
    queue_event(session, CaseNoteAdded(case_id=case.id, message_id=note.id), now)
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
            # routing forgets the work of an ended interaction: it reacts to the event, in this transaction
            queue_event(session, InteractionEnded(interaction_id=interaction.id, case_id=case.id), now)
    if target is CaseStatus.closed:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
    queue_event(session, CaseStatusChanged(case_id=case.id, from_=previous.value, to=target.value), now)


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
    published = logged_event(kind)
    if published is not None:
        queue_event(session, published(interaction_id=interaction.id, case_id=interaction.case_id), at)
    return item


def do_escalate_case(session: Session, *, case_id: str, level: int, actor_id: str | None = None,
                     reason: str | None = None, now: datetime | None = None) -> Case:
    """Hand a case to a higher level (N1 → N2), keeping the case, its history and its customer."""
    now = now or clock.now()
    case = access_case(session, case_id)
    if level <= case.level:
        raise ValidationFailed("validation_error", summary=f"case is already at level {case.level}")
    if case.status not in OPEN_STATUSES:
        raise Conflict("invalid_transition", current=case.status.value, target="escalated")
    previous, case.level, case.agent_id, case.updated_at = case.level, level, None, now
    latest = session.scalar(
        select(Interaction).where(Interaction.case_id == case.id).order_by(Interaction.arrived_at.desc()).limit(1)
    )
    if latest is not None:
        _record_event(session, latest, "escalated", now, agent_id=actor_id,
                      data={"from_level": previous, "to_level": level, "reason": reason})
    queue_event(session, CaseEscalated(case_id=case.id, from_level=previous, to_level=level), now)
    return case


def check_motif_codes(session: Session, codes: list[str]) -> None:
    """Every code names a motif (a site's scope, a queue's motif…)."""
    known = set(session.scalars(select(Motif.code).where(Motif.code.in_(codes))))
    for code in codes:
        if code not in known:
            raise ValidationFailed("unknown_motif", value=code)


def do_set_motif(session: Session, *, case_id: str, motif_code: str, actor_id: str | None = None,
                 now: datetime | None = None) -> Case:
    """Name (or correct) what the customer wants; the SLA due time follows the new motif's delay."""
    now = now or clock.now()
    case = access_case(session, case_id)
    motif = session.scalar(select(Motif).where(Motif.code == motif_code, Motif.active.is_(True)))
    if motif is None:
        raise ValidationFailed("unknown_motif", value=motif_code)
    if case.status not in OPEN_STATUSES:
        raise Conflict("case_closed")
    previous = case.motif_id
    case.motif_id, case.updated_at = motif.id, now
    if motif.sla_hours:
        case.sla_due_at = case.created_at + timedelta(hours=motif.sla_hours)
    # routing re-labels the case's waiting work (it is routed by motif too: the partner scope)
    queue_event(session, CaseMotifChanged(case_id=case.id, from_=previous, to=motif.id, actor_id=actor_id), now)
    return case


def do_assign_case(session: Session, *, case_id: str, agent_id: str | None, actor_id: str | None = None,
                   now: datetime | None = None) -> Case:
    """Give a case to an agent (or take it back to nobody): it shows on their work list."""
    now = now or clock.now()
    case = access_case(session, case_id)
    if agent_id is not None:
        user = session.get(User, agent_id)
        if user is None or not user.active:
            raise NotFound("not_found", kind="user", id=agent_id)
        if user.role not in ROUTABLE_ROLES:
            raise ValidationFailed("routing_refused", reason=f"a {user.role.value} takes no cases")
        check_user_may_take(session, agent_id, case)
    if case.status not in OPEN_STATUSES:
        raise Conflict("case_closed")
    previous, case.agent_id, case.updated_at = case.agent_id, agent_id, now
    queue_event(session, CaseAssigned(case_id=case.id, from_=previous, to=agent_id, agent_id=agent_id,
                                            actor_id=actor_id), now)
    return case


def do_move_customer_history(session: Session, *, source_id: str, target_id: str) -> dict[str, int]:
    """Hand every case and interaction of one customer to another (a merge); returns what moved."""
    return {
        "cases": session.execute(
            update(Case).where(Case.customer_id == source_id).values(customer_id=target_id)
        ).rowcount,
        "interactions": session.execute(
            update(Interaction).where(Interaction.customer_id == source_id).values(customer_id=target_id)
        ).rowcount,
    }


@job_handler("case.sla_check")
def _sla_check(session: Session, payload: dict, now: datetime) -> None:
    """At the SLA due time, flag a still-open case so supervisors and routing see the breach."""
    case = session.get(Case, payload["case_id"])
    if case is None or case.status not in OPEN_STATUSES or case.sla_due_at is None:
        return
    if clock.ensure_utc(case.sla_due_at) <= now:
        queue_event(session, CaseSlaBreached(case_id=case.id, reference=case.reference), now)
