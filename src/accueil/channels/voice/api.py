"""``POST /api/v1/cti/events``: a telephony provider reports what happens to its calls (see cti.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from accueil.api.deps import needs, runtime
from accueil.channels.voice.cti import EVENTS, CallSummary, CtiEvent, do_cti_event
from accueil.core.permissions import Principal
from accueil.runtime import Runtime

router = APIRouter(prefix="/api/v1/cti", tags=["voice"])

EventName = Literal["offered", "ivr", "queued", "ringing", "answered", "held", "unheld", "transferred", "ended",
                    "wrapup_ended", "recording"]
assert set(EventName.__args__) == set(EVENTS)  # type: ignore[attr-defined]


class CtiEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(default="generic", min_length=1, max_length=40)
    call_id: str = Field(min_length=1, max_length=120, description="The provider's id of the call")
    event: EventName
    at: datetime = Field(description="When it happened, with a time zone")
    event_id: str | None = Field(default=None, max_length=120, description="The provider's event id, if any")
    caller: str | None = Field(default=None, max_length=40)
    called: str | None = Field(default=None, max_length=40)
    ivr_path: list[str] = Field(default_factory=list, max_length=50)
    queue: str | None = Field(default=None, max_length=60, description="accueil queue code")
    agent: str | None = Field(default=None, max_length=80, description="accueil username")
    hung_up_by: Literal["customer", "agent", "system"] | None = None
    recording: str | None = Field(default=None, max_length=500)
    motif: str | None = Field(default=None, max_length=60)
    to_queue: str | None = Field(default=None, max_length=60)
    to_agent: str | None = Field(default=None, max_length=80)


class CtiBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[CtiEventIn] = Field(min_length=1, max_length=500)


class CallSummaryOut(BaseModel):
    call_id: str
    interaction_id: str
    case_id: str
    duplicate: bool
    outcome: str | None
    abandon_kind: str | None = Field(description="ivr, queue or short (within the short-abandon threshold)")
    durations: dict[str, float | None] = Field(description="seconds: ivr, queue, ring, talk, hold, wrapup")


def _apply(rt: Runtime, payload: CtiEventIn) -> CallSummary:
    event = CtiEvent(**{**payload.model_dump(), "ivr_path": tuple(payload.ivr_path)})
    for attempt in range(3):  # the same event delivered twice at once: the second sees the first's receipt
        try:
            with rt.factory() as session, session.begin():
                return do_cti_event(session, event=event, config=rt.conversation_config,
                                    short_abandon_seconds=rt.settings.short_abandon_seconds)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@router.post("/events", response_model=list[CallSummaryOut],
             summary="Report call events (one, or {\"events\": [...]} in the order they happened)")
async def post_cti_events(payload: CtiEventIn | CtiBatchIn, rt: Runtime = Depends(runtime),
                          caller: Principal = Depends(needs("contacts:write"))) -> list[CallSummary]:
    events = payload.events if isinstance(payload, CtiBatchIn) else [payload]
    return [await run_in_threadpool(_apply, rt, event) for event in sorted(events, key=lambda e: e.at)]
