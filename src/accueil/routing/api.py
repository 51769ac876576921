"""REST endpoints for routing: an agent's presence and work, queues live, and queue rules (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accueil.api.deps import needs, run_idempotent, runtime, session_dep
from accueil.conversations.scope import queue_in_scope
from accueil.core import clock
from accueil.core.errors import NotFound, PermissionDenied, ValidationFailed
from accueil.core.permissions import Principal
from accueil.flows import escalation
from accueil.identity.models import Site, Skill, User
from accueil.identity.service import do_set_skill
from accueil.routing import admin, service
from accueil.routing.decisions import Offered, Presence
from accueil.routing.models import Queue, RoutingItem
from accueil.routing.schemas import (
    AgentRoutingOut,
    CapacityIn,
    EndIn,
    EscalateIn,
    HeldItemOut,
    OfferOut,
    PresenceIn,
    QueueIn,
    QueueLiveOut,
    QueueOut,
    ResultOut,
    SkillsIn,
    TransferIn,
)
from accueil.routing.snapshot import HELD, to_datetime
from accueil.runtime import Runtime

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])


def offer_out(offer: Offered) -> OfferOut:
    return OfferOut(interaction_id=offer.item, agent_id=offer.agent, queue_id=offer.queue,
                    offered_at=to_datetime(offer.at), expires_at=to_datetime(offer.expires_at))


def agent_view(session: Session, user_id: str, offers: list[Offered] = ()) -> AgentRoutingOut:
    state = service.ensure_agent_state(session, user_id, clock.now())
    items = session.scalars(select(RoutingItem).where(RoutingItem.agent_id == user_id,
                                                      RoutingItem.status.in_(HELD)).order_by(RoutingItem.offered_at))
    return AgentRoutingOut(
        user_id=user_id, presence=state.presence, reason=state.reason, presence_since=state.presence_since,
        capacity=state.capacity, items=[HeldItemOut.model_validate(i) for i in items],
        offers=[offer_out(o) for o in offers],
    )


def _user_id(session: Session, ref: str) -> str:
    user = session.get(User, ref) or session.scalar(select(User).where(User.username == ref.lower()))
    if user is None:
        raise NotFound("not_found", kind="user", id=ref)
    return user.id


def _acting_as(caller: Principal) -> str | None:
    """Whose work the caller may touch: their own, or anyone's with routing:supervise (None)."""
    return None if "routing:supervise" in caller.scopes else caller.user_id


async def _run(request: Request, rt: Runtime, caller: Principal, work, status_code: int = 200) -> JSONResponse:
    code, body = await run_idempotent(request, rt, caller, status_code, work)
    return JSONResponse(body, status_code=code)


# The agent's own routing -----------------------------------------------------------------------------------


@router.get("/me", response_model=AgentRoutingOut)
async def get_my_routing(request: Request, rt: Runtime = Depends(runtime),
                         caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    return await _run(request, rt, caller, lambda s: agent_view(s, caller.user_id))


@router.put("/me/presence", response_model=AgentRoutingOut)
async def set_my_presence(payload: PresenceIn, request: Request, rt: Runtime = Depends(runtime),
                          caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    def work(session: Session) -> AgentRoutingOut:
        result = service.do_set_presence(session, rules=rt.routing_rules, user_id=caller.user_id,
                                         presence=Presence(payload.presence), reason=payload.reason)
        return agent_view(session, caller.user_id, result.offers)

    return await _run(request, rt, caller, work)


@router.put("/agents/{user_ref}/presence", response_model=AgentRoutingOut)
async def set_agent_presence(user_ref: str, payload: PresenceIn, request: Request, rt: Runtime = Depends(runtime),
                             caller: Principal = Depends(needs("routing:supervise"))) -> JSONResponse:
    def work(session: Session) -> AgentRoutingOut:
        user_id = _user_id(session, user_ref)
        result = service.do_set_presence(session, rules=rt.routing_rules, user_id=user_id,
                                         presence=Presence(payload.presence), reason=payload.reason)
        return agent_view(session, user_id, result.offers)

    return await _run(request, rt, caller, work)


@router.post("/me/next", response_model=OfferOut, responses={204: {"description": "Nothing waits for you"}})
async def take_next_item(request: Request, rt: Runtime = Depends(runtime),
                         caller: Principal = Depends(needs("routing:work"))):
    def work(session: Session):
        offer = service.do_next_item(session, rules=rt.routing_rules, user_id=caller.user_id)
        return offer_out(offer) if offer else {}

    code, body = await run_idempotent(request, rt, caller, 200, work)
    return JSONResponse(body, status_code=code) if body else Response(status_code=204)


# Work items ------------------------------------------------------------------------------------------------


def _item_action(action):
    async def endpoint(interaction_id: str, request: Request, rt: Runtime, caller: Principal, **kwargs):
        def work(session: Session) -> ResultOut:
            result = action(session, rt, interaction_id, _acting_as(caller), caller, **kwargs)
            return ResultOut(offers=[offer_out(o) for o in result.offers])

        return await _run(request, rt, caller, work)

    return endpoint


def _holder_check(session: Session, interaction_id: str, acting_as: str | None) -> None:
    row = session.get(RoutingItem, interaction_id)
    if row is None:
        raise NotFound("not_found", kind="routing_item", id=interaction_id)
    if acting_as is not None and row.agent_id != acting_as:
        raise PermissionDenied("forbidden", reason="this work is not yours")


@router.post("/items/{interaction_id}/accept", response_model=ResultOut)
async def accept_item(interaction_id: str, request: Request, rt: Runtime = Depends(runtime),
                      caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    return await _item_action(lambda s, rt, i, _as, c: service.do_accept(
        s, rules=rt.routing_rules, item_id=i, user_id=c.user_id))(interaction_id, request, rt, caller)


@router.post("/items/{interaction_id}/decline", response_model=ResultOut)
async def decline_item(interaction_id: str, request: Request, rt: Runtime = Depends(runtime),
                       caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    return await _item_action(lambda s, rt, i, _as, c: service.do_decline(
        s, rules=rt.routing_rules, item_id=i, user_id=c.user_id))(interaction_id, request, rt, caller)


@router.post("/items/{interaction_id}/end", response_model=ResultOut)
async def end_item(interaction_id: str, payload: EndIn, request: Request, rt: Runtime = Depends(runtime),
                   caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    def action(s, rt, i, acting_as, c):
        _holder_check(s, i, acting_as)
        return service.do_end(s, rules=rt.routing_rules, item_id=i, wrapup=payload.wrapup, user_id=acting_as)

    return await _item_action(action)(interaction_id, request, rt, caller)


@router.post("/items/{interaction_id}/wrapup-end", response_model=ResultOut)
async def end_wrapup(interaction_id: str, request: Request, rt: Runtime = Depends(runtime),
                     caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    def action(s, rt, i, acting_as, c):
        _holder_check(s, i, acting_as)
        return service.do_end_wrapup(s, rules=rt.routing_rules, item_id=i, user_id=acting_as)

    return await _item_action(action)(interaction_id, request, rt, caller)


@router.post("/items/{interaction_id}/transfer", response_model=ResultOut)
async def transfer_item(interaction_id: str, payload: TransferIn, request: Request, rt: Runtime = Depends(runtime),
                        caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    def action(s, rt, i, acting_as, c):
        _holder_check(s, i, acting_as)
        if (payload.queue is None) == (payload.agent is None):
            raise ValidationFailed("validation_error", summary="give exactly one of queue or agent")
        queue_id = admin.access_queue(s, payload.queue).id if payload.queue else None
        agent_id = _user_id(s, payload.agent) if payload.agent else None
        return service.do_transfer(s, rules=rt.routing_rules, item_id=i, to_queue_id=queue_id, to_agent_id=agent_id,
                                   actor_id=c.user_id)

    return await _item_action(action)(interaction_id, request, rt, caller)


@router.post("/items/{interaction_id}/escalate", response_model=ResultOut)
async def escalate_item(interaction_id: str, payload: EscalateIn, request: Request, rt: Runtime = Depends(runtime),
                        caller: Principal = Depends(needs("routing:work"))) -> JSONResponse:
    def action(s, rt, i, acting_as, c):
        _holder_check(s, i, acting_as)
        queue_id = (admin.access_queue(s, payload.queue).id if payload.queue
                    else service.escalation_queue(s, item_id=i))
        return escalation.escalate(s, rules=rt.routing_rules, item_id=i, to_queue_id=queue_id, actor_id=c.user_id,
                                   reason=payload.reason)

    return await _item_action(action)(interaction_id, request, rt, caller)


# Queues ------------------------------------------------------------------------------------------------------


@router.get("/queues", response_model=list[QueueLiveOut])
def list_queues_live(session: Session = Depends(session_dep), rt: Runtime = Depends(runtime),
                     caller: Principal = Depends(needs("routing:work"))) -> list[QueueLiveOut]:
    """Waiting work and the predicted wait per queue (a partner agent sees its site's levels and motifs)."""

    queues = session.scalars(select(Queue).where(Queue.active.is_(True)).order_by(Queue.code)).all()
    if caller.site_id and "routing:supervise" not in caller.scopes:
        site = session.get(Site, caller.site_id)
        queues = [q for q in queues if q.level <= site.max_level and queue_in_scope(session, caller, q.level,
                                                                                      q.motif_id)]
    stats = dict((row[0], row[1:]) for row in session.execute(
        select(RoutingItem.queue_id, func.count(), func.min(RoutingItem.queued_at))
        .where(RoutingItem.status == "waiting").group_by(RoutingItem.queue_id)))
    out = []
    for queue in queues:
        waiting, oldest = stats.get(queue.id, (0, None))
        wait = service.predicted_wait(session, rules=rt.routing_rules, queue_id=queue.id)
        out.append(QueueLiveOut(id=queue.id, code=queue.code, name_fr=queue.name_fr, name_en=queue.name_en,
                                waiting=waiting, oldest_waiting_since=oldest,
                                predicted_wait_seconds=None if wait == float("inf") else round(wait, 1)))
    return out


def queue_out(session: Session, queue: Queue) -> QueueOut:
    return QueueOut(
        id=queue.id, code=queue.code, name_fr=queue.name_fr, name_en=queue.name_en, channel=queue.channel,
        level=queue.level, priority=queue.priority, active=queue.active, target_kind=queue.target_kind.value,
        target_percent=queue.target_percent, target_seconds=queue.target_seconds, opening_hours=queue.opening_hours,
        timezone=queue.timezone, skills=admin.queue_skills(session, queue.id), selection=queue.selection,
        delivery=queue.delivery, order_by=queue.order_by, sites=queue.sites, overflow=queue.overflow or [],
        ring_timeout_seconds=queue.ring_timeout_seconds, callback_offer_after_seconds=queue.callback_offer_after_seconds,
        default_handle_seconds=queue.default_handle_seconds, closed_behaviour=queue.closed_behaviour,
        closed_queue_id=queue.closed_queue_id,
    )


@router.get("/queues/{code}/rules", response_model=QueueOut)
def get_queue_rules(code: str, session: Session = Depends(session_dep),
                    _: Principal = Depends(needs("routing:supervise"))) -> QueueOut:
    return queue_out(session, admin.access_queue(session, code))


@router.put("/queues/{code}/rules", response_model=QueueOut)
async def save_queue_rules(code: str, payload: QueueIn, request: Request, rt: Runtime = Depends(runtime),
                           caller: Principal = Depends(needs("admin"))) -> JSONResponse:
    def work(session: Session) -> QueueOut:
        fields = payload.model_dump(exclude_unset=True)
        if "overflow" in fields and fields["overflow"] is not None:
            fields["overflow"] = [{k: v for k, v in step.items() if v not in (None, False, [])}
                                  for step in fields["overflow"]]
        channel = fields.pop("channel", None)
        queue = admin.do_save_queue(session, code=code, channel=channel, **fields)
        rt.routing_rules.clear()
        return queue_out(session, queue)

    return await _run(request, rt, caller, work)


@router.put("/agents/{user_ref}/capacity", response_model=AgentRoutingOut)
async def set_agent_capacity(user_ref: str, payload: CapacityIn, request: Request, rt: Runtime = Depends(runtime),
                             caller: Principal = Depends(needs("admin"))) -> JSONResponse:
    def work(session: Session) -> AgentRoutingOut:
        user_id = _user_id(session, user_ref)
        service.do_set_capacity(session, rules=rt.routing_rules, user_id=user_id, capacity=payload.capacity)
        return agent_view(session, user_id)

    return await _run(request, rt, caller, work)


@router.put("/agents/{user_ref}/skills", response_model=dict[str, int])
async def set_agent_skills(user_ref: str, payload: SkillsIn, request: Request, rt: Runtime = Depends(runtime),
                           caller: Principal = Depends(needs("admin"))) -> JSONResponse:
    def work(session: Session) -> dict[str, int]:
        user = session.get(User, _user_id(session, user_ref))
        skills = {s.code: s for s in session.scalars(select(Skill).where(Skill.code.in_(list(payload.skills))))}
        for code, level in payload.skills.items():
            if code not in skills:
                raise ValidationFailed("unknown_skill", value=code)
            do_set_skill(session, user=user, skill=skills[code], level=level)
        return {code: level for code, level in payload.skills.items()}

    return await _run(request, rt, caller, work)


