"""The channel seam: what every channel adapter offers, whatever provider carries the channel.

An adapter turns a provider's inbound payload into one ``InboundContact`` (the normalised contact that
``conversations.receive`` takes, its provider message id being the idempotency key), checks the
provider's signature, and sends outbound messages. Each declares whether its channel is synchronous
(the customer waits on the line) and what it can carry (attachments, HTML, templates, a length limit),
so the console fits a reply to the channel. ``channels/registry.py`` lists the channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from accueil.conversations.inbound import InboundContact
from accueil.conversations.models import ChannelKind


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry; the console and the outbound path respect these."""

    attachments: bool = False
    html: bool = False
    templates: bool = False  # provider-approved templates (WhatsApp outside the 24-hour window…)
    max_length: int | None = None  # characters of one outbound message, None: no limit
    commands: tuple[str, ...] = ()  # call controls a voice provider accepts


@dataclass(frozen=True)
class OutboundMessage:
    """One message to a customer: an email, an SMS, a command to a live call."""

    to: str
    text: str = ""
    subject: str | None = None
    html: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class InboundRefused(Exception):
    """A provider payload that is not a contact (bad signature, malformed, not for us): nothing is stored."""


@runtime_checkable
class ChannelAdapter(Protocol):
    """One provider of one channel kind."""

    kind: ChannelKind
    name: str  # the provider's name, as stored on the contacts it carries ("smtp", "twilio", "generic"…)
    capabilities: Capabilities

    @property
    def enabled(self) -> bool:
        """Configured, so it can send (an adapter without settings sends nothing, and says so)."""
        ...

    def send(self, message: Any) -> None:
        """Deliver one outbound message — an ``OutboundMessage``, or a ``CallCommand`` for a voice provider;
        raise to have the durable job retry it."""
        ...


class InboundAdapter(ChannelAdapter, Protocol):
    """An adapter that also receives: verifies a delivery and parses it into the normalised contact."""

    def verify_signature(self, *, url: str, headers: Mapping[str, str], body: bytes) -> bool: ...

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundContact: ...


def is_synchronous(kind: ChannelKind) -> bool:
    """The customer waits on the line (voice, callback, chat, visit) rather than for a reply."""
    return kind.synchronous


@dataclass
class ChannelAdapters:
    """The adapters of one runtime, by channel kind and provider name."""

    by_kind: dict[ChannelKind, dict[str, ChannelAdapter]] = field(default_factory=dict)

    def add(self, adapter: ChannelAdapter) -> None:
        self.by_kind.setdefault(adapter.kind, {})[adapter.name] = adapter

    def get(self, kind: ChannelKind, name: str | None = None) -> ChannelAdapter | None:
        """The named provider of ``kind``, or its first enabled one when no name is given."""
        providers = self.by_kind.get(kind, {})
        if name is not None:
            return providers.get(name)
        return next((adapter for adapter in providers.values() if adapter.enabled), None)
