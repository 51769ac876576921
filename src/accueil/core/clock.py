"""The only place that reads the wall clock, so tests, the demo and the simulator can pass ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes (SQLite returns them) are UTC inside accueil."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 with a ``Z`` suffix, as the API promises."""
    if value is None:
        return None
    return ensure_utc(value).isoformat().replace("+00:00", "Z")
