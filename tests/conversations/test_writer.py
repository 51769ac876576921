"""Group commit: batches of contacts share a transaction; one bad contact only fails itself; no contact
is lost or doubled under concurrent deliveries, threads or processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from accueil.conversations.models import Case, InboundReceipt, Interaction, InteractionEvent, Message
from accueil.conversations.receive import begin_batch, do_receive_inbound, flush_batch
from accueil.conversations.writer import InboundWriter, InlineInboundWriter
from accueil.core.errors import ValidationFailed
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef
from tests.factories import contact

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def count(runtime, model) -> int:  # type: ignore[no-untyped-def]
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_batch_with_a_bad_contact_fails_only_that_one(runtime, cast):
    writer = InboundWriter(runtime.factory, runtime.conversation_config)
    try:
        good = [contact(email=f"batch{i}@example.fr", provider_message_id=f"b{i}") for i in range(5)]
        bad = contact(email="bad@example.fr", motif_code="no_such_motif", provider_message_id="bad")
        futures = [writer.submit(c) for c in [*good[:2], bad, *good[2:]]]
        results = []
        for future in futures:
            try:
                results.append(future.result(timeout=30))
            except ValidationFailed as exc:
                results.append(exc)
    finally:
        writer.stop()
    assert isinstance(results[2], ValidationFailed) and results[2].code == "unknown_motif"
    assert all(not isinstance(r, Exception) for i, r in enumerate(results) if i != 2)
    assert count(runtime, Message) == 5 and count(runtime, InboundReceipt) == 5
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Identity).where(Identity.value == "bad@example.fr")) == 0


def test_duplicates_inside_one_batch_create_nothing(runtime, cast):
    contacts = [contact(provider_message_id="same"), contact(provider_message_id="same")]
    with runtime.factory() as session, session.begin():
        begin_batch(session, contacts, config=runtime.conversation_config, now=T0)
        first = do_receive_inbound(session, contact=contacts[0], config=runtime.conversation_config, now=T0)
        second = do_receive_inbound(session, contact=contacts[1], config=runtime.conversation_config, now=T0)
        flush_batch(session)
    assert second.duplicate and second.message_id == first.message_id
    assert count(runtime, Message) == 1 and count(runtime, Interaction) == 1
    assert count(runtime, InteractionEvent) == 1


def test_unflushed_rows_refuse_to_commit(runtime, cast):
    with pytest.raises(RuntimeError, match="not flushed"), runtime.factory() as session, session.begin():
        begin_batch(session, [contact()], config=runtime.conversation_config, now=T0)
        do_receive_inbound(session, contact=contact(), config=runtime.conversation_config, now=T0)
    assert count(runtime, Case) == 0 and count(runtime, Message) == 0


def test_inline_writer_batches_one_loop_turn(runtime, cast):
    writer = InlineInboundWriter(runtime.factory, runtime.conversation_config)

    async def burst():  # type: ignore[no-untyped-def]
        return await asyncio.gather(*(writer.receive(contact(email=f"inline{i}@example.fr",
                                                             provider_message_id=f"i{i}")) for i in range(20)),
                                    writer.receive(contact(email="inline0@example.fr", provider_message_id="i0")))

    results = asyncio.run(burst())
    assert len({r.message_id for r in results}) == 20 and results[-1].duplicate
    assert count(runtime, Customer) == 21  # David plus twenty new customers


def test_concurrent_deliveries_of_one_contact_and_one_new_identity(runtime, cast):
    """Threads racing with the same provider id, and the same new customer, through separate transactions."""
    from accueil.conversations.receive import receive_inbound

    errors: list[BaseException] = []
    results = []

    def deliver(i: int) -> None:
        try:
            results.append(receive_inbound(runtime.factory, config=runtime.conversation_config, contact=contact(
                identities=[IdentityRef(IdentityKind.email, "race@example.fr"),
                            IdentityRef(IdentityKind.phone, "+33699887766")],
                provider_message_id="race-1")))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({r.message_id for r in results}) == 1 and sum(not r.duplicate for r in results) == 1
    assert count(runtime, Message) == 1
    with runtime.factory() as session:
        owners = set(session.scalars(select(Identity.customer_id).where(
            Identity.value.in_(["race@example.fr", "+33699887766"]))))
        assert len(owners) == 1


def _process_writer(url: str, data_dir: str, worker: int, count_per_worker: int) -> None:
    from accueil.config import Settings
    from accueil.core.events import InProcessEventBus
    from accueil.db.session import make_engine
    from accueil.runtime import make_runtime

    settings = Settings(environment="test", secret_key="s" * 40, database_url=url, data_dir=data_dir)
    runtime = make_runtime(settings, make_engine(settings.effective_database_url), InProcessEventBus())
    writer = InboundWriter(runtime.factory, runtime.conversation_config)
    futures = [writer.submit(contact(email=f"p{worker}-{i % 50}@example.fr", provider_message_id=f"p{worker}-{i}"))
               for i in range(count_per_worker)]
    for future in futures:
        future.result(timeout=60)
    writer.stop()


def test_two_processes_write_at_once(runtime, cast, database_url, tmp_path):
    """Two OS processes (as ``serve --workers 2``) receiving at once: nothing lost, nothing doubled."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_process_writer, args=(database_url, str(tmp_path), w, 150))
                 for w in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert count(runtime, Message) == 300 and count(runtime, InboundReceipt) == 300
    assert count(runtime, Customer) == 101  # David plus 2 × 50


def test_parallel_writers_never_open_two_cases_for_one_need(runtime, cast):
    """Several writer threads (as on PostgreSQL) receiving contacts of the same customers and motifs."""
    writer = InboundWriter(runtime.factory, runtime.conversation_config, threads=4, max_batch=4)
    try:
        futures = [writer.submit(contact(email=f"same{i % 5}@example.fr", provider_message_id=f"par{i}"))
                   for i in range(120)]
        for future in futures:
            future.result(timeout=60)
    finally:
        writer.stop()
    with runtime.factory() as session:
        per_customer = session.execute(select(Case.customer_id, func.count()).group_by(Case.customer_id)).all()
    assert len(per_customer) == 5 and all(n == 1 for _, n in per_customer)
    assert count(runtime, Message) == 120


def test_a_batch_numbers_its_new_cases_without_gaps_and_shares_them(runtime, cast):
    contacts = [contact(email=f"n{i % 3}@example.fr", provider_message_id=f"n{i}") for i in range(9)]
    with runtime.factory() as session, session.begin():
        begin_batch(session, contacts, config=runtime.conversation_config, now=T0)
        results = [do_receive_inbound(session, contact=c, config=runtime.conversation_config, now=T0)
                   for c in contacts]
        flush_batch(session)
    assert sum(r.case_created for r in results) == 3
    by_customer = {}
    for result in results:
        by_customer.setdefault(result.customer_id, set()).add((result.case_id, result.case_reference))
    assert all(len(cases) == 1 for cases in by_customer.values())
    serials = sorted(int(ref.rsplit("-", 1)[1]) for cases in by_customer.values() for _, ref in cases)
    assert serials == list(range(serials[0], serials[0] + 3))
    with runtime.factory() as session:
        stored = {c.id: c.reference for c in session.scalars(select(Case))}
    assert all(stored[r.case_id] == r.case_reference for r in results)
