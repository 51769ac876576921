"""The one write path for routing: presence, dispatch passes, offers, transfers, escalation, queue rules.

Every function restores the part of the routing state it needs into a fresh pure engine (see
``snapshot.RoutingPass``), applies one input, and saves what changed in the caller's transaction.
A dispatch pass then offers waiting work to free agents; ``Dispatcher`` runs passes in the background
when work arrives or frees up, and when the next timer (overflow stage, ring timeout) is due.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from accueil.conversations.models import Case, Outcome
from accueil.conversations.scope import check_user_may_take
from accueil.core import clock
from accueil.core.errors import AccueilError, Conflict, NotFound, ValidationFailed
from accueil.core.permissions import ROUTABLE_ROLES
from accueil.db.session import queue_event
from accueil.identity.models import User
from accueil.routing.config_loader import RoutingConfigCache, bump_config_version
from accueil.routing.decisions import (
    Decision,
    ItemState,
    Offered,
    Presence,
    RoutingError,
    StaleDecision,
    UnknownAgent,
    UnknownItem,
    UnknownQueue,
)
from accueil.routing.events import RoutingAccepted, RoutingEnded, RoutingFreed
from accueil.routing.models import AgentState, Queue, RoutingItem
from accueil.routing.snapshot import RoutingPass, to_datetime

log = logging.getLogger(__name__)

DISPATCH_LIMIT = 2000  # waiting items considered per pass (highest priority, oldest first)


@dataclass(frozen=True)
class PassResult:
    decisions: list[Decision]
    next_due: datetime | None  # when a timer of the items seen falls due (overflow, ring timeout)

    @property
    def offers(self) -> list[Offered]:
        return [d for d in self.decisions if isinstance(d, Offered)]


def _as_error(exc: RoutingError) -> AccueilError:
    if isinstance(exc, StaleDecision):
        return Conflict("stale_decision", reason=str(exc))
    if isinstance(exc, UnknownQueue):
        return ValidationFailed("unknown_queue", value=str(exc))
    if isinstance(exc, UnknownAgent):
        return NotFound("not_found", kind="agent", id=str(exc))
    if isinstance(exc, UnknownItem):
        return NotFound("not_found", kind="routing_item", id=str(exc))
    return ValidationFailed("routing_refused", reason=str(exc))


def _finish(routing: RoutingPass, decisions: list[Decision]) -> PassResult:
    routing.save(decisions)
    return PassResult(decisions, to_datetime(routing.engine.next_timer()))


# Dispatch ------------------------------------------------------------------------------------------------


def do_dispatch(session: Session, *, rules: RoutingConfigCache, now: datetime | None = None,
                limit: int = DISPATCH_LIMIT) -> PassResult:
    """Offer waiting work to free agents: fire due timers, then by priority, best agent first.

    Only agents with free capacity are locked (``SKIP LOCKED``: another process's pass or command keeps
    its own), and only the head of the queues they can serve is read: a few items per free slot.
    """
    routing = RoutingPass(session, rules.get(session), now or clock.now())
    agents = routing.agents_to_dispatch()
    if agents:
        routing.load_agents(agents, skip_locked=True)
        queues, slots = routing.waiting_window()
        if queues and slots:  # nobody free: waiting items stay as they are (overflow replays at its due time)
            routing.load_waiting(limit=min(limit, 4 * slots + 50), queue_ids=queues)
    result = _finish(routing, routing.engine.rebalance(routing.t))
    expiry = routing.next_offer_expiry()
    if expiry is not None and (result.next_due is None or expiry < result.next_due):
        result = PassResult(result.decisions, expiry)
    return result


# Agents ---------------------------------------------------------------------------------------------------


def ensure_agent_state(session: Session, user_id: str, now: datetime) -> AgentState:
    state = session.get(AgentState, user_id)
    if state is not None:
        return state
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("not_found", kind="user", id=user_id)
    if user.role not in ROUTABLE_ROLES:
        raise ValidationFailed("routing_refused", reason=f"a {user.role.value} takes no routed work")
    state = AgentState(user_id=user_id, presence=Presence.offline.value, presence_since=now, ready_since=now,
                       capacity={}, version=0)
    session.add(state)
    session.flush()
    return state


def do_set_presence(session: Session, *, rules: RoutingConfigCache, user_id: str, presence: Presence,
                    reason: str | None = None, now: datetime | None = None) -> PassResult:
    """Available, paused (with a reason) or offline. Pausing withdraws offers; going offline re-queues all."""
    now = now or clock.now()
    ensure_agent_state(session, user_id, now)
    routing = RoutingPass(session, rules.get(session), now)
    if user_id not in routing.config.agents:
        rules.clear()  # a user created since the rules were compiled
        routing = RoutingPass(session, rules.get(session), now)
    routing.load_agents([user_id])
    if presence is not Presence.available:
        routing.load_agents(available_only=True, skip_locked=True)  # somewhere for withdrawn work to go
    try:
        decisions = routing.engine.set_presence(user_id, Presence(presence), routing.t, reason)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    if presence is Presence.available:
        routing.load_waiting(limit=DISPATCH_LIMIT)
        decisions += routing.engine.rebalance(routing.t)
    return _finish(routing, decisions)


def do_set_capacity(session: Session, *, rules: RoutingConfigCache, user_id: str, capacity: dict[str, int],
                    now: datetime | None = None) -> AgentState:
    for media, count in capacity.items():
        if not isinstance(count, int) or not 0 <= count <= 50:
            raise ValidationFailed("validation_error", summary=f"capacity for {media} must be 0 to 50")
    state = ensure_agent_state(session, user_id, now or clock.now())
    state.capacity = dict(capacity)

    bump_config_version(session)
    return state


# Offers and work --------------------------------------------------------------------------------------------


def _with_item(session: Session, rules: RoutingConfigCache, item_id: str, now: datetime | None,
               extra_agents: list[str] = ()) -> tuple[RoutingPass, RoutingItem]:
    routing = RoutingPass(session, rules.get(session), now or clock.now())
    if extra_agents:
        routing.load_agents(extra_agents)
    row = routing.load_item(item_id)
    if row is None:
        raise NotFound("not_found", kind="routing_item", id=item_id)
    return routing, row


def do_accept(session: Session, *, rules: RoutingConfigCache, item_id: str, user_id: str,
              now: datetime | None = None) -> PassResult:
    routing, _ = _with_item(session, rules, item_id, now)
    try:
        routing.engine.accept(item_id, user_id, routing.t)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    routing.record(item_id, "answered", agent_id=user_id)
    queue_event(session, RoutingAccepted(interaction_id=item_id, agent_id=user_id), routing.now)
    return _finish(routing, [])


def do_decline(session: Session, *, rules: RoutingConfigCache, item_id: str, user_id: str,
               now: datetime | None = None) -> PassResult:
    routing, _ = _with_item(session, rules, item_id, now)
    routing.load_agents(available_only=True, skip_locked=True)
    routing.load_work_for(user_id)
    try:
        decisions = routing.engine.decline(item_id, user_id, routing.t)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    return _finish(routing, decisions)


def do_end(session: Session, *, rules: RoutingConfigCache, item_id: str, wrapup: bool = False,
           user_id: str | None = None, now: datetime | None = None) -> PassResult:
    """The contact ended: abandoned if nobody had taken it, handled otherwise (wrap-up optional)."""
    routing, row = _with_item(session, rules, item_id, now)
    if user_id is not None and row.agent_id != user_id:
        raise Conflict("stale_decision", reason=f"item {item_id} is not held by {user_id}")
    handled = row.status == ItemState.active.value
    if not wrapup:
        routing.load_work_for(row.agent_id)
    try:
        decisions = routing.engine.end(item_id, routing.t, wrapup=wrapup)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    routing.record(item_id, "ended", agent_id=row.agent_id,
                   outcome=Outcome.handled if handled else Outcome.abandoned)
    queue_event(session, RoutingEnded(interaction_id=item_id, agent_id=row.agent_id, handled=handled, wrapup=wrapup),
                routing.now)
    if handled and not wrapup:
        routing.record(item_id, "wrapup_ended", agent_id=row.agent_id)
    return _finish(routing, decisions)


def do_end_wrapup(session: Session, *, rules: RoutingConfigCache, item_id: str, user_id: str | None = None,
                  now: datetime | None = None) -> PassResult:
    routing, row = _with_item(session, rules, item_id, now)
    if user_id is not None and row.agent_id != user_id:
        raise Conflict("stale_decision", reason=f"item {item_id} is not held by {user_id}")
    routing.load_work_for(row.agent_id)
    try:
        decisions = routing.engine.end_wrapup(item_id, routing.t)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    routing.record(item_id, "wrapup_ended", agent_id=row.agent_id)
    return _finish(routing, decisions)


def do_transfer(session: Session, *, rules: RoutingConfigCache, item_id: str, to_queue_id: str | None = None,
                to_agent_id: str | None = None, actor_id: str | None = None,
                now: datetime | None = None) -> PassResult:
    """To a queue (its waiting clock restarts there) or to one named agent, who alone may take it."""
    if to_agent_id:

        item_row = session.get(RoutingItem, item_id)
        if item_row is not None:
            check_user_may_take(session, to_agent_id, session.get(Case, item_row.case_id))
    extra = [to_agent_id] if to_agent_id else []
    routing, row = _with_item(session, rules, item_id, now, extra)
    routing.load_agents(available_only=True, skip_locked=True)
    routing.load_work_for(row.agent_id)
    try:
        decisions = routing.engine.transfer(item_id, routing.t, to_queue=to_queue_id, to_agent=to_agent_id)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    routing.record(item_id, "transferred", agent_id=actor_id,
                   data={"from_queue_id": row.queue_id, "to_queue_id": to_queue_id, "to_agent_id": to_agent_id})
    return _finish(routing, decisions)


@dataclass(frozen=True)
class EscalatedItem:
    result: PassResult
    case_id: str
    level: int  # the level of the queue it moved to: its case goes up to it
    at: datetime


def do_escalate_item(session: Session, *, rules: RoutingConfigCache, item_id: str, to_queue_id: str,
                     now: datetime | None = None) -> EscalatedItem:
    """N1 → N2, routing's half: the item moves to a higher-level queue (``flows.escalation`` raises its case)."""
    routing, row = _with_item(session, rules, item_id, now)
    routing.load_agents(available_only=True, skip_locked=True)
    try:
        decisions = routing.engine.escalate(item_id, to_queue_id, routing.t)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    result = _finish(routing, decisions)
    return EscalatedItem(result=result, case_id=row.case_id, level=routing.config.queues[to_queue_id].rules.level,
                         at=routing.now)


def escalation_queue(session: Session, *, item_id: str) -> str:
    """The queue an item goes up to when no queue is named: same channel, next level up, same motif first."""
    row = session.get(RoutingItem, item_id)
    if row is None:
        raise NotFound("not_found", kind="routing_item", id=item_id)
    current = session.get(Queue, row.queue_id)
    candidates = session.scalars(select(Queue).where(
        Queue.active.is_(True), Queue.level > row.level, Queue.channel == current.channel)).all()
    if not candidates:
        raise ValidationFailed("routing_refused", reason=f"no {current.channel} queue above level {row.level}")
    best = min(candidates, key=lambda q: (q.level, q.motif_id != current.motif_id, q.code))
    return best.id


def do_next_item(session: Session, *, rules: RoutingConfigCache, user_id: str,
                 now: datetime | None = None) -> Offered | None:
    """The agent pulls their next item (including pull queues); None when nothing they may take waits."""
    routing = RoutingPass(session, rules.get(session), now or clock.now())
    if not routing.load_agents([user_id]):
        raise Conflict("stale_decision", reason=f"agent {user_id} is not logged in to routing")
    queues = [q for stages in routing.config.agent_queues.get(user_id, {}).values() for q in stages]
    routing.load_waiting(limit=DISPATCH_LIMIT, queue_ids=queues)
    try:
        offer = routing.engine.next_item(user_id, routing.t)
    except RoutingError as exc:
        raise _as_error(exc) from exc
    _finish(routing, [offer] if offer else [])
    return offer


def predicted_wait(session: Session, *, rules: RoutingConfigCache, queue_id: str,
                   now: datetime | None = None) -> float:
    """Seconds a contact arriving now in this queue should expect to wait (inf: nobody to answer)."""
    config = rules.get(session)
    if queue_id not in config.queues:
        raise ValidationFailed("unknown_queue", value=queue_id)
    routing = RoutingPass(session, config, now or clock.now(), lock=False)  # a read: nothing changes
    routing.load_agents(available_only=True)
    routing.load_waiting(queue_ids=[queue_id], skip_locked=False)
    return routing.engine.predicted_wait(queue_id, routing.t)


def do_forget_item(session: Session, *, interaction_id: str, now: datetime | None = None) -> bool:
    """The interaction ended outside routing (a CTI hang-up, a closed case): its work leaves the queue or
    frees its agent. A pass that had it loaded is refused by its version guard and retried."""
    row = session.get(RoutingItem, interaction_id)
    if row is None:
        return False
    agent_id = row.agent_id
    session.delete(row)
    session.flush()
    if agent_id is not None:
        queue_event(session, RoutingFreed(agent_id=agent_id), now or clock.now())
    return True


def waiting_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RoutingItem).where(
        RoutingItem.status == ItemState.waiting.value)) or 0


# Background dispatch --------------------------------------------------------------------------------------------


class Dispatcher:
    """Runs dispatch passes in a thread: when told work arrived or freed up, and when a timer is due."""

    def __init__(self, factory: sessionmaker[Session], rules: RoutingConfigCache, poll_seconds: float = 1.0):
        self.factory = factory
        self.rules = rules
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def wake(self, _event: object = None) -> None:
        self._wake.set()

    def run_pass(self) -> PassResult | None:
        for attempt in range(3):
            try:
                with self.factory() as session, session.begin():
                    result = do_dispatch(session, rules=self.rules)
                self.passes += 1
                return result
            except (StaleDecision, Conflict):
                log.info("dispatch pass refused on stale state (attempt %d); retrying", attempt + 1)
        return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            timeout = self.poll_seconds
            try:
                result = self.run_pass()
                if result is not None and result.offers:
                    continue  # more may fit: go again at once
                if result is not None and result.next_due is not None:
                    due = (result.next_due - clock.now()).total_seconds()
                    timeout = max(0.01, min(timeout, due))
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("dispatch pass failed")
            self._wake.wait(timeout)
            self._wake.clear()

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self._loop, name="accueil-dispatch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


