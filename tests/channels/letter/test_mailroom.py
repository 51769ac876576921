"""The mailroom pages over real HTTP, then in Debian's Chromium: upload a drawn French letter, see its text
(read by the real Tesseract), open the case in the console and print the reply."""

from __future__ import annotations

import re
import shutil

import httpx
import pypdfium2
import pytest
from sqlalchemy import select

from accueil.channels.letter.models import LetterScan, ScanStatus
from accueil.channels.letter.sample import SampleLetter, letter_bytes
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, do_resolve_identity
from accueil.db.jobs import run_due_jobs
from tests.web.conftest import LIVE_MS, set_passwords, sign_in

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr (.ci/run installs it)")


def _marie(runtime) -> str:
    with runtime.factory() as session, session.begin():
        customer, _ = do_resolve_identity(session, identities=[IdentityRef(IdentityKind.customer_number, "CL100042")],
                                          display_name="Marie Dupont")
        return customer.id


def _upload(client, files: list[tuple[str, bytes, str]], **form) -> httpx.Response:  # noqa: ANN003
    return client.http.post("/mailroom", data={"csrf_token": client.csrf, **form},
                            files=[("files", item) for item in files])


def test_uploads_are_stored_each_alone_and_the_roles_are_checked(web, runtime, cast):
    alice = web("alice")
    good = letter_bytes(SampleLetter(subject="demande de duplicata"), format="JPEG")
    response = _upload(alice, [("lettre.jpg", good, "image/jpeg"), ("notes.txt", b"hello", "text/plain")])
    assert response.status_code == 200  # one stored, one refused: the page says both
    assert "notes.txt" in response.text and "1 courrier(s) enregistré(s)" in response.text
    again = _upload(alice, [("copie.jpg", good, "image/jpeg")])
    assert again.status_code == 303 and again.headers["location"] == "/mailroom?uploaded=1&duplicates=1"
    with runtime.factory() as session:
        assert len(session.scalars(select(LetterScan)).all()) == 1
    assert _upload(alice, []).status_code == 400
    forged = alice.http.post("/mailroom", data={"csrf_token": "forged"},
                             files=[("files", ("x.jpg", good, "image/jpeg"))])
    assert forged.status_code == 403
    partner = web("chloe")
    assert partner.get("/mailroom").status_code == 403


def test_a_letter_to_identify_is_filed_by_hand_on_a_candidate(web, runtime, cast):
    with runtime.factory() as session, session.begin():
        dupond, _ = do_resolve_identity(session, identities=[IdentityRef(IdentityKind.email, "md@example.fr")],
                                        display_name="Marie Dupont")
        dupond_id = dupond.id
    alice = web("alice")
    letter = SampleLetter(customer_number=None, subject="question sur un devis")
    assert _upload(alice, [("devis.png", letter_bytes(letter), "image/png")]).status_code == 303
    run_due_jobs(runtime.factory, worker="test")
    with runtime.factory() as session:
        scan = session.scalar(select(LetterScan))
    assert scan.status == ScanStatus.to_identify  # a name alone is never enough to file it
    page = alice.get(f"/mailroom/{scan.id}")
    assert page.status_code == 200 and "question sur un devis" in page.text and dupond_id in page.text
    assert alice.get(f"/mailroom/{scan.id}/preview.png").headers["content-type"] == "image/png"
    filed = alice.post(f"/mailroom/{scan.id}/file", {"customer_id": dupond_id,
                                                     "address": "Marie Dupont\n12 rue des Lilas\n75011 Paris"},
                       htmx=False)
    assert filed.status_code == 303 and filed.headers["location"].startswith("/agent/cases/")
    again = alice.post(f"/mailroom/{scan.id}/file", {"customer_id": dupond_id}, htmx=False)
    assert again.status_code == 409 and "déjà classé" in again.text


def test_the_mailroom_in_a_browser_from_upload_to_the_printed_reply(browser, server_url, runtime, cast, tmp_path):
    set_passwords(runtime, "alice")
    _marie(runtime)
    scan_file = tmp_path / "courrier-resiliation.png"
    scan_file.write_bytes(letter_bytes(SampleLetter(subject="résiliation de mon contrat", body=(
        "Madame, Monsieur,", "", "Je souhaite résilier mon contrat d'entretien", "à compter du 1er janvier 2027.", "",
        "Veuillez agréer mes salutations distinguées."))))
    page = sign_in(browser, server_url, "alice")
    page.wait_for_url("**/agent")
    page.get_by_role("link", name="Courrier").click()
    page.get_by_label("Courriers scannés").set_input_files(str(scan_file))
    page.get_by_label("Motif").select_option("reclamation")
    page.get_by_role("button", name="Déposer").click()
    page.get_by_text("1 courrier(s) enregistré(s)").wait_for(timeout=LIVE_MS)
    run_due_jobs(runtime.factory, worker="test")  # the OCR job (the test server runs no job runner)
    page.locator('#scans tr[data-status="received"]').wait_for(timeout=LIVE_MS)  # the list refreshes itself
    page.locator("#scans tbody a").first.click()
    text = page.locator("#letter-text").inner_text()
    assert "résilier mon contrat" in text and "CL100042" in text
    assert page.locator("#letter img").evaluate("img => img.naturalWidth") > 0

    page.get_by_role("link", name="ouvrir le dossier").click()
    conversation = page.locator("#conversation")
    conversation.get_by_text("résilier mon contrat").first.wait_for(timeout=LIVE_MS)
    assert conversation.get_by_role("link", name="courrier-resiliation.png").count() == 1
    page.locator("#reply-body").fill("Madame,\n\nVotre résiliation prendra effet le 1er janvier 2027.")
    page.get_by_role("button", name="Envoyer").click()
    printable = conversation.get_by_role("link", name=re.compile(r"^lettre-D-\d{4}-\d+\.pdf$"))
    printable.wait_for(timeout=LIVE_MS)
    pdf = page.request.get(server_url + printable.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    letter_text = pypdfium2.PdfDocument(pdf.body())[0].get_textpage().get_text_range()
    assert "MARIE DUPONT" in letter_text and "prendra effet le 1er janvier 2027" in letter_text
    page.close()
