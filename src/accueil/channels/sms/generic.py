"""The generic signed JSON format, for SMS gateways other than Twilio (pure: no I/O, the clock is given).

Each request carries ``X-Accueil-Timestamp`` (Unix seconds) and ``X-Accueil-Signature: sha256=<hex>``, the
HMAC-SHA256, keyed with ``ACCUEIL_SMS_WEBHOOK_SECRET``, of the timestamp, a dot and the raw body bytes
(``f"{timestamp}.".encode() + body``). A timestamp more than 5 minutes away from our clock is refused, so a
captured request cannot be played again later; within those minutes the message id makes a replay a
duplicate. The body formats are in docs/channels.md (section SMS).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from accueil.conversations.content import AttachmentIn

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "x-accueil-signature"
TIMESTAMP_HEADER = "x-accueil-timestamp"
STATUSES = {"queued": None, "accepted": None, "sending": None, "sent": "sent", "delivered": "delivered",
            "read": "read", "undelivered": "failed", "failed": "failed", "rejected": "failed", "expired": "failed"}


class BadPayload(ValueError):
    """The body is signed but not in the format (the reason is safe to show: no personal data)."""


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_is_valid(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """Signed with ``secret``, and timestamped within 5 minutes of ``now``."""
    given, stamp = headers.get(SIGNATURE_HEADER) or "", headers.get(TIMESTAMP_HEADER) or ""
    if not secret or not given or not stamp.isdigit():
        return False
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, stamp, body).encode(), given.strip().encode())


def _text(payload: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 200) -> str:
    value = payload.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise BadPayload(f"{name}: a string of at most {limit} characters is required")
    return value.strip() if name != "text" else value


def _time(payload: Mapping[str, Any], name: str) -> datetime | None:
    raw = payload.get(name)
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise BadPayload(f"{name}: an ISO 8601 time with its zone is required") from None
    if at.tzinfo is None:
        raise BadPayload(f"{name}: an ISO 8601 time with its zone is required")
    return at.astimezone(UTC)


def parse_message(payload: Any) -> dict[str, Any]:
    """``{"id", "from", "to", "text", "received_at"?, "media"?: [{"filename", "content_type", "data"}]}``
    (``data`` in base64: media travel inside the signed body, nothing is fetched from anywhere)."""
    if not isinstance(payload, dict):
        raise BadPayload("a JSON object is expected")
    media = payload.get("media") or []
    if not isinstance(media, list):
        raise BadPayload("media: a list is expected")
    items = []
    for index, item in enumerate(media):
        if not isinstance(item, dict):
            raise BadPayload(f"media[{index}]: an object is expected")
        try:
            data = base64.b64decode(str(item.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise BadPayload(f"media[{index}].data: base64 is expected") from None
        items.append(AttachmentIn(filename=str(item.get("filename") or f"media-{index + 1}")[:200],
                                  content_type=str(item.get("content_type") or "application/octet-stream")[:100],
                                  data=data))
    return {"message_id": _text(payload, "id"), "sender": _text(payload, "from", limit=40),
            "to": _text(payload, "to", required=False, limit=40), "text": _text(payload, "text", required=False,
                                                                               limit=100_000),
            "received_at": _time(payload, "received_at"), "media": items}


def parse_status(payload: Any) -> dict[str, Any]:
    """``{"id", "status", "error"?, "at"?}``: ``id`` is what the gateway answered when we sent the message."""
    if not isinstance(payload, dict):
        raise BadPayload("a JSON object is expected")
    status = _text(payload, "status", limit=20).lower()
    if status not in STATUSES:
        raise BadPayload(f"status: one of {', '.join(STATUSES)}")
    error = payload.get("error")
    return {"message_id": _text(payload, "id"), "status": STATUSES[status],
            "error": str(error)[:500] if error is not None else (status if STATUSES[status] == "failed" else None),
            "at": _time(payload, "at")}
