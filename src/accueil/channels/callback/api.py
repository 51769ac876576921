"""REST endpoints for callbacks: schedule one on a case, cancel it, record an attempt's outcome, and the
public request (no sign-in: rate-limited per client address, ``Idempotency-Key`` honoured)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.api.deps import needs, run_idempotent, runtime
from accueil.channels.callback import outcomes, service
from accueil.channels.callback.models import Callback, CallbackAttempt, CallbackOutcome, CallbackStatus
from accueil.channels.callback.policy import RetryPolicy
from accueil.channels.callback.public_api import limit_requests, public_principal
from accueil.conversations.scope import check_case_scope
from accueil.conversations.service import access_case
from accueil.core import clock
from accueil.core.errors import NotFound
from accueil.core.i18n import pick_language
from accueil.core.permissions import Principal
from accueil.db.idempotency import do_remember_response, find_replay, request_fingerprint
from accueil.identity.models import Role
from accueil.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["callbacks"])


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_at: datetime = Field(description="When to call, with a time zone (e.g. 2026-11-23T09:30:00+01:00)")
    phone: str | None = Field(default=None, description="One of the customer's numbers (default: the first)")
    queue: str | None = Field(default=None, description="Queue code (default: the callback queue)")
    note: str | None = Field(default=None, max_length=500)


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    interaction_id: str
    agent_id: str | None
    outcome: CallbackOutcome | None
    queued_at: datetime
    at: datetime | None


class CallbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    phone: str
    due_at: datetime
    queue_id: str
    status: CallbackStatus
    requested_by: str
    interaction_id: str | None
    attempts: int
    asap: bool
    language: str
    history: list[AttemptOut] = Field(default_factory=list, description="Each call made, oldest first")


def callback_out(session: Session, callback: Callback) -> CallbackOut:
    out = CallbackOut.model_validate(callback)
    out.history = [AttemptOut.model_validate(a) for a in session.scalars(
        select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id).order_by(CallbackAttempt.number))]
    return out


@router.post("/cases/{case_id}/callbacks", response_model=CallbackOut, status_code=201)
async def schedule_callback(case_id: str, payload: CallbackIn, request: Request, rt: Runtime = Depends(runtime),
                            caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    def work(session: Session) -> CallbackOut:
        check_case_scope(session, caller, access_case(session, case_id))
        return callback_out(session, service.do_schedule_callback(
            session, case_id=case_id, due_at=payload.due_at, phone=payload.phone, queue_code=payload.queue,
            requested_by="agent", user_id=caller.user_id, note=payload.note, now=clock.now(),
            timezone=rt.settings.timezone))

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


def _scoped_callback(session: Session, caller: Principal, callback_id: str) -> Callback:
    found = session.get(Callback, callback_id)
    if found is None:
        raise NotFound("not_found", kind="callback", id=callback_id)
    check_case_scope(session, caller, access_case(session, found.case_id))  # before saying anything more
    return found


@router.delete("/callbacks/{callback_id}", response_model=CallbackOut)
async def cancel_callback(callback_id: str, request: Request, rt: Runtime = Depends(runtime),
                          caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    def work(session: Session) -> CallbackOut:
        _scoped_callback(session, caller, callback_id)
        return callback_out(session, service.do_cancel_callback(session, callback_id=callback_id))

    code, body = await run_idempotent(request, rt, caller, 200, work)
    return JSONResponse(body, status_code=code)


class AttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: CallbackOutcome = Field(description="reached, no_answer, voicemail or wrong_number")
    attempt: int | None = Field(default=None, ge=1, description="Attempt number (default: the current one); "
                                "naming it makes a repeat harmless even after the next attempt started")


@router.post("/callbacks/{callback_id}/attempts", response_model=CallbackOut)
async def record_attempt(callback_id: str, payload: AttemptIn, request: Request, rt: Runtime = Depends(runtime),
                         caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    """The agent who made the call says how it went; the same outcome sent again changes nothing."""
    def work(session: Session) -> CallbackOut:
        _scoped_callback(session, caller, callback_id)
        return callback_out(session, outcomes.do_record_outcome(
            session, callback_id=callback_id, outcome=payload.outcome, user_id=caller.user_id,
            rules=rt.routing_rules, policy=RetryPolicy.from_settings(rt.settings), attempt=payload.attempt,
            may_act_for_others=caller.role in (Role.supervisor, Role.admin), now=clock.now()))

    code, body = await run_idempotent(request, rt, caller, 200, work)
    return JSONResponse(body, status_code=code)


class PublicCallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=3, max_length=40, description="The number to call, national or +international")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, description="For the confirmation when no SMS")
    motif: str | None = Field(default=None, max_length=60, description="Motif code (contact reason)")
    language: Literal["fr", "en"] | None = Field(default=None, description="Default: from Accept-Language")
    due_at: datetime | None = Field(default=None, description="A chosen slot; absent: as soon as possible")
    note: str | None = Field(default=None, max_length=500)


class PublicCallbackOut(BaseModel):
    id: str
    status: CallbackStatus
    due_at: datetime
    asap: bool
    phone: str  # no case reference: whoever types a number must not learn its owner's case (the SMS/email has it)


@router.post("/public/callbacks", response_model=PublicCallbackOut, status_code=201,
             dependencies=[Depends(limit_requests)])
async def request_callback(payload: PublicCallbackIn, request: Request,
                           rt: Runtime = Depends(runtime)) -> JSONResponse:
    """A customer asks to be called back (website, help centre): no token; 429 past the rate limit."""
    language = payload.language or pick_language(request.headers.get("accept-language"), rt.settings.default_language)
    key = request.headers.get("idempotency-key")
    body = await request.body()
    owner = public_principal(request)

    def transaction() -> tuple[int, dict]:
        with rt.factory() as session, session.begin():
            if key:
                fingerprint = request_fingerprint(request.method, request.url.path, body)
                replay = find_replay(session, principal=owner, key=key[:200], fingerprint=fingerprint)
                if replay is not None:
                    return replay.status_code, replay.response
            callback = service.do_request_callback(
                session, phone=payload.phone, source="web", due_at=payload.due_at, customer_name=payload.name,
                email=payload.email, motif_code=payload.motif, language=language, note=payload.note,
                now=clock.now(), config=rt.conversation_config, timezone=rt.settings.timezone)
            out = PublicCallbackOut(id=callback.id, status=callback.status, due_at=callback.due_at,
                                    asap=callback.asap, phone=callback.phone)
            result = json.loads(out.model_dump_json())
            if key:
                do_remember_response(session, principal=owner, key=key[:200], fingerprint=fingerprint,
                                     status_code=201, response=result)
            return 201, result

    code, result = await run_in_threadpool(transaction)
    return JSONResponse(result, status_code=code)
