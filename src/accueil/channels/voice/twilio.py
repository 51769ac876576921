"""Twilio-compatible voice webhooks: request signatures, TwiML answers, and status callbacks as CTI events.

Twilio signs each webhook: base64(HMAC-SHA1(auth token, the full URL it called + every POST parameter's
name and value, sorted by name)) in ``X-Twilio-Signature``. A request whose signature does not match is
refused (403) before anything is read or recorded. Behind a proxy, ``ACCUEIL_PUBLIC_URL`` gives the URL
Twilio called. Pure helpers here; the routes are in ``twilio_api.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

# Twilio's CallStatus → the CTI event it means (queued and initiated change nothing we track)
STATUS_EVENTS = {"ringing": "ringing", "in-progress": "answered", "completed": "ended", "busy": "ended",
                 "failed": "ended", "no-answer": "ended", "canceled": "ended"}


def expected_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(auth_token: str, url: str, params: Mapping[str, str], given: str | None) -> bool:
    if not auth_token or not given:
        return False
    return hmac.compare_digest(expected_signature(auth_token, url, params).encode(), given.encode())


def twiml_welcome_and_enqueue(greeting: str, language: str, queue: str) -> str:
    """Greet the caller in their language and put them in the (provider-side) queue."""
    return ('<?xml version="1.0" encoding="UTF-8"?><Response>'
            f'<Say language="{escape(language)}">{escape(greeting)}</Say>'
            f"<Enqueue>{escape(queue)}</Enqueue></Response>")


# TwiML, built from small pieces (every text and attribute escaped) --------------------------------------------

SPEECH_LANGUAGE = {"fr": "fr-FR", "en": "en-GB"}


def twiml(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


def say(text: str, language: str) -> str:
    return f'<Say language="{SPEECH_LANGUAGE.get(language, "fr-FR")}">{escape(text)}</Say>' if text else ""


def gather(action: str, inner: str, *, timeout: int = 6, digits: int = 1) -> str:
    return (f'<Gather input="dtmf" numDigits="{digits}" timeout="{timeout}" action={quoteattr(action)} '
            f'method="POST">{inner}</Gather>')


def redirect(url: str) -> str:
    return f'<Redirect method="POST">{escape(url)}</Redirect>'


def enqueue(queue: str, wait_url: str) -> str:
    return f"<Enqueue waitUrl={quoteattr(wait_url)} waitUrlMethod=\"POST\">{escape(queue)}</Enqueue>"


def record(action: str, max_seconds: int = 120) -> str:
    return f'<Record action={quoteattr(action)} method="POST" maxLength="{max_seconds}" playBeep="true"/>'


def pause(seconds: int) -> str:
    return f'<Pause length="{seconds}"/>'


def dial_client(identity: str, action: str | None = None) -> str:
    attribute = f" action={quoteattr(action)}" if action else ""
    return f"<Dial{attribute}><Client>{escape(identity)}</Client></Dial>"


def hangup() -> str:
    return "<Hangup/>"
