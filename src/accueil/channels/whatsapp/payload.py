"""Reading a WhatsApp Cloud API webhook delivery: pure, no I/O.

One delivery (``{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": …}]}]}``) may
carry several customers' messages and several statuses of our own messages. Each message becomes one
``WaMessage`` (its ``wamid`` is the idempotency key); its text is what the customer sent, or a short
language-neutral line for what has no text (a location, a file without caption). Items that are not
messages or statuses we know are left out and counted, never an exception that loses the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MEDIA_MARK = {"image": "🖼️", "document": "📄", "audio": "🎤", "video": "🎬", "sticker": "🖼️"}
STATUSES = ("sent", "delivered", "read", "failed")


class MalformedDelivery(ValueError):
    """Not a Cloud API delivery at all (not JSON, not an object of ``whatsapp_business_account``)."""


@dataclass(frozen=True)
class WaMedia:
    media_id: str
    mime_type: str
    sha256: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class WaMessage:
    wamid: str
    wa_id: str  # the sender's WhatsApp id: their international number without the plus
    kind: str  # text, image, document, audio, video, sticker, location, interactive, button, or another type
    text: str
    at: datetime
    phone_number_id: str | None = None  # our business number it was sent to
    profile_name: str | None = None
    media: WaMedia | None = None
    reply_to: str | None = None  # the wamid it answers (a quoted message, a template's quick reply)


@dataclass(frozen=True)
class WaStatus:
    wamid: str
    status: str  # sent, delivered, read, failed
    at: datetime
    error: str | None = None


@dataclass
class WaDelivery:
    messages: list[WaMessage] = field(default_factory=list)
    statuses: list[WaStatus] = field(default_factory=list)
    skipped: int = 0  # items left out (unknown change field, a message without id or sender…)


def _at(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _text(kind: str, item: dict[str, Any]) -> tuple[str, WaMedia | None]:
    """What the customer said, and the file they sent (fetched later through the Graph API)."""
    part = item.get(kind) if isinstance(item.get(kind), dict) else {}
    if kind == "text":
        return str(part.get("body") or ""), None
    if kind in MEDIA_TYPES:
        media = None
        if part.get("id"):
            media = WaMedia(media_id=str(part["id"]), mime_type=str(part.get("mime_type") or "application/octet-stream"),
                            sha256=part.get("sha256"), filename=part.get("filename"))
        caption = str(part.get("caption") or "").strip()
        label = caption or " ".join(x for x in (MEDIA_MARK[kind], part.get("filename") or "") if x)
        return label, media
    if kind == "location":
        lat, lon = part.get("latitude"), part.get("longitude")
        lines = [f"📍 {lat}, {lon}"]
        lines += [str(part[key]) for key in ("name", "address") if part.get(key)]
        if lat is not None and lon is not None:
            lines.append(f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
        return "\n".join(lines), None
    if kind == "interactive":  # the customer tapped a reply button or a list row we sent
        reply = part.get("button_reply") or part.get("list_reply") or {}
        title = str(reply.get("title") or reply.get("id") or "")
        description = reply.get("description")
        return f"{title}\n{description}" if description else title, None
    if kind == "button":  # a template's quick-reply button
        return str(part.get("text") or part.get("payload") or ""), None
    return f"[{kind}]", None  # reaction, contacts, order, unsupported…: kept, never lost


def _message(item: dict[str, Any], names: dict[str, str], phone_number_id: str | None) -> WaMessage | None:
    wamid, wa_id, at = item.get("id"), item.get("from"), _at(item.get("timestamp"))
    if not wamid or not wa_id or at is None:
        return None
    kind = str(item.get("type") or "unknown")
    text, media = _text(kind, item)
    context = item.get("context") if isinstance(item.get("context"), dict) else {}
    return WaMessage(wamid=str(wamid), wa_id=str(wa_id), kind=kind, text=text or f"[{kind}]", at=at,
                     phone_number_id=phone_number_id, profile_name=names.get(str(wa_id)), media=media,
                     reply_to=context.get("id"))


def _status(item: dict[str, Any]) -> WaStatus | None:
    wamid, status, at = item.get("id"), item.get("status"), _at(item.get("timestamp"))
    if not wamid or status not in STATUSES or at is None:
        return None
    error = None
    errors = item.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        error = " ".join(str(x) for x in (first.get("code"), first.get("title")) if x)  # no message text: no PII
    return WaStatus(wamid=str(wamid), status=status, at=at, error=error)


def parse_delivery(body: bytes) -> WaDelivery:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedDelivery("not JSON") from None
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise MalformedDelivery("not a whatsapp_business_account delivery")
    delivery = WaDelivery()
    for entry in data.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                delivery.skipped += 1
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            names = {str(c.get("wa_id")): str(c["profile"]["name"]) for c in value.get("contacts") or []
                     if isinstance(c, dict) and isinstance(c.get("profile"), dict) and c["profile"].get("name")}
            for item in value.get("messages") or []:
                message = _message(item, names, metadata.get("phone_number_id")) if isinstance(item, dict) else None
                if message is None:
                    delivery.skipped += 1
                else:
                    delivery.messages.append(message)
            for item in value.get("statuses") or []:
                status = _status(item) if isinstance(item, dict) else None
                if status is None:
                    delivery.skipped += 1
                else:
                    delivery.statuses.append(status)
    return delivery
