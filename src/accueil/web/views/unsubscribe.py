"""``/unsubscribe/<token>``: the link at the foot of every prospecting email of a campaign.

Opening it changes nothing (mail scanners open links): the page asks to confirm with a button. The same
address also takes the one-click POST of RFC 8058 (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``),
which mail programs send without a browser, hence without an Origin: the signed token is the only
credential, and it names a campaign target, never an address.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.api.public import RateLimiter, client_address
from accueil.channels.outbound.models import CampaignTarget
from accueil.channels.outbound.sending import do_unsubscribe, email_opted_out, target_of_token
from accueil.core import clock
from accueil.core.errors import NotFound
from accueil.web.render import render
from accueil.web.views.agent import _read

router = APIRouter(include_in_schema=False)
PAGE = "portal/unsubscribe.html"
UNSUBSCRIBES = RateLimiter()
PER_ADDRESS = (30, 600.0)  # per client address per 10 minutes


def _target(session: Session, target_id: str) -> CampaignTarget:
    target = session.get(CampaignTarget, target_id)
    if target is None or not target.email:
        raise NotFound("not_found", kind="campaign target", id=target_id)
    return target


def _context(session: Session, target_id: str, token: str) -> dict:
    target = _target(session, target_id)
    return {"token": token, "done": email_opted_out(session, target.email)}


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(request: Request, token: str) -> Response:
    target_id = target_of_token(request.app.state.runtime.settings.secret_key, token[:120])
    if target_id is None:
        return render(request, PAGE, {"invalid": True}, status_code=404)
    try:
        context = await _read(request, lambda s: _context(s, target_id, token[:120]))
    except NotFound:
        return render(request, PAGE, {"invalid": True}, status_code=404)
    return render(request, PAGE, context)


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str) -> Response:
    rt = request.app.state.runtime
    UNSUBSCRIBES.hit(client_address(request), limit=PER_ADDRESS[0], window=PER_ADDRESS[1])
    target_id = target_of_token(rt.settings.secret_key, token[:120])
    if target_id is None:
        return render(request, PAGE, {"invalid": True}, status_code=404)

    def work() -> None:
        with rt.factory() as session, session.begin():
            do_unsubscribe(session, target_id=target_id, now=clock.now())

    try:
        await run_in_threadpool(work)
    except NotFound:
        return render(request, PAGE, {"invalid": True}, status_code=404)
    return render(request, PAGE, {"token": token[:120], "done": True})
