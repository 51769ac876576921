"""Read models for the console: who is calling (the incoming-call pop-up) and the state of calls held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accueil.channels.voice.models import VoiceCall
from accueil.conversations.models import Case, ChannelKind, Interaction, Motif
from accueil.conversations.scope import visible_cases
from accueil.core.permissions import Principal
from accueil.customers.models import Customer, Identity, IdentityKind

RECENT = 3


@dataclass(frozen=True)
class RecentContact:
    at: datetime
    channel: str
    reference: str
    motif_fr: str | None
    motif_en: str | None


@dataclass(frozen=True)
class CallerCard:
    """What the agent sees before answering: the number, whether the customer is known, their last contacts."""

    number: str | None
    known: bool
    customer_since: datetime | None
    contacts: int
    recent: tuple[RecentContact, ...]
    ivr_path: tuple[str, ...]


def caller_cards(session: Session, interaction_ids: list[str], viewer: Principal) -> dict[str, CallerCard]:
    """Only contacts of cases the viewer may see count and show (a partner agent: its site's scope)."""
    spoken = (ChannelKind.voice, ChannelKind.callback)
    rows = session.execute(select(Interaction.id, Interaction.customer_id, Interaction.channel)
                           .where(Interaction.id.in_(interaction_ids), Interaction.channel.in_(spoken))).all()
    cards: dict[str, CallerCard] = {}
    for interaction_id, customer_id, _channel in rows:
        call = session.scalar(select(VoiceCall).where(VoiceCall.interaction_id == interaction_id))
        phones = [i.value for i in session.scalars(select(Identity).where(
            Identity.customer_id == customer_id, Identity.kind == IdentityKind.phone))]
        number = (call.caller if call and call.caller else None) or (phones[0] if phones else None)
        customer = session.get(Customer, customer_id)
        visible = visible_cases(session, viewer)
        contacts = session.scalar(select(func.count()).select_from(Interaction).join(Case, Case.id == Interaction.case_id)
                                  .where(Interaction.customer_id == customer_id, Interaction.id != interaction_id,
                                         visible)) or 0
        recent = session.execute(
            select(Interaction.arrived_at, Interaction.channel, Case.reference, Motif.label_fr, Motif.label_en)
            .join(Case, Case.id == Interaction.case_id).outerjoin(Motif, Motif.id == Case.motif_id)
            .where(Interaction.customer_id == customer_id, Interaction.id != interaction_id, visible)
            .order_by(Interaction.arrived_at.desc()).limit(RECENT)).all()
        cards[interaction_id] = CallerCard(
            number=number, known=bool(phones) and contacts > 0, customer_since=customer.created_at if customer else None,
            contacts=contacts, ivr_path=tuple(call.ivr_path) if call else (),
            recent=tuple(RecentContact(at=r[0], channel=r[1].value, reference=r[2], motif_fr=r[3], motif_en=r[4])
                         for r in recent))
    return cards


def calls_by_interaction(session: Session, interaction_ids: list[str]) -> dict[str, VoiceCall]:
    if not interaction_ids:
        return {}
    return {c.interaction_id: c for c in session.scalars(select(VoiceCall).where(
        VoiceCall.interaction_id.in_(interaction_ids)))}
