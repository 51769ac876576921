"""MMS media: fetched from the provider that announced them, and from nowhere else.

A Twilio MMS names its media by URL (``MediaUrl0``…). The webhook is signed, but a URL is still an
invitation to make a request: only URLs on the provider's own API host (``ACCUEIL_TWILIO_API_BASE``:
same scheme, host and port) are fetched, with the account's credentials, following at most 3 redirects
(Twilio hands the bytes from its CDN; the credentials are not sent to another host), reading no more than
the attachment limit. Anything else is not fetched and is named in a note on the case instead. Fetching
happens before the transaction opens, so no database lock waits on the network.
"""

from __future__ import annotations

import logging
import mimetypes

import httpx

from accueil.conversations.content import AttachmentIn

log = logging.getLogger(__name__)


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host, parsed.port or default


def is_on_provider(url: str, provider_base: str) -> bool:
    try:
        return bool(provider_base) and _origin(url) == _origin(provider_base) and _origin(url)[0] in ("http", "https")
    except (httpx.InvalidURL, TypeError, ValueError):
        return False


def fetch_media(items: list[tuple[str, str]], *, provider_base: str, auth: tuple[str, str] | None, max_bytes: int,
                enabled: bool = True, timeout_seconds: float = 10.0) -> tuple[list[AttachmentIn], list[str]]:
    """``items``: (url, declared content type). Returns the media fetched and a note for each one that was not."""
    fetched: list[AttachmentIn] = []
    notes: list[str] = []
    for index, (url, declared) in enumerate(items, start=1):
        label = f"media {index} ({declared or 'unknown type'})"
        if not enabled:
            notes.append(f"{label} not fetched: ACCUEIL_SMS_FETCH_MEDIA is off")
            continue
        if not is_on_provider(url, provider_base):
            notes.append(f"{label} not fetched: not on the provider's host")
            continue
        try:
            with httpx.Client(follow_redirects=True, max_redirects=3, timeout=timeout_seconds) as client, \
                    client.stream("GET", url, auth=auth) as response:
                response.raise_for_status()
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        break
                content_type = (response.headers.get("content-type") or declared or "application/octet-stream")
        except httpx.HTTPError as exc:
            log.warning("MMS media %d could not be fetched (%s)", index, type(exc).__name__)
            notes.append(f"{label} not fetched: {type(exc).__name__}")
            continue
        if len(data) > max_bytes:
            notes.append(f"{label} not kept: larger than {max_bytes} bytes")
            continue
        content_type = content_type.split(";")[0].strip().lower()
        extension = mimetypes.guess_extension(content_type) or ""
        fetched.append(AttachmentIn(filename=f"mms-{index}{extension}", content_type=content_type, data=bytes(data)))
    return fetched, notes
