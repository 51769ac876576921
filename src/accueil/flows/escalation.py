"""Escalation N1 → N2 of work in progress: routing moves the item, conversations raises the case's level."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from accueil.conversations.service import do_escalate_case
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.service import PassResult, do_escalate_item


def escalate(session: Session, *, rules: RoutingConfigCache, item_id: str, to_queue_id: str,
             actor_id: str | None = None, reason: str | None = None, now: datetime | None = None) -> PassResult:
    """The item moves to a higher-level queue and its case goes up to that level, history kept."""
    moved = do_escalate_item(session, rules=rules, item_id=item_id, to_queue_id=to_queue_id, now=now)
    do_escalate_case(session, case_id=moved.case_id, level=moved.level, actor_id=actor_id, reason=reason,
                     now=moved.at)
    return moved.result
