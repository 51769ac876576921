"""The public callback request's budget: one rate limit per client address, shared by the JSON API and the
portal page (the guards themselves are in ``api/public.py``)."""

from __future__ import annotations

from starlette.requests import Request

from accueil.api.public import RateLimiter, check_same_origin, client_address, public_principal

__all__ = ["REQUESTS", "check_same_origin", "limit_requests", "public_principal"]

REQUESTS = RateLimiter()


def limit_requests(request: Request) -> None:
    settings = request.app.state.runtime.settings
    REQUESTS.hit(client_address(request), limit=settings.callback_request_rate,
                 window=settings.callback_request_rate_minutes * 60)
