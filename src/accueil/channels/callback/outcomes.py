"""What became of a callback attempt, told by the agent who made the call.

reached → the callback is done; wrong number → closed, never tried again; no answer or voicemail → the
next attempt is scheduled by the retry policy (a new durable timer, one per attempt) until the attempts
run out → exhausted, and the customer is told. The attempt's interaction is finished through routing's
own write path (the agent is freed), so the console and the KPIs see an ordinary end of contact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accueil.channels.callback.events import CallbackAttempted
from accueil.channels.callback.models import (
    RETRIED_OUTCOMES,
    Callback,
    CallbackAttempt,
    CallbackOutcome,
    CallbackStatus,
)
from accueil.channels.callback.notices import do_notify_customer
from accueil.channels.callback.policy import RetryPolicy, next_attempt_at
from accueil.channels.callback.service import DUE_KIND, due_job_key
from accueil.conversations.models import Interaction, Outcome
from accueil.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accueil.db.jobs import do_schedule_job
from accueil.db.session import queue_event
from accueil.routing.config_loader import RoutingConfigCache
from accueil.routing.decisions import ItemState
from accueil.routing.models import RoutingItem
from accueil.routing.service import do_end, do_end_wrapup

NEXT_STATUS = {CallbackOutcome.reached: CallbackStatus.done, CallbackOutcome.wrong_number: CallbackStatus.closed}


def check_outcome(value: str) -> CallbackOutcome:
    try:
        return CallbackOutcome(value)
    except ValueError:
        allowed = ", ".join(o.value for o in CallbackOutcome)
        raise ValidationFailed("validation_error", summary=f"outcome is one of {allowed}") from None


def access_attempt(session: Session, *, callback_id: str, attempt: int | None = None) -> CallbackAttempt:
    """The numbered attempt, else the latest one."""
    if session.get(Callback, callback_id) is None:
        raise NotFound("not_found", kind="callback", id=callback_id)
    statement = select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
    statement = (statement.where(CallbackAttempt.number == attempt) if attempt is not None
                 else statement.order_by(CallbackAttempt.number.desc()).limit(1))
    found = session.scalar(statement)
    if found is None:
        raise NotFound("not_found", kind="callback attempt", id=f"{callback_id}#{attempt or 'latest'}")
    return found


def _finish_interaction(session: Session, *, rules: RoutingConfigCache, attempt: CallbackAttempt, user_id: str,
                        may_act_for_others: bool, now: datetime) -> str | None:
    """End the attempt's call through routing (freeing its agent); returns the agent who made it."""
    item = session.get(RoutingItem, attempt.interaction_id)
    interaction = session.get(Interaction, attempt.interaction_id)
    agent_id = item.agent_id if item is not None else interaction.agent_id
    if agent_id is None or (item is not None and item.status not in (ItemState.active.value,
                                                                       ItemState.wrapup.value)):
        raise Conflict("stale_decision", reason="nobody has taken this callback yet")
    if agent_id != user_id and not may_act_for_others:
        raise PermissionDenied("forbidden")
    if item is not None and item.status == ItemState.active.value:
        do_end(session, rules=rules, item_id=item.interaction_id, wrapup=False, user_id=agent_id, now=now)
    elif item is not None:
        do_end_wrapup(session, rules=rules, item_id=item.interaction_id, user_id=agent_id, now=now)
    return agent_id


def do_record_outcome(session: Session, *, callback_id: str, outcome: CallbackOutcome | str, user_id: str,
                      rules: RoutingConfigCache, policy: RetryPolicy, now: datetime, attempt: int | None = None,
                      may_act_for_others: bool = False) -> Callback:
    """Record how the current (or the numbered) attempt went; the same outcome again changes nothing."""
    outcome = check_outcome(outcome) if isinstance(outcome, str) else outcome
    row = access_attempt(session, callback_id=callback_id, attempt=attempt)
    callback = session.get(Callback, callback_id, with_for_update=True)
    if row.outcome is not None:
        if row.outcome is outcome:
            return callback  # a repeat: already recorded, nothing more to do
        raise Conflict("stale_decision", reason=f"attempt {row.number} was already recorded as {row.outcome.value}")
    if callback.status is not CallbackStatus.queued or row.number != callback.attempts:
        raise Conflict("stale_decision", reason=f"the callback is {callback.status.value}")
    row.agent_id = _finish_interaction(session, rules=rules, attempt=row, user_id=user_id,
                                       may_act_for_others=may_act_for_others, now=now)
    interaction = session.get(Interaction, row.interaction_id)
    session.refresh(interaction)
    if outcome is not CallbackOutcome.reached:
        interaction.outcome = Outcome.failed  # the call was made, the customer not reached
    row.outcome, row.at = outcome, now
    if outcome in RETRIED_OUTCOMES:
        tried_at = interaction.answered_at or now
        following = next_attempt_at(policy, attempts_made=row.number, last_attempt_at=tried_at, now=now)
        if following is None:
            callback.status = CallbackStatus.exhausted
            do_notify_customer(session, callback=callback, kind="exhausted", now=now, timezone=policy.timezone)
        else:
            callback.status, callback.due_at = CallbackStatus.scheduled, following
            do_schedule_job(session, kind=DUE_KIND, run_at=following, dedupe_key=due_job_key(callback.id, row.number + 1),
                            payload={"callback_id": callback.id, "attempt": row.number + 1})
    else:
        callback.status = NEXT_STATUS[outcome]
    session.flush()
    queue_event(session, CallbackAttempted(
        callback_id=callback.id, case_id=callback.case_id, attempt=row.number, outcome=outcome.value,
        status=callback.status.value, agent_id=row.agent_id), now)
    return callback
