"""Reference data of conversations that administrators edit: canned responses and motifs.

Canned responses are filled in for one case (pure ``fill_variables``). Variables are ``{customer_name}``,
``{agent_name}``, ``{case_reference}``, ``{motif}`` and ``{today}``; an unknown ``{name}`` is left as
written, so a typo shows in the text rather than failing the agent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.conversations.models import CannedResponse, Motif
from accueil.conversations.reply_targets import check_motif_targets
from accueil.core import clock
from accueil.core.calendar import CalendarError
from accueil.core.errors import NotFound, ValidationFailed

VARIABLES = ("customer_name", "agent_name", "case_reference", "motif", "today")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_CODE = re.compile(r"^[a-z0-9_]{2,60}$")
MAX_BODY = 10_000


def fill_variables(body: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def check_canned(*, code: str, title_fr: str, title_en: str, body_fr: str, body_en: str) -> None:
    if not _CODE.match(code):
        raise ValidationFailed("validation_error", summary="code: 2-60 lowercase letters, digits or _")
    for name, text, limit in (("title_fr", title_fr, 200), ("title_en", title_en, 200),
                              ("body_fr", body_fr, MAX_BODY), ("body_en", body_en, MAX_BODY)):
        if not text.strip() or len(text) > limit:
            raise ValidationFailed("validation_error", summary=f"{name}: 1 to {limit} characters")
    unknown = {m for m in _PLACEHOLDER.findall(body_fr + body_en) if m not in VARIABLES}
    if unknown:
        raise ValidationFailed("validation_error",
                               summary=f"unknown variable {sorted(unknown)[0]!r}; known: {', '.join(VARIABLES)}")


def do_save_canned_response(session: Session, *, code: str, title_fr: str, title_en: str, body_fr: str,
                            body_en: str, motif_code: str | None = None, active: bool = True,
                            now: datetime | None = None) -> CannedResponse:
    """Create or update (by code)."""
    check_canned(code=code, title_fr=title_fr, title_en=title_en, body_fr=body_fr, body_en=body_en)
    motif_id = None
    if motif_code:
        motif_id = session.scalar(select(Motif.id).where(Motif.code == motif_code))
        if motif_id is None:
            raise ValidationFailed("unknown_motif", value=motif_code)
    row = session.scalar(select(CannedResponse).where(CannedResponse.code == code))
    if row is None:
        row = CannedResponse(code=code)
        session.add(row)
    row.title_fr, row.title_en, row.body_fr, row.body_en = title_fr, title_en, body_fr, body_en
    row.motif_id, row.active, row.updated_at = motif_id, active, now or clock.now()
    session.flush()
    return row


def canned_responses(session: Session, *, motif_id: str | None = None) -> list[CannedResponse]:
    """Active responses, those of the case's motif first."""
    rows = session.scalars(select(CannedResponse).where(CannedResponse.active.is_(True))
                           .order_by(CannedResponse.code)).all()
    return sorted(rows, key=lambda r: (motif_id is None or r.motif_id != motif_id, r.code))


def access_canned_response(session: Session, code: str) -> CannedResponse:
    row = session.scalar(select(CannedResponse).where(CannedResponse.code == code, CannedResponse.active.is_(True)))
    if row is None:
        raise NotFound("not_found", kind="canned_response", id=code)
    return row


def do_save_motif(session: Session, *, code: str, label_fr: str, label_en: str, parent_code: str | None = None,
                  sla_hours: int | None = None, active: bool = True,
                  reply_targets: Mapping[str, str] | None = None) -> Motif:
    """Create the motif ``code`` or update it (a family has no parent; a motif belongs to one family).

    ``reply_targets``: first-reply delays of written channels that differ from the defaults
    (``{"letter": "10d"}``, see ``reply_targets``); None or empty: the defaults."""
    if not _CODE.match(code):
        raise ValidationFailed("validation_error", summary="code: 2-60 lowercase letters, digits or _")
    if not label_fr.strip() or not label_en.strip():
        raise ValidationFailed("validation_error", summary="a motif needs a French and an English label")
    if sla_hours is not None and not 1 <= sla_hours <= 24 * 90:
        raise ValidationFailed("validation_error", summary="SLA: 1 hour to 90 days")
    try:
        targets = check_motif_targets(reply_targets)
    except CalendarError as exc:
        raise ValidationFailed("validation_error", summary=f"reply targets: {exc}") from exc
    parent = None
    if parent_code:
        parent = session.scalar(select(Motif).where(Motif.code == parent_code))
        if parent is None or parent.code == code:
            raise ValidationFailed("unknown_motif", value=parent_code)
    motif = session.scalar(select(Motif).where(Motif.code == code))
    if motif is None:
        motif = Motif(code=code)
        session.add(motif)
    motif.label_fr, motif.label_en, motif.sla_hours, motif.active = label_fr.strip(), label_en.strip(), sla_hours, active
    motif.parent_id = parent.id if parent else None
    motif.reply_targets = targets
    session.flush()
    return motif
