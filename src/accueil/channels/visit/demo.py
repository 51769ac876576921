"""Booking rules for the demo company's agencies, so the portal can book in ``accueil demo`` at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.visit.agencies import do_save_agency_settings
from accueil.channels.visit.models import AgencySettings
from accueil.identity.models import Site, SiteKind

WEEKDAYS = {day: [["09:30", "12:30"], ["14:00", "19:00"]] for day in ("tue", "wed", "thu", "fri")}
DEMO_HOURS = {
    "paris-opera": {**WEEKDAYS, "mon": [["14:00", "19:00"]], "sat": [["10:00", "18:00"]]},
    "lyon-bellecour": {**WEEKDAYS, "sat": [["09:30", "12:30"]]},
}
DEMO_MOTIFS = ["aide_achat", "retour_produit", "reclamation", "livraison_colis_abime"]


def do_configure_demo_agencies(session: Session) -> int:
    """Hours, 30-minute slots, two or three counters and a few motifs for every agency not set up yet."""
    configured = 0
    for site in session.scalars(select(Site).where(Site.kind == SiteKind.agency).order_by(Site.code)):
        if session.get(AgencySettings, site.id) is not None:
            continue
        do_save_agency_settings(session, site_id=site.id, opening_hours=DEMO_HOURS.get(site.code, WEEKDAYS),
                                slot_minutes=30, counters=3 if site.code == "paris-opera" else 2,
                                motif_codes=DEMO_MOTIFS)
        configured += 1
    return configured
