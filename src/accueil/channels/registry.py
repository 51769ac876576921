"""The channels accueil knows: for each, its kind, the adapters its settings configure, its HTTP routers,
the modules whose durable job handlers it needs and the events it reacts to.

The composition root builds the runtime's adapters from here; ``app.py`` mounts the routers and
subscribes the reactions, and ``app.py`` / ``accueil worker`` register the job handlers from here.
A new channel is a new folder and one line below.

Routers are named as ``"module:attribute"`` rather than imported: they belong to the interface layer,
above this one, and only the entry point (``app.py``) loads them (``tests/test_architecture.py`` checks
every name resolves to an interface module, and that no channel router is left out).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from accueil.channels import notify
from accueil.channels.base import ChannelAdapter, ChannelAdapters
from accueil.channels.callback import service as callback_service
from accueil.channels.email import intake as email_intake
from accueil.channels.email import outbox as email_outbox
from accueil.channels.email.adapter import MaildirEmail, SmtpEmail
from accueil.channels.letter import intake as letter_intake
from accueil.channels.letter import reply as letter_reply
from accueil.channels.messaging import outbox as messaging_outbox
from accueil.channels.outbound import dialer as outbound_dialer
from accueil.channels.outbound import sending as outbound_sending
from accueil.channels.sms import adapter as sms_adapter
from accueil.channels.sms import opt_out as sms_opt_out
from accueil.channels.visit import service as visit_service
from accueil.channels.voice import adapter as voice_adapter
from accueil.channels.voice import controls as voice_controls
from accueil.channels.voice.controls import AcceptedCallConnector
from accueil.channels.whatsapp import adapter as whatsapp_adapter
from accueil.channels.whatsapp import service as whatsapp_service
from accueil.channels.whatsapp import templates as whatsapp_templates
from accueil.config import Settings
from accueil.conversations import service as conversations_service
from accueil.conversations.models import ChannelKind
from accueil.routing.events import RoutingAccepted

# An event reaction of a channel, built from the process's session factory: (event name prefix, handler).
Reaction = tuple[str, Callable[[Any], None]]


@dataclass(frozen=True)
class Channel:
    kind: ChannelKind
    adapters: Callable[[Settings], list[ChannelAdapter]] = lambda _settings: []
    job_modules: tuple[ModuleType, ...] = ()  # modules that register durable job handlers on import
    routers: tuple[str, ...] = ()  # "module:attribute" of its FastAPI routers (interface layer)
    reactions: Callable[[sessionmaker[Session]], list[Reaction]] = lambda _factory: []


CHANNELS: tuple[Channel, ...] = (
    Channel(ChannelKind.callback, job_modules=(callback_service,), routers=("accueil.channels.callback.api:router",)),
    Channel(ChannelKind.chat, routers=("accueil.channels.chat.api:router",)),
    Channel(ChannelKind.voice, adapters=voice_adapter.providers_from, job_modules=(voice_controls,),
            routers=("accueil.channels.voice.api:router", "accueil.channels.voice.twilio_api:router"),
            # a provider's call accepted by an agent: connect them (a deduplicated job, whichever process hears it)
            reactions=lambda factory: [(RoutingAccepted.name, AcceptedCallConnector(factory))]),
    Channel(ChannelKind.visit, job_modules=(visit_service,),
            routers=("accueil.channels.visit.api:public", "accueil.channels.visit.api:staff")),
    Channel(ChannelKind.email, adapters=lambda settings: [SmtpEmail.from_settings(settings),
                                                          MaildirEmail.from_settings(settings)],
            job_modules=(notify, email_intake, email_outbox)),
    Channel(ChannelKind.letter, job_modules=(letter_intake, letter_reply)),  # the mailroom page is in web/views
    Channel(ChannelKind.sms, adapters=sms_adapter.providers_from,
            job_modules=(messaging_outbox, sms_opt_out),  # replies on SMS, WhatsApp and social; STOP's confirmation
            routers=("accueil.channels.sms.twilio_api:router", "accueil.channels.sms.api:router")),
    Channel(ChannelKind.whatsapp, adapters=whatsapp_adapter.providers_from,
            job_modules=(messaging_outbox, whatsapp_service, whatsapp_templates),  # media fetch; window policy
            routers=("accueil.channels.whatsapp.api:router",)),
)

# Job handlers that belong to no channel kind: a case's SLA timer, the pacing of progressive campaigns, the
# batches of SMS and email campaigns.
DOMAIN_JOB_MODULES: tuple[ModuleType, ...] = (conversations_service, outbound_dialer, outbound_sending)


def build_adapters(settings: Settings) -> ChannelAdapters:
    adapters = ChannelAdapters()
    for channel in CHANNELS:
        for adapter in channel.adapters(settings):
            adapters.add(adapter)
    return adapters


def job_modules() -> tuple[ModuleType, ...]:
    """Every module registering job handlers (the app and ``accueil worker`` both run them)."""
    return DOMAIN_JOB_MODULES + tuple(module for channel in CHANNELS for module in channel.job_modules)


def reactions(factory: sessionmaker[Session]) -> list[Reaction]:
    """Every channel's event reactions, for the process whose session factory is given."""
    return [reaction for channel in CHANNELS for reaction in channel.reactions(factory)]


def load_router(reference: str) -> Any:
    """The object named by ``"package.module:attribute"`` (a channel's router)."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def routers() -> list[Any]:
    """Every channel's routers, in the order of ``CHANNELS``."""
    return [load_router(reference) for channel in CHANNELS for reference in channel.routers]
