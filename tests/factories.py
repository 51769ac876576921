"""The fixed cast of the test suite and small builders for inbound contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accueil.channels.base import ChannelAdapter
from accueil.conversations.models import ChannelKind, Motif
from accueil.conversations.service import InboundContact
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, do_resolve_identity
from accueil.identity.models import Role, SiteKind
from accueil.identity.service import do_create_api_token, do_create_site, do_create_team, do_create_user
from accueil.routing.models import Queue, TargetKind
from accueil.runtime import Runtime

DAVID_EMAIL = "david.martin@example.fr"
DAVID_PHONE = "+33612345678"


@dataclass
class Cast:
    users: dict[str, str] = field(default_factory=dict)  # username -> user id
    tokens: dict[str, str] = field(default_factory=dict)  # username -> bearer secret
    sites: dict[str, str] = field(default_factory=dict)
    motifs: dict[str, str] = field(default_factory=dict)
    david_id: str = ""

    def auth(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}", **extra}


def make_cast(runtime: Runtime) -> Cast:
    cast = Cast()
    with runtime.factory() as session, session.begin():
        hq = do_create_site(session, code="siege", name="Siège — Lille", kind=SiteKind.in_house)
        partner = do_create_site(session, code="partenaire", name="Partenaire N1", kind=SiteKind.partner,
                                 max_level=1)
        n2 = do_create_team(session, site=hq, name="Experts N2", level=2)
        n1 = do_create_team(session, site=partner, name="Accueil N1", level=1)
        people = [
            ("alice", "Alice Agent", Role.agent, hq, n2),
            ("bob", "Bob Superviseur", Role.supervisor, hq, None),
            ("chloe", "Chloé Partenaire", Role.partner_agent, partner, n1),
            ("admin", "Admin", Role.admin, hq, None),
        ]
        for username, name, role, site, team in people:
            user = do_create_user(session, username=username, display_name=name, role=role, password=None,
                                  site=site, team=team)
            cast.users[username] = user.id
            cast.tokens[username] = do_create_api_token(session, user=user, name="tests").secret
        cast.sites = {"siege": hq.id, "partenaire": partner.id}
        family = Motif(code="commande", label_fr="Commande", label_en="Order")
        session.add(family)
        session.flush()
        for code, fr, en, sla in [
            ("suivi_commande", "Suivi de commande", "Order tracking", 24),
            ("remboursement", "Remboursement", "Refund", 48),
            ("reclamation", "Réclamation", "Complaint", 72),
        ]:
            motif = Motif(code=code, label_fr=fr, label_en=en, parent_id=family.id, sla_hours=sla)
            session.add(motif)
            session.flush()
            cast.motifs[code] = motif.id
        session.add_all([
            Queue(code="tel_n1", name_fr="Téléphone N1", name_en="Phone L1", channel="voice", level=1,
                  target_kind=TargetKind.service_level, target_percent=80, target_seconds=20),
            Queue(code="email_n2", name_fr="E-mail N2", name_en="Email L2", channel="email", level=2,
                  target_kind=TargetKind.reply_delay, target_percent=90, target_seconds=3600),
        ])
        david, _ = do_resolve_identity(
            session, identities=[IdentityRef(IdentityKind.email, DAVID_EMAIL), IdentityRef(IdentityKind.phone, DAVID_PHONE)],
            display_name="David Martin",
        )
        cast.david_id = david.id
    return cast


def inbound(channel: str = "email", *, email: str = DAVID_EMAIL, **overrides: Any) -> dict[str, Any]:
    """An API payload for POST /api/v1/inbound."""
    body: dict[str, Any] = {
        "channel": channel,
        "identities": [{"kind": "email", "value": email}],
        "motif": "suivi_commande",
        "subject": "Où est ma commande ?",
        "body_text": "Bonjour, ma commande 12345 n'est pas arrivée.",
    }
    body.update(overrides)
    return body


def contact(channel: ChannelKind = ChannelKind.email, *, email: str = DAVID_EMAIL, **overrides: Any) -> InboundContact:
    """A service-level InboundContact."""
    values: dict[str, Any] = {
        "channel": channel,
        "identities": [IdentityRef(IdentityKind.email, email)],
        "motif_code": "suivi_commande",
        "body_text": "Bonjour, ma commande n'est pas arrivée.",
    }
    values.update(overrides)
    return InboundContact(**values)


def use_adapters(runtime: Runtime, *adapters: ChannelAdapter):
    """The runtime sends through these adapters (one per kind) until the returned function restores it."""
    restores = [runtime.channels.swap(adapter.kind, adapter) for adapter in adapters]
    return lambda: [restore() for restore in restores]
