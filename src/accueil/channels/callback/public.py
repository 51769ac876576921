"""Guards of the public callback request (JSON API and the portal page): no sign-in, so a rate limit per
client address and, for the browser form, a same-origin check instead of a CSRF token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from starlette.requests import Request

from accueil.core.errors import AccueilError, PermissionDenied
from accueil.core.i18n import ERROR_MESSAGES

ERROR_MESSAGES.setdefault("too_many_requests", {
    "en": "Too many requests from your address; try again in {retry_after} seconds.",
    "fr": "Trop de demandes depuis votre adresse ; réessayez dans {retry_after} secondes.",
})
ERROR_MESSAGES.setdefault("cross_origin", {
    "en": "This form must be sent from this site's own page.",
    "fr": "Ce formulaire doit être envoyé depuis la page de ce site.",
})


class TooManyRequests(AccueilError):
    status_code = 429


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds per key (a sliding window, in this process)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window: float) -> None:
        """Count one request; raises ``TooManyRequests`` (429) past the limit."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 50_000:  # forget addresses that went quiet
                for stale in [k for k, v in self._seen.items() if not v or v[-1] <= now - window]:
                    del self._seen[stale]
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) >= limit:
                raise TooManyRequests("too_many_requests", retry_after=max(1, int(seen[0] + window - now) + 1))
            seen.append(now)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


REQUESTS = RateLimiter()  # shared by the JSON API and the portal page: one budget per address


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_requests(request: Request) -> None:
    settings = request.app.state.runtime.settings
    REQUESTS.hit(client_address(request), limit=settings.callback_request_rate,
                 window=settings.callback_request_rate_minutes * 60)


def public_principal(request: Request) -> str:
    """Who owns an ``Idempotency-Key`` sent without a token: the client address (hashed, fits 40 chars)."""
    return "public:" + hashlib.sha256(client_address(request).encode()).hexdigest()[:32]


def check_same_origin(request: Request) -> None:
    """The browser says where the form came from (Origin, else Referer): it must be this site."""
    settings = request.app.state.runtime.settings
    claimed = request.headers.get("origin") or request.headers.get("referer") or ""
    source = urlsplit(claimed)
    allowed = {request.url.netloc}
    if settings.public_url:
        allowed.add(urlsplit(settings.public_url).netloc)
    if not source.netloc or source.netloc not in allowed:
        raise PermissionDenied("cross_origin")
