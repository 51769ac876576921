"""Read side of conversations: case lists with filters, case detail and the customer timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session, selectinload

from accueil.conversations.models import Case, CaseStatus, ChannelKind, Interaction, Message, Motif
from accueil.core.pagination import Page, paginate
from accueil.customers.models import Identity
from accueil.customers.service import IdentityRef, access_customer


@dataclass(frozen=True)
class CaseFilters:
    customer_id: str | None = None
    identity: IdentityRef | None = None
    status: list[CaseStatus] | None = None
    motif_code: str | None = None
    channel: ChannelKind | None = None
    level: int | None = None
    agent_id: str | None = None
    created_since: datetime | None = None
    created_until: datetime | None = None


def list_cases(session: Session, *, filters: CaseFilters, cursor: str | None, limit: int,
               scope: ColumnElement[bool] | None = None) -> Page[Case]:
    """``scope``: what the caller may see (``conversations.scope.visible_cases``)."""
    stmt = select(Case).options(selectinload(Case.motif))
    if scope is not None:
        stmt = stmt.where(scope)
    if filters.customer_id:
        stmt = stmt.where(Case.customer_id == access_customer(session, filters.customer_id).id)
    if filters.identity:
        stmt = stmt.where(
            Case.customer_id.in_(
                select(Identity.customer_id).where(
                    Identity.kind == filters.identity.kind, Identity.value == filters.identity.value
                )
            )
        )
    if filters.status:
        stmt = stmt.where(Case.status.in_(filters.status))
    if filters.motif_code:
        stmt = stmt.join(Motif, Motif.id == Case.motif_id).where(Motif.code == filters.motif_code)
    if filters.channel:
        stmt = stmt.where(
            exists().where(Interaction.case_id == Case.id, Interaction.channel == filters.channel)
        )
    if filters.level is not None:
        stmt = stmt.where(Case.level == filters.level)
    if filters.agent_id:
        stmt = stmt.where(Case.agent_id == filters.agent_id)
    if filters.created_since:
        stmt = stmt.where(Case.created_at >= filters.created_since)
    if filters.created_until:
        stmt = stmt.where(Case.created_at < filters.created_until)
    return paginate(session, stmt, Case.id, cursor=cursor, limit=limit)


def case_messages(session: Session, case_id: str, *, include_internal: bool) -> list[Message]:
    stmt = select(Message).options(selectinload(Message.attachments)).where(Message.case_id == case_id)
    if not include_internal:
        stmt = stmt.where(Message.internal.is_(False))
    return list(session.scalars(stmt.order_by(Message.created_at, Message.id)))


def customer_timeline(
    session: Session, *, customer_id: str, cursor: str | None, limit: int, channel: ChannelKind | None = None,
    case_scope: ColumnElement[bool] | None = None,
) -> Page[Interaction]:
    """Every interaction of the customer on every channel, newest first, with its case (only the cases
    ``case_scope`` selects, for a caller who may not see them all)."""
    customer = access_customer(session, customer_id)
    stmt = (
        select(Interaction)
        .options(selectinload(Interaction.case).selectinload(Case.motif), selectinload(Interaction.messages))
        .where(Interaction.customer_id == customer.id)
    )
    if channel is not None:
        stmt = stmt.where(Interaction.channel == channel)
    if case_scope is not None:
        stmt = stmt.where(Interaction.case_id.in_(select(Case.id).where(case_scope)))
    return paginate(session, stmt, Interaction.id, cursor=cursor, limit=limit)
