"""REST endpoints for callbacks: schedule one on a case, cancel it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from accueil.api.deps import Principal, Runtime, needs, run_idempotent, runtime
from accueil.channels.callback import service
from accueil.channels.callback.models import Callback, CallbackStatus
from accueil.conversations.scope import check_case_scope
from accueil.conversations.service import access_case
from accueil.core.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["callbacks"])


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_at: datetime = Field(description="When to call, with a time zone (e.g. 2026-11-23T09:30:00+01:00)")
    phone: str | None = Field(default=None, description="One of the customer's numbers (default: the first)")
    queue: str | None = Field(default=None, description="Queue code (default: the callback queue)")
    note: str | None = Field(default=None, max_length=500)


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


@router.post("/cases/{case_id}/callbacks", response_model=CallbackOut, status_code=201)
async def schedule_callback(case_id: str, payload: CallbackIn, request: Request, rt: Runtime = Depends(runtime),
                            caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    def work(session: Session) -> CallbackOut:
        check_case_scope(session, caller, access_case(session, case_id))
        return CallbackOut.model_validate(service.do_schedule_callback(
            session, case_id=case_id, due_at=payload.due_at, phone=payload.phone, queue_code=payload.queue,
            requested_by="agent", user_id=caller.user_id, note=payload.note))

    code, body = await run_idempotent(request, rt, caller, 201, work)
    return JSONResponse(body, status_code=code)


@router.delete("/callbacks/{callback_id}", response_model=CallbackOut)
async def cancel_callback(callback_id: str, request: Request, rt: Runtime = Depends(runtime),
                          caller: Principal = Depends(needs("cases:write"))) -> JSONResponse:
    def work(session: Session) -> CallbackOut:
        found = session.get(Callback, callback_id)
        if found is None:
            raise NotFound("not_found", kind="callback", id=callback_id)
        check_case_scope(session, caller, access_case(session, found.case_id))  # before saying anything more
        return CallbackOut.model_validate(service.do_cancel_callback(session, callback_id=callback_id))

    code, body = await run_idempotent(request, rt, caller, 200, work)
    return JSONResponse(body, status_code=code)
