"""WhatsApp's customer-service window, pure: free text is allowed only within 24 hours of the customer's
last message; after that, only an approved template may be sent (it reopens nothing until they answer).

No clock and no database here: the caller gives the time of the customer's last inbound WhatsApp
message and ``now``, so the rule is tested at its boundaries and the console shows the same answer the
send policy enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WindowState:
    open: bool
    remaining: timedelta  # zero when closed
    closes_at: datetime | None  # None: the customer never wrote on WhatsApp

    @property
    def remaining_minutes(self) -> int:
        """Whole minutes left (rounded down), for display."""
        return int(self.remaining.total_seconds() // 60)


def window_state(last_inbound_at: datetime | None, now: datetime) -> WindowState:
    """Open while ``now`` is strictly before 24 hours after the customer's last message."""
    if last_inbound_at is None:
        return WindowState(open=False, remaining=timedelta(0), closes_at=None)
    closes_at = last_inbound_at + WINDOW
    remaining = closes_at - now
    if remaining <= timedelta(0):
        return WindowState(open=False, remaining=timedelta(0), closes_at=closes_at)
    return WindowState(open=True, remaining=remaining, closes_at=closes_at)
