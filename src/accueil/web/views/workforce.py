"""The supervisors' workforce page: a queue's day forecast against what happened, the agents it needs, the
coverage of a roster built for it, and a what-if (more volume, longer calls, a given number of agents)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from accueil.core import clock
from accueil.core.errors import ValidationFailed
from accueil.routing.models import Queue
from accueil.web.charts import bars_and_lines
from accueil.web.render import render
from accueil.web.session import WebUser, check_csrf
from accueil.web.views.supervisor import supervisor_user
from accueil.workforce.service import DAY_INTERVAL, queue_day
from accueil.workforce.staffing import QueueTarget, what_if

router = APIRouter(prefix="/supervisor/workforce", include_in_schema=False)


def _number(text: str, name: str, low: float, high: float) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ValidationFailed("validation_error", summary=f"{name}: a number") from None
    if not low <= value <= high:
        raise ValidationFailed("validation_error", summary=f"{name}: between {low:g} and {high:g}")
    return value


async def _context(request: Request, queue: str | None, day: str | None, *, volume_percent: float = 100.0,
                   handle_time: float | None = None, patience: float | None = None,
                   agents: float | None = None) -> dict:
    rt = request.app.state.runtime
    zone = rt.settings.timezone

    def load() -> dict:
        with rt.read_factory() as session:
            queues = list(session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.level,
                                                                                                Queue.code)))
            if not queues:
                return {"queues": [], "plan": None}
            code = queue if queue in {q.code for q in queues} else queues[0].code
            today = clock.now().astimezone(ZoneInfo(zone)).date()
            try:
                chosen = date.fromisoformat(day) if day else today
            except ValueError:
                chosen = today
            plan = queue_day(session, queue_code=code, day=chosen, timezone=zone, now=clock.now(),
                             patience=patience, volume_factor=volume_percent / 100, handle_time=handle_time)
            fmt = request.app.state.web_environments["en"].globals["fmt"]
            labels = [fmt.time(s)[:5] for s in plan.starts]
            volumes = plan.forecast or plan.actual
            chart = bars_and_lines(labels, plan.actual, {"forecast": plan.forecast or []})
            staff_chart = bars_and_lines(labels, [float(p) for p in plan.positions],
                                         {"scheduled": [float(v) for v in plan.scheduled],
                                          "agents": [float(a) for a in plan.agents]})
            target = next(q for q in queues if q.code == code)
            outcome = None
            if agents is not None:
                rule = QueueTarget(code, service_level=target.target_percent / 100, threshold=target.target_seconds,
                                   patience=patience)
                outcome = [what_if(v, plan.handle_time, int(agents), interval=DAY_INTERVAL, target=rule)
                           if v > 0 else None for v in volumes]
            return {"queues": queues, "queue": target, "plan": plan, "chart": chart, "staff_chart": staff_chart,
                    "day": chosen, "previous": chosen - timedelta(days=1), "next": chosen + timedelta(days=1),
                    "volume_percent": volume_percent, "handle_time": handle_time, "patience": patience,
                    "agents": int(agents) if agents is not None else None, "outcome": outcome,
                    "volumes": volumes}

    return await run_in_threadpool(load)


@router.get("")
async def workforce_page(request: Request, queue: str | None = None, day: str | None = None,
                         user: WebUser = Depends(supervisor_user)) -> Response:
    return render(request, "supervisor/workforce.html", await _context(request, queue, day), user=user)


@router.post("/what-if")
async def what_if_panel(request: Request, queue: str = Form(...), day: str = Form(...),
                        volume_percent: str = Form("100"), handle_time: str = Form(""), patience: str = Form(""),
                        agents: str = Form(""), user: WebUser = Depends(supervisor_user)) -> Response:
    """The same page with the what-if applied (volume x%, handle time, patience, a flat number of agents)."""
    await check_csrf(request, user)
    context = await _context(
        request, queue, day, volume_percent=_number(volume_percent, "volume", 0, 1000) or 100.0,
        handle_time=_number(handle_time, "handle time", 1, 86400), patience=_number(patience, "patience", 1, 86400),
        agents=_number(agents, "agents", 0, 20000))
    return render(request, "supervisor/_workforce_body.html", context, user=user)
