"""The recorded-payload simulator: Cloud API deliveries as Meta sends them, signed with the app secret,
posted to a running accueil (``accueil whatsapp simulate``), so the demo's WhatsApp conversations flow
both ways without Meta — replies then land in ``ACCUEIL_WHATSAPP_OUTBOX_DIR``."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx

from accueil.channels import meta

DEMO_APP_SECRET = "demo-whatsapp-app-secret"  # what ``accueil demo`` configures when none is set
DEMO_PHONE_NUMBER_ID = "106540352242922"
DEMO_BUSINESS_NUMBER = "33170000000"


def _delivery(value: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DEMO_BUSINESS_NUMBER, "phone_number_id": DEMO_PHONE_NUMBER_ID},
             **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def message_delivery(*, wa_id: str, at: datetime, name: str | None = None, text: str | None = None,
                     location: tuple[float, float] | None = None, button: str | None = None,
                     wamid: str | None = None) -> dict[str, Any]:
    """One customer message: text, a location, or a tap on a quick-reply button."""
    item: dict[str, Any] = {"from": wa_id, "id": wamid or f"wamid.sim.{uuid.uuid4().hex}",
                            "timestamp": str(int(at.timestamp()))}
    if location is not None:
        item.update(type="location", location={"latitude": location[0], "longitude": location[1]})
    elif button is not None:
        item.update(type="button", button={"payload": button.upper().replace(" ", "_"), "text": button})
    else:
        item.update(type="text", text={"body": text or ""})
    contacts = [{"profile": {"name": name or wa_id}, "wa_id": wa_id}]
    return _delivery({"contacts": contacts, "messages": [item]})


def status_delivery(*, wamid: str, status: str, at: datetime, recipient: str = "") -> dict[str, Any]:
    return _delivery({"statuses": [{"id": wamid, "status": status, "timestamp": str(int(at.timestamp())),
                                    "recipient_id": recipient}]})


def post_signed(url: str, delivery: dict[str, Any], app_secret: str, timeout: float = 10.0) -> httpx.Response:
    body = json.dumps(delivery, ensure_ascii=False).encode()
    return httpx.post(url.rstrip("/") + "/webhooks/whatsapp", content=body, timeout=timeout,
                      headers={"Content-Type": "application/json", meta.SIGNATURE_HEADER: meta.signature(app_secret, body)})
