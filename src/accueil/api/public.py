"""Guards of the public endpoints (no sign-in: the callback request form, appointment booking, their JSON
APIs): a rate limit per client address, and for browser forms a same-origin check instead of a CSRF token.

The limit is in memory, per process: it slows a script hammering one process; each process of a scaled-out
deployment counts apart (the proxy in front should limit too).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from accueil.core.errors import AccueilError, PermissionDenied


class TooManyRequests(AccueilError):
    status_code = 429


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds per key (a sliding window)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, *, limit: int, window: float, now: float | None = None) -> None:
        """Count one request; raises ``TooManyRequests`` (429, with the seconds to wait) past the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > self._max_keys:  # forget addresses that went quiet
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - window}
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) >= limit:
                raise TooManyRequests("too_many_requests", retry_after=max(1, int(seen[0] + window - now) + 1))
            seen.append(now)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def client_address(connection: HTTPConnection) -> str:
    """The peer's address (a request or a WebSocket); behind a proxy, run uvicorn with ``--proxy-headers``."""
    return connection.client.host if connection.client else "unknown"


def public_principal(request: HTTPConnection) -> str:
    """Who owns an ``Idempotency-Key`` sent without a token: the client address (hashed, fits 40 chars)."""
    return "public:" + hashlib.sha256(client_address(request).encode()).hexdigest()[:32]


def scoped_key(connection: HTTPConnection, key: str | None) -> str | None:
    """A form's one-time key belongs to whoever sent it: the same key from another address is another request
    (so nobody gets someone else's booking back by replaying their key)."""
    if not key:
        return None
    return f"{public_principal(connection)[7:19]}-{key[:60]}"


def check_same_origin(request: Request) -> None:
    """Public forms have no session, hence no CSRF token: the browser's Origin (else Referer) must be this
    site or the configured public URL, so another site cannot make visitors' browsers post them."""
    settings = request.app.state.runtime.settings
    claimed = request.headers.get("origin") or request.headers.get("referer") or ""
    source = urlsplit(claimed)
    allowed = {request.url.netloc}
    if settings.public_url:
        allowed.add(urlsplit(settings.public_url).netloc)
    if not source.netloc or source.netloc not in allowed:
        raise PermissionDenied("cross_origin")
