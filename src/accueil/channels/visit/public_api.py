"""The public booking endpoints' budget (the portal's forms and the public API): one rate limit per client
address (the guards themselves are in ``api/public.py``)."""

from __future__ import annotations

from fastapi import Request

from accueil.api.public import RateLimiter, check_same_origin, client_address

__all__ = ["PUBLIC_BOOKINGS", "check_public_rate", "check_same_origin"]

PUBLIC_BOOKINGS = RateLimiter()


def check_public_rate(request: Request) -> None:
    """Raise 429 when this client address sent too many bookings/cancellations lately."""
    settings = request.app.state.runtime.settings
    PUBLIC_BOOKINGS.hit(client_address(request), limit=settings.portal_booking_rate,
                        window=settings.portal_booking_rate_minutes * 60)
