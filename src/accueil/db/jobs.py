"""Durable jobs and timers stored as database rows (the database is the queue).

A job is a row with a kind, a JSON payload and a due time. Workers claim due rows atomically — on
PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so two workers never take the same row, on SQLite inside
the single writer lock — run the registered handler in its own transaction, and either mark the row
done or reschedule it with exponential back-off. A claim has a lease: a worker that dies mid-job
leaves the row to be taken again once the lease expires. Handlers must be idempotent (a retry after
a crash may repeat work whose commit was not recorded); ``dedupe_key`` stops the same timer being
scheduled twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from accueil.core import clock
from accueil.db.base import Base, IdMixin

log = logging.getLogger(__name__)

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


class Job(IdMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None]


JobHandler = Callable[[Session, dict[str, Any], datetime], None]
# Slow work with no writes (an OCR, a download), run before the handler's transaction, outside it: a
# writer on SQLite holds the one write lock for the whole transaction. What it returns joins the payload.
JobPreparer = Callable[[sessionmaker[Session], dict[str, Any]], dict[str, Any]]
_HANDLERS: dict[str, JobHandler] = {}
_PREPARERS: dict[str, JobPreparer] = {}


def job_handler(kind: str, *, prepare: JobPreparer | None = None) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of ``kind`` (it gets the session, the payload and now), and the
    optional ``prepare`` step run first, outside any transaction (it must be idempotent too)."""

    def register(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = fn
        if prepare is not None:
            _PREPARERS[kind] = prepare
        return fn

    return register


@dataclass(frozen=True)
class BatchHandler:
    """Runs several due jobs of one kind in one transaction (one commit for all).

    ``prepare`` gets the session factory and the payloads and does, outside any transaction, the work
    that needs no database (parsing files…), so no lock is held for it; ``run`` gets a session, what
    ``prepare`` returned, and now. If ``run`` fails, each job runs alone through its ``job_handler``."""

    prepare: Callable[[sessionmaker[Session], list[dict[str, Any]]], list[Any]]
    run: Callable[[Session, list[Any], datetime], None]


_BATCH_HANDLERS: dict[str, BatchHandler] = {}


def job_batch_handler(kind: str, *, prepare: Callable[[sessionmaker[Session], list[dict[str, Any]]], list[Any]],
                      run: Callable[[Session, list[Any], datetime], None]) -> None:
    """Let due jobs of ``kind`` (which also has a ``job_handler``) run together; see ``BatchHandler``."""
    _BATCH_HANDLERS[kind] = BatchHandler(prepare=prepare, run=run)


def do_schedule_job(
    session: Session,
    *,
    kind: str,
    run_at: datetime,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 5,
    fresh: bool = False,
) -> Job:
    """Schedule a job inside the caller's transaction, so it exists if and only if the work committed.

    ``fresh``: the dedupe key names something created in this very transaction, so no job can hold it
    yet: the lookup (and the flush it costs) is skipped; the unique key still guards it."""
    if dedupe_key is not None and not fresh:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(
        kind=kind, payload=payload or {}, run_at=run_at, dedupe_key=dedupe_key, max_attempts=max_attempts
    )
    session.add(job)
    if not fresh:
        session.flush()
    return job


def backoff(attempts: int) -> timedelta:
    """5 s, 20 s, 80 s… capped at one hour."""
    return timedelta(seconds=min(3600, 5 * 4 ** max(0, attempts - 1)))


# Lanes: jobs with a slow preparation step (an OCR of many pages) run in a lane of their own, one at a
# time with a long lease, so a batch of letters never holds back a caller's connection or an SLA timer.
FAST, SLOW = "fast", "slow"
SLOW_LEASE = timedelta(minutes=30)


def claim_due_jobs(
    session: Session, *, worker: str, now: datetime, limit: int = 10, lease: timedelta = timedelta(minutes=5),
    lane: str | None = None,
) -> list[str]:
    """Claim up to ``limit`` due jobs (pending, or running with an expired lease); returns their ids.
    ``lane``: only the slow kinds (those with a preparation step), only the others, or (None) any."""
    due = (
        select(Job.id)
        .where(
            ((Job.status == PENDING) & (Job.run_at <= now))
            | ((Job.status == RUNNING) & (Job.lease_until < now))
        )
        .order_by(Job.run_at)
        .limit(limit)
    )
    slow_kinds = sorted(_PREPARERS)
    if lane == SLOW:
        if not slow_kinds:
            return []
        due = due.where(Job.kind.in_(slow_kinds))
    elif lane == FAST and slow_kinds:
        due = due.where(Job.kind.not_in(slow_kinds))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(Job)
        .where(Job.id.in_(ids))
        .values(status=RUNNING, claimed_by=worker, lease_until=now + lease, attempts=Job.attempts + 1)
    )
    return ids


def _run_one(factory: sessionmaker[Session], job_id: str, now: datetime) -> bool:
    with factory() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != RUNNING:
            return False
        kind, payload = job.kind, dict(job.payload)
    handler = _HANDLERS.get(kind)
    error: str | None = None
    if handler is None:
        error = f"no handler registered for job kind {kind!r}"
    else:
        try:
            preparer = _PREPARERS.get(kind)
            if preparer is not None:
                payload = {**payload, **preparer(factory, payload)}
            with factory() as session, session.begin():
                handler(session, payload, now)
                finished = session.get(Job, job_id)
                if finished is not None:
                    finished.status, finished.finished_at, finished.lease_until = DONE, now, None
        except Exception as exc:  # noqa: BLE001 - recorded on the row and retried
            log.exception("job %s (%s) failed", job_id, kind)
            error = f"{type(exc).__name__}: {exc}"
    if error is not None:
        with factory() as session, session.begin():
            job = session.get(Job, job_id)
            if job is not None:
                job.last_error = error[:4000]
                job.lease_until = None
                if job.attempts >= job.max_attempts:
                    job.status, job.finished_at = FAILED, now
                else:
                    job.status, job.run_at = PENDING, now + backoff(job.attempts)
        return False
    return True


def _run_together(factory: sessionmaker[Session], job_ids: list[str], now: datetime) -> list[str]:
    """Run the claimed jobs whose kind has a batch handler, a batch per kind; returns the ids left to run alone."""
    with factory() as session:
        rows = session.execute(select(Job.id, Job.kind, Job.payload, Job.status).where(Job.id.in_(job_ids))).all()
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in rows:
        if row.kind in _BATCH_HANDLERS and row.status == RUNNING:
            groups.setdefault(row.kind, []).append((row.id, dict(row.payload)))
    done: set[str] = set()
    for kind, jobs in groups.items():
        if len(jobs) < 2:
            continue
        handler = _BATCH_HANDLERS[kind]
        ids = [job_id for job_id, _payload in jobs]
        try:
            prepared = handler.prepare(factory, [payload for _id, payload in jobs])
            with factory() as session, session.begin():
                handler.run(session, prepared, now)
                session.execute(update(Job).where(Job.id.in_(ids), Job.status == RUNNING)
                                .values(status=DONE, finished_at=now, lease_until=None))
        except Exception:  # noqa: BLE001 - each job runs alone below, with its own error and back-off
            log.debug("a batch of %d %s jobs was rolled back; running them one by one", len(ids), kind)
            continue
        done.update(ids)
    return [job_id for job_id in job_ids if job_id not in done]


def run_due_jobs(factory: sessionmaker[Session], *, worker: str, now: datetime | None = None,
                 lane: str | None = None) -> int:
    """Claim and run every job due at ``now`` (of one lane, or all); returns how many ran successfully."""
    ran = 0
    while True:
        moment = now or clock.now()
        with factory() as session, session.begin():
            if lane == SLOW:
                ids = claim_due_jobs(session, worker=worker, now=moment, limit=1, lease=SLOW_LEASE, lane=SLOW)
            else:
                ids = claim_due_jobs(session, worker=worker, now=moment, lane=lane)
        if not ids:
            return ran
        alone = _run_together(factory, ids, moment) if _BATCH_HANDLERS else ids
        ran += len(ids) - len(alone)
        for job_id in alone:
            ran += _run_one(factory, job_id, moment)
        if now is not None:
            # A fixed ``now`` (tests): one pass, or a job rescheduled into the past would loop forever.
            return ran


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class JobRunner:
    """Polls for due jobs in a background thread (embedded mode) or the foreground (``accueil worker``)."""

    factory: sessionmaker[Session]
    poll_seconds: float = 1.0
    lane: str | None = None  # FAST, SLOW, or None for every job (``accueil worker --once``, tests)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_forever(self) -> None:
        name = worker_name()
        while not self._stop.is_set():
            try:
                run_due_jobs(self.factory, worker=name, lane=self.lane)
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("job runner pass failed")
            self._stop.wait(self.poll_seconds)

    def start(self) -> JobRunner:
        self._thread = threading.Thread(target=self.run_forever, name=f"accueil-jobs-{self.lane or 'all'}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_runners(factory: sessionmaker[Session], *, poll_seconds: float) -> list[JobRunner]:
    """The two lanes, each in its own thread: quick jobs, and slow ones (OCR) one at a time."""
    return [JobRunner(factory, poll_seconds=poll_seconds, lane=FAST).start(),
            JobRunner(factory, poll_seconds=poll_seconds, lane=SLOW).start()]
