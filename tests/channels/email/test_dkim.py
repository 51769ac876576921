"""DKIM: with a selector and a key, what leaves over SMTP carries a signature a receiving server verifies
(checked with dkimpy against the public key, as DNS would publish it)."""

from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accueil.channels.base import OutboundMessage
from accueil.channels.email.adapter import SmtpEmail


def keypair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode()


def test_mail_sent_with_a_dkim_key_verifies_and_a_changed_one_does_not(smtp_server):
    private, public = keypair()
    adapter = SmtpEmail(host="127.0.0.1", port=smtp_server.port, mail_from="Service <service@maison-lumiere.example>",
                        dkim_selector="accueil", dkim_private_key=private)
    adapter.send(OutboundMessage(to="david@example.fr", subject="Votre commande", text="Elle part demain.",
                                 extra={"headers": {"Auto-Submitted": "no"}}))
    smtp_server.wait_for(1)
    raw = smtp_server.raw[0]
    published = {b"accueil._domainkey.maison-lumiere.example.": f"v=DKIM1; k=rsa; p={public}".encode()}

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return published.get(name, b"")

    assert raw.startswith(b"DKIM-Signature:") and b"d=maison-lumiere.example" in raw
    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Elle part demain.", b"Elle part jamais."), dnsfunc=dns)


def test_without_a_key_nothing_is_signed(smtp_server):
    SmtpEmail(host="127.0.0.1", port=smtp_server.port).send(OutboundMessage(to="a@example.fr", subject="x", text="y"))
    smtp_server.wait_for(1)
    assert b"DKIM-Signature" not in smtp_server.raw[0]
