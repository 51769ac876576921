"""The channels accueil knows: for each, its kind, the adapters its settings configure, and the modules
whose durable job handlers it needs. The composition root builds the runtime's adapters from here and
``app.py`` / ``accueil worker`` register the job handlers from here; a new channel is a new folder and
one line below (plus its router in ``app.py``, the interface layer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from accueil.channels import notify
from accueil.channels.base import ChannelAdapter, ChannelAdapters
from accueil.channels.callback import service as callback_service
from accueil.channels.email.adapter import SmtpEmail
from accueil.channels.sms.adapter import HttpSmsGateway
from accueil.channels.visit import service as visit_service
from accueil.channels.voice import adapter as voice_adapter
from accueil.channels.voice import controls as voice_controls
from accueil.config import Settings
from accueil.conversations import service as conversations_service
from accueil.conversations.models import ChannelKind


@dataclass(frozen=True)
class Channel:
    kind: ChannelKind
    adapters: Callable[[Settings], list[ChannelAdapter]] = lambda _settings: []
    job_modules: tuple[ModuleType, ...] = ()  # modules that register durable job handlers on import


CHANNELS: tuple[Channel, ...] = (
    Channel(ChannelKind.voice, adapters=voice_adapter.providers_from, job_modules=(voice_controls,)),
    Channel(ChannelKind.callback, job_modules=(callback_service,)),
    Channel(ChannelKind.chat),
    Channel(ChannelKind.visit, job_modules=(visit_service,)),
    Channel(ChannelKind.email, adapters=lambda settings: [SmtpEmail.from_settings(settings)], job_modules=(notify,)),
    Channel(ChannelKind.sms, adapters=lambda settings: [HttpSmsGateway.from_settings(settings)]),
)

# Job handlers that belong to no channel (a case's SLA timer).
DOMAIN_JOB_MODULES: tuple[ModuleType, ...] = (conversations_service,)


def build_adapters(settings: Settings) -> ChannelAdapters:
    adapters = ChannelAdapters()
    for channel in CHANNELS:
        for adapter in channel.adapters(settings):
            adapters.add(adapter)
    return adapters


def job_modules() -> tuple[ModuleType, ...]:
    """Every module registering job handlers (the app and ``accueil worker`` both run them)."""
    return DOMAIN_JOB_MODULES + tuple(module for channel in CHANNELS for module in channel.job_modules)
