"""Callbacks on the web: the agent's outcome buttons (in the conversation view of a callback) and the
public page where a customer asks to be called back (no sign-in: rate limit and same-origin check).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.callback import outcomes
from accueil.channels.callback.models import Callback
from accueil.channels.callback.policy import RetryPolicy, upcoming_windows
from accueil.channels.callback.public_api import check_same_origin, limit_requests
from accueil.channels.callback.service import do_request_callback
from accueil.conversations.models import Motif
from accueil.core import clock
from accueil.core.errors import AccueilError, NotFound, ValidationFailed
from accueil.core.i18n import error_message
from accueil.web.render import language_of, render
from accueil.web.session import WebUser
from accueil.web.views.agent import _case_action, _read, _write, agent_user

router = APIRouter(include_in_schema=False)

SLOTS_OFFERED = 8


@router.post("/agent/callbacks/{callback_id}/outcome")
async def record_outcome(request: Request, callback_id: str, outcome: str = Form(...), attempt: int = Form(...),
                         user: WebUser = Depends(agent_user)) -> Response:
    """The agent says how the call went; the conversation comes back with the callback's new state."""
    rt = request.app.state.runtime

    def case_of(session: Session) -> str:
        found = session.get(Callback, callback_id)
        if found is None:
            raise NotFound("not_found", kind="callback", id=callback_id)
        return found.case_id

    case_id = await _read(request, case_of)
    return await _case_action(request, user, case_id, lambda s: outcomes.do_record_outcome(
        s, callback_id=callback_id, outcome=outcome, attempt=attempt, user_id=user.user_id,
        rules=rt.routing_rules, policy=RetryPolicy.from_settings(rt.settings),
        may_act_for_others=user.is_supervisor, now=clock.now()))


def _form_context(session: Session, settings, now: datetime) -> dict:  # type: ignore[no-untyped-def]
    policy = RetryPolicy.from_settings(settings)
    motifs = session.scalars(select(Motif).where(Motif.active.is_(True), Motif.parent_id.is_not(None))
                             .order_by(Motif.code)).all()
    return {"motifs": list(motifs), "slots": upcoming_windows(policy, now=now, count=SLOTS_OFFERED)}


@router.get("/portal/callback")
async def callback_page(request: Request) -> Response:
    settings = request.app.state.runtime.settings
    context = await _read(request, lambda s: _form_context(s, settings, clock.now()))
    return render(request, "portal/callback.html", {**context, "values": {}, "error": None, "done": None})


@router.post("/portal/callback")
async def request_callback(request: Request, phone: str = Form(""), name: str = Form(""), email: str = Form(""),
                           motif: str = Form(""), when: str = Form("asap"), slot: str = Form(""),
                           note: str = Form("")) -> Response:
    """Same-origin and rate limit first; a refused number shows the form again with its values."""
    check_same_origin(request)
    limit_requests(request)
    rt = request.app.state.runtime
    language = language_of(request, None)
    values = {"phone": phone, "name": name, "email": email, "motif": motif, "when": when, "slot": slot,
              "note": note}

    def ask(session: Session) -> dict:
        now = clock.now()
        due = None
        if when == "slot":
            try:
                due = datetime.fromisoformat(slot)
            except ValueError:
                raise ValidationFailed("validation_error", summary="choose a time slot") from None
        callback = do_request_callback(
            session, phone=phone[:40], source="web", due_at=due, customer_name=name[:200] or None,
            email=email[:320] or None, motif_code=motif[:60] or None, language=language, note=note[:500] or None,
            now=now, config=rt.conversation_config, timezone=rt.settings.timezone)
        return {"callback": callback}  # no case reference shown: the number typed may not be the typist's

    try:
        done = await _write(request, ask)
    except AccueilError as exc:
        if exc.status_code >= 500 or exc.status_code == 429:
            raise
        context = await _read(request, lambda s: _form_context(s, rt.settings, clock.now()))
        return render(request, "portal/callback.html", {
            **context, "values": values, "done": None,
            "error": error_message(exc.code, language, exc.details)}, status_code=exc.status_code)
    return render(request, "portal/callback.html", {"done": done, "values": values, "error": None})
