"""Reply-delay targets of written work: when a personal reply to an e-mail, a web form or a letter is due.

A target is a delay counted over the written-work business calendar (``core.calendar``): by default an
e-mail or a web form is due within 1 business hour (the French customer-relations barometer's
criterion), a letter within 5 business days. Each channel's default comes from the settings
(``ACCUEIL_REPLY_TARGET_*``); a motif may override it per channel (``Motif.reply_targets``, e.g.
``{"letter": "10d"}`` for complaints that need an investigation). Pure apart from reading settings:
the due time is computed from the arrival time, never from the clock.

This is the *first personal reply* target, stored on the interaction (``reply_due_at``); the case's
``sla_due_at`` (``Motif.sla_hours``) stays the resolution deadline of the whole case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from accueil.config import Settings
from accueil.conversations.models import ChannelKind
from accueil.core.calendar import BusinessCalendar, BusinessDelay, CalendarError, parse_delay

WRITTEN_CHANNELS = (ChannelKind.email, ChannelKind.webform, ChannelKind.letter)
_WRITTEN_CODES = frozenset(channel.value for channel in WRITTEN_CHANNELS)


@dataclass(frozen=True)
class ReplyTargets:
    calendar: BusinessCalendar
    defaults: Mapping[str, BusinessDelay]  # channel -> delay; a channel missing here has no target

    @classmethod
    def from_settings(cls, settings: Settings) -> ReplyTargets:
        texts = {"email": settings.reply_target_email, "webform": settings.reply_target_webform,
                 "letter": settings.reply_target_letter}
        return cls(calendar=settings.written_calendar(),
                   defaults={channel: parse_delay(text) for channel, text in texts.items() if text})

    def delay_for(self, channel: str, motif_targets: Mapping[str, str] | None = None) -> BusinessDelay | None:
        """The motif's target for this channel when it has one, else the channel's default."""
        if channel not in _WRITTEN_CODES:
            return None
        override = (motif_targets or {}).get(channel)
        return parse_delay(override) if override else self.defaults.get(channel)

    def due(self, channel: str, arrived: datetime, motif_targets: Mapping[str, str] | None = None) -> datetime | None:
        """When the first personal reply to a contact that arrived at ``arrived`` is due (None: no target)."""
        delay = self.delay_for(channel, motif_targets)
        return None if delay is None else delay.due(arrived, self.calendar)


def check_motif_targets(raw: Mapping[str, str] | None) -> dict[str, str] | None:
    """A motif's overrides, checked: written channels only, each a delay (``4h``, ``10d``); empty → None."""
    if not raw:
        return None
    checked = {}
    for channel, text in raw.items():
        if channel not in _WRITTEN_CODES:
            raise CalendarError(f"reply targets are for written channels ({', '.join(sorted(_WRITTEN_CODES))}), "
                                f"not {channel!r}")
        checked[channel] = str(parse_delay(str(text)))
    return checked


def parse_motif_targets(text: str) -> dict[str, str] | None:
    """``"email=4h, letter=10d"`` (the admin form's field) → checked overrides."""
    pairs = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        channel, equals, delay = part.partition("=")
        if not equals:
            raise CalendarError(f"{part.strip()!r} is not channel=delay (e.g. letter=10d)")
        pairs[channel.strip().lower()] = delay.strip()
    return check_motif_targets(pairs)


def format_motif_targets(targets: Mapping[str, str] | None) -> str:
    return ", ".join(f"{channel}={delay}" for channel, delay in sorted((targets or {}).items()))
