"""REST endpoints for customers, identities, merges and the cross-channel timeline."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from accueil.api.deps import needs, run_idempotent, runtime, session_dep
from accueil.conversations import queries
from accueil.conversations.api import page_body, parse_channel, parse_identities
from accueil.conversations.models import Case
from accueil.conversations.schemas import InteractionOut, TimelineItem
from accueil.conversations.scope import check_customer_scope, partner_site, visible_cases
from accueil.core.errors import ValidationFailed
from accueil.core.pagination import paginate
from accueil.core.permissions import Principal
from accueil.customers import service
from accueil.customers.models import Customer, Identity
from accueil.customers.schemas import CustomerIn, CustomerOut, IdentityIn, IdentityOut, MergeIn, MergeOut
from accueil.flows import merge
from accueil.runtime import Runtime

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("", summary="Find customers by identity or name, newest first")
def list_customers(
    session: Session = Depends(session_dep), caller: Principal = Depends(needs("customers:read")),
    rt: Runtime = Depends(runtime), identity: str | None = Query(None, description="kind:value"),
    q: str | None = Query(None, max_length=100, description="part of the name"),
    cursor: str | None = None, limit: int = Query(50, ge=1, le=200),
) -> dict:
    stmt = select(Customer).options(selectinload(Customer.identities)).where(Customer.merged_into_id.is_(None))
    if identity:
        kind, sep, value = identity.partition(":")
        if not sep:
            raise ValidationFailed("invalid_identity", value=identity, kind="kind:value")
        ref = service.normalise_identity(kind, value, phone_region=rt.conversation_config.phone_region)
        stmt = stmt.where(Customer.id.in_(select(Identity.customer_id).where(
            Identity.kind == ref.kind, Identity.value == ref.value)))
    if q:
        stmt = stmt.where(func.lower(Customer.display_name).contains(q.lower()))
    if partner_site(session, caller) is not None:  # only customers reached through a case they may see
        stmt = stmt.where(Customer.id.in_(select(Case.customer_id).where(visible_cases(session, caller))))
    page = paginate(session, stmt, Customer.id, cursor=cursor, limit=limit)
    return page_body(page, [CustomerOut.model_validate(c).model_dump(mode="json") for c in page.items])


@router.post("", response_model=CustomerOut, status_code=201)
async def create_customer(payload: CustomerIn, request: Request, rt: Runtime = Depends(runtime),
                          caller: Principal = Depends(needs("customers:write"))) -> JSONResponse:
    refs = parse_identities(payload.identities, rt.conversation_config.phone_region)

    def work(session: Session) -> CustomerOut:
        customer = service.do_create_customer(
            session, identities=refs, display_name=payload.display_name, language=payload.preferred_language,
            consent_email=payload.consent_email, consent_sms=payload.consent_sms)
        session.flush()
        session.refresh(customer)
        return CustomerOut.model_validate(customer)

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: str, session: Session = Depends(session_dep),
                 caller: Principal = Depends(needs("customers:read"))) -> Customer:
    customer = service.access_customer(session, customer_id)
    check_customer_scope(session, caller, customer.id)
    return customer


@router.post("/{customer_id}/identities", response_model=IdentityOut, status_code=201)
async def add_identity(customer_id: str, payload: IdentityIn, request: Request, rt: Runtime = Depends(runtime),
                       caller: Principal = Depends(needs("customers:write"))) -> JSONResponse:
    ref = parse_identities([payload], rt.conversation_config.phone_region)[0]

    def work(session: Session) -> IdentityOut:
        return IdentityOut.model_validate(service.do_add_identity(session, customer_id=customer_id, ref=ref))

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


@router.post("/{customer_id}/merge", response_model=MergeOut, status_code=201,
             summary="Merge this customer into another one (identities and history move; a trace is kept)")
async def merge_customer(customer_id: str, payload: MergeIn, request: Request, rt: Runtime = Depends(runtime),
                         caller: Principal = Depends(needs("customers:write"))) -> JSONResponse:
    def work(session: Session) -> MergeOut:
        return MergeOut.model_validate(merge.merge_customers(
            session, source_id=customer_id, target_id=payload.into, merged_by_id=caller.user_id,
            reason=payload.reason))

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


@router.get("/{customer_id}/timeline", summary="Every interaction of the customer on every channel")
def get_timeline(customer_id: str, session: Session = Depends(session_dep),
                 caller: Principal = Depends(needs("customers:read")), channel: str | None = None,
                 cursor: str | None = None, limit: int = Query(50, ge=1, le=200)) -> dict:
    check_customer_scope(session, caller, service.access_customer(session, customer_id).id)
    scope = visible_cases(session, caller) if partner_site(session, caller) is not None else None
    page = queries.customer_timeline(session, customer_id=customer_id, cursor=cursor, limit=limit,
                                     channel=parse_channel(channel) if channel else None, case_scope=scope)
    items = []
    for interaction in page.items:
        first = next((m for m in interaction.messages if not m.internal), None)
        items.append(TimelineItem(
            interaction=InteractionOut.model_validate(interaction), case_reference=interaction.case.reference,
            case_status=interaction.case.status,
            motif_code=interaction.case.motif.code if interaction.case.motif else None,
            preview=(first.body_text[:200] if first else ""),
        ).model_dump(mode="json"))
    return page_body(page, items)
