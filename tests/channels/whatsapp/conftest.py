"""WhatsApp fixtures: the runtime configured with an app secret, a WhatsApp queue, a local Graph API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from accueil.channels import meta
from accueil.channels.whatsapp.adapter import CloudApiWhatsapp
from accueil.routing.models import Queue, TargetKind
from tests.channels.whatsapp.graph import GraphServer
from tests.factories import use_adapters

SECRET = "test-app-secret"
VERIFY = "verify-me"
PHONE_NUMBER_ID = "106540352242922"
RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> dict[str, Any]:
    """A delivery as Meta sends it (tests/channels/whatsapp/recorded/)."""
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))


def stamped(delivery: dict[str, Any], when: datetime, *, wamid: str | None = None,
            wa_id: str | None = None) -> dict[str, Any]:
    """The same delivery sent at ``when`` (its items a second apart), optionally for another message or sender."""
    base = int(when.timestamp())
    for entry in delivery["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            for offset, item in enumerate(value.get("messages", []) + value.get("statuses", [])):
                item["timestamp"] = str(base + offset)
                if wamid is not None:
                    item["id"] = wamid if len(value.get("messages", [])) + len(value.get("statuses", [])) == 1 \
                        or "status" in item else f"{wamid}.{offset}"
                if wa_id is not None and "from" in item:
                    item["from"] = wa_id
            if wa_id is not None:
                for person in value.get("contacts", []):
                    person["wa_id"] = wa_id
    return delivery


def post(http: httpx.Client, delivery: dict[str, Any] | bytes, *, secret: str = SECRET,
         signature: str | None = None) -> httpx.Response:
    body = delivery if isinstance(delivery, bytes) else json.dumps(delivery).encode()
    headers = {"Content-Type": "application/json",
               meta.SIGNATURE_HEADER: signature if signature is not None else meta.signature(secret, body)}
    return http.post("/webhooks/whatsapp", content=body, headers=headers)


@pytest.fixture
def whatsapp(runtime, cast, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr(runtime.settings, "whatsapp_app_secret", SECRET)
    monkeypatch.setattr(runtime.settings, "whatsapp_verify_token", VERIFY)
    monkeypatch.setattr(runtime.settings, "whatsapp_queue", "whatsapp")
    with runtime.factory() as session, session.begin():
        session.add(Queue(code="whatsapp", name_fr="WhatsApp", name_en="WhatsApp", channel="whatsapp", level=1,
                          target_kind=TargetKind.reply_delay, target_percent=90, target_seconds=3600))
    return runtime


@pytest.fixture
def graph(whatsapp) -> Iterator[GraphServer]:  # noqa: ANN001
    """A local Graph API the runtime's WhatsApp adapter talks to (real HTTP)."""
    server = GraphServer().start()
    restore = use_adapters(whatsapp, CloudApiWhatsapp(api_url=server.url, token="graph-token",
                                                      phone_number_id=PHONE_NUMBER_ID))
    try:
        yield server
    finally:
        restore()
        server.stop()
