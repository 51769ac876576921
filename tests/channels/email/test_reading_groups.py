"""Mails read in groups (the listener's reader, the worker's batched jobs): one commit for the group, and
each mail read exactly as alone — an unreadable one quarantined, a bad one failing only itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accueil.channels.email import intake
from accueil.channels.email.intake import accept_mail, process_mails
from accueil.channels.email.models import InboundMail, InboxStatus, Mailbox
from accueil.conversations.models import Interaction, Message
from accueil.core import clock
from accueil.db.jobs import Job, run_due_jobs
from tests.channels.email.mails import SERVICE, bounce, mail


def store(runtime, *raws: bytes) -> list[str]:
    with runtime.factory() as session:
        box = session.scalar(select(Mailbox.id).where(Mailbox.address == SERVICE))
    return [accept_mail(runtime.factory, raw=raw, source="smtp", mailbox_id=box, envelope_from="x@example.fr",
                        envelope_to=[SERVICE], root=runtime.settings.mail_dir, read_delay=timedelta(0))
            for raw in raws]


def statuses(runtime, ids: list[str]) -> list[str]:
    with runtime.factory() as session:
        return [session.get(InboundMail, mail_id).status for mail_id in ids]


def read(runtime, ids: list[str]) -> list[str]:
    return process_mails(runtime.factory, ids, config=runtime.conversation_config, root=runtime.settings.mail_dir)


def test_a_group_reads_every_mail_and_quarantines_the_unreadable_one_without_losing_the_others(runtime, mailboxes):
    ids = store(runtime, mail(subject="Un", sender="Anne <anne@example.fr>"), b"\r\n\r\n",
                mail(subject="Trois", sender="Paul <paul@example.fr>"),
                bounce("<gone@maison-lumiere.example>"))
    assert read(runtime, ids) == [InboxStatus.received, InboxStatus.quarantined, InboxStatus.received,
                                  InboxStatus.noise]
    assert statuses(runtime, ids) == [InboxStatus.received, InboxStatus.quarantined, InboxStatus.received,
                                      InboxStatus.noise]
    with runtime.factory() as session:
        assert session.get(InboundMail, ids[1]).reason.startswith("unreadable")
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2
        # no safety-net job is left to read them again
        assert session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == intake.PROCESS_KIND, Job.status == "pending")) == 0


def test_in_one_group_a_second_delivery_is_a_duplicate_and_a_reply_joins_the_first_mails_case(runtime, mailboxes):
    first = mail(message_id="<g1@example.fr>", subject="Ma commande")
    ids = store(runtime, first, first, mail(message_id="<g2@example.fr>", in_reply_to="<g1@example.fr>",
                                            references="<g1@example.fr>", subject="Re: Ma commande"))
    assert read(runtime, ids) == [InboxStatus.received, InboxStatus.duplicate, InboxStatus.received]
    with runtime.factory() as session:
        rows = [session.get(InboundMail, mail_id) for mail_id in ids]
        assert rows[0].case_id == rows[1].case_id == rows[2].case_id
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2


def test_a_mail_that_fails_its_group_fails_only_itself_and_stays_for_its_job(runtime, mailboxes, monkeypatch):
    ids = store(runtime, mail(subject="A", sender="a@example.fr"), mail(subject="B", sender="b@example.fr"),
                mail(subject="C", sender="c@example.fr"))
    real = intake.do_process_mail

    def failing(session, *, mail_id, **kwargs):  # noqa: ANN001, ANN003
        if mail_id == ids[1]:
            raise RuntimeError("the database went away")
        return real(session, mail_id=mail_id, **kwargs)

    monkeypatch.setattr(intake, "do_process_mail", failing)
    assert read(runtime, ids) == [InboxStatus.received, "error", InboxStatus.received]
    assert statuses(runtime, ids) == [InboxStatus.received, InboxStatus.pending, InboxStatus.received]
    monkeypatch.setattr(intake, "do_process_mail", real)
    assert run_due_jobs(runtime.factory, worker="t", now=clock.now() + timedelta(seconds=1)) == 1  # its job reads it
    assert statuses(runtime, ids)[1] == InboxStatus.received


@pytest.mark.parametrize("fail", [False, True])
def test_due_read_jobs_run_together_and_one_by_one_when_the_group_fails(runtime, mailboxes, monkeypatch, fail):
    ids = store(runtime, mail(subject="A", sender="a@example.fr"), b"\r\n\r\n", mail(subject="C", sender="c@example.fr"))
    groups = []
    real = intake.do_process_mails

    def spy(session, ready, **kwargs):  # noqa: ANN001, ANN003
        groups.append(len(ready))
        if fail:
            raise RuntimeError("a group that fails")
        return real(session, ready, **kwargs)

    monkeypatch.setattr(intake, "do_process_mails", spy)
    assert run_due_jobs(runtime.factory, worker="t", now=clock.now() + timedelta(seconds=1)) == 3
    assert groups == [3]
    assert statuses(runtime, ids) == [InboxStatus.received, InboxStatus.quarantined, InboxStatus.received]
    with runtime.factory() as session:
        jobs = session.scalars(select(Job).where(Job.kind == intake.PROCESS_KIND)).all()
        assert {job.status for job in jobs} == {"done"} and len(jobs) == 3
        assert session.scalar(select(func.count()).select_from(Message)) >= 2
