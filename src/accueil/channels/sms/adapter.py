"""SMS out through an HTTP gateway (``ACCUEIL_SMS_GATEWAY_URL``, JSON ``{to, text, from}``): one ``ChannelAdapter``."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from accueil.channels.base import Capabilities, OutboundMessage
from accueil.config import Settings
from accueil.conversations.models import ChannelKind

MAX_SMS = 1_600  # ten concatenated segments


@dataclass(frozen=True)
class HttpSmsGateway:
    url: str = ""
    token: str = ""
    sender: str = ""
    timeout_seconds: float = 10.0
    kind: ChannelKind = ChannelKind.sms
    name: str = "gateway"
    capabilities: Capabilities = Capabilities(max_length=MAX_SMS)

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSmsGateway:
        return cls(url=settings.sms_gateway_url, token=settings.sms_gateway_token, sender=settings.sms_sender)

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def send(self, message: OutboundMessage) -> None:
        if not self.enabled:
            raise RuntimeError("no SMS gateway configured (ACCUEIL_SMS_GATEWAY_URL)")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"to": message.to, "text": message.text[:MAX_SMS], "from": self.sender or None}
        response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_seconds)
        response.raise_for_status()
