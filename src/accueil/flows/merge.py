"""Merging two customers proven to be one person: identities (customers) and history (conversations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from accueil.conversations.service import do_move_customer_history
from accueil.customers.models import CustomerMerge
from accueil.customers.service import check_merge, do_merge_customers


def merge_customers(session: Session, *, source_id: str, target_id: str, merged_by_id: str | None = None,
                    reason: str | None = None, now: datetime | None = None) -> CustomerMerge:
    """Move everything of ``source`` to ``target`` in the caller's transaction; the trace counts what moved."""
    source, target = check_merge(session, source_id=source_id, target_id=target_id)
    history = do_move_customer_history(session, source_id=source.id, target_id=target.id)
    return do_merge_customers(session, source_id=source.id, target_id=target.id, merged_by_id=merged_by_id,
                              reason=reason, moved_history=history, now=now)
