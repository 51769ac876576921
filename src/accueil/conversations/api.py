"""REST endpoints for inbound contacts, cases, interactions and messages (thin: parse, check, call)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.api.deps import needs, principal, run_idempotent, runtime, session_dep
from accueil.conversations import canned, queries, service
from accueil.conversations.content import AttachmentIn
from accueil.conversations.models import (
    Attachment,
    CaseStatus,
    ChannelKind,
    Interaction,
    InteractionEvent,
    Motif,
)
from accueil.conversations.schemas import (
    AttachmentUpload,
    CannedResponseIn,
    CannedResponseOut,
    CaseDetail,
    CaseOut,
    InboundIn,
    InboundOut,
    InteractionEventIn,
    InteractionEventOut,
    InteractionOut,
    MessageOut,
    MotifOut,
    NoteIn,
    ReopenIn,
    ReplyIn,
    ResolveIn,
    StatusIn,
)
from accueil.conversations.scope import check_case_scope, visible_cases
from accueil.core.errors import NotFound, ValidationFailed
from accueil.core.pagination import Page
from accueil.core.permissions import Principal
from accueil.customers.schemas import IdentityIn
from accueil.customers.service import IdentityRef, normalise_identity
from accueil.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["conversations"])


def parse_channel(value: str) -> ChannelKind:
    try:
        return ChannelKind(value)
    except ValueError:
        raise ValidationFailed("unknown_channel", value=value, allowed=[c.value for c in ChannelKind]) from None


def parse_identities(items: list[IdentityIn], region: str) -> list[IdentityRef]:
    return [normalise_identity(item.kind, item.value, phone_region=region) for item in items]


def parse_attachments(items: list[AttachmentUpload]) -> list[AttachmentIn]:
    parsed = []
    for item in items:
        try:
            data = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("invalid_attachment", filename=item.filename) from None
        parsed.append(AttachmentIn(item.filename, item.content_type, data))
    return parsed


def page_body(page: Page, items: list) -> dict:
    return {"items": items, "next_cursor": page.next_cursor}


# Documented like any route, but read by hand: every contact on every channel passes here, and
# FastAPI's generic body and dependency handling cost more than the rest of the request.
_INBOUND_BODY = InboundIn.model_json_schema(ref_template="#/components/schemas/{model}")
_INBOUND_BODY.pop("$defs", None)


@router.post("/inbound", response_model=InboundOut, status_code=201,
             summary="Receive an inbound contact on any channel (idempotent on provider_message_id)",
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": _INBOUND_BODY}}}},
             responses={200: {"model": InboundOut, "description": "A repeated delivery: the first result"}})
async def post_inbound(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    caller = await principal(request, rt)
    caller.require("contacts:write")
    try:
        payload = InboundIn.model_validate_json(await request.body())
    except PydanticValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    contact = service.InboundContact(
        channel=parse_channel(payload.channel),
        identities=parse_identities(payload.identities, rt.conversation_config.phone_region),
        provider_message_id=payload.provider_message_id, display_name=payload.display_name,
        language=payload.language, motif_code=payload.motif, queue_code=payload.queue,
        case_reference=payload.case_reference, interaction_id=payload.interaction_id, subject=payload.subject,
        body_text=payload.body_text, body_html=payload.body_html,
        attachments=parse_attachments(payload.attachments), occurred_at=payload.occurred_at,
        priority=payload.priority,
    )
    # Group commit: acknowledged only once the transaction holding this contact has committed.
    result = await rt.inbound_writer.receive(contact)
    body = orjson.dumps(InboundOut(**result.__dict__).model_dump(mode="json"))
    return Response(body, status_code=200 if result.duplicate else 201, media_type="application/json")


@router.get("/motifs", response_model=list[MotifOut])
def get_motifs(session: Session = Depends(session_dep), _: Principal = Depends(needs("cases:read"))) -> list:
    return list(session.scalars(select(Motif).where(Motif.active.is_(True)).order_by(Motif.code)))


@router.get("/cases", summary="List cases, newest first (cursor pagination)")
def get_cases(
    session: Session = Depends(session_dep), caller: Principal = Depends(needs("cases:read")),
    rt: Runtime = Depends(runtime),
    customer: str | None = None, identity: str | None = Query(None, description="kind:value, e.g. email:a@b.fr"),
    status: list[CaseStatus] | None = Query(None), motif: str | None = None, channel: str | None = None,
    level: int | None = None, agent: str | None = None, since: datetime | None = None, until: datetime | None = None,
    cursor: str | None = None, limit: int = Query(50, ge=1, le=200),
) -> dict:
    ref = None
    if identity:
        kind, sep, value = identity.partition(":")
        if not sep:
            raise ValidationFailed("invalid_identity", value=identity, kind="kind:value")
        ref = normalise_identity(kind, value, phone_region=rt.conversation_config.phone_region)
    filters = queries.CaseFilters(
        customer_id=customer, identity=ref, status=status, motif_code=motif,
        channel=parse_channel(channel) if channel else None, level=level, agent_id=agent,
        created_since=since, created_until=until,
    )
    page = queries.list_cases(session, filters=filters, cursor=cursor, limit=limit,
                              scope=visible_cases(session, caller))
    return page_body(page, [CaseOut.model_validate(c).model_dump(mode="json") for c in page.items])


@router.get("/cases/{case_id}", response_model=CaseDetail)
def get_case(case_id: str, session: Session = Depends(session_dep),
             caller: Principal = Depends(needs("cases:read"))) -> CaseDetail:
    case = service.access_case(session, case_id)
    check_case_scope(session, caller, case)
    return CaseDetail(
        case=CaseOut.model_validate(case),
        interactions=[InteractionOut.model_validate(i) for i in case.interactions],
        messages=[MessageOut.model_validate(m) for m in queries.case_messages(session, case.id, include_internal=True)],
    )


def _case_write(request: Request, rt: Runtime, caller: Principal, case_id: str, status: int, action) -> JSONResponse:
    async def run() -> JSONResponse:
        def work(session: Session):
            check_case_scope(session, caller, service.access_case(session, case_id))
            return action(session)

        code, body = await run_idempotent(request, rt, caller, status, work)
        return JSONResponse(body, status_code=code)

    return run()


@router.post("/cases/{case_id}/replies", response_model=MessageOut, status_code=201)
async def post_reply(case_id: str, payload: ReplyIn, request: Request, rt: Runtime = Depends(runtime),
                     caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    attachments = parse_attachments(payload.attachments)
    return await _case_write(request, rt, caller, case_id, 201, lambda s: MessageOut.model_validate(service.do_reply(
        s, case_id=case_id, author_user_id=caller.user_id, body_text=payload.body_text, body_html=payload.body_html,
        attachments=attachments, set_status=payload.set_status, config=rt.conversation_config)))


@router.post("/cases/{case_id}/notes", response_model=MessageOut, status_code=201)
async def post_note(case_id: str, payload: NoteIn, request: Request, rt: Runtime = Depends(runtime),
                    caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _case_write(request, rt, caller, case_id, 201, lambda s: MessageOut.model_validate(service.do_add_note(
        s, case_id=case_id, author_user_id=caller.user_id, body_text=payload.body_text,
        config=rt.conversation_config)))


@router.post("/cases/{case_id}/status", response_model=CaseOut)
async def post_status(case_id: str, payload: StatusIn, request: Request, rt: Runtime = Depends(runtime),
                      caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _case_write(request, rt, caller, case_id, 200, lambda s: CaseOut.model_validate(service.do_change_status(
        s, case_id=case_id, status=payload.status, actor_id=caller.user_id, resolution_code=payload.resolution_code)))


@router.post("/cases/{case_id}/resolve", response_model=CaseOut)
async def post_resolve(case_id: str, payload: ResolveIn, request: Request, rt: Runtime = Depends(runtime),
                       caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _case_write(request, rt, caller, case_id, 200, lambda s: CaseOut.model_validate(service.do_resolve_case(
        s, case_id=case_id, resolution_code=payload.resolution_code, actor_id=caller.user_id)))


@router.post("/cases/{case_id}/reopen", response_model=CaseOut)
async def post_reopen(case_id: str, payload: ReopenIn, request: Request, rt: Runtime = Depends(runtime),
                      caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    return await _case_write(request, rt, caller, case_id, 200, lambda s: CaseOut.model_validate(service.do_reopen_case(
        s, case_id=case_id, reason=payload.reason)))


@router.get("/interactions/{interaction_id}", response_model=InteractionOut)
def get_interaction(interaction_id: str, session: Session = Depends(session_dep),
                    caller: Principal = Depends(needs("cases:read"))) -> Interaction:
    interaction = service.access_interaction(session, interaction_id)
    check_case_scope(session, caller, interaction.case)
    return interaction


@router.get("/interactions/{interaction_id}/events", response_model=list[InteractionEventOut])
def get_interaction_events(interaction_id: str, session: Session = Depends(session_dep),
                           caller: Principal = Depends(needs("cases:read"))) -> list:
    interaction = service.access_interaction(session, interaction_id)
    check_case_scope(session, caller, interaction.case)
    return list(session.scalars(select(InteractionEvent).where(InteractionEvent.interaction_id == interaction.id)
                                .order_by(InteractionEvent.at, InteractionEvent.id)))


@router.post("/interactions/{interaction_id}/events", response_model=InteractionEventOut, status_code=201)
async def post_interaction_event(interaction_id: str, payload: InteractionEventIn, request: Request,
                                 rt: Runtime = Depends(runtime),
                                 caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    def work(session: Session):
        interaction = service.access_interaction(session, interaction_id)
        check_case_scope(session, caller, interaction.case)
        return InteractionEventOut.model_validate(service.do_record_interaction_event(
            session, interaction_id=interaction_id, kind=payload.kind, at=payload.at, agent_id=caller.user_id,
            outcome=payload.outcome, data=payload.data))

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


@router.get("/attachments/{attachment_id}/content")
async def get_attachment(attachment_id: str, rt: Runtime = Depends(runtime),
                         caller: Principal = Depends(needs("cases:read"))) -> FileResponse:
    def find() -> tuple[Path, str, str]:
        with rt.factory() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is None:
                raise NotFound("not_found", kind="attachment", id=attachment_id)
            check_case_scope(session, caller, service.access_case(session, attachment.message.case_id))
            return (rt.conversation_config.attachments_root / attachment.storage_path, attachment.content_type,
                    attachment.filename)

    path, content_type, filename = await run_in_threadpool(find)
    return FileResponse(path, media_type=content_type, filename=filename,
                        headers={"X-Content-Type-Options": "nosniff"})


# Canned responses -------------------------------------------------------------------------------------------


@router.get("/canned-responses", response_model=list[CannedResponseOut])
def get_canned_responses(session: Session = Depends(session_dep),
                         _: Principal = Depends(needs("cases:read"))) -> list:
    return canned.canned_responses(session)


@router.put("/canned-responses/{code}", response_model=CannedResponseOut,
            summary="Create or update a canned response (variables: {customer_name}, {agent_name}, …)")
async def put_canned_response(code: str, payload: CannedResponseIn, request: Request, rt: Runtime = Depends(runtime),
                              caller: Principal = Depends(needs("admin"))) -> JSONResponse:
    code_, body = await run_idempotent(request, rt, caller, 200, lambda s: CannedResponseOut.model_validate(
        canned.do_save_canned_response(s, code=code, title_fr=payload.title_fr, title_en=payload.title_en,
                                       body_fr=payload.body_fr, body_en=payload.body_en, motif_code=payload.motif,
                                       active=payload.active)))
    return JSONResponse(body, status_code=code_)
