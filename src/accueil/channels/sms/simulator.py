"""The recorded-payload simulator for SMS: deliveries in the generic signed JSON format, as a gateway would
post them, sent to a running accueil (``accueil sms simulate``), so the demo's SMS conversations flow both
ways without an operator — replies then land in ``ACCUEIL_SMS_OUTBOX_DIR``."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx

from accueil.channels.sms import generic

DEMO_WEBHOOK_SECRET = "demo-sms-webhook-secret"  # what ``accueil demo`` configures when none is set


def message_delivery(*, sender: str, text: str, at: datetime, to: str = "", message_id: str | None = None) -> dict:
    delivery: dict[str, Any] = {"id": message_id or f"sim-{uuid.uuid4().hex}", "from": sender, "text": text,
                                "received_at": at.isoformat()}
    if to:
        delivery["to"] = to
    return delivery


def status_delivery(*, message_id: str, status: str, at: datetime) -> dict:
    return {"id": message_id, "status": status, "at": at.isoformat()}


def post_signed(url: str, path: str, delivery: dict, secret: str, *, now: datetime,
                timeout: float = 10.0) -> httpx.Response:
    body = json.dumps(delivery, ensure_ascii=False).encode()
    stamp = str(int(now.timestamp()))
    return httpx.post(url.rstrip("/") + path, content=body, timeout=timeout, headers={
        "Content-Type": "application/json", generic.TIMESTAMP_HEADER: stamp,
        generic.SIGNATURE_HEADER: generic.sign(secret, stamp, body)})
