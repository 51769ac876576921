"""IVR definitions: the one write path (admin page, API and CLI imports all come here) and the lookup a
call makes: which flow answers the number it called."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.voice.ivr import Flow, flow_document, flow_from_document
from accueil.channels.voice.models import IvrFlow
from accueil.conversations.models import Motif
from accueil.core import clock
from accueil.core.errors import NotFound, ValidationFailed
from accueil.routing.models import Queue


def check_flow_targets(session: Session, flow: Flow) -> None:
    """Every queue and motif a key leads to exists: a typo is refused when saved, not found by a caller."""

    queues = {t.queue for node in flow.nodes.values() for t in [*node.options.values(), node.default] if t and t.queue}
    motifs = {t.motif for node in flow.nodes.values() for t in [*node.options.values(), node.default] if t and t.motif}
    known_queues = set(session.scalars(select(Queue.code).where(Queue.code.in_(queues), Queue.active.is_(True)))) \
        if queues else set()
    known_motifs = set(session.scalars(select(Motif.code).where(Motif.code.in_(motifs)))) if motifs else set()
    missing = sorted(queues - known_queues)
    if missing:
        raise ValidationFailed("validation_error", summary=f"unknown or inactive queue(s) in the IVR: {', '.join(missing)}")
    missing = sorted(motifs - known_motifs)
    if missing:
        raise ValidationFailed("validation_error", summary=f"unknown motif(s) in the IVR: {', '.join(missing)}")


def do_save_flow(session: Session, *, flow: Flow, user_id: str | None = None, is_default: bool | None = None,
                 active: bool | None = None, now: datetime | None = None) -> IvrFlow:
    """Create or replace the flow with this code (an import of the same document changes nothing else)."""
    now = now or clock.now()
    check_flow_targets(session, flow)
    claimed = {n for row in session.scalars(select(IvrFlow).where(IvrFlow.code != flow.code))
               for n in row.definition.get("numbers", [])}
    taken = sorted(claimed & set(flow.numbers))
    if taken:
        raise ValidationFailed("validation_error", summary=f"number(s) already answered by another flow: "
                                                           f"{', '.join(taken)}")
    row = session.scalar(select(IvrFlow).where(IvrFlow.code == flow.code))
    if row is None:
        row = IvrFlow(code=flow.code, name=flow.name, definition=flow_document(flow), updated_at=now,
                      updated_by=user_id, is_default=False, active=True)
        session.add(row)
        if session.scalar(select(IvrFlow.id).where(IvrFlow.is_default.is_(True))) is None:
            row.is_default = True  # the first flow answers every number until another is made the default
    else:
        row.name, row.definition, row.updated_at, row.updated_by = flow.name, flow_document(flow), now, user_id
    if active is not None:
        row.active = active
    if is_default:
        for other in session.scalars(select(IvrFlow).where(IvrFlow.is_default.is_(True), IvrFlow.code != flow.code)):
            other.is_default = False
        row.is_default = True
    session.flush()
    return row


def do_delete_flow(session: Session, *, code: str) -> None:
    row = access_flow(session, code)
    session.delete(row)
    session.flush()


def access_flow(session: Session, code: str) -> IvrFlow:
    row = session.scalar(select(IvrFlow).where(IvrFlow.code == code))
    if row is None:
        raise NotFound("not_found", kind="ivr_flow", id=code)
    return row


def flow_of(row: IvrFlow) -> Flow:
    return flow_from_document(row.definition)


def flow_for_number(session: Session, called: str | None) -> Flow | None:
    """The active flow that claims the called number, else the default one, else None (no IVR: queue direct)."""
    rows = session.scalars(select(IvrFlow).where(IvrFlow.active.is_(True))).all()
    for row in rows:
        if called and called in row.definition.get("numbers", []):
            return flow_of(row)
    default = next((row for row in rows if row.is_default), None)
    return flow_of(default) if default is not None else None
