"""The channel seam: what every channel adapter offers, whatever provider carries the channel.

An adapter turns a provider's inbound payload into one ``InboundContact`` (the normalised contact that
``conversations.receive`` takes, its provider message id being the idempotency key), checks the
provider's signature, and sends outbound messages. Each declares whether its channel is synchronous
(the customer waits on the line) and what it can carry (attachments, HTML, templates, a length limit),
so the console fits a reply to the channel. ``channels/registry.py`` lists the channels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session, sessionmaker

from accueil.conversations.models import ChannelKind
from accueil.conversations.receive import InboundContact


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


CHANNELS = "accueil_channel_adapters"  # session.info key: the adapters of the runtime the session belongs to


@dataclass
class ChannelAdapters:
    """The adapters of one runtime, by channel kind and provider name.

    The runtime owns them and hands them to its sessions (``attach``), so any unit of work — a request,
    a durable job run by the worker — sends through its own runtime's adapters, with no process globals.
    """

    by_kind: dict[ChannelKind, dict[str, ChannelAdapter]] = field(default_factory=dict)

    def add(self, adapter: ChannelAdapter) -> None:
        self.by_kind.setdefault(adapter.kind, {})[adapter.name] = adapter

    def swap(self, kind: ChannelKind, *adapters: ChannelAdapter) -> Callable[[], None]:
        """Replace the providers of ``kind`` (tests, a settings reload); returns what restores them."""
        previous = self.by_kind.get(kind, {})
        self.by_kind[kind] = {adapter.name: adapter for adapter in adapters}
        return lambda: self.by_kind.__setitem__(kind, previous)

    def attach(self, *factories: sessionmaker[Session]) -> None:
        """Every session these factories make carries these adapters."""
        for factory in factories:
            factory.configure(info={**factory.kw.get("info", {}), CHANNELS: self})

    def get(self, kind: ChannelKind, name: str | None = None) -> ChannelAdapter | None:
        """The named provider of ``kind``, or its first enabled one when no name is given."""
        providers = self.by_kind.get(kind, {})
        if name is not None:
            return providers.get(name)
        return next((adapter for adapter in providers.values() if adapter.enabled), None)


def channels_of(session: Session) -> ChannelAdapters:
    """The adapters of the runtime this session belongs to (none at all for a bare session)."""
    return session.info.get(CHANNELS) or ChannelAdapters()
