"""The written backlog on the wallboard: e-mails, web forms and letters still awaiting their first reply,
per channel, by age, and how many are past their reply due time.

Age is wall-clock time since the contact arrived (what the customer has waited; the board's figures
read the same at night as by day); "overdue" is counted against the reply due time stored on arrival,
which is business time (``conversations.reply_targets``). A contact leaves the backlog with its first
reply (``answered_at``) or when it ends (its case resolved). Read in one grouped query over the
awaiting-reply partial index, so the cost follows the backlog, not the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from accueil.conversations.models import Interaction
from accueil.conversations.reply_targets import WRITTEN_CHANNELS

# (key, upper bound of the age): < 1 h, 1–4 h, 4–24 h, 1–3 d, > 3 d.
AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("under_1h", timedelta(hours=1)), ("1h_4h", timedelta(hours=4)), ("4h_24h", timedelta(hours=24)),
    ("1d_3d", timedelta(days=3)), ("over_3d", None),
)


def age_bucket(age: timedelta) -> int:
    """The index of the bucket an age falls in (a bound belongs to the older bucket: 1 h is "1–4 h")."""
    for index, (_, bound) in enumerate(AGE_BUCKETS):
        if bound is None or age < bound:
            return index
    raise AssertionError("unreachable: the last bucket has no bound")  # pragma: no cover


@dataclass(frozen=True)
class BacklogRow:
    channel: str
    by_age: tuple[int, ...]  # one count per AGE_BUCKETS entry
    overdue: int
    oldest_arrived_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.by_age)


def written_backlog(session: Session, *, now: datetime) -> list[BacklogRow]:
    """One row per written channel (zeros included, so the board keeps its shape)."""
    bounds = [now - bound for _, bound in AGE_BUCKETS if bound is not None]
    columns = []
    for index in range(len(AGE_BUCKETS)):
        newer = Interaction.arrived_at > bounds[index] if index < len(bounds) else None
        older = Interaction.arrived_at <= bounds[index - 1] if index > 0 else None
        condition = newer if older is None else older if newer is None else newer & older
        columns.append(func.sum(case((condition, 1), else_=0)))
    statement = (
        select(Interaction.channel, *columns, func.sum(case((Interaction.reply_due_at <= now, 1), else_=0)),
               func.min(Interaction.arrived_at))
        .where(Interaction.reply_due_at.is_not(None), Interaction.answered_at.is_(None),
               Interaction.ended_at.is_(None))
        .group_by(Interaction.channel)
    )
    found = {row[0].value: row[1:] for row in session.execute(statement)}
    rows = []
    for channel in WRITTEN_CHANNELS:
        values = found.get(channel.value)
        if values is None:
            rows.append(BacklogRow(channel.value, (0,) * len(AGE_BUCKETS), 0, None))
            continue
        counts = tuple(int(v or 0) for v in values[:len(AGE_BUCKETS)])
        rows.append(BacklogRow(channel.value, counts, int(values[len(AGE_BUCKETS)] or 0), values[-1]))
    return rows
