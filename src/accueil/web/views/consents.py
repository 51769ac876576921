"""``/supervisor/consents``: the consumers' express prior consents to prospecting calls outside the legal
hours (art. D. 223-9 al. 2), each with its proof, and their withdrawal. The dialer reads them at every dial;
the compliance report shows, for each call, whether one was in force. Thin: parse, check, call, render."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from accueil.channels.outbound import service
from accueil.core import clock
from accueil.core.errors import AccueilError, ValidationFailed
from accueil.core.i18n import error_message
from accueil.customers.models import Customer, IdentityKind
from accueil.customers.service import normalise_identity
from accueil.web.render import redirect, render
from accueil.web.session import WebUser, check_csrf
from accueil.web.views.agent import _read, _write
from accueil.web.views.supervisor import supervisor_user

router = APIRouter(include_in_schema=False)
PAGE = "supervisor/consents.html"


def parse_given_at(raw: str, timezone: str) -> datetime:
    """A ``datetime-local`` value (the supervisor's local time) → UTC."""
    try:
        local = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationFailed("consent_date_invalid") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(timezone))
    return clock.ensure_utc(local)


def do_record_from_form(session: Session, *, phone: str, customer_number: str, given_at: datetime, proof: str,
                        user_id: str, phone_region: str) -> None:
    ref = normalise_identity(IdentityKind.phone, phone, phone_region=phone_region) if phone.strip() else None
    customer_id = service.customer_by_number(session, customer_number) if customer_number.strip() else None
    if customer_number.strip() and customer_id is None:
        raise ValidationFailed("unknown_customer_number", value=customer_number.strip())
    service.do_record_consent(session, source=proof, given_at=given_at, now=clock.now(), customer_id=customer_id,
                              phone=ref, recorded_by_id=user_id)


def _listing(session: Session) -> list[tuple]:
    """The latest consents, each with the name of the customer it belongs to (if any)."""
    rows = []
    for consent in service.consents(session):
        customer = session.get(Customer, consent.customer_id) if consent.customer_id else None
        rows.append((consent, customer.display_name if customer else None))
    return rows


async def _page(request: Request, user: WebUser, *, error: str | None = None, values: dict | None = None,
                status_code: int = 200) -> Response:
    found = await _read(request, _listing)
    return render(request, PAGE, {"consents": found, "error": error, "values": values or {}}, user=user,
                  status_code=status_code)


@router.get("/supervisor/consents")
async def consent_list(request: Request, user: WebUser = Depends(supervisor_user)) -> Response:
    return await _page(request, user)


@router.post("/supervisor/consents")
async def record_consent(request: Request, phone: str = Form(""), customer_number: str = Form(""),
                         given_at: str = Form(""), proof: str = Form(""),
                         user: WebUser = Depends(supervisor_user)) -> Response:
    await check_csrf(request, user)
    settings = request.app.state.runtime.settings
    try:
        when = parse_given_at(given_at, settings.timezone)
        await _write(request, lambda s: do_record_from_form(
            s, phone=phone[:40], customer_number=customer_number[:40], given_at=when, proof=proof[:500],
            user_id=user.user_id, phone_region=settings.default_phone_region))
    except AccueilError as exc:
        values = {"phone": phone[:40], "customer_number": customer_number[:40], "given_at": given_at[:20],
                  "proof": proof[:500]}
        return await _page(request, user, error=error_message(exc.code, user.language, exc.details), values=values,
                           status_code=exc.status_code)
    return redirect(request, "/supervisor/consents")


@router.post("/supervisor/consents/{consent_id}/withdraw")
async def withdraw_consent(request: Request, consent_id: str, user: WebUser = Depends(supervisor_user)) -> Response:
    await check_csrf(request, user)
    await _write(request, lambda s: service.do_withdraw_consent(s, consent_id=consent_id, now=clock.now()))
    return redirect(request, "/supervisor/consents")
