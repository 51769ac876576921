"""One transaction's share of routing: rows locked, restored into a fresh engine, saved back.

Locking (PostgreSQL; SQLite has one writer at a time, so it needs none):
- an agent's row is locked before anything they hold changes, so two processes never add work to the
  same agent at once and capacity holds;
- a dispatch pass takes free agents and waiting items with ``SKIP LOCKED``, so two passes split the work
  instead of waiting for each other, and never both take one item;
- every save is guarded by the item's version and a capacity count: a decision made on stale state is
  refused (``StaleDecision``) and the transaction rolled back, to be retried on fresh state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from accueil.conversations.models import Outcome
from accueil.conversations.service import EventRecord, do_record_interaction_events
from accueil.core.events import Event
from accueil.core.ids import new_id
from accueil.db.session import queue_event
from accueil.routing.decisions import (
    AgentPaused,
    Decision,
    ItemState,
    Offered,
    Overflowed,
    Presence,
    Requeued,
    StaleDecision,
    WorkItem,
)
from accueil.routing.engine import RoutingEngine
from accueil.routing.models import AgentState, PresencePeriod, RoutingItem
from accueil.routing.rules import RoutingConfig, SkillRequirement

HELD = (ItemState.offered.value, ItemState.active.value, ItemState.wrapup.value)


def to_datetime(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _seconds(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _same(stored: object, value: object) -> bool:
    if isinstance(stored, datetime) and isinstance(value, datetime):
        return abs(stored.timestamp() - value.timestamp()) < 1e-3  # float seconds round trip
    return stored == value


class RoutingPass:
    def __init__(self, session: Session, config: RoutingConfig, now: datetime) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.t = now.timestamp()
        self.engine = RoutingEngine(config)
        self.agent_rows: dict[str, AgentState] = {}
        self.item_rows: dict[str, RoutingItem] = {}
        self.events: list[EventRecord] = []
        self._locks = session.get_bind().dialect.name == "postgresql"
        self.fill_limit = 200

    def _locked(self, statement, *, skip: bool = False):
        return statement.with_for_update(skip_locked=skip) if self._locks else statement

    # Loading -----------------------------------------------------------------------------------------------

    def load_agents(
        self, user_ids: Iterable[str] | None = None, *, available_only: bool = False, skip_locked: bool = False
    ) -> list[str]:
        """Lock and restore agents (with everything they hold); returns the ids loaded."""
        statement = select(AgentState).order_by(AgentState.ready_since, AgentState.user_id)
        if user_ids is not None:
            statement = statement.where(AgentState.user_id.in_(list(user_ids)))
        if available_only:
            statement = statement.where(AgentState.presence == Presence.available.value)
        rows = [
            row for row in self.session.scalars(self._locked(statement, skip=skip_locked))
            if row.user_id in self.config.agents and row.user_id not in self.agent_rows
        ]  # fmt: skip
        for row in rows:
            self.agent_rows[row.user_id] = row
            self.engine.restore_agent(row.user_id, Presence(row.presence), row.reason)
        ids = [row.user_id for row in rows]
        if ids:
            held = select(RoutingItem).where(RoutingItem.agent_id.in_(ids), RoutingItem.status.in_(HELD))
            for item in self.session.scalars(held):
                self._restore(item)
        return ids

    def load_waiting(
        self, *, limit: int | None = None, queue_ids: Iterable[str] | None = None, item_ids: Iterable[str] = (),
        skip_locked: bool = True,
    ) -> int:
        statement = select(RoutingItem).where(RoutingItem.status == ItemState.waiting.value)
        if queue_ids is not None:
            statement = statement.where(RoutingItem.queue_id.in_(list(queue_ids)))
        item_ids = list(item_ids)
        if item_ids:
            statement = statement.where(RoutingItem.interaction_id.in_(item_ids))
        statement = statement.order_by(RoutingItem.priority.desc(), RoutingItem.arrived_at)
        if limit is not None:
            statement = statement.limit(limit)
        loaded = 0
        for row in self.session.scalars(self._locked(statement, skip=skip_locked)):
            if row.interaction_id not in self.item_rows:
                loaded += self._restore(row)
        return loaded

    def load_work_for(self, agent_id: str | None) -> None:
        """The waiting items this agent could take, so freeing their capacity fills it in the same pass."""
        if agent_id is None or agent_id not in self.agent_rows:
            return
        queues = [q for stages in self.config.agent_queues.get(agent_id, {}).values() for q in stages]
        if queues:
            self.load_waiting(limit=self.fill_limit, queue_ids=queues)
        queue_event(self.session, Event("routing.freed", {"agent_id": agent_id}, self.now))

    def load_item(self, item_id: str) -> RoutingItem | None:
        """Lock one item the right way round: its holder first, then the item. None if it is gone."""
        for _ in range(3):
            row = self.session.get(RoutingItem, item_id, populate_existing=True)
            if row is None:
                return None
            if row.status == ItemState.waiting.value:
                self.load_waiting(item_ids=[item_id], skip_locked=False)
            elif row.agent_id is not None:
                self.load_agents([row.agent_id])
            if item_id in self.item_rows:
                return self.item_rows[item_id]
            self.session.expire(row)  # it moved between our read and our lock: look again
        raise StaleDecision(f"item {item_id} keeps changing")

    def _restore(self, row: RoutingItem) -> int:
        if row.queue_id not in self.config.queues:
            return 0  # its queue was deactivated: left as it is
        if row.status != ItemState.waiting.value and row.agent_id not in self.engine.agents:
            return 0
        item = WorkItem(
            id=row.interaction_id, queue=row.queue_id, arrived_at=row.arrived_at.timestamp(),
            priority=row.priority, level=row.level,
            skills=tuple(SkillRequirement(skill, level) for skill, level in row.skills or ()),
            sla_due=_seconds(row.sla_due_at),
        )  # fmt: skip
        self.engine.restore_item(
            item, queued_at=row.queued_at.timestamp(), stage=row.stage, state=ItemState(row.status),
            agent=row.agent_id, offer_expires_at=_seconds(row.offer_expires_at),
            accepted_at=_seconds(row.accepted_at), declined=row.declined_by or (), pinned=row.pinned_agent_id,
        )  # fmt: skip
        self.item_rows[row.interaction_id] = row
        return 1

    # Saving ------------------------------------------------------------------------------------------------

    def record(self, item_id: str, kind: str, *, agent_id: str | None = None, data: dict | None = None,
               outcome: Outcome | None = None) -> None:
        self.events.append(EventRecord(item_id, kind, self.now, agent_id, data, outcome))

    def save(self, decisions: list[Decision]) -> None:
        """Write back what changed, log each decision on its interaction, publish after commit."""
        offers: dict[str, Offered] = {}
        touched: dict[str, float] = {}
        for decision in decisions:
            self._log(decision)
            if isinstance(decision, Offered):
                offers[decision.item] = decision
                touched[decision.agent] = decision.at
            elif isinstance(decision, Requeued):
                touched[decision.agent] = decision.at
        for item_id, row in self.item_rows.items():
            self._save_item(item_id, row, offers.get(item_id))
        for agent_id, row in self.agent_rows.items():
            self._save_agent(agent_id, row, touched.get(agent_id))
        if offers:
            self._check_capacity({o.agent for o in offers.values()})
        do_record_interaction_events(self.session, self.events)
        self.events = []

    def _log(self, decision: Decision) -> None:
        at = to_datetime(decision.at)
        if isinstance(decision, Offered):
            expires = to_datetime(decision.expires_at)
            self.events.append(EventRecord(decision.item, "offered", at, decision.agent, {
                "queue_id": decision.queue, "expires_at": expires.isoformat() if expires else None}))
            queue_event(self.session, Event("routing.offered", {
                "interaction_id": decision.item, "agent_id": decision.agent, "queue_id": decision.queue,
                "expires_at": expires.isoformat() if expires else None}, at))
        elif isinstance(decision, Requeued):
            kind = "declined" if decision.reason == "declined" else "requeued"
            self.events.append(EventRecord(decision.item, kind, at, decision.agent, {"reason": decision.reason}))
            queue_event(self.session, Event("routing.requeued", {
                "interaction_id": decision.item, "agent_id": decision.agent, "reason": decision.reason}, at))
        elif isinstance(decision, Overflowed):
            self.events.append(EventRecord(decision.item, "overflowed", at, None, {
                "from_queue_id": decision.from_queue, "to_queue_id": decision.to_queue, "stage": decision.stage}))
        elif isinstance(decision, AgentPaused):
            pass  # saved with the agent's presence

    def _save_item(self, item_id: str, row: RoutingItem, offer: Offered | None) -> None:
        state = self.engine.items.get(item_id)
        guard = (RoutingItem.interaction_id == item_id) & (RoutingItem.version == row.version)
        if state is None:
            done = self.session.execute(delete(RoutingItem).where(guard).execution_options(
                synchronize_session=False))
            if done.rowcount != 1:
                raise StaleDecision(f"item {item_id} changed under this decision")
            return
        values = {
            "status": state.state.value, "agent_id": state.agent, "queue_id": state.queue, "stage": state.stage,
            "queued_at": to_datetime(state.queued_at), "level": state.level, "pinned_agent_id": state.pinned,
            "declined_by": sorted(state.declined or ()), "accepted_at": to_datetime(state.accepted_at),
        }  # fmt: skip
        if offer is not None:
            values["offered_at"] = to_datetime(offer.at)
            values["offer_expires_at"] = to_datetime(offer.expires_at)
        elif state.state is ItemState.waiting:
            values["offered_at"] = values["offer_expires_at"] = None
        if all(_same(getattr(row, key), value) for key, value in values.items()):
            return
        done = self.session.execute(
            update(RoutingItem).where(guard).values(version=row.version + 1, **values)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if done.rowcount != 1:
            raise StaleDecision(f"item {item_id} changed under this decision")
        if values["queue_id"] != row.queue_id:
            from accueil.conversations.models import Interaction

            self.session.execute(update(Interaction).where(Interaction.id == item_id).values(
                queue_id=values["queue_id"]).execution_options(synchronize_session=False))

    def _save_agent(self, agent_id: str, row: AgentState, touched: float | None) -> None:
        agent = self.engine.agents[agent_id]
        values: dict = {}
        if agent.presence.value != row.presence or agent.reason != row.reason:
            values.update(presence=agent.presence.value, reason=agent.reason, presence_since=self.now)
            self._close_period(agent_id)
            self.session.add(PresencePeriod(id=new_id(), user_id=agent_id, presence=agent.presence.value,
                                            reason=agent.reason, started_at=self.now))
            queue_event(self.session, Event("routing.presence", {
                "agent_id": agent_id, "presence": agent.presence.value, "reason": agent.reason}, self.now))
            if agent.presence is Presence.available:
                values["ready_since"] = self.now
        if touched is not None:
            values["ready_since"] = to_datetime(touched)
        if values:
            self.session.execute(update(AgentState).where(AgentState.user_id == agent_id).values(
                version=AgentState.version + 1, **values).execution_options(synchronize_session=False))

    def _close_period(self, agent_id: str) -> None:
        self.session.execute(
            update(PresencePeriod)
            .where(PresencePeriod.user_id == agent_id, PresencePeriod.ended_at.is_(None))
            .values(ended_at=self.now).execution_options(synchronize_session=False)
        )

    def _check_capacity(self, agent_ids: set[str]) -> None:
        """Count what each agent now holds in the database: more than their capacity means a stale pass."""
        counts = self.session.execute(
            select(RoutingItem.agent_id, RoutingItem.media, func.count())
            .where(RoutingItem.agent_id.in_(agent_ids), RoutingItem.status.in_(HELD))
            .group_by(RoutingItem.agent_id, RoutingItem.media)
        )
        for agent_id, media, count in counts:
            if count > self.config.agents[agent_id].capacity.get(media, 0):
                raise StaleDecision(f"agent {agent_id} would hold {count} {media} items")
