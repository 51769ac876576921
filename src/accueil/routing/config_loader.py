"""Build the engine's rules from the database, once per configuration version and process.

Queues, queue skills, sites, teams, users and agent skills change rarely; every change bumps
``routing_config_version`` in its transaction, and each process recompiles when it sees a new number.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accueil.conversations.models import Motif
from accueil.core.permissions import ROUTABLE_ROLES
from accueil.identity.models import AgentSkill, Site, SiteKind, Skill, Team, User
from accueil.routing.models import AgentState, Queue, QueueSkill, RoutingConfigVersion
from accueil.routing.rules import (  # noqa: F401 - media_of re-exported
    DEFAULT_CAPACITY,
    AgentProfile,
    AgentSelection,
    ClosedBehaviour,
    Delivery,
    OpeningHours,
    OrderBy,
    OverflowStep,
    QueueRules,
    RoutingConfig,
    SkillRequirement,
    media_of,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_opening_hours(hours: Mapping[str, Any], timezone: str) -> OpeningHours | None:
    """``{"mon": [["08:30", "18:00"]], ...}`` → OpeningHours; empty → None (always open)."""
    if not hours:
        return None
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for day, ranges in hours.items():
        weekly[DAYS.index(day)] = tuple((_minutes(start), _minutes(end)) for start, end in ranges)
    return OpeningHours(weekly=weekly, timezone=timezone)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


_local_changes = 0  # bumps made by this process: its caches look at the database at once


def bump_config_version(session: Session) -> None:
    """Tell every process to recompile its routing rules (call in the transaction that changed them)."""
    global _local_changes
    _local_changes += 1
    done = session.execute(update(RoutingConfigVersion).where(RoutingConfigVersion.id == 1).values(
        version=RoutingConfigVersion.version + 1).execution_options(synchronize_session=False))
    if done.rowcount == 0:  # the row the migration creates was removed (a wiped database): start again
        session.add(RoutingConfigVersion(id=1, version=1))
        session.flush()


def current_config_version(session: Session) -> int:
    return session.scalar(select(RoutingConfigVersion.version).where(RoutingConfigVersion.id == 1)) or 0


def build_routing_config(session: Session) -> RoutingConfig:
    queues = list(session.scalars(select(Queue).where(Queue.active.is_(True))))
    codes = {q.id: q.code for q in session.scalars(select(Queue))}
    by_code = {code: queue_id for queue_id, code in codes.items()}
    skills = dict(session.execute(select(Skill.id, Skill.code)).all())
    requirements: dict[str, list[SkillRequirement]] = {}
    for row in session.execute(select(QueueSkill.queue_id, QueueSkill.skill_id, QueueSkill.min_level)):
        requirements.setdefault(row.queue_id, []).append(SkillRequirement(skills[row.skill_id], row.min_level))
    rules = [_queue_rules(q, requirements.get(q.id, []), by_code) for q in queues]
    active_ids = {q.id for q in queues}
    rules = [_without_inactive_targets(r, active_ids) for r in rules]

    sites = dict(session.execute(select(Site.id, Site.code)).all())
    motif_ids = dict(session.execute(select(Motif.code, Motif.id)).all())
    # An outsourced site's agents take only its levels and, if it lists them, its motifs.
    partner_scope = {site.id: (site.max_level, None if site.motif_codes is None else
                               frozenset(motif_ids[c] for c in site.motif_codes if c in motif_ids))
                     for site in session.scalars(select(Site).where(Site.kind == SiteKind.partner))}
    team_levels = dict(session.execute(select(Team.id, Team.level)).all())
    capacities = dict(session.execute(select(AgentState.user_id, AgentState.capacity)).all())
    agent_skills: dict[str, dict[str, int]] = {}
    for row in session.execute(select(AgentSkill.user_id, AgentSkill.skill_id, AgentSkill.level)):
        agent_skills.setdefault(row.user_id, {})[skills[row.skill_id]] = row.level
    agents = []
    users = session.execute(
        select(User.id, User.site_id, User.team_id).where(User.active.is_(True), User.role.in_(ROUTABLE_ROLES))
    )
    for user in users:
        capacity = dict(DEFAULT_CAPACITY)
        capacity.update(capacities.get(user.id) or {})
        level = team_levels.get(user.team_id, 1)
        max_level, motifs = partner_scope.get(user.site_id, (level, None))
        agents.append(AgentProfile(
            id=user.id,
            skills=agent_skills.get(user.id, {}),
            site=sites.get(user.site_id),
            level=min(level, max_level),
            capacity=capacity,
            motifs=motifs,
        ))
    return RoutingConfig(rules, agents)


def _queue_rules(queue: Queue, skills: list[SkillRequirement], by_code: Mapping[str, str]) -> QueueRules:
    steps = tuple(
        OverflowStep(
            after_seconds=float(step["after_seconds"]),
            min_skill_level=step.get("min_skill_level"),
            any_skill=bool(step.get("any_skill", False)),
            add_sites=frozenset(step.get("add_sites", ())),
            to_queue=by_code.get(step["to_queue"]) if step.get("to_queue") else None,
        )
        for step in queue.overflow or ()
    )
    return QueueRules(
        id=queue.id,
        media=media_of(queue.channel),
        level=queue.level,
        priority=queue.priority,
        skills=tuple(skills),
        sites=frozenset(queue.sites) if queue.sites is not None else None,
        overflow=steps,
        selection=AgentSelection(queue.selection),
        delivery=Delivery(queue.delivery),
        order_by=OrderBy(queue.order_by),
        ring_timeout_seconds=float(queue.ring_timeout_seconds),
        callback_offer_after_seconds=(
            float(queue.callback_offer_after_seconds) if queue.callback_offer_after_seconds is not None else None
        ),
        default_handle_seconds=float(queue.default_handle_seconds),
        hours=parse_opening_hours(queue.opening_hours, queue.timezone),
        closed_behaviour=ClosedBehaviour(queue.closed_behaviour),
        closed_queue=queue.closed_queue_id,
    )


def _without_inactive_targets(rules: QueueRules, active: set[str]) -> QueueRules:
    """A deactivated queue stops receiving overflow rather than breaking the others' rules."""
    from dataclasses import replace

    steps = tuple(s for s in rules.overflow if s.to_queue is None or s.to_queue in active)
    closed = rules.closed_queue if rules.closed_queue in active else None
    behaviour = rules.closed_behaviour
    if behaviour is ClosedBehaviour.overflow and closed is None:
        behaviour = ClosedBehaviour.wait
    return replace(rules, overflow=steps, closed_queue=closed, closed_behaviour=behaviour)


class RoutingConfigCache:
    """The compiled rules for the configuration version this process last saw.

    The version is read from the database at most every ``check_seconds`` (another process's change is
    seen that late), and at once after a change made by this process.
    """

    def __init__(self, check_seconds: float = 0.5) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._config: RoutingConfig | None = None
        self._checked_at = -math.inf
        self._seen_local = -1
        self.check_seconds = check_seconds

    def get(self, session: Session) -> RoutingConfig:
        moment, local = time.monotonic(), _local_changes
        with self._lock:
            if (self._config is not None and self._seen_local == local
                    and moment - self._checked_at < self.check_seconds):
                return self._config
        # The queries run outside the lock: one may wait for the database (SQLite's single writer), and
        # that writer may itself be waiting for this lock — holding it here would deadlock them.
        version = current_config_version(session)
        with self._lock:
            if self._config is not None and version == self._version:
                self._seen_local, self._checked_at = local, moment
                return self._config
        config = build_routing_config(session)
        with self._lock:
            self._config, self._version, self._seen_local, self._checked_at = config, version, local, moment
            return config

    def clear(self) -> None:
        with self._lock:
            self._config = None
