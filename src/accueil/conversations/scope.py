"""What a partner agent (an outsourced level 1) may see: one rule for the API and the console.

A partner agent sees a case when it is at or below their site's level and its motif is one their site
handles (``sites.motif_codes``; none set = every motif; a case without a motif yet is visible, it still
needs to be qualified). They see a customer only through such a case: never other customers' data.
Everyone else (agents, supervisors, admins of the company) sees everything.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session

from accueil.conversations.models import Case, Motif
from accueil.core.errors import PermissionDenied
from accueil.core.permissions import Principal
from accueil.identity.models import Role, Site, User


def partner_site(session: Session, caller: Principal) -> Site | None:
    """The partner agent's site, or None for a caller who is not a partner agent."""
    if caller.role is not Role.partner_agent:
        return None
    site = session.get(Site, caller.site_id) if caller.site_id else None
    if site is None:  # a partner agent without a site sees nothing
        raise PermissionDenied("case_out_of_scope")
    return site


def visible_cases(session: Session, caller: Principal) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` selecting what the caller may see."""
    site = partner_site(session, caller)
    if site is None:
        return true()
    clause = Case.level <= site.max_level
    if site.motif_codes is not None:
        allowed = select(Motif.id).where(Motif.code.in_(site.motif_codes))
        clause = clause & or_(Case.motif_id.is_(None), Case.motif_id.in_(allowed))
    return clause


def case_in_scope(session: Session, caller: Principal, case: Case) -> bool:
    site = partner_site(session, caller)
    if site is None:
        return True
    if case.level > site.max_level:
        return False
    if site.motif_codes is None or case.motif_id is None:
        return True
    motif = session.get(Motif, case.motif_id)
    return motif is not None and motif.code in site.motif_codes


def check_case_scope(session: Session, caller: Principal, case: Case) -> None:
    if not case_in_scope(session, caller, case):
        raise PermissionDenied("case_out_of_scope")


def check_customer_scope(session: Session, caller: Principal, customer_id: str) -> None:
    """A partner agent reaches a customer only through a case they may see."""
    if partner_site(session, caller) is None:
        return
    reachable = session.scalar(select(exists().where(Case.customer_id == customer_id,
                                                     visible_cases(session, caller))))
    if not reachable:
        raise PermissionDenied("customer_out_of_scope")


def queue_in_scope(session: Session, caller: Principal, level: int, motif_id: str | None) -> bool:
    """A partner agent sees the queues of its levels and of the motifs its site handles (or of no motif)."""
    site = partner_site(session, caller)
    if site is None:
        return True
    if level > site.max_level:
        return False
    if site.motif_codes is None or motif_id is None:
        return True
    motif = session.get(Motif, motif_id)
    return motif is not None and motif.code in site.motif_codes


class Viewer(NamedTuple):
    """Enough of a caller for these rules: a user who is not the one asking (a transfer or assignment target)."""

    role: Role
    site_id: str | None


def check_user_may_take(session: Session, user_id: str, case: Case) -> None:
    """Work on ``case`` may be handed to this user only if they may see it (a partner, within its scope)."""

    user = session.get(User, user_id)
    if user is None or not user.active:
        raise PermissionDenied("forbidden")
    if not case_in_scope(session, Viewer(user.role, user.site_id), case):  # type: ignore[arg-type]
        raise PermissionDenied("case_out_of_scope")
