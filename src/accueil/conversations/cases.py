"""Cases and interactions by id, and reopening: what receiving a contact and every other service share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from accueil.conversations.events import CaseReopened
from accueil.conversations.models import Case, CaseStatus, Interaction
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound
from accueil.db.session import queue_event


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
    queue_event(session, CaseReopened(case_id=case.id, from_=previous.value, reason=reason), now)


def do_reopen_case(session: Session, *, case_id: str, reason: str = "agent", now: datetime | None = None) -> Case:
    case = access_case(session, case_id)
    _reopen(session, case, now=now or clock.now(), reason=reason)
    return case
