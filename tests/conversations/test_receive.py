"""Receiving inbound contacts through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from accueil.conversations.content import AttachmentIn
from accueil.conversations.models import (
    Attachment,
    Case,
    CaseStatus,
    ChannelKind,
    InboundReceipt,
    Interaction,
    InteractionEvent,
    Message,
)
from accueil.conversations.service import (
    do_receive_inbound,
    do_reply,
    do_resolve_case,
    receive_inbound,
)
from accueil.core.errors import ValidationFailed
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef
from tests.factories import DAVID_PHONE, contact

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def test_first_contact_creates_case_interaction_message_and_events(runtime, cast):
    result = receive_inbound(runtime.factory, contact=contact(provider_message_id="m-1"),
                             config=runtime.conversation_config, now=T0)
    assert result.customer_id == cast.david_id and not result.customer_created
    assert result.case_created and not result.duplicate
    with runtime.factory() as session:
        case = session.get(Case, result.case_id)
        assert case.status is CaseStatus.new
        assert case.reference.startswith("D-2026-")
        assert case.sla_due_at == T0 + timedelta(hours=24)  # the motif's SLA
        assert case.first_channel is ChannelKind.email
        interaction = session.get(Interaction, result.interaction_id)
        assert interaction.arrived_at == T0
        kinds = [e.kind for e in session.scalars(select(InteractionEvent).where(
            InteractionEvent.interaction_id == interaction.id))]
        assert kinds == ["arrived"]
    assert "interaction.arrived" in runtime.bus.names()


def test_duplicate_provider_id_creates_nothing(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(provider_message_id="dup"),
                            config=runtime.conversation_config)
    second = receive_inbound(runtime.factory, contact=contact(provider_message_id="dup", body_text="autre"),
                             config=runtime.conversation_config)
    assert second.duplicate and second.message_id == first.message_id and second.case_id == first.case_id
    with runtime.factory() as session:
        assert count(session, Message) == 1 and count(session, InboundReceipt) == 1


def test_same_provider_id_on_another_channel_is_another_contact(runtime, cast):
    a = receive_inbound(runtime.factory, contact=contact(provider_message_id="x1"), config=runtime.conversation_config)
    b = receive_inbound(runtime.factory, contact=contact(ChannelKind.sms, provider_message_id="x1"),
                        config=runtime.conversation_config)
    assert a.message_id != b.message_id


def test_new_identity_creates_customer_and_phone_is_normalised(runtime, cast):
    result = receive_inbound(
        runtime.factory,
        contact=contact(ChannelKind.voice, identities=[IdentityRef(IdentityKind.phone, "+33700000001")]),
        config=runtime.conversation_config,
    )
    assert result.customer_created
    # The same person calling from David's number (written the French way) is David.
    from accueil.customers.service import normalise_identity

    ref = normalise_identity("phone", "06 12 34 56 78")
    assert ref.value == DAVID_PHONE
    again = receive_inbound(runtime.factory, contact=contact(ChannelKind.voice, identities=[ref]),
                            config=runtime.conversation_config)
    assert again.customer_id == cast.david_id


def test_same_motif_contact_joins_open_case_on_any_channel(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0)
    call = receive_inbound(
        runtime.factory,
        contact=contact(ChannelKind.voice, identities=[IdentityRef(IdentityKind.phone, DAVID_PHONE)]),
        config=runtime.conversation_config, now=T0 + timedelta(hours=2),
    )
    assert call.case_id == first.case_id and not call.case_created
    other = receive_inbound(runtime.factory, contact=contact(motif_code="remboursement"),
                            config=runtime.conversation_config, now=T0 + timedelta(hours=3))
    assert other.case_id != first.case_id


def test_contact_after_resolution_within_window_is_a_repeat(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0)
    with runtime.factory() as session, session.begin():
        do_resolve_case(session, case_id=first.case_id, resolution_code="info_given", now=T0 + timedelta(hours=1))
    again = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config,
                            now=T0 + timedelta(days=3))
    assert again.case_created and again.repeat_contact
    late = receive_inbound(runtime.factory, contact=contact(motif_code="reclamation"),
                           config=runtime.conversation_config, now=T0 + timedelta(days=3))
    assert not late.repeat_contact
    with runtime.factory() as session:
        previous = session.get(Case, first.case_id)
        assert previous.repeat_contact_count == 1
        assert session.get(Case, again.case_id).repeat_of_id == first.case_id


def test_contact_after_window_is_not_a_repeat(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0)
    with runtime.factory() as session, session.begin():
        do_resolve_case(session, case_id=first.case_id, resolution_code="info_given", now=T0)
    later = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config,
                            now=T0 + timedelta(days=8))
    assert later.case_created and not later.repeat_contact


def test_reply_by_case_reference_reopens_resolved_case(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0)
    with runtime.factory() as session, session.begin():
        do_resolve_case(session, case_id=first.case_id, resolution_code="done", now=T0)
    again = receive_inbound(runtime.factory, contact=contact(case_reference=first.case_reference),
                            config=runtime.conversation_config, now=T0 + timedelta(days=1))
    assert again.case_id == first.case_id
    with runtime.factory() as session:
        case = session.get(Case, first.case_id)
        assert case.status is CaseStatus.open and case.reopen_count == 1 and case.resolved_at is None


def test_customer_answer_moves_pending_case_back_to_open(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0)
    with runtime.factory() as session, session.begin():
        do_reply(session, case_id=first.case_id, author_user_id=cast.users["alice"], body_text="Pouvez-vous…",
                 set_status=CaseStatus.pending, config=runtime.conversation_config, now=T0 + timedelta(minutes=5))
    receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0 + timedelta(hours=1))
    with runtime.factory() as session:
        assert session.get(Case, first.case_id).status is CaseStatus.open


def test_unknown_motif_is_refused_and_nothing_is_written(runtime, cast):
    with pytest.raises(ValidationFailed) as caught:
        receive_inbound(runtime.factory, contact=contact(motif_code="nope",
                        identities=[IdentityRef(IdentityKind.email, "new@example.fr")]),
                        config=runtime.conversation_config)
    assert caught.value.code == "unknown_motif"
    with runtime.factory() as session:
        assert count(session, Case) == 0 and count(session, Customer) == 1 and count(session, Identity) == 2


def test_oversized_attachment_is_refused_and_no_file_is_left(runtime, cast, data_dir):
    big = AttachmentIn("big.pdf", "application/pdf", b"x" * 300_000)
    with pytest.raises(ValidationFailed) as caught:
        receive_inbound(runtime.factory, contact=contact(attachments=[big]), config=runtime.conversation_config)
    assert caught.value.code == "attachment_too_large"
    with runtime.factory() as session:
        assert count(session, Message) == 0 and count(session, Attachment) == 0


def test_attachment_stored_on_disk_with_checksum(runtime, cast, data_dir):
    pdf = AttachmentIn("../../etc/facture.pdf", "application/pdf", b"%PDF-1.4 test")
    result = receive_inbound(runtime.factory, contact=contact(attachments=[pdf]), config=runtime.conversation_config)
    with runtime.factory() as session:
        attachment = session.scalar(select(Attachment).where(Attachment.message_id == result.message_id))
        assert attachment.filename == "facture.pdf" and attachment.size_bytes == 13
        assert (data_dir / "attachments" / attachment.storage_path).read_bytes() == b"%PDF-1.4 test"


def test_failed_transaction_removes_written_attachment_files(runtime, cast, data_dir):
    pdf = AttachmentIn("a.pdf", "application/pdf", b"%PDF-1.4 rollback")
    root = data_dir / "attachments"
    before = set(root.rglob("*")) if root.exists() else set()
    with pytest.raises(RuntimeError), runtime.factory() as session, session.begin():
        do_receive_inbound(session, contact=contact(attachments=[pdf]), config=runtime.conversation_config)
        raise RuntimeError("crash before commit")
    after = {p for p in root.rglob("*") if p.is_file()}
    assert after <= before


def test_html_body_is_sanitised_and_text_kept_apart(runtime, cast):
    result = receive_inbound(
        runtime.factory,
        contact=contact(body_text="", body_html='<p onclick="x()">Bonjour <script>alert(1)</script><b>!</b></p>'),
        config=runtime.conversation_config,
    )
    with runtime.factory() as session:
        message = session.get(Message, result.message_id)
        assert "<script" not in message.body_html and "onclick" not in message.body_html
        assert "<b>!</b>" in message.body_html
        assert message.body_text.startswith("Bonjour")


def test_chat_lines_continue_one_interaction(runtime, cast):
    first = receive_inbound(runtime.factory, contact=contact(ChannelKind.chat), config=runtime.conversation_config)
    second = receive_inbound(runtime.factory, contact=contact(ChannelKind.chat, interaction_id=first.interaction_id,
                             body_text="Vous êtes là ?"), config=runtime.conversation_config)
    assert second.interaction_id == first.interaction_id and second.message_id != first.message_id


def test_queue_records_queued_event_and_level(runtime, cast):
    result = receive_inbound(runtime.factory, contact=contact(queue_code="email_n2"), config=runtime.conversation_config)
    with runtime.factory() as session:
        interaction = session.get(Interaction, result.interaction_id)
        assert interaction.queued_at is not None
        assert session.get(Case, result.case_id).level == 2


def test_sla_timer_is_a_durable_job_that_flags_breach(runtime, cast):
    from accueil.db.jobs import Job, run_due_jobs

    result = receive_inbound(runtime.factory, contact=contact(), config=runtime.conversation_config, now=T0)
    with runtime.factory() as session:
        job = session.scalar(select(Job).where(Job.kind == "case.sla_check"))
        assert job.payload == {"case_id": result.case_id} and job.run_at == T0 + timedelta(hours=24)
    assert run_due_jobs(runtime.factory, worker="t", now=T0 + timedelta(hours=1)) == 0
    assert run_due_jobs(runtime.factory, worker="t", now=T0 + timedelta(hours=25)) == 1
    assert "case.sla_breached" in runtime.bus.names()
