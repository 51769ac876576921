"""The provider adapter: how the console's call controls reach the telephony that carries the call.

accueil decides (who answers, hold, transfer, hang up); the provider moves the audio. One small interface,
``VoiceProvider``, with two implementations:

- ``TwilioProvider`` updates the live call through Twilio's REST API (``Calls/{sid}.json`` with new TwiML,
  or ``Status=completed`` to hang up); the agent's phone is a Twilio Client identity (their username).
- ``CommandWebhookProvider`` POSTs a JSON command to a URL the PBX serves (any PBX or CCaaS can implement it):
  ``{"call_id", "command": connect|hold|resume|transfer|hangup|dial, "agent", "to_agent", "to_queue",
  "to_number"}`` — ``dial`` (an outbound campaign call) asks the PBX to call ``to_number`` and bridge the
  agent, ``call_id`` being accueil's interaction id. Twilio is not offered ``dial`` (it would need a caller
  id accueil does not configure): campaign calls through it are dialled by hand.

Calls with no configured provider (the demo's simulated calls, a CTI feed without a command URL) are still
controlled in accueil — the console records hold, transfer and hang-up — but nothing is sent anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy.orm import Session

from accueil.channels.base import Capabilities, ChannelAdapter, channels_of
from accueil.channels.voice import twilio
from accueil.config import Settings
from accueil.conversations.models import ChannelKind
from accueil.core.errors import AccueilError

COMMANDS = ("connect", "hold", "resume", "transfer", "hangup")
DIAL = "dial"


class ProviderFailed(AccueilError):
    """The telephony provider refused or did not answer: nothing was recorded, the agent may try again."""

    status_code = 502


@dataclass(frozen=True)
class CallCommand:
    call_id: str
    command: str
    agent: str | None = None  # accueil username of the agent concerned
    to_agent: str | None = None
    to_queue: str | None = None
    language: str = "fr"
    to_number: str | None = None  # ``dial``: the E.164 number to call


class VoiceProvider(ChannelAdapter, Protocol):
    """A ``ChannelAdapter`` of the voice channel whose outbound messages are ``CallCommand``s."""

    def send(self, command: CallCommand) -> None: ...


VOICE = Capabilities(commands=COMMANDS)
VOICE_AND_DIAL = Capabilities(commands=(*COMMANDS, DIAL))


@dataclass(frozen=True)
class TwilioProvider:
    account_sid: str
    auth_token: str
    public_url: str
    api_base: str = "https://api.twilio.com"
    timeout_seconds: float = 5.0
    name: str = "twilio"
    kind: ChannelKind = ChannelKind.voice
    capabilities: Capabilities = VOICE

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token)

    def twiml_for(self, command: CallCommand) -> dict[str, str]:
        hold_url = f"{self.public_url.rstrip('/')}/webhooks/twilio/hold?lang={command.language}"
        if command.command in ("connect", "resume"):
            return {"Twiml": twilio.twiml(twilio.dial_client(command.agent or ""))}
        if command.command == "hold":
            return {"Twiml": twilio.twiml(twilio.enqueue(f"hold-{command.call_id}", hold_url))}
        if command.command == "transfer" and command.to_agent:
            return {"Twiml": twilio.twiml(twilio.dial_client(command.to_agent))}
        if command.command == "transfer":
            return {"Twiml": twilio.twiml(twilio.enqueue(command.to_queue or "transfer", hold_url))}
        return {"Status": "completed"}

    def send(self, command: CallCommand) -> None:
        url = f"{self.api_base.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Calls/{command.call_id}.json"
        try:
            response = httpx.post(url, data=self.twiml_for(command), auth=(self.account_sid, self.auth_token),
                                  timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise ProviderFailed("provider_failed", provider=self.name, reason=str(exc)) from exc
        if response.status_code >= 300:
            raise ProviderFailed("provider_failed", provider=self.name,
                                 reason=f"HTTP {response.status_code}: {response.text[:200]}")


@dataclass(frozen=True)
class CommandWebhookProvider:
    url: str
    token: str = ""
    timeout_seconds: float = 5.0
    name: str = "generic"
    kind: ChannelKind = ChannelKind.voice
    capabilities: Capabilities = VOICE_AND_DIAL

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def send(self, command: CallCommand) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"call_id": command.call_id, "command": command.command, "agent": command.agent,
                "to_agent": command.to_agent, "to_queue": command.to_queue, "to_number": command.to_number}
        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise ProviderFailed("provider_failed", provider=self.name, reason=str(exc)) from exc
        if response.status_code >= 300:
            raise ProviderFailed("provider_failed", provider=self.name,
                                 reason=f"HTTP {response.status_code}: {response.text[:200]}")


def providers_from(settings: Settings) -> list[VoiceProvider]:
    """The voice providers the settings configure (none: calls are controlled in accueil only)."""
    providers: list[VoiceProvider] = [
        TwilioProvider(settings.twilio_account_sid, settings.twilio_auth_token, settings.public_url,
                       settings.twilio_api_base),
        CommandWebhookProvider(settings.cti_command_url, settings.cti_command_token),
    ]
    return [provider for provider in providers if provider.enabled]


def provider_named(session: Session, name: str | None) -> VoiceProvider | None:
    """The provider that carries a call (by the name the call record keeps), from the session's runtime."""
    return channels_of(session).get(ChannelKind.voice, name or "")  # type: ignore[return-value]


def dialler(session: Session) -> VoiceProvider | None:
    """The first configured voice provider that can place an outbound call (None: dialled by hand)."""
    for provider in channels_of(session).by_kind.get(ChannelKind.voice, {}).values():
        if provider.enabled and DIAL in provider.capabilities.commands:
            return provider  # type: ignore[return-value]
    return None
