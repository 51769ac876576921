"""The write path for routing rules: queues, the skills they need, overflow steps, opening hours.

Every change is checked against what exists (skills, sites, queues), written in the caller's transaction
and bumps the configuration version, so every process routes with the new rules from its next pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from accueil.conversations.models import ChannelKind, Motif
from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.identity.models import Site, Skill
from accueil.routing.config_loader import DAYS, build_routing_config, bump_config_version, media_of
from accueil.routing.models import Queue, QueueSkill, TargetKind
from accueil.routing.rules import (
    SYNCHRONOUS_MEDIA,
    AgentSelection,
    ClosedBehaviour,
    Delivery,
    OrderBy,
    RoutingRuleError,
)

RULE_FIELDS = (
    "name_fr", "name_en", "level", "priority", "target_kind", "target_percent", "target_seconds", "opening_hours",
    "timezone", "active", "selection", "delivery", "order_by", "sites", "overflow", "ring_timeout_seconds",
    "callback_offer_after_seconds", "default_handle_seconds", "closed_behaviour", "closed_queue",
)  # fmt: skip


def access_queue(session: Session, queue_ref: str) -> Queue:
    """A queue by id or by code."""
    queue = session.get(Queue, queue_ref) or session.scalar(select(Queue).where(Queue.code == queue_ref))
    if queue is None:
        raise NotFound("not_found", kind="queue", id=queue_ref)
    return queue


def _invalid(summary: str) -> ValidationFailed:
    return ValidationFailed("validation_error", summary=summary)


def _check_choice(name: str, value: Any, allowed: type) -> str:
    try:
        return allowed(value).value
    except ValueError:
        raise _invalid(f"{name} must be one of {', '.join(m.value for m in allowed)}") from None


def _check_sites(session: Session, codes: list[str]) -> list[str]:
    known = set(session.scalars(select(Site.code).where(Site.code.in_(codes))))
    for code in codes:
        if code not in known:
            raise ValidationFailed("unknown_site", value=code)
    return list(dict.fromkeys(codes))


def _check_hours(hours: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for day, ranges in hours.items():
        if day not in DAYS:
            raise _invalid(f"opening hours: unknown day {day!r} (use {', '.join(DAYS)})")
        clean = []
        for pair in ranges:
            try:
                start, end = pair
                minutes = [int(t.split(":")[0]) * 60 + int(t.split(":")[1]) for t in (start, end)]
            except (ValueError, TypeError, AttributeError, IndexError):
                raise _invalid(f"opening hours: {pair!r} is not a pair of HH:MM times") from None
            if not 0 <= minutes[0] < minutes[1] <= 24 * 60:
                raise _invalid(f"opening hours: {start}–{end} must start before it ends, within the day")
            clean.append([start, end])
        checked[day] = clean
    return checked


def _check_overflow(session: Session, queue: Queue, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checked, previous = [], 0.0
    for number, step in enumerate(steps, start=1):
        unknown = set(step) - {"after_seconds", "min_skill_level", "any_skill", "add_sites", "to_queue"}
        if unknown:
            raise _invalid(f"overflow step {number}: unknown field(s) {', '.join(sorted(unknown))}")
        after = step.get("after_seconds")
        if not isinstance(after, int | float) or after < previous or after > 7 * 86400:
            raise _invalid(f"overflow step {number}: after_seconds must be a number, increasing, at most a week")
        previous = float(after)
        clean: dict[str, Any] = {"after_seconds": after}
        level = step.get("min_skill_level")
        if level is not None:
            if not isinstance(level, int) or not 1 <= level <= 5:
                raise _invalid(f"overflow step {number}: min_skill_level must be 1 to 5")
            clean["min_skill_level"] = level
        if step.get("any_skill"):
            clean["any_skill"] = True
        if step.get("add_sites"):
            clean["add_sites"] = _check_sites(session, list(step["add_sites"]))
        if step.get("to_queue"):
            target = access_queue(session, step["to_queue"])
            if target.id == queue.id or media_of(target.channel) != media_of(queue.channel):
                raise _invalid(f"overflow step {number}: {target.code} is not another queue of the same media")
            clean["to_queue"] = target.code
        if len(clean) == 1:
            raise _invalid(f"overflow step {number} changes nothing")
        checked.append(clean)
    return checked


def do_save_queue(session: Session, *, code: str, channel: str | None = None, now: datetime | None = None,
                  **fields: Any) -> Queue:
    """Create the queue ``code`` or change the given fields of it (validated, all or nothing)."""
    unknown = set(fields) - set(RULE_FIELDS) - {"motif", "skills"}
    if unknown:
        raise _invalid(f"unknown queue field(s): {', '.join(sorted(unknown))}")
    queue = session.scalar(select(Queue).where(Queue.code == code))
    if queue is None:
        if channel is None or not fields.get("name_fr") or not fields.get("name_en"):
            raise _invalid("a new queue needs a channel, name_fr and name_en")
        channel = _check_choice("channel", channel, ChannelKind)
        synchronous = media_of(channel) in SYNCHRONOUS_MEDIA
        queue = Queue(code=code, channel=channel, name_fr=fields["name_fr"], name_en=fields["name_en"],
                      target_kind=TargetKind.service_level if synchronous else TargetKind.reply_delay,
                      target_seconds=20 if synchronous else 86400, opening_hours={}, overflow=[],
                      created_at=now or clock.now())
        session.add(queue)
        session.flush()
    elif channel is not None and channel != queue.channel:
        raise Conflict("validation_error", summary="a queue's channel cannot change; create another queue")
    if "motif" in fields:
        motif = fields.pop("motif")
        found = session.scalar(select(Motif).where(Motif.code == motif)) if motif else None
        if motif and found is None:
            raise ValidationFailed("unknown_motif", value=motif)
        queue.motif_id = found.id if found else None
    if "skills" in fields:
        _set_queue_skills(session, queue, fields.pop("skills"))
    for name, value in fields.items():
        _set_field(session, queue, name, value)
    if queue.closed_behaviour == ClosedBehaviour.overflow.value and queue.closed_queue_id in (None, queue.id):
        raise _invalid("closed_behaviour 'overflow' needs another queue as closed_queue")
    if queue.delivery == Delivery.pull.value and media_of(queue.channel) in SYNCHRONOUS_MEDIA:
        raise _invalid("pull delivery is for asynchronous channels; calls and chats are pushed")
    queue.updated_at = now or clock.now()
    session.flush()
    try:  # the rules as a whole must still compile (e.g. no overflow loop across queues)
        build_routing_config(session)
    except RoutingRuleError as exc:
        raise _invalid(str(exc)) from None
    bump_config_version(session)
    return queue


def _set_field(session: Session, queue: Queue, name: str, value: Any) -> None:
    if name in ("level", "priority", "target_percent", "target_seconds", "ring_timeout_seconds",
                "default_handle_seconds", "callback_offer_after_seconds"):
        if value is None and name == "callback_offer_after_seconds":
            queue.callback_offer_after_seconds = None
            return
        bounds = {"level": (1, 3), "priority": (-100, 100), "target_percent": (1, 100),
                  "target_seconds": (0, 30 * 86400), "ring_timeout_seconds": (0, 600),
                  "default_handle_seconds": (1, 86400), "callback_offer_after_seconds": (0, 86400)}[name]
        if not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
            raise _invalid(f"{name} must be an integer from {bounds[0]} to {bounds[1]}")
        setattr(queue, name, value)
    elif name in ("name_fr", "name_en"):
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise _invalid(f"{name} must be 1 to 200 characters")
        setattr(queue, name, value.strip())
    elif name == "target_kind":
        queue.target_kind = TargetKind(_check_choice(name, value, TargetKind))
    elif name == "timezone":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise _invalid(f"unknown time zone {value!r}") from None
        queue.timezone = value
    elif name == "active":
        queue.active = bool(value)
    elif name == "selection":
        queue.selection = _check_choice(name, value, AgentSelection)
    elif name == "delivery":
        queue.delivery = _check_choice(name, value, Delivery)
    elif name == "order_by":
        queue.order_by = _check_choice(name, value, OrderBy)
    elif name == "closed_behaviour":
        queue.closed_behaviour = _check_choice(name, value, ClosedBehaviour)
    elif name == "closed_queue":
        queue.closed_queue_id = access_queue(session, value).id if value else None
    elif name == "sites":
        queue.sites = None if value is None else _check_sites(session, list(value))
    elif name == "overflow":
        queue.overflow = _check_overflow(session, queue, list(value or []))
    elif name == "opening_hours":
        queue.opening_hours = _check_hours(dict(value or {}))


def _set_queue_skills(session: Session, queue: Queue, skills: dict[str, int]) -> None:
    """Replace the skills the queue needs: {skill code: minimum level 1–5}."""
    found = dict(session.execute(select(Skill.code, Skill.id).where(Skill.code.in_(list(skills)))).all())
    for code, level in skills.items():
        if code not in found:
            raise ValidationFailed("unknown_skill", value=code)
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise _invalid(f"minimum level for {code} must be 1 to 5")
    session.execute(delete(QueueSkill).where(QueueSkill.queue_id == queue.id))
    session.add_all(QueueSkill(queue_id=queue.id, skill_id=found[code], min_level=level)
                    for code, level in skills.items())


def queue_skills(session: Session, queue_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Skill.code, QueueSkill.min_level).join(Skill, Skill.id == QueueSkill.skill_id)
        .where(QueueSkill.queue_id == queue_id)
    )
    return dict(rows.all())
