"""What one transaction of inbound contacts reads once and writes once.

Receiving a contact needs a handful of lookups (its receipt, its identities' owner, the customer's open
and recently resolved cases) and a handful of inserts. Done contact by contact, statement overhead is
most of the cost; so a batch — one contact or the sixty-four that arrived together — reads all its
lookups in a few multi-row queries up front, answers later contacts of the same batch from what
earlier ones created, and writes every new row at the end with one multi-row INSERT per table.
Case references are numbered at that point too, exactly as many as new cases, so there are no gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from accueil.conversations.models import (
    CASE_REFERENCE_SEQUENCE,
    OPEN_STATUSES,
    Case,
    CaseCounter,
    CaseStatus,
    ChannelKind,
    InboundReceipt,
    Interaction,
    InteractionEvent,
    Message,
)
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import access_customer
from accueil.db.jobs import Job

BATCH = "accueil_inbound_batch"  # session.info key of the batch in progress

_CASES = Case.__table__
_RECEIPTS = select(
    InboundReceipt.channel, InboundReceipt.provider_message_id, InboundReceipt.interaction_id,
    InboundReceipt.message_id,
).where(InboundReceipt.provider_message_id.in_(bindparam("pids", expanding=True)))
_OWNERS = (
    select(Identity.kind, Identity.value, Identity.customer_id, Customer.merged_into_id)
    .join(Customer, Customer.id == Identity.customer_id)
    .where(Identity.value.in_(bindparam("values", expanding=True)))
)
# PostgreSQL: lock the batch's known customers, so two writers never both open a case for one need
# (SQLite has a single writer anyway).
_OWNERS_LOCKING = _OWNERS.with_for_update(of=Customer)
_CUSTOMER_CASES = select(
    Case.id, Case.reference, Case.status, Case.customer_id, Case.motif_id, Case.created_at, Case.resolved_at
).where(
    Case.customer_id.in_(bindparam("customers", expanding=True)),
    Case.status.in_([*OPEN_STATUSES, CaseStatus.resolved, CaseStatus.closed]),
    (Case.status.in_(OPEN_STATUSES)) | (Case.resolved_at >= bindparam("since")),
)
_COUNTER = CaseCounter.__table__
_RESERVE_SERIALS = (
    _COUNTER.update().where(_COUNTER.c.name == "case_reference")
    .values(value=_COUNTER.c.value + bindparam("count")).returning(_COUNTER.c.value)
)
_SERIALS_FROM_SEQUENCE = text(
    f"SELECT nextval('{CASE_REFERENCE_SEQUENCE}') FROM generate_series(1, :count)"
)
_TOUCH = _CASES.update().where(_CASES.c.id == bindparam("case_id")).values(updated_at=bindparam("now"))
_TOUCH_AND_OPEN = (
    _CASES.update().where(_CASES.c.id == bindparam("case_id"))
    .values(updated_at=bindparam("now"), status=bindparam("status"))
)
_COUNT_REPEAT = (
    _CASES.update().where(_CASES.c.id == bindparam("case_id"))
    .values(repeat_contact_count=_CASES.c.repeat_contact_count + 1)
)
INSERT_CUSTOMER = Customer.__table__.insert()
INSERT_IDENTITY = Identity.__table__.insert()
INSERT_CASE = _CASES.insert()
INSERT_INTERACTION = Interaction.__table__.insert()
INSERT_EVENT = InteractionEvent.__table__.insert()
INSERT_MESSAGE = Message.__table__.insert()
INSERT_RECEIPT = InboundReceipt.__table__.insert()
INSERT_JOB = Job.__table__.insert()
# Other domains' rows (routing's queue entries) are written after these and before the jobs.
_PARENTS_FIRST = (INSERT_CUSTOMER, INSERT_IDENTITY, INSERT_CASE, INSERT_INTERACTION, INSERT_EVENT, INSERT_MESSAGE,
                  INSERT_RECEIPT)


@dataclass
class CaseRef:
    id: str
    reference: str | None  # None until a new case is numbered at flush
    status: CaseStatus
    motif_id: str | None


@dataclass
class InboundBatch:
    receipts: dict[tuple[ChannelKind, str], tuple[str, str]] = field(default_factory=dict)
    owners: dict[tuple[IdentityKind, str], str | None] = field(default_factory=dict)
    open_cases: dict[tuple[str, str | None], CaseRef] = field(default_factory=dict)
    resolved: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    customers_loaded: set[str] = field(default_factory=set)
    rows: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    unnumbered: list[dict[str, Any]] = field(default_factory=list)  # new case rows, numbered at flush
    awaiting_reference: dict[str, list[Any]] = field(default_factory=dict)  # case id -> results to fill
    touches: dict[str, tuple[datetime, bool]] = field(default_factory=dict)  # case id -> (now, reopen)
    repeats: list[str] = field(default_factory=list)

    # ---- reads -------------------------------------------------------------------------------------
    def prefetch(self, session: Session, contacts: list[Any], *, since: datetime) -> None:
        """Everything the contacts will look up, in at most three queries."""
        connection = session.connection()
        pids = sorted({c.provider_message_id for c in contacts if c.provider_message_id is not None})
        if pids:
            for row in connection.execute(_RECEIPTS, {"pids": pids}):
                self.receipts[(row.channel, row.provider_message_id)] = (row.interaction_id, row.message_id)
        refs = {ref for c in contacts for ref in c.identities}
        for ref in refs:
            self.owners.setdefault((ref.kind, ref.value), None)
        if refs:
            self._load_owners(session, sorted({ref.value for ref in refs}))
        known = {owner for owner in self.owners.values() if owner is not None}
        self.load_cases(session, known, since=since)

    def _load_owners(self, session: Session, values: list[str]) -> None:
        connection = session.connection()
        statement = _OWNERS_LOCKING if connection.dialect.name == "postgresql" else _OWNERS
        for row in connection.execute(statement, {"values": values}).all():
            owner = access_customer(session, row.customer_id).id if row.merged_into_id else row.customer_id
            self.owners[(row.kind, row.value)] = owner

    def owner(self, session: Session, kind: IdentityKind, value: str) -> str | None:
        if (kind, value) not in self.owners:
            self.owners[(kind, value)] = None
            self._load_owners(session, [value])
        return self.owners[(kind, value)]

    def load_cases(self, session: Session, customers: set[str], *, since: datetime) -> None:
        """Open cases (the latest per motif) and cases resolved since ``since`` of these customers."""
        missing = sorted(customers - self.customers_loaded)
        if not missing:
            return
        self.customers_loaded.update(missing)
        rows = session.connection().execute(_CUSTOMER_CASES, {"customers": missing, "since": since}).all()
        for row in sorted(rows, key=lambda r: r.created_at):
            if row.status in OPEN_STATUSES:
                self.open_cases[(row.customer_id, row.motif_id)] = CaseRef(
                    row.id, row.reference, row.status, row.motif_id)
            elif row.motif_id is not None and row.resolved_at is not None:
                key = (row.customer_id, row.motif_id)
                if key not in self.resolved or self.resolved[key][1] < row.resolved_at:
                    self.resolved[key] = (row.id, row.resolved_at)

    # ---- writes ------------------------------------------------------------------------------------
    def add(self, statement: Any, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        self.rows.setdefault(statement, []).extend(rows if isinstance(rows, list) else [rows])

    def touch(self, case: CaseRef, now: datetime) -> None:
        reopen = case.status is CaseStatus.pending  # the customer answered what we were waiting for
        previous = self.touches.get(case.id)
        self.touches[case.id] = (now, reopen or (previous is not None and previous[1]))
        if reopen:
            case.status = CaseStatus.open

    def flush(self, session: Session) -> None:
        """Number new cases, then write every queued row, parents first. Can run several times."""
        connection = session.connection()
        if self.unnumbered:
            serials = self._reserve_serials(session, len(self.unnumbered))
            for row, serial in zip(self.unnumbered, serials, strict=True):
                row["reference"] = f"D-{row['created_at'].year}-{serial:06d}"
                for result in self.awaiting_reference.pop(row["id"], []):
                    result.case_reference = row["reference"]
                case = self.open_cases.get((row["customer_id"], row["motif_id"]))
                if case is not None and case.id == row["id"]:
                    case.reference = row["reference"]
            self.unnumbered.clear()
        others = [statement for statement in self.rows if statement not in _PARENTS_FIRST and statement is not INSERT_JOB]
        for statement in (*_PARENTS_FIRST, *others, INSERT_JOB):
            rows = self.rows.pop(statement, None)
            if rows:
                connection.execute(statement, rows)
        changed = list(self.touches) + self.repeats
        loaded = [obj for case_id in changed if (obj := session.identity_map.get(identity_key(Case, case_id)))]
        if loaded:
            session.flush()  # keep pending ORM changes of these cases before writing under them
        touches = [{"case_id": cid, "now": at} for cid, (at, reopen) in self.touches.items() if not reopen]
        reopens = [{"case_id": cid, "now": at, "status": CaseStatus.open}
                   for cid, (at, reopen) in self.touches.items() if reopen]
        for statement, params in ((_TOUCH, touches), (_TOUCH_AND_OPEN, reopens),
                                  (_COUNT_REPEAT, [{"case_id": cid} for cid in self.repeats])):
            if params:
                connection.execute(statement, params)
        self.touches.clear()
        self.repeats.clear()
        for obj in loaded:
            session.expire(obj)

    @staticmethod
    def _reserve_serials(session: Session, count: int) -> list[int]:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            return sorted(connection.execute(_SERIALS_FROM_SEQUENCE, {"count": count}).scalars())
        top = connection.execute(_RESERVE_SERIALS, {"count": count}).scalar()
        if top is None:
            connection.execute(insert(_COUNTER), {"name": "case_reference", "value": count})
            top = count
        return list(range(top - count + 1, top + 1))

    @property
    def pending(self) -> bool:
        return bool(self.rows or self.unnumbered or self.touches or self.repeats)


def next_case_reference(session: Session, created_at: datetime) -> str:
    """A reference for one case opened outside a batch (an outbound call): same serial, no gaps."""
    serial = InboundBatch._reserve_serials(session, 1)[0]
    return f"D-{created_at.year}-{serial:06d}"


def current_batch(session: Session) -> InboundBatch | None:
    return session.info.get(BATCH)


@event.listens_for(Session, "before_commit")
def _refuse_unflushed(session: Session) -> None:
    # Committing with queued rows would acknowledge contacts that were never written: refuse loudly.
    batch = session.info.get(BATCH)
    if batch is not None and batch.pending:
        raise RuntimeError("inbound rows queued but not flushed before commit")


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(BATCH, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(BATCH, None)
