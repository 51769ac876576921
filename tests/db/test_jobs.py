"""Durable jobs: due-time claims, retries with back-off, lease expiry, no double claim across threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from accueil.db.jobs import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    Job,
    claim_due_jobs,
    do_schedule_job,
    job_handler,
    run_due_jobs,
)

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
calls: list[dict] = []


@job_handler("test.record")
def _record(session, payload, now):  # type: ignore[no-untyped-def]
    calls.append(payload)


@job_handler("test.flaky")
def _flaky(session, payload, now):  # type: ignore[no-untyped-def]
    raise RuntimeError("provider down")


def schedule(runtime, **kwargs):  # type: ignore[no-untyped-def]
    with runtime.factory() as session, session.begin():
        return do_schedule_job(session, **kwargs).id


def test_job_runs_when_due_and_only_once(runtime):
    calls.clear()
    job_id = schedule(runtime, kind="test.record", run_at=T0 + timedelta(minutes=10), payload={"n": 1})
    assert run_due_jobs(runtime.factory, worker="w", now=T0) == 0
    assert run_due_jobs(runtime.factory, worker="w", now=T0 + timedelta(minutes=10)) == 1
    assert run_due_jobs(runtime.factory, worker="w", now=T0 + timedelta(minutes=11)) == 0
    assert calls == [{"n": 1}]
    with runtime.factory() as session:
        assert session.get(Job, job_id).status == DONE


def test_dedupe_key_schedules_once(runtime):
    a = schedule(runtime, kind="test.record", run_at=T0, dedupe_key="k")
    b = schedule(runtime, kind="test.record", run_at=T0, dedupe_key="k")
    assert a == b


def test_failure_is_retried_with_backoff_then_marked_failed(runtime):
    job_id = schedule(runtime, kind="test.flaky", run_at=T0, max_attempts=3)
    now = T0
    for attempt in (1, 2):
        run_due_jobs(runtime.factory, worker="w", now=now)
        with runtime.factory() as session:
            job = session.get(Job, job_id)
            assert job.status == PENDING and job.attempts == attempt and "provider down" in job.last_error
            assert job.run_at > now
            now = job.run_at
    run_due_jobs(runtime.factory, worker="w", now=now)
    with runtime.factory() as session:
        assert session.get(Job, job_id).status == FAILED


def test_unknown_kind_fails_visibly(runtime):
    job_id = schedule(runtime, kind="test.nobody_handles_this", run_at=T0, max_attempts=1)
    run_due_jobs(runtime.factory, worker="w", now=T0)
    with runtime.factory() as session:
        job = session.get(Job, job_id)
        assert job.status == FAILED and "no handler" in job.last_error


def test_a_dead_workers_claim_is_taken_again_after_its_lease(runtime):
    calls.clear()
    schedule(runtime, kind="test.record", run_at=T0, payload={"n": 2})
    with runtime.factory() as session, session.begin():
        assert len(claim_due_jobs(session, worker="dead", now=T0)) == 1  # claimed, then the worker dies
    assert run_due_jobs(runtime.factory, worker="w", now=T0 + timedelta(minutes=1)) == 0  # lease still held
    assert run_due_jobs(runtime.factory, worker="w", now=T0 + timedelta(minutes=6)) == 1
    assert calls == [{"n": 2}]


def test_concurrent_claimers_never_share_a_job(runtime):
    for i in range(60):
        schedule(runtime, kind="test.record", run_at=T0, payload={"i": i})
    claimed: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        mine: list[str] = []
        try:
            while True:
                with runtime.factory() as session, session.begin():
                    ids = claim_due_jobs(session, worker=name, now=T0, limit=3)
                if not ids:
                    break
                mine += ids
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        claimed[name] = mine

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    every = [job_id for ids in claimed.values() for job_id in ids]
    assert len(every) == len(set(every)) == 60
    with runtime.factory() as session:
        assert all(j.status == RUNNING for j in session.scalars(select(Job)))
