"""The compliance report of a campaign: every attempt in the consumer's local time with the law's verdict,
the refusals counted by rule, and four checks recomputed from the recorded calls — not from the dialer's
verdicts, so a call that slipped past it (a bug, a call typed in by hand, an imported history) shows.

Pure: plain records in, the report out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from accueil.channels.outbound.law import ATTEMPT_WINDOW, MAX_ATTEMPTS, legal_calendar, quiet_until
from accueil.channels.outbound.message_law import sms_calendar

CHECKS = ("legal_hours", "frequency", "refusal_quiet", "opposition_list")
# An SMS or email campaign: no prospecting message without consent or a contract (L. 34-5 CPCE), no
# prospecting SMS in the quiet hours; the objection (STOP, unsubscribe) is checked at send time by the same
# rule and again by the channel's send policy.
MESSAGE_CHECKS = ("consent", "quiet_hours")


@dataclass(frozen=True)
class AttemptRecord:
    id: str
    campaign_id: str
    consumer: str  # the phone number (or customer id): who the rules count per
    started_at: datetime  # UTC
    timezone: str
    placed: bool
    prospecting: bool
    consent: bool
    on_opposition_list: bool
    is_customer: bool
    outcome: str | None = None
    reason: str | None = None  # the dialer's refusal, when not placed
    article: str | None = None

    def local_time(self) -> datetime:
        return self.started_at.astimezone(ZoneInfo(self.timezone))


@dataclass
class Report:
    attempts: list[AttemptRecord]
    refused_by_reason: dict[str, int]
    violations: dict[str, list[str]] = field(default_factory=dict)  # check -> attempt ids

    @property
    def compliant(self) -> bool:
        return not any(self.violations.values())

    @property
    def checks(self) -> tuple[str, ...]:
        return tuple(self.violations)


def _hours(record: AttemptRecord) -> bool:
    return record.consent or legal_calendar(record.timezone).is_open_at(record.started_at)


def compliance_report(campaign_id: str, records: list[AttemptRecord]) -> Report:
    """``records``: this campaign's attempts (placed or refused) plus the placed prospecting attempts of other
    campaigns to the same consumers (the frequency rules are per professional)."""
    ours = sorted((r for r in records if r.campaign_id == campaign_id), key=lambda r: (r.started_at, r.id))
    history: dict[str, list[AttemptRecord]] = defaultdict(list)
    for record in records:
        if record.placed and record.prospecting:
            history[record.consumer].append(record)
    for calls in history.values():
        calls.sort(key=lambda r: (r.started_at, r.id))
    violations: dict[str, list[str]] = {check: [] for check in CHECKS}
    for record in ours:
        if not (record.placed and record.prospecting):
            continue
        if not _hours(record):
            violations["legal_hours"].append(record.id)
        calls = history[record.consumer]
        before = [c for c in calls if c.started_at < record.started_at or (c.started_at == record.started_at
                                                                             and c.id < record.id)]
        if sum(1 for c in before if c.started_at > record.started_at - ATTEMPT_WINDOW) >= MAX_ATTEMPTS:
            violations["frequency"].append(record.id)
        if any(c.outcome == "refused" and record.started_at < quiet_until(c.started_at, c.timezone)
               for c in before):
            violations["refusal_quiet"].append(record.id)
        if record.on_opposition_list and not record.is_customer:
            violations["opposition_list"].append(record.id)
    refused = Counter(r.reason or "unknown" for r in ours if not r.placed)
    return Report(ours, dict(sorted(refused.items())), violations)


def message_compliance_report(campaign_id: str, records: list[AttemptRecord], channel: str) -> Report:
    """The checks of an SMS or email campaign, recomputed from its recorded messages (``placed``: sent)."""
    ours = sorted((r for r in records if r.campaign_id == campaign_id), key=lambda r: (r.started_at, r.id))
    violations: dict[str, list[str]] = {check: [] for check in MESSAGE_CHECKS}
    for record in ours:
        if not (record.placed and record.prospecting):
            continue
        if not (record.consent or record.is_customer):
            violations["consent"].append(record.id)
        if channel == "sms" and not sms_calendar(record.timezone).is_open_at(record.started_at):
            violations["quiet_hours"].append(record.id)
    refused = Counter(r.reason or "unknown" for r in ours if not r.placed)
    return Report(ours, dict(sorted(refused.items())), violations)
