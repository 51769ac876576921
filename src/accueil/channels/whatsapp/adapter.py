"""WhatsApp out through Meta's Graph API (Cloud API), or into a local folder when no account is configured.

``CloudApiWhatsapp`` posts ``{api_url}/{phone_number_id}/messages`` with the access token as bearer, in
Meta's JSON: free text, or a template with its body variables (``extra["template"]``, set by the sending
job for a template reply). It returns the ``wamid`` Meta gives, which its status webhooks then name.
It also fetches the files customers send: the media's metadata from the API, then its bytes — only from
the API's own host or the configured media hosts, never from an address a payload could choose.

``RecordingWhatsapp`` writes the same JSON it would have posted into ``ACCUEIL_WHATSAPP_OUTBOX_DIR``
(the demo's outbox), so replies flow without Meta.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from accueil.channels.base import Capabilities, OutboundMessage
from accueil.config import Settings
from accueil.conversations.models import ChannelKind

MAX_TEXT = 4_096  # characters of one WhatsApp text message
CAPABILITIES = Capabilities(templates=True, max_length=MAX_TEXT)


class MediaUnavailable(Exception):
    """The Graph API would not give the file (refused, gone, or pointing somewhere we never fetch from)."""


def wa_number(recipient: str) -> str:
    """Meta's ``to``: the international number without the plus (``whatsapp:+336…`` → ``336…``)."""
    return recipient.removeprefix("whatsapp:").lstrip("+")


def graph_payload(message: OutboundMessage) -> dict[str, Any]:
    """The body of one ``/messages`` call: a template when the reply is one, else free text."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_number(message.to)}
    template = message.extra.get("template")
    if template:
        parameters = [{"type": "text", "text": str(value)} for value in template.get("variables", [])]
        body: dict[str, Any] = {"name": template["name"], "language": {"code": template["language"]}}
        if parameters:
            body["components"] = [{"type": "body", "parameters": parameters}]
        return {**base, "type": "template", "template": body}
    return {**base, "type": "text", "text": {"preview_url": False, "body": message.text[:MAX_TEXT]}}


@dataclass(frozen=True)
class CloudApiWhatsapp:
    api_url: str = ""
    token: str = ""
    phone_number_id: str = ""
    media_hosts: tuple[str, ...] = ()
    max_media_bytes: int = 16 * 1024 * 1024
    timeout_seconds: float = 10.0
    kind: ChannelKind = ChannelKind.whatsapp
    name: str = "cloud_api"
    capabilities: Capabilities = CAPABILITIES

    @classmethod
    def from_settings(cls, settings: Settings) -> CloudApiWhatsapp:
        hosts = tuple(h.strip().lower() for h in settings.whatsapp_media_hosts.split(",") if h.strip())
        return cls(api_url=settings.whatsapp_api_url.rstrip("/"), token=settings.whatsapp_access_token,
                   phone_number_id=settings.whatsapp_phone_number_id, media_hosts=hosts,
                   max_media_bytes=settings.max_attachment_bytes)

    @property
    def enabled(self) -> bool:
        return bool(self.api_url and self.token and self.phone_number_id)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def send(self, message: OutboundMessage) -> str:
        if not self.enabled:
            raise RuntimeError("no WhatsApp Cloud API account configured (ACCUEIL_WHATSAPP_ACCESS_TOKEN, "
                               "ACCUEIL_WHATSAPP_PHONE_NUMBER_ID)")
        response = httpx.post(f"{self.api_url}/{self.phone_number_id}/messages", json=graph_payload(message),
                              headers=self._headers(), timeout=self.timeout_seconds)
        response.raise_for_status()
        return str(response.json()["messages"][0]["id"])

    def _may_fetch(self, url: str) -> bool:
        api, target = urlsplit(self.api_url), urlsplit(url)
        if (target.scheme, target.netloc) == (api.scheme, api.netloc):
            return True
        return target.scheme == "https" and (target.hostname or "").lower() in self.media_hosts

    def fetch_media(self, media_id: str) -> tuple[bytes, str]:
        """The bytes and type of a customer's file; too large is refused before it is all read."""
        if not self.enabled:
            raise MediaUnavailable("no WhatsApp Cloud API account configured")
        if not media_id.replace("_", "").replace("-", "").isalnum():
            raise MediaUnavailable("invalid media id")
        with httpx.Client(timeout=self.timeout_seconds, follow_redirects=False) as client:
            info = client.get(f"{self.api_url}/{media_id}", headers=self._headers())
            info.raise_for_status()
            meta = info.json()
            url = str(meta.get("url") or "")
            if not self._may_fetch(url):
                raise MediaUnavailable("the media URL is not on the Graph API's host nor a configured media host")
            if int(meta.get("file_size") or 0) > self.max_media_bytes:
                raise MediaUnavailable(f"larger than {self.max_media_bytes} bytes")
            with client.stream("GET", url, headers=self._headers()) as response:
                response.raise_for_status()
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > self.max_media_bytes:
                        raise MediaUnavailable(f"larger than {self.max_media_bytes} bytes")
                content_type = response.headers.get("content-type") or str(meta.get("mime_type") or "")
        return bytes(data), content_type.split(";")[0].strip().lower()


@dataclass(frozen=True)
class RecordingWhatsapp:
    """What would have gone to Meta, one JSON file per message (written atomically), for the demo."""

    folder: str = ""
    kind: ChannelKind = ChannelKind.whatsapp
    name: str = "recording"
    capabilities: Capabilities = CAPABILITIES

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordingWhatsapp:
        return cls(folder=settings.whatsapp_outbox_dir)

    @property
    def enabled(self) -> bool:
        return bool(self.folder)

    def send(self, message: OutboundMessage) -> str:
        if not self.enabled:
            raise RuntimeError("no WhatsApp outbox folder configured (ACCUEIL_WHATSAPP_OUTBOX_DIR)")
        wamid = f"wamid.local.{uuid.uuid4().hex}"
        folder = Path(self.folder)
        folder.mkdir(parents=True, exist_ok=True)
        record = {"wamid": wamid, "delivery_id": message.extra.get("delivery_id"), "request": graph_payload(message)}
        temporary = folder / f".{wamid}.tmp"
        temporary.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(temporary, folder / f"{wamid}.json")
        return wamid

    def fetch_media(self, media_id: str) -> tuple[bytes, str]:
        raise MediaUnavailable("the demo's outbox fetches no media (no Graph API configured)")


def providers_from(settings: Settings) -> list[Any]:
    """The Cloud API when an account is configured, else the local outbox (the first enabled one sends)."""
    return [CloudApiWhatsapp.from_settings(settings), RecordingWhatsapp.from_settings(settings)]
