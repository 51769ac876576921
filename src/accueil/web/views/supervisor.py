"""The supervisors' live wallboard: queues (waiting, longest wait, answered, abandoned, service level today)
and agents (state, time in state, current work). The board re-fetches itself on every routing signal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accueil.agents.models import Site
from accueil.analytics.wallboard import queue_board
from accueil.core import clock
from accueil.routing import queries as routing_queries
from accueil.web.render import render
from accueil.web.session import SUPERVISORS, WebUser, current_user, require_role

router = APIRouter(prefix="/supervisor", include_in_schema=False)


async def supervisor_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, SUPERVISORS)
    return user


async def _board(request: Request) -> dict:
    rt = request.app.state.runtime

    def load() -> dict:
        with rt.read_factory() as session:
            return board_context(session, timezone=rt.settings.timezone)

    return await run_in_threadpool(load)


def board_context(session: Session, *, timezone: str) -> dict:
    now = clock.now()
    sites = {site.id: site for site in session.scalars(select(Site))}
    return {"queues": queue_board(session, now=now, timezone=timezone), "agents": routing_queries.agents_now(session),
            "sites": sites, "now": now}


@router.get("")
async def wallboard(request: Request, user: WebUser = Depends(supervisor_user)) -> Response:
    return render(request, "supervisor/wallboard.html", await _board(request), user=user)


@router.get("/board")
async def board(request: Request, user: WebUser = Depends(supervisor_user)) -> Response:
    return render(request, "supervisor/_board.html", await _board(request), user=user)
