"""Meta's webhook signature (X-Hub-Signature-256) and subscription handshake."""

from __future__ import annotations

import hashlib
import hmac

from accueil.channels import meta

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_the_signature_is_the_hmac_sha256_of_the_raw_body():
    expected = "sha256=" + hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    assert meta.signature("app-secret", BODY) == expected
    assert meta.signature_is_valid("app-secret", BODY, expected)
    assert meta.signature_is_valid("app-secret", BODY, expected.upper().replace("SHA256=", "sha256="))


def test_a_wrong_signature_missing_header_or_secret_is_refused():
    good = meta.signature("app-secret", BODY)
    assert not meta.signature_is_valid("other-secret", BODY, good)
    assert not meta.signature_is_valid("app-secret", BODY + b" ", good)  # the bytes as received, not the JSON
    assert not meta.signature_is_valid("app-secret", BODY, None)
    assert not meta.signature_is_valid("app-secret", BODY, good.removeprefix("sha256="))  # no scheme
    assert not meta.signature_is_valid("app-secret", BODY, "sha1=" + good[7:])
    assert not meta.signature_is_valid("", BODY, meta.signature("", BODY))  # no secret configured: all refused


def test_the_handshake_echoes_the_challenge_only_for_our_verify_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": "s3cret", "hub.challenge": "1158201444"}
    assert meta.handshake_challenge(params, "s3cret") == "1158201444"
    assert meta.handshake_challenge({**params, "hub.verify_token": "guess"}, "s3cret") is None
    assert meta.handshake_challenge({**params, "hub.mode": "unsubscribe"}, "s3cret") is None
    assert meta.handshake_challenge({**params, "hub.challenge": ""}, "s3cret") is None
    assert meta.handshake_challenge(params, "") is None  # no token configured: no subscription
