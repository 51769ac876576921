"""Saving a site: the site is identity's, the motifs a partner site handles are conversations'."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accueil.conversations.service import check_motif_codes
from accueil.identity.models import Site, SiteKind
from accueil.identity.service import do_save_site


def save_site(session: Session, *, code: str, name: str, kind: SiteKind, timezone: str = "Europe/Paris",
              address: str | None = None, max_level: int = 3, motif_codes: list[str] | None = None) -> Site:
    """Create or update the site ``code``; the motifs it is limited to must exist."""
    if motif_codes is not None:
        check_motif_codes(session, motif_codes)
    return do_save_site(session, code=code, name=name, kind=kind, timezone=timezone, address=address,
                        max_level=max_level, motif_codes=motif_codes)
