"""French rules for campaign messages (SMS and email): may this person be written to now, and if not, why.

Pure: what we know of the recipient in, a verdict out; ``now`` is an argument. The rules and their sources:

- **Objection** (Code des postes et des communications électroniques, art. L. 34-5, and RGPD art. 21):
  a person who answered STOP, or unsubscribed from our emails, gets no campaign message on that channel,
  whatever its purpose. Every prospecting message says how to object (« STOP » for an SMS, a one-click
  unsubscribe link for an email): ``sending`` adds it.
- **Consent** (L. 34-5, 1st paragraph): electronic prospecting of a consumer needs their prior consent
  (``consent_sms`` / ``consent_email`` on their record), except for a customer about products or services
  like those they already have from us (4th paragraph: the "soft opt-in") — a customer number with us is
  what ``is_customer`` means here.
- **Quiet hours for prospecting SMS**: Monday to Saturday, 08:00 to 20:00 in the recipient's time zone,
  never on Sundays or public holidays — the profession's code of conduct (AF2M / Fédération Française
  des Télécoms), which the CNIL relays. Not law, but what operators and users expect; an email is read when
  its reader chooses and has none.
- **Service messages** (about the customer's own case, order or appointment) are not prospecting: only the
  objection applies to them.

A deferral gives the first instant the message may leave (``next_allowed_at``), so a campaign reschedules
rather than drops; a refusal (objection, no consent) is final for that campaign.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from accueil.channels.outbound.law import Purpose
from accueil.core.calendar import BusinessCalendar, next_business_instant

SMS_QUIET_HOURS = "mon-sat 08:00-20:00"
CONSENT_ARTICLE = "Code des postes et des communications électroniques, art. L. 34-5"
QUIET_HOURS_SOURCE = "Code de déontologie AF2M / Fédération Française des Télécoms (SMS)"


class MessageRefusal(enum.StrEnum):
    opted_out = "opted_out"
    no_consent = "no_consent"
    quiet_hours = "quiet_hours"


@dataclass(frozen=True)
class Recipient:
    """What the rules look at, for one person on one channel (instants are UTC)."""

    timezone: str = "Europe/Paris"
    opted_out: bool = False  # STOP, or unsubscribed: on this channel
    consent: bool = False  # prior consent to prospecting on this channel
    is_customer: bool = False  # a contract with us: the soft opt-in for similar products


@dataclass(frozen=True)
class MessageVerdict:
    allowed: bool
    reason: MessageRefusal | None = None
    article: str | None = None
    next_allowed_at: datetime | None = None  # a deferral (quiet hours); None when allowed or refused for good

    @property
    def final(self) -> bool:
        return not self.allowed and self.next_allowed_at is None


SENDABLE = MessageVerdict(True)
_calendars: dict[str, BusinessCalendar] = {}


def sms_calendar(timezone: str) -> BusinessCalendar:
    return _calendars.get(timezone) or _calendars.setdefault(
        timezone, BusinessCalendar.from_text(SMS_QUIET_HOURS, timezone=timezone, holidays_country="FR"))


def check_message(now: datetime, recipient: Recipient, purpose: Purpose, channel: str) -> MessageVerdict:
    """May this campaign message (``channel``: "sms" or "email") leave for ``recipient`` at ``now``?"""
    if recipient.opted_out:
        return MessageVerdict(False, MessageRefusal.opted_out, CONSENT_ARTICLE)
    if purpose is Purpose.service:
        return SENDABLE
    if not (recipient.consent or recipient.is_customer):
        return MessageVerdict(False, MessageRefusal.no_consent, CONSENT_ARTICLE)
    if channel == "sms":
        calendar = sms_calendar(recipient.timezone)
        if not calendar.is_open_at(now):
            return MessageVerdict(False, MessageRefusal.quiet_hours, QUIET_HOURS_SOURCE,
                                  next_business_instant(now, calendar))
    return SENDABLE
