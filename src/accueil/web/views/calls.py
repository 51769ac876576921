"""Console call controls (hold, resume, hang up) for the agent holding a call; transfer goes through the
console's transfer form, which sends calls through ``do_transfer_call``. Thin: the voice domain does the work."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from accueil.channels.voice import controls
from accueil.conversations.service import access_interaction
from accueil.web.render import redirect
from accueil.web.session import WebUser, check_csrf
from accueil.web.views.agent import _write, agent_user

router = APIRouter(prefix="/agent/items", include_in_schema=False)


async def _then_case(request: Request, interaction_id: str, work) -> Response:  # noqa: ANN001
    def run(session):  # noqa: ANN001, ANN202
        work(session)
        return access_interaction(session, interaction_id).case_id

    case_id = await _write(request, run)
    return redirect(request, f"/agent?case={case_id}")


@router.post("/{interaction_id}/hold")
async def hold(request: Request, interaction_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    return await _then_case(request, interaction_id, lambda s: controls.do_hold(
        s, interaction_id=interaction_id, user_id=user.user_id, hold=True, may_supervise=user.is_supervisor,
        language=user.language))


@router.post("/{interaction_id}/resume")
async def resume(request: Request, interaction_id: str, user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    return await _then_case(request, interaction_id, lambda s: controls.do_hold(
        s, interaction_id=interaction_id, user_id=user.user_id, hold=False, may_supervise=user.is_supervisor,
        language=user.language))


@router.post("/{interaction_id}/hangup")
async def hang_up(request: Request, interaction_id: str, wrapup: str = Form(""),
                  user: WebUser = Depends(agent_user)) -> Response:
    await check_csrf(request, user)
    rt = request.app.state.runtime
    return await _then_case(request, interaction_id, lambda s: controls.do_hang_up(
        s, rules=rt.routing_rules, interaction_id=interaction_id, user_id=user.user_id, wrapup=bool(wrapup),
        may_supervise=user.is_supervisor))
