"""The supervisors' live wallboard: queues (waiting, longest wait, answered, abandoned, service level today),
the written backlog (awaiting a first reply, by age, overdue) and agents (state, time in state, current
work). The board re-fetches itself on every routing signal."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from accueil.analytics.backlog import AGE_BUCKETS, written_backlog
from accueil.analytics.wallboard import queue_board
from accueil.conversations import queries
from accueil.conversations import service as conversations
from accueil.conversations.models import Case, CaseStatus, Motif
from accueil.core import clock
from accueil.core.errors import AccueilError
from accueil.core.i18n import error_message
from accueil.core.permissions import ROUTABLE_ROLES
from accueil.customers.models import Customer, IdentityKind
from accueil.customers.service import normalise_identity
from accueil.identity.models import Site, User
from accueil.routing import queries as routing_queries
from accueil.web.render import render
from accueil.web.session import SUPERVISORS, WebUser, check_csrf, current_user, require_role

router = APIRouter(prefix="/supervisor", include_in_schema=False)


async def supervisor_user(user: WebUser = Depends(current_user)) -> WebUser:
    require_role(user, SUPERVISORS)
    return user


async def _board(request: Request) -> dict:
    rt = request.app.state.runtime

    def load() -> dict:
        traffic = getattr(request.app.state, "live_traffic", None)
        simulated = frozenset(traffic.agents) if traffic is not None else frozenset()
        with rt.read_factory() as session:
            return board_context(session, timezone=rt.settings.timezone, simulated=simulated)

    return await run_in_threadpool(load)


def board_context(session: Session, *, timezone: str, simulated: frozenset[str] = frozenset()) -> dict:
    now = clock.now()
    sites = {site.id: site for site in session.scalars(select(Site))}
    return {"queues": queue_board(session, now=now, timezone=timezone), "agents": routing_queries.agents_now(session),
            "backlog": written_backlog(session, now=now), "age_buckets": [key for key, _ in AGE_BUCKETS],
            "sites": sites, "now": now, "simulated": simulated}


@router.get("")
async def wallboard(request: Request, user: WebUser = Depends(supervisor_user)) -> Response:
    return render(request, "supervisor/wallboard.html", await _board(request), user=user)


@router.get("/board")
async def board(request: Request, user: WebUser = Depends(supervisor_user)) -> Response:
    return render(request, "supervisor/_board.html", await _board(request), user=user)


SEARCH_LIMIT = 50


def _search_filters(session: Session, q: str, status: str, motif: str, since: str, until: str,
                    timezone: str) -> tuple[queries.CaseFilters | None, Case | None]:
    """A reference (D-2026-000042) finds that case; an e-mail or a phone number finds the customer's cases."""
    text = q.strip()
    if text.upper().startswith("D-"):
        return None, session.scalar(select(Case).options(selectinload(Case.motif))
                                    .where(Case.reference == text.upper()))
    identity = None
    if text:
        kind = IdentityKind.email if "@" in text else IdentityKind.phone
        identity = normalise_identity(kind, text)
    zone = ZoneInfo(timezone)
    day = timedelta(days=1)
    return queries.CaseFilters(
        identity=identity, status=[CaseStatus(status)] if status else None, motif_code=motif or None,
        created_since=datetime.combine(date.fromisoformat(since), time(0), tzinfo=zone) if since else None,
        created_until=datetime.combine(date.fromisoformat(until), time(0), tzinfo=zone) + day if until else None,
    ), None


@router.get("/cases")
async def case_search(request: Request, q: str = "", status: str = "", motif: str = "", since: str = "",
                      until: str = "", cursor: str | None = None,
                      user: WebUser = Depends(supervisor_user)) -> Response:
    rt = request.app.state.runtime

    def search() -> dict:
        with rt.read_factory() as session:
            context = {"q": q, "status": status, "motif": motif, "since": since, "until": until, "results": [],
                       "next_cursor": None, "statuses": [s.value for s in CaseStatus], "error": None,
                       "motifs": list(session.scalars(select(Motif).where(Motif.active.is_(True))
                                                      .order_by(Motif.code))),
                       "agents": list(session.scalars(select(User).where(User.active.is_(True),
                                                                         User.role.in_(ROUTABLE_ROLES))
                                                      .order_by(User.display_name)))}
            try:
                filters, exact = _search_filters(session, q, status, motif, since, until, rt.settings.timezone)
            except (AccueilError, ValueError) as exc:
                context["error"] = exc
                return context
            if filters is None:
                context["results"] = [exact] if exact else []
            else:
                page = queries.list_cases(session, filters=filters, cursor=cursor, limit=SEARCH_LIMIT)
                context["results"], context["next_cursor"] = page.items, page.next_cursor
            customers = {c.id: c for c in session.scalars(select(Customer).where(
                Customer.id.in_({case.customer_id for case in context["results"]})))}
            context["customers"] = customers
            return context

    context = await run_in_threadpool(search)
    if isinstance(context.get("error"), AccueilError):
        exc = context["error"]
        context["error"] = error_message(exc.code, user.language, exc.details)
    elif context.get("error") is not None:
        context["error"] = str(context["error"])
    return render(request, "supervisor/cases.html", context, user=user)


@router.post("/cases/{case_id}/assign")
async def assign(request: Request, case_id: str, agent: str = Form(""),
                 user: WebUser = Depends(supervisor_user)) -> Response:
    """Reassign a case: it lands on the chosen agent's work list (live)."""
    await check_csrf(request, user)
    rt = request.app.state.runtime

    def give() -> dict:
        with rt.factory() as session, session.begin():
            case = conversations.do_assign_case(session, case_id=case_id, agent_id=agent or None,
                                                actor_id=user.user_id)
            owner = session.get(User, case.agent_id) if case.agent_id else None
            return {"case": case, "owner": owner}

    return render(request, "supervisor/_assigned.html", await run_in_threadpool(give), user=user)
