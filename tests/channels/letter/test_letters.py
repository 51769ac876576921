"""Scanned letters end to end on both databases: upload → OCR (real Tesseract) → sender → case; replies print.

The letters are drawn by the test (``accueil.channels.letter.sample``: text rendered into an A4 image),
then read back by Tesseract: nothing here is a canned OCR result.
"""

from __future__ import annotations

import shutil

import pypdfium2
import pytest
from sqlalchemy import func, select

from accueil.channels.letter import intake
from accueil.channels.letter.models import LetterScan, ScanStatus
from accueil.channels.letter.sample import SampleLetter, letter_bytes
from accueil.conversations import service as conversations
from accueil.conversations.models import Attachment, Case, ChannelKind, Interaction, Message
from accueil.core import clock
from accueil.core.errors import Conflict, ValidationFailed
from accueil.customers.models import Identity, IdentityKind
from accueil.customers.service import IdentityRef, do_resolve_identity
from accueil.db.jobs import Job, run_due_jobs

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr (.ci/run installs it)")


def _customer(runtime, name: str, *identities: IdentityRef) -> str:
    with runtime.factory() as session, session.begin():
        customer, _ = do_resolve_identity(session, identities=list(identities), display_name=name)
        return customer.id


def _upload(runtime, data: bytes, name: str = "courrier.png", **choice) -> intake.Upload:  # noqa: ANN003
    with runtime.factory() as session, session.begin():
        return intake.do_upload_letter(session, data=data, file_name=name, uploaded_by_id=None,
                                       motif_code=choice.get("motif"), queue_code=choice.get("queue"),
                                       settings=runtime.settings, now=clock.now())


def _scan(runtime, scan_id: str) -> LetterScan:
    with runtime.factory() as session:
        scan = session.get(LetterScan, scan_id)
        session.expunge(scan)
        return scan


def test_a_letter_with_a_customer_number_is_read_and_filed_on_that_customer(runtime, cast):
    marie = _customer(runtime, "Marie Dupont", IdentityRef(IdentityKind.customer_number, "CL100042"))
    upload = _upload(runtime, letter_bytes(SampleLetter()), motif="reclamation")
    assert not upload.duplicate and _scan(runtime, upload.scan_id).status == ScanStatus.pending

    assert run_due_jobs(runtime.factory, worker="test") == 1
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.received and scan.match_reason == "customer_number"
    assert scan.customer_id == marie and scan.pages == 1 and scan.confidence > 80
    assert "142,50" in scan.text and "prélèvement" in scan.text
    with runtime.factory() as session:
        interaction = session.get(Interaction, scan.interaction_id)
        assert interaction.channel is ChannelKind.letter
        message = session.scalar(select(Message).where(Message.interaction_id == interaction.id))
        assert "142,50" in message.body_text and message.subject == "réclamation sur ma facture de novembre"
        attachment = session.scalar(select(Attachment).where(Attachment.message_id == message.id))
        assert attachment.content_type == "image/png" and attachment.size_bytes == scan.size_bytes
        assert interaction.case.motif.code == "reclamation"
        postal = session.scalar(select(Identity.value).where(Identity.customer_id == marie,
                                                             Identity.kind == IdentityKind.postal))
        assert postal == "MARIE DUPONT / 12 RUE DES LILAS / 75011 PARIS"  # the address read joins the customer
    assert intake.preview_path(runtime.settings, scan).exists()


def test_the_same_file_twice_is_one_letter_and_bad_files_are_refused_at_the_door(runtime, cast):
    data = letter_bytes(SampleLetter(customer_number=None), format="JPEG")
    first, second = _upload(runtime, data, "a.jpg"), _upload(runtime, data, "copie.jpg")
    assert second.duplicate and second.scan_id == first.scan_id
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == intake.READ_KIND)) == 1
    with pytest.raises(ValidationFailed) as refused:
        _upload(runtime, b"MZ\x90\x00 not a scan", "virus.pdf")
    assert refused.value.code == "letter_type"
    with pytest.raises(ValidationFailed) as empty:
        _upload(runtime, b"", "vide.png")
    assert empty.value.code == "letter_empty"
    with pytest.raises(ValidationFailed) as large:
        _upload(runtime, b"%PDF-1.4\n" + b"0" * (runtime.settings.max_attachment_bytes + 1), "gros.pdf")
    assert large.value.code == "letter_too_large"


def test_a_damaged_pdf_is_kept_as_unreadable_with_the_reason(runtime, cast):
    upload = _upload(runtime, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> broken", "abime.pdf")
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.unreadable and "PDF" in scan.warnings
    assert (runtime.settings.letters_dir / scan.storage_path).exists()  # the file is never dropped


def test_a_blank_page_waits_to_be_identified_then_a_person_files_it_as_a_new_customer(runtime, cast):
    upload = _upload(runtime, letter_bytes(SampleLetter(), blank=True), "blanc.png")
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.to_identify and "no_text" in scan.warnings and scan.case_id is None
    with runtime.factory() as session, session.begin():
        with pytest.raises(ValidationFailed):
            intake.do_file_letter(session, scan_id=scan.id, user_id=cast.users["alice"], customer_id=None,
                                  name="", address="", customer_number="", now=clock.now())
    with runtime.factory() as session, session.begin():
        filed = intake.do_file_letter(session, scan_id=scan.id, user_id=cast.users["alice"], customer_id=None,
                                      name="Jean Moulin", address="Jean Moulin\n3 place Bellecour\n69002 Lyon",
                                      customer_number="", now=clock.now())
        assert filed.status == ScanStatus.received and filed.match_reason == "new"
        message = session.scalar(select(Message).where(Message.interaction_id == filed.interaction_id))
        assert message.body_text == intake.NO_TEXT
    with runtime.factory() as session, session.begin():
        with pytest.raises(Conflict):  # filed once: never twice
            intake.do_file_letter(session, scan_id=scan.id, user_id=cast.users["alice"], customer_id=cast.david_id,
                                  name="", address="", customer_number="", now=clock.now())


def test_without_a_number_the_name_on_an_address_of_the_same_postcode_finds_the_sender(runtime, cast):
    marie = _customer(runtime, "Marie Dupont",
                      IdentityRef(IdentityKind.postal, "MARIE DUPONT / 12 RUE DES LILAS / 75011 PARIS"))
    _customer(runtime, "Marc Durand", IdentityRef(IdentityKind.postal, "MARC DURAND / 4 RUE OBERKAMPF / 75011 PARIS"))
    upload = _upload(runtime, letter_bytes(SampleLetter(customer_number=None), format="TIFF"), "scan.tif")
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.received and scan.match_reason == "name_postcode" and scan.customer_id == marie


def test_an_unknown_sender_is_never_guessed_and_the_candidates_are_offered(runtime, cast):
    _customer(runtime, "Marie Dupond", IdentityRef(IdentityKind.email, "m.dupond@example.fr"))
    upload = _upload(runtime, letter_bytes(SampleLetter(customer_number="ZZ999999")))
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.to_identify
    from accueil.channels.letter.sender import read_fields
    from accueil.channels.letter.senders import candidates
    with runtime.factory() as session:
        offered = candidates(session, read_fields(scan.text))
    assert [c.display_name for c in offered] == ["Marie Dupond"] and offered[0].why == "name"


def test_an_agents_reply_to_a_letter_is_a_printable_pdf_letter(runtime, cast):
    _customer(runtime, "Marie Dupont", IdentityRef(IdentityKind.customer_number, "CL100042"))
    upload = _upload(runtime, letter_bytes(SampleLetter()))
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    with runtime.factory() as session, session.begin():
        reply = conversations.do_reply(session, case_id=scan.case_id, author_user_id=cast.users["alice"],
                                       body_text="Madame,\n\nNous vous remboursons les 142,50 € prélevés à tort.",
                                       config=runtime.conversation_config)
        reply_id = reply.id
        reference = session.get(Case, scan.case_id).reference
    with runtime.factory() as session:
        attachment = session.scalar(select(Attachment).where(Attachment.message_id == reply_id))
        assert attachment.content_type == "application/pdf" and attachment.filename == f"lettre-{reference}.pdf"
        pdf = (runtime.settings.attachments_dir / attachment.storage_path).read_bytes()
    document = pypdfium2.PdfDocument(pdf)
    text = document[0].get_textpage().get_text_range()
    for expected in ("MARIE DUPONT", "12 RUE DES LILAS", "75011 PARIS", reference, "142,50 €", "Alice Agent"):
        assert expected in text


def test_without_tesseract_the_letter_waits_for_a_person_and_is_read_once_it_is_installed(runtime, cast, monkeypatch):
    import pytesseract

    _customer(runtime, "Marie Dupont", IdentityRef(IdentityKind.customer_number, "CL100042"))
    upload = _upload(runtime, letter_bytes(SampleLetter(subject="changement d'adresse")))
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.to_identify and "ocr_unavailable" in scan.warnings
    assert not intake.ocr_cache_path(runtime.settings, scan).exists()  # nothing cached: a later read is real

    monkeypatch.undo()
    with runtime.factory() as session, session.begin():
        intake.do_read_again(session, scan_id=scan.id, now=clock.now())
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.received and scan.match_reason == "customer_number" and not scan.warnings


def test_an_invoice_number_of_another_customer_never_files_the_letter_on_them(runtime, cast):
    """Only a number on a customer-number line may identify the sender, and never against the name and
    address printed on the letter (review: an invoice number owned as Paul's filed Sophie's letter on Paul)."""
    _customer(runtime, "Paul Martin", IdentityRef(IdentityKind.customer_number, "4521339"))
    sophie = _customer(runtime, "Sophie Bernard",
                       IdentityRef(IdentityKind.postal, "SOPHIE BERNARD / 3 RUE DU PORT / 13002 MARSEILLE"))
    from accueil.channels.letter.sender import read_fields
    from accueil.channels.letter.senders import find_sender

    text = "Sophie Bernard\n3 rue du Port\n13002 Marseille\n\nObjet : facture 4521339 contestée\nTél. 0612345678\n"
    with runtime.factory() as session:
        found = find_sender(session, read_fields(text))
        assert found is not None and found.customer_id == sophie and found.reason == "name_postcode"
        labelled = read_fields("Sophie Bernard\n3 rue du Port\n13002 Marseille\nN° client : 4521339\n")
        assert labelled.customer_numbers == ("4521339",)
        assert find_sender(session, labelled) is None  # Paul's number, Sophie's name and address: a person decides


def test_a_rolled_back_duplicate_upload_keeps_the_file_of_the_committed_one(runtime, cast):
    data = letter_bytes(SampleLetter(subject="double clic"))
    first = _upload(runtime, data)
    with runtime.factory() as session:
        session.begin()
        session.query(LetterScan).delete()  # as if the first were not committed yet: the second writes the file
        intake.do_upload_letter(session, data=data, file_name="b.png", uploaded_by_id=None, motif_code=None,
                                queue_code=None, settings=runtime.settings, now=clock.now())
        session.rollback()  # the loser of the race rolls back
    scan = _scan(runtime, first.scan_id)
    assert (runtime.settings.letters_dir / scan.storage_path).read_bytes() == data


def test_a_file_that_breaks_the_reader_is_kept_unreadable_and_can_be_filed_by_hand(runtime, cast, monkeypatch):
    upload = _upload(runtime, letter_bytes(SampleLetter(subject="cadre abîmé")))

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003 - a library failing on a strange file
        raise TypeError("Missing dimensions")

    monkeypatch.setattr(intake, "read_scan", broken)
    run_due_jobs(runtime.factory, worker="test")
    scan = _scan(runtime, upload.scan_id)
    assert scan.status == ScanStatus.unreadable and "Missing dimensions" in scan.warnings
    with runtime.factory() as session, session.begin():
        filed = intake.do_file_letter(session, scan_id=scan.id, user_id=cast.users["alice"], customer_id=cast.david_id,
                                      name="", address="", customer_number="", now=clock.now())
        assert filed.status == ScanStatus.received and filed.match_reason == "chosen"


def test_the_ocr_runs_without_holding_the_write_lock(runtime, cast, monkeypatch):
    """While a letter is being read, other writers go on (on SQLite the writer's session takes the lock)."""
    import threading
    import time

    upload = _upload(runtime, letter_bytes(SampleLetter(subject="verrou")))
    started, release = threading.Event(), threading.Event()
    real = intake.read_scan

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "read_scan", slow)
    reader = threading.Thread(target=run_due_jobs, args=(runtime.factory,), kwargs={"worker": "test"})
    reader.start()
    assert started.wait(10)
    begun = time.monotonic()
    _customer(runtime, "Pendant l'OCR", IdentityRef(IdentityKind.email, "pendant@example.fr"))  # another writer
    waited = time.monotonic() - begun
    release.set()
    reader.join(30)
    assert waited < 2 and _scan(runtime, upload.scan_id).status == ScanStatus.to_identify  # read (no such customer)
