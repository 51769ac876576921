"""Reading raw mails: headers, charsets, parts, the new text apart from the quoted history; bad input degrades."""

from __future__ import annotations

import pytest

from accueil.channels.email.noise import Noise, noise_of
from accueil.channels.email.parse import UnreadableMail, parse_mail
from tests.channels.email.mails import CUSTOMER, bounce, mail


def test_a_plain_mail_gives_its_sender_threading_headers_and_text():
    raw = mail(message_id="<m1@example.fr>", in_reply_to="<ours@maison-lumiere.example>",
               references="<first@maison-lumiere.example> <ours@maison-lumiere.example>", subject="Re: [D-2026-000042] Ma commande")
    parsed = parse_mail(raw)
    assert parsed.sender == CUSTOMER and parsed.sender_name == "David Martin"
    assert parsed.message_id == "<m1@example.fr>"
    assert parsed.thread_ids == ("<ours@maison-lumiere.example>", "<first@maison-lumiere.example>")
    assert parsed.subject_reference == "D-2026-000042"
    assert "toujours pas arrivée" in parsed.text
    assert noise_of(parsed) is None


def test_the_new_text_leaves_out_the_quoted_history_in_french_and_english():
    french = ("Merci, mais je n'ai toujours rien reçu.\n\nDavid\n\n"
              "Le lun. 7 déc. 2026 à 10:00, Service client <service@maison-lumiere.example> a écrit :\n"
              "> Votre colis part demain.\n> Cordialement")
    english = "Still nothing here.\n\nOn Mon, Dec 7, 2026 at 10:00 AM Service <service@maison-lumiere.example> wrote:\n> It ships."
    assert parse_mail(mail(text=french)).new_text == "Merci, mais je n'ai toujours rien reçu.\n\nDavid"
    assert parse_mail(mail(text=english)).new_text == "Still nothing here."
    assert "Votre colis part demain" in parse_mail(mail(text=french)).text  # the whole text is kept too


def test_encoded_headers_and_a_latin1_body_are_decoded():
    raw = (b"From: =?iso-8859-1?q?Ren=E9e_Dupr=E9?= <renee@example.fr>\r\nTo: service@maison-lumiere.example\r\n"
           b"Subject: =?utf-8?b?UsOpY2xhbWF0aW9uIMOgIHByb3Bvcw==?=\r\nMessage-ID: <l1@example.fr>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\nJ'ai re\xe7u un article ab\xeem\xe9.\r\n")
    parsed = parse_mail(raw)
    assert parsed.sender_name == "Renée Dupré"
    assert parsed.subject == "Réclamation à propos"
    assert parsed.text == "J'ai reçu un article abîmé."


def test_a_wrong_charset_and_8bit_headers_degrade_instead_of_failing():
    raw = (b"From: Jos\xc3\xa9 <jose@example.fr>\r\nTo: service@maison-lumiere.example\r\nSubject: Caf\xe9 froid\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\nCaf\xc3\xa9 froid.\r\n")
    parsed = parse_mail(raw)
    assert parsed.sender == "jose@example.fr"
    assert parsed.text == "Café froid."
    assert parsed.message_id is None


def test_html_only_mail_gets_a_text_and_keeps_its_html_for_sanitising():
    parsed = parse_mail(
        b"From: a@example.fr\r\nTo: service@maison-lumiere.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Bonjour</p><script>alert(1)</script><p>Merci</p>\r\n")
    assert parsed.text == "Bonjour\nMerci"
    assert "<script>" in parsed.html  # raw: the conversations door sanitises what it stores


def test_attachments_and_inline_images_are_parts():
    raw = mail(html="<p>Voir photo <img src='cid:photo1'></p>",
               attachments=[("facture.pdf", "application/pdf", b"%PDF-1.4 fake"),
                            ("photo.png", "image/png", b"\x89PNG fake")])
    parsed = parse_mail(raw)
    assert [(p.filename, p.content_type) for p in parsed.attachments] == [
        ("facture.pdf", "application/pdf"), ("photo.png", "image/png")]
    assert parsed.attachments[0].data == b"%PDF-1.4 fake"
    assert parsed.html is not None and "cid:photo1" in parsed.html


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 not a mail"])
def test_bytes_that_are_no_mail_are_unreadable(raw):
    with pytest.raises(UnreadableMail):
        parse_mail(raw)


def test_a_broken_mime_tree_is_read_as_far_as_it_goes():
    raw = (b"From: a@example.fr\r\nTo: service@maison-lumiere.example\r\nSubject: cut\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n--never-closed\r\n'
           b"Content-Type: text/plain\r\n\r\nLe texte avant la coupure")
    parsed = parse_mail(raw)
    assert "avant la coupure" in parsed.text
    assert parsed.defects


@pytest.mark.parametrize(("headers", "sender", "subject", "expected"), [
    ({"Auto-Submitted": "auto-replied"}, "david@example.fr", "Absent", Noise.auto_reply),
    ({"Auto-Submitted": "auto-generated"}, "shop@example.fr", "Votre facture", Noise.auto_reply),
    ({"Auto-Submitted": "no"}, "david@example.fr", "Ma commande", None),
    ({"X-Autoreply": "yes"}, "david@example.fr", "Ma commande", Noise.auto_reply),
    ({"X-Autorespond": "vacation"}, "david@example.fr", "Ma commande", Noise.auto_reply),
    ({"Precedence": "bulk"}, "news@example.fr", "Nos promotions", Noise.bulk),
    ({"Precedence": "junk"}, "spam@example.fr", "Gagnez", Noise.bulk),
    ({"Precedence": "list"}, "list@example.fr", "[liste] sujet", Noise.bulk),
    ({"List-Id": "<clients.example.fr>"}, "list@example.fr", "sujet", Noise.bulk),
    ({"X-Failed-Recipients": "x@example.fr"}, "postmaster@example.fr", "Échec", Noise.bounce),
    ({}, "mailer-daemon@example.fr", "Undeliverable", Noise.bounce),
    ({}, "noreply@boutique.example", "Votre commande", Noise.no_reply),
    ({}, "no-reply+tracking@transporteur.example", "Colis", Noise.no_reply),
    ({}, "ne-pas-repondre@banque.example", "Relevé", Noise.no_reply),
    ({}, "david@example.fr", "Réponse automatique : absent jusqu'au 4", Noise.auto_reply),
    ({}, "david@example.fr", "Out of Office: back Monday", Noise.auto_reply),
    ({}, "david@example.fr", "Absence de remboursement", None),  # a person's words, not a robot's
])
def test_automatic_mails_are_told_from_a_persons(headers, sender, subject, expected):
    parsed = parse_mail(mail(sender=sender, subject=subject, headers=headers))
    assert noise_of(parsed) == expected


def test_a_delivery_report_is_a_bounce_and_our_own_message_coming_back_is_a_loop():
    assert noise_of(parse_mail(bounce("<ours@maison-lumiere.example>"))) is Noise.bounce
    assert noise_of(parse_mail(mail()), ours=True) is Noise.loop


def test_a_delivery_report_names_the_addresses_that_failed_and_why():
    parsed = parse_mail(bounce("<ours@maison-lumiere.example>", failed="Gone@Example.fr"))
    assert parsed.failed_recipients == (("gone@example.fr", "5.1.1"),)
    header_only = parse_mail(mail(sender="postmaster@example.fr", headers={"X-Failed-Recipients": "a@example.fr"}))
    assert header_only.failed_recipients == (("a@example.fr", "5.0.0"),)


def test_headers_parsed_once_and_shared_between_mails_give_the_same_reading():
    """Parsed headers are cached across mails (the MIME walk reads Content-Type dozens of times): a mail read
    after others with the same content types, or read again, reads exactly as the first time."""
    first = mail(message_id="<c1@example.fr>", subject="Première", attachments=[("a.pdf", "application/pdf", b"%PDF")])
    second = mail(message_id="<c2@example.fr>", subject="Seconde", attachments=[("b.pdf", "application/pdf", b"%PDF2")])
    once, other, again = parse_mail(first), parse_mail(second), parse_mail(first)
    assert once == again
    assert (other.message_id, other.subject, other.attachments[0].filename) == ("<c2@example.fr>", "Seconde", "b.pdf")
    assert (once.message_id, once.subject, once.attachments[0].data) == ("<c1@example.fr>", "Première", b"%PDF")
