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
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from accueil.conversations.models import Interaction, Outcome
from accueil.conversations.service import EventRecord, do_record_interaction_events
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
from accueil.routing.events import RoutingFreed, RoutingOffered, RoutingPresence, RoutingRequeued
from accueil.routing.models import AgentState, PresencePeriod, RoutingItem
from accueil.routing.rules import RoutingConfig, SkillRequirement

HELD = (ItemState.offered.value, ItemState.active.value, ItemState.wrapup.value)
ITEMS = RoutingItem.__table__
AGENTS = AgentState.__table__
# Prebuilt statements: a pass may save many items; building an expression per item costs more than the SQL.
_UPDATE_ITEM = update(ITEMS).where(ITEMS.c.interaction_id == bindparam("b_id"),
                                   ITEMS.c.version == bindparam("b_version"))
_DELETE_ITEM = delete(ITEMS).where(ITEMS.c.interaction_id == bindparam("b_id"),
                                   ITEMS.c.version == bindparam("b_version"))
_UPDATE_AGENT = update(AGENTS).where(AGENTS.c.user_id == bindparam("b_id"))
_HELD_BY = select(ITEMS).where(ITEMS.c.agent_id.in_(bindparam("ids", expanding=True)), ITEMS.c.status.in_(HELD))
_AVAILABLE = select(AGENTS.c.user_id).where(AGENTS.c.presence == Presence.available.value)
_HELD_COUNTS = (
    select(ITEMS.c.agent_id, ITEMS.c.media, func.count())
    .where(ITEMS.c.agent_id.in_(bindparam("ids", expanding=True)), ITEMS.c.status.in_(HELD))
    .group_by(ITEMS.c.agent_id, ITEMS.c.media)
)
_RUNG_OUT = select(ITEMS.c.agent_id).distinct().where(
    ITEMS.c.status == ItemState.offered.value, ITEMS.c.offer_expires_at <= bindparam("now"))
_NEXT_EXPIRY = select(func.min(ITEMS.c.offer_expires_at)).where(ITEMS.c.status == ItemState.offered.value)
_ITEM_BY_ID = select(ITEMS).where(ITEMS.c.interaction_id == bindparam("b_id"))
_CLOSE_PERIOD = update(PresencePeriod.__table__).where(
    PresencePeriod.__table__.c.user_id == bindparam("b_id"), PresencePeriod.__table__.c.ended_at.is_(None))
_SAVED_FIELDS = ("status", "agent_id", "queue_id", "stage", "queued_at", "level", "pinned_agent_id", "declined_by",
                 "accepted_at", "offered_at", "offer_expires_at")


def to_datetime(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _seconds(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


_GONE = object()


def _same(stored: object, value: object) -> bool:
    if isinstance(stored, datetime) and isinstance(value, datetime):
        return abs(stored.timestamp() - value.timestamp()) < 1e-3  # float seconds round trip
    return stored == value


class RoutingPass:
    def __init__(self, session: Session, config: RoutingConfig, now: datetime, *, lock: bool = True) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.t = now.timestamp()
        self.engine = RoutingEngine(config)
        self.agent_rows: dict[str, Any] = {}  # rows of agent_states, as read
        self.item_rows: dict[str, Any] = {}  # rows of routing_items, as read
        self.events: list[EventRecord] = []
        self.conn = session.connection()  # Core statements: the ORM layer would only add cost here
        self._locks = lock and self.conn.dialect.name == "postgresql"
        self.fill_limit = 20  # an agent freeing a slot needs a few candidates; the dispatcher has the rest

    def _locked(self, statement, *, skip: bool = False):
        return statement.with_for_update(skip_locked=skip) if self._locks else statement

    # Loading -----------------------------------------------------------------------------------------------

    def load_agents(
        self, user_ids: Iterable[str] | None = None, *, available_only: bool = False, skip_locked: bool = False
    ) -> list[str]:
        """Lock and restore agents (with everything they hold); returns the ids loaded."""
        statement = select(AGENTS).order_by(AGENTS.c.ready_since, AGENTS.c.user_id)
        if user_ids is not None:
            statement = statement.where(AGENTS.c.user_id.in_(list(user_ids)))
        if available_only:
            statement = statement.where(AGENTS.c.presence == Presence.available.value)
        rows = [
            row for row in self.conn.execute(self._locked(statement, skip=skip_locked))
            if row.user_id in self.config.agents and row.user_id not in self.agent_rows
        ]  # fmt: skip
        for row in rows:
            self.agent_rows[row.user_id] = row
            self.engine.restore_agent(row.user_id, Presence(row.presence), row.reason)
        ids = [row.user_id for row in rows]
        if ids:
            for item in self.conn.execute(_HELD_BY, {"ids": ids}):
                self._restore(item)
        return ids

    def agents_to_dispatch(self) -> list[str]:
        """Available agents with free capacity in some media, and agents whose offer has rung out
        (read without locking; the pass then locks what it still finds)."""
        rung_out = list(self.conn.execute(_RUNG_OUT, {"now": self.now}).scalars())
        present = list(self.conn.execute(_AVAILABLE).scalars())
        if not present:
            return rung_out
        held: dict[str, dict[str, int]] = {}
        for agent_id, media, count in self.conn.execute(_HELD_COUNTS, {"ids": present}):
            held.setdefault(agent_id, {})[media] = count
        free = []
        for agent_id in present:
            profile = self.config.agents.get(agent_id)
            if profile is not None and any(
                count > held.get(agent_id, {}).get(media, 0) for media, count in profile.capacity.items()
            ):
                free.append(agent_id)
        return sorted(set(free) | set(rung_out))

    def next_offer_expiry(self) -> datetime | None:
        return self.conn.execute(_NEXT_EXPIRY).scalar()

    def waiting_window(self) -> tuple[list[str], int]:
        """The queues the loaded free agents can serve now, and how many waiting items are worth reading."""
        queues: set[str] = set()
        slots = 0
        for media, agents in self.engine.free.items():
            for agent_id in agents:
                agent = self.engine.agents[agent_id]
                slots += agent.profile.capacity.get(media, 0) - agent.load.get(media, 0)
                queues.update(self.config.agent_queues.get(agent_id, {}).get(media, ()))
        return sorted(queues), slots

    def load_waiting(
        self, *, limit: int | None = None, queue_ids: Iterable[str] | None = None, item_ids: Iterable[str] = (),
        media: Iterable[str] | None = None, skip_locked: bool = True,
    ) -> int:
        c = ITEMS.c
        statement = select(ITEMS).where(c.status == ItemState.waiting.value)
        if media is not None:
            statement = statement.where(c.media.in_(list(media)))
        if queue_ids is not None:
            statement = statement.where(c.queue_id.in_(list(queue_ids)))
        item_ids = list(item_ids)
        if item_ids:
            statement = statement.where(c.interaction_id.in_(item_ids))
        statement = statement.order_by(c.priority.desc(), c.arrived_at)
        if limit is not None:
            statement = statement.limit(limit)
        loaded = 0
        for row in self.conn.execute(self._locked(statement, skip=skip_locked)):
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
        queue_event(self.session, RoutingFreed(agent_id=agent_id), self.now)

    def load_item(self, item_id: str) -> Any | None:
        """Lock one item the right way round: its holder first, then the item. None if it is gone."""
        for _ in range(3):
            row = self.conn.execute(_ITEM_BY_ID, {"b_id": item_id}).first()
            if row is None:
                return None
            if row.status == ItemState.waiting.value:
                self.load_waiting(item_ids=[item_id], skip_locked=False)
            elif row.agent_id is not None:
                self.load_agents([row.agent_id])
            if item_id in self.item_rows:
                return self.item_rows[item_id]
            # it moved between our read and our lock: look again
        raise StaleDecision(f"item {item_id} keeps changing")

    def _restore(self, row: Any) -> int:
        if row.queue_id not in self.config.queues:
            return 0  # its queue was deactivated: left as it is
        if row.status != ItemState.waiting.value and row.agent_id not in self.engine.agents:
            return 0
        item = WorkItem(
            id=row.interaction_id, queue=row.queue_id, arrived_at=row.arrived_at.timestamp(),
            priority=row.priority, level=row.level,
            skills=tuple(SkillRequirement(skill, level) for skill, level in row.skills or ()),
            sla_due=_seconds(row.sla_due_at), motif=row.motif_id,
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
        updates, deletes = [], []
        for item_id, row in self.item_rows.items():
            change = self._item_change(item_id, row, offers.get(item_id))
            if change is _GONE:
                deletes.append({"b_id": item_id, "b_version": row.version})
            elif change is not None:
                updates.append(change)
        self._execute_guarded(_DELETE_ITEM, deletes)
        self._execute_guarded(_UPDATE_ITEM, updates)
        moved = [{"b_id": u["b_id"], "queue_id": u["queue_id"]} for u in updates
                 if u["queue_id"] != self.item_rows[u["b_id"]].queue_id]
        if moved:
            table = Interaction.__table__
            self.conn.execute(update(table).where(table.c.id == bindparam("b_id")), moved)
        for agent_id, row in self.agent_rows.items():
            self._save_agent(agent_id, row, touched.get(agent_id))
        if offers:
            self._check_capacity({(o.agent, self.config.queues[o.queue].rules.media) for o in offers.values()})
        do_record_interaction_events(self.session, self.events)
        self.events = []

    def _execute_guarded(self, statement: Any, params: list[dict]) -> None:
        if params and self.conn.execute(statement, params).rowcount != len(params):
            raise StaleDecision("an item changed under this decision")

    def _log(self, decision: Decision) -> None:
        at = to_datetime(decision.at)
        if isinstance(decision, Offered):
            expires = to_datetime(decision.expires_at)
            self.events.append(EventRecord(decision.item, "offered", at, decision.agent, {
                "queue_id": decision.queue, "expires_at": expires.isoformat() if expires else None}))
            queue_event(self.session, RoutingOffered(
                interaction_id=decision.item, agent_id=decision.agent, queue_id=decision.queue,
                expires_at=expires.isoformat() if expires else None), at)
        elif isinstance(decision, Requeued):
            kind = "declined" if decision.reason == "declined" else "requeued"
            self.events.append(EventRecord(decision.item, kind, at, decision.agent, {"reason": decision.reason}))
            queue_event(self.session, RoutingRequeued(
                interaction_id=decision.item, agent_id=decision.agent, reason=decision.reason), at)
        elif isinstance(decision, Overflowed):
            self.events.append(EventRecord(decision.item, "overflowed", at, None, {
                "from_queue_id": decision.from_queue, "to_queue_id": decision.to_queue, "stage": decision.stage}))
        elif isinstance(decision, AgentPaused):
            pass  # saved with the agent's presence

    def _item_change(self, item_id: str, row: Any, offer: Offered | None) -> dict | object | None:
        """The new values of a changed item (with its guard), _GONE if it ended, None if unchanged."""
        state = self.engine.items.get(item_id)
        if state is None:
            return _GONE
        values = {
            "status": state.state.value, "agent_id": state.agent, "queue_id": state.queue, "stage": state.stage,
            "queued_at": to_datetime(state.queued_at), "level": state.level, "pinned_agent_id": state.pinned,
            "declined_by": sorted(state.declined or ()), "accepted_at": to_datetime(state.accepted_at),
            "offered_at": row.offered_at, "offer_expires_at": row.offer_expires_at,
        }  # fmt: skip
        if offer is not None:
            values["offered_at"] = to_datetime(offer.at)
            values["offer_expires_at"] = to_datetime(offer.expires_at)
        elif state.state is ItemState.waiting:
            values["offered_at"] = values["offer_expires_at"] = None
        if all(_same(getattr(row, key), values[key]) for key in _SAVED_FIELDS):
            return None
        values.update(b_id=item_id, b_version=row.version, version=row.version + 1)
        return values

    def _save_agent(self, agent_id: str, row: AgentState, touched: float | None) -> None:
        agent = self.engine.agents[agent_id]
        values: dict = {}
        if agent.presence.value != row.presence or agent.reason != row.reason:
            values.update(presence=agent.presence.value, reason=agent.reason, presence_since=self.now)
            self._close_period(agent_id)
            self.session.add(PresencePeriod(id=new_id(), user_id=agent_id, presence=agent.presence.value,
                                            reason=agent.reason, started_at=self.now))
            queue_event(self.session, RoutingPresence(
                agent_id=agent_id, presence=agent.presence.value, reason=agent.reason), self.now)
            if agent.presence is Presence.available:
                values["ready_since"] = self.now
        if touched is not None:
            values["ready_since"] = to_datetime(touched)
        if values:
            self.conn.execute(_UPDATE_AGENT, {"b_id": agent_id, "version": row.version + 1, **values})

    def _close_period(self, agent_id: str) -> None:
        self.conn.execute(_CLOSE_PERIOD, {"b_id": agent_id, "ended_at": self.now})

    def _check_capacity(self, offered: set[tuple[str, str]]) -> None:
        """Count what each agent now holds in the media they were just offered: more than their capacity means
        a stale pass. Other media are not checked: an agent over capacity there (capacity lowered while they
        held work) must not block offers in a media where they have room."""
        agent_ids = sorted({agent_id for agent_id, _ in offered})
        for agent_id, media, count in self.conn.execute(_HELD_COUNTS, {"ids": agent_ids}):
            if (agent_id, media) in offered and count > self.config.agents[agent_id].capacity.get(media, 0):
                raise StaleDecision(f"agent {agent_id} would hold {count} {media} items")
