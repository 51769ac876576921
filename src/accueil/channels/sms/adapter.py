"""SMS out: through an HTTP gateway (``ACCUEIL_SMS_GATEWAY_URL``, JSON ``{to, text, from}``) or Twilio's
Messages REST API (``ACCUEIL_TWILIO_ACCOUNT_SID`` / ``_AUTH_TOKEN``, at ``ACCUEIL_TWILIO_API_BASE``).

Each ``send`` returns the provider's message id, which its delivery-status callbacks name. The sender
(``From``) is, in order: the one the message asks for (``extra["sender"]``: the number a STOP was sent
to), the sender of the exchange's queue (``ACCUEIL_SMS_SENDERS``, one per brand), ``ACCUEIL_SMS_SENDER``.
The gateway comes first in the registry: with both configured, it is the one used.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from accueil.channels.base import Capabilities, OutboundMessage
from accueil.config import Settings
from accueil.conversations.content import write_durably
from accueil.conversations.models import ChannelKind

MAX_SMS = 1_600  # ten concatenated segments (Twilio's limit too)


def sender_for(extra: Mapping[str, Any], senders: Mapping[str, str], default: str) -> str:
    """The sender id of one message (see the module docstring)."""
    return extra.get("sender") or senders.get(extra.get("queue") or "") or default


@dataclass(frozen=True)
class HttpSmsGateway:
    url: str = ""
    token: str = ""
    sender: str = ""
    senders: Mapping[str, str] = field(default_factory=dict)  # queue code -> sender
    timeout_seconds: float = 10.0
    kind: ChannelKind = ChannelKind.sms
    name: str = "gateway"
    capabilities: Capabilities = Capabilities(max_length=MAX_SMS)

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSmsGateway:
        return cls(url=settings.sms_gateway_url, token=settings.sms_gateway_token, sender=settings.sms_sender,
                   senders=settings.sms_sender_map)

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def send(self, message: OutboundMessage) -> str | None:
        """POST the message; the gateway's ``{"id": …}`` answer, when it gives one, is the message id."""
        if not self.enabled:
            raise RuntimeError("no SMS gateway configured (ACCUEIL_SMS_GATEWAY_URL)")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"to": message.to, "text": message.text[:MAX_SMS],
                "from": sender_for(message.extra, self.senders, self.sender) or None}
        response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_seconds)
        response.raise_for_status()
        try:
            answer = response.json()
        except ValueError:
            return None
        found = answer.get("id") if isinstance(answer, dict) else None
        return str(found) if found else None


class TwilioRefused(Exception):
    """Twilio answered 4xx: the request itself is wrong (kept as the job's error; retried like any failure)."""


@dataclass(frozen=True)
class TwilioSms:
    """Twilio's Messages API: ``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` (form: To, From, Body,
    StatusCallback), HTTP basic auth with the account SID and auth token; the answer's ``sid`` is the id."""

    account_sid: str = ""
    auth_token: str = ""
    sender: str = ""
    senders: Mapping[str, str] = field(default_factory=dict)
    api_base: str = "https://api.twilio.com"
    public_url: str = ""  # status callbacks come back to <public_url>/webhooks/twilio/sms/status
    timeout_seconds: float = 10.0
    kind: ChannelKind = ChannelKind.sms
    name: str = "twilio"
    capabilities: Capabilities = Capabilities(max_length=MAX_SMS)

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSms:
        return cls(account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token,
                   sender=settings.sms_sender, senders=settings.sms_sender_map, api_base=settings.twilio_api_base,
                   public_url=settings.public_url)

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token and (self.sender or self.senders))

    def form_for(self, message: OutboundMessage) -> dict[str, str]:
        form = {"To": message.to, "From": sender_for(message.extra, self.senders, self.sender),
                "Body": message.text[:MAX_SMS]}
        if self.public_url:
            form["StatusCallback"] = f"{self.public_url.rstrip('/')}/webhooks/twilio/sms/status"
        return form

    def send(self, message: OutboundMessage) -> str:
        if not self.enabled:
            raise RuntimeError("Twilio SMS not configured (ACCUEIL_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, ACCUEIL_SMS_SENDER)")
        url = f"{self.api_base.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = httpx.post(url, data=self.form_for(message), auth=(self.account_sid, self.auth_token),
                              timeout=self.timeout_seconds)
        if 400 <= response.status_code < 500:
            try:
                detail = response.json()
            except ValueError:
                detail = {}
            raise TwilioRefused(f"Twilio refused the message: {response.status_code} code {detail.get('code')}")
        response.raise_for_status()
        return str(response.json()["sid"])


@dataclass(frozen=True)
class RecordingSms:
    """No gateway (the demo): what would have been sent, one JSON file per SMS in ``ACCUEIL_SMS_OUTBOX_DIR``."""

    folder: str = ""
    sender: str = ""
    senders: Mapping[str, str] = field(default_factory=dict)
    kind: ChannelKind = ChannelKind.sms
    name: str = "recording"
    capabilities: Capabilities = Capabilities(max_length=MAX_SMS)

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordingSms:
        return cls(folder=settings.sms_outbox_dir, sender=settings.sms_sender, senders=settings.sms_sender_map)

    @property
    def enabled(self) -> bool:
        return bool(self.folder)

    def send(self, message: OutboundMessage) -> str:
        if not self.enabled:
            raise RuntimeError("no SMS outbox folder configured (ACCUEIL_SMS_OUTBOX_DIR)")
        identifier = f"local-{uuid.uuid4().hex}"
        record = {"id": identifier, "delivery_id": message.extra.get("delivery_id"), "to": message.to,
                  "from": sender_for(message.extra, self.senders, self.sender) or None,
                  "text": message.text[:MAX_SMS]}
        write_durably(Path(self.folder) / f"{identifier}.json", json.dumps(record, ensure_ascii=False, indent=2)
                      .encode())
        return identifier


def providers_from(settings: Settings) -> list[Any]:
    """The SMS providers the settings configure, the gateway first (the local outbox last)."""
    return [HttpSmsGateway.from_settings(settings), TwilioSms.from_settings(settings),
            RecordingSms.from_settings(settings)]
