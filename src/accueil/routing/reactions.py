"""How routing follows the domains below it, inside their transactions (``db.session.reacts_to``).

An interaction that ends (hung up, or ended by its case's resolution) leaves the queue or frees its agent; a case whose
motif changes re-labels its waiting work (partner sites are scoped by motif); a change of staff, site,
team or skill makes every process recompile its routing rules.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from accueil.conversations.events import CaseMotifChanged, InteractionEnded
from accueil.core.events import Event
from accueil.db.session import reacts_to
from accueil.identity.events import StaffingChanged
from accueil.routing.config_loader import bump_config_version
from accueil.routing.models import RoutingItem
from accueil.routing.service import do_forget_item


@reacts_to(InteractionEnded)
def forget_ended_work(session: Session, event: Event) -> None:
    do_forget_item(session, interaction_id=event.data["interaction_id"], now=event.at)


@reacts_to(CaseMotifChanged)
def relabel_waiting_work(session: Session, event: Event) -> None:
    session.execute(update(RoutingItem).where(RoutingItem.case_id == event.data["case_id"]).values(
        motif_id=event.data["to"], version=RoutingItem.version + 1))


@reacts_to(StaffingChanged)
def recompile_rules(session: Session, _event: Event) -> None:
    bump_config_version(session)
