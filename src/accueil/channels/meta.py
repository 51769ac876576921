"""What Meta's webhooks share (WhatsApp Cloud API, Messenger, Instagram): the signature and the handshake.

- Every POST carries ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body with the app
  secret. It is checked over the bytes as received (never a re-serialised JSON), in constant time.
- Subscribing a webhook, Meta sends ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`` and
  expects the challenge back, only if the verify token is the one configured.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "x-hub-signature-256"
PREFIX = "sha256="


def signature(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body`` (the simulator and the tests sign with it)."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(app_secret: str, body: bytes, given: str | None) -> bool:
    """True only with a configured secret and the right ``sha256=<hex>`` for these exact bytes."""
    if not app_secret or not given:
        return False
    given = given.strip()
    if not given.startswith(PREFIX):
        return False
    return hmac.compare_digest(signature(app_secret, body).encode(), given.lower().encode())


def handshake_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo when ``params`` are a subscription with our verify token; None otherwise."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge")
    return challenge if challenge else None
