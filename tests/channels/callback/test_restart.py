"""Callback attempts across restarts: every timer lives in the database, so a new process (new engine, new
runtime) on the same database picks the callback up where the last one left it — on a SQLite file and on
PostgreSQL. Three unanswered attempts (morning, noon, evening) exhaust it, and the customer is told by email
through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from accueil.channels.callback.models import Callback, CallbackAttempt
from accueil.channels.callback.outcomes import do_record_outcome
from accueil.channels.callback.policy import RetryPolicy
from accueil.channels.callback.service import do_request_callback
from accueil.config import Settings
from accueil.conversations.models import Interaction
from accueil.db.jobs import Job, run_due_jobs
from accueil.db.session import make_engine
from accueil.routing import service as routing
from accueil.routing.admin import do_save_queue
from accueil.routing.decisions import Presence
from accueil.routing.models import AgentState, RoutingItem
from accueil.runtime import make_runtime
from tests.conftest import RecordingBus
from tests.factories import DAVID_PHONE

PARIS = ZoneInfo("Europe/Paris")


def paris(hour_minute: str, day: str = "2026-11-23") -> datetime:  # a Monday
    return datetime.fromisoformat(f"{day}T{hour_minute}").replace(tzinfo=PARIS).astimezone(UTC)


class Process:
    """One run of accueil on the database: its own engine and runtime, thrown away by ``stop``."""

    def __init__(self, database_url: str, data_dir, mail) -> None:  # noqa: ANN001
        # the test's SMTP server, in this runtime's own settings (each runtime builds its own adapters)
        self.settings = Settings(environment="test", secret_key="test-secret-" + "x" * 32, database_url=database_url,
                                 data_dir=data_dir, auto_migrate=False, run_jobs_in_process=False,
                                 dispatch_in_process=False, smtp_host="127.0.0.1", smtp_port=mail.port,
                                 mail_from=mail.mail_from)
        self.engine = make_engine(self.settings.effective_database_url)
        self.runtime = make_runtime(self.settings, self.engine, RecordingBus())

    def jobs(self, now: datetime) -> int:
        return run_due_jobs(self.runtime.factory, worker="restart-test", now=now)

    def take_and_fail(self, callback_id: str, user_id: str, outcome: str, *, at: datetime, told: datetime) -> Callback:
        """The agent goes available, is offered the call, takes it, and records that nobody answered."""
        rt = self.runtime
        with rt.factory() as session, session.begin():
            state = session.get(AgentState, user_id)
            if state is None or state.presence != Presence.available.value:
                routing.do_set_presence(session, rules=rt.routing_rules, user_id=user_id,
                                        presence=Presence.available, now=at)
            else:
                routing.do_dispatch(session, rules=rt.routing_rules, now=at)
        with rt.factory() as session, session.begin():
            interaction_id = session.get(Callback, callback_id).interaction_id
            assert session.get(RoutingItem, interaction_id).agent_id == user_id  # offered to her
            routing.do_accept(session, rules=rt.routing_rules, item_id=interaction_id, user_id=user_id, now=at)
        with rt.factory() as session, session.begin():
            return do_record_outcome(session, callback_id=callback_id, outcome=outcome, user_id=user_id,
                                     rules=rt.routing_rules, policy=RetryPolicy.from_settings(self.settings), now=told)

    def stop(self) -> None:
        self.runtime.inbound_writer.stop()
        self.engine.dispose()


def read(process: Process, callback_id: str) -> tuple[Callback, list[CallbackAttempt]]:
    with process.runtime.factory() as session:
        attempts = list(session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
                                        .order_by(CallbackAttempt.number)))
        return session.get(Callback, callback_id), attempts


def test_callback_attempts_across_restarts(runtime, cast, database_url, data_dir, smtp_server):
    with runtime.factory() as session, session.begin():
        do_save_queue(session, code="rappel", channel="callback", name_fr="Rappels", name_en="Callbacks")
    alice = cast.users["alice"]

    first = Process(database_url, data_dir, smtp_server)  # the customer books 10:00 on the website at 08:30
    with first.runtime.factory() as session, session.begin():
        callback_id = do_request_callback(session, phone="06 12 34 56 78", source="web", due_at=paris("10:00"),
                                          motif_code="suivi_commande", now=paris("08:30"),
                                          config=first.runtime.conversation_config).id
    first.stop()

    second = Process(database_url, data_dir, smtp_server)
    assert second.jobs(paris("08:31")) == 1  # only the confirmation email: the call is not due yet
    booked = smtp_server.wait_for(1)[0]
    assert booked["To"] == "david.martin@example.fr" and "lundi 23 novembre à 10:00" in booked.get_content()
    assert second.jobs(paris("10:00")) == 1
    callback, attempts = read(second, callback_id)
    assert callback.status.value == "queued" and callback.phone == DAVID_PHONE and callback.customer_id == cast.david_id
    assert [a.number for a in attempts] == [1]
    failed = second.take_and_fail(callback_id, alice, "no_answer", at=paris("10:01"), told=paris("10:04"))
    assert failed.status.value == "scheduled" and failed.due_at == paris("12:00")  # noon, not the morning again
    second.stop()

    third = Process(database_url, data_dir, smtp_server)
    assert third.jobs(paris("11:59")) == 0
    assert third.jobs(paris("12:00")) == 1
    callback, attempts = read(third, callback_id)
    assert callback.status.value == "queued" and len(attempts) == 2
    assert callback.interaction_id == attempts[1].interaction_id != attempts[0].interaction_id
    failed = third.take_and_fail(callback_id, alice, "voicemail", at=paris("12:02"), told=paris("12:03"))
    assert failed.due_at == paris("17:00")
    assert third.jobs(paris("12:30")) == 0  # a repeated run creates nothing
    third.stop()

    fourth = Process(database_url, data_dir, smtp_server)
    assert fourth.jobs(paris("17:00")) == 1
    exhausted = fourth.take_and_fail(callback_id, alice, "no_answer", at=paris("17:05"), told=paris("17:06"))
    assert exhausted.status.value == "exhausted"
    assert fourth.jobs(paris("17:07")) == 1  # the "we could not reach you" email
    told = smtp_server.wait_for(2)[1]
    assert "essayé de vous joindre 3 fois" in told.get_content() and told["Subject"] == "Nous n'avons pas pu vous joindre"
    fourth.jobs(paris("09:00", "2026-11-24"))  # the next day (the case's SLA check runs; no call)
    callback, attempts = read(fourth, callback_id)
    assert [(a.number, a.outcome.value, a.agent_id) for a in attempts] == [
        (1, "no_answer", alice), (2, "voicemail", alice), (3, "no_answer", alice)]
    with fourth.runtime.factory() as session:
        keys = sorted(session.scalars(select(Job.dedupe_key).where(Job.kind == "callback.due", Job.status == "done")))
        assert keys == [f"callback.due:{callback_id}", f"callback.due:{callback_id}:2", f"callback.due:{callback_id}:3"]
        outcomes = [session.get(Interaction, a.interaction_id).outcome.value for a in attempts]
        assert outcomes == ["failed", "failed", "failed"]  # calls made, customer not reached
        assert session.get(RoutingItem, attempts[-1].interaction_id) is None  # alice is free again
        assert session.scalars(select(Job).where(Job.kind == "callback.due", Job.status != "done")).all() == []
    fourth.stop()
    assert len(smtp_server.messages) == 2
