"""Password hashing (argon2), API tokens (random, shown once, stored as SHA-256), and secrets we must keep
readable (a mailbox's IMAP password) encrypted at rest with a key derived from the secret key (Fernet)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()

TOKEN_PREFIX = "acc_"

# What a token may do; a token's scopes are also capped by its user's role.
SCOPES = {
    "contacts:write": "post inbound contacts",
    "cases:read": "read cases, interactions and messages",
    "cases:write": "reply, add notes, change status",
    "customers:read": "read customers and timelines",
    "customers:write": "create customers, add identities, merge",
    "routing:work": "set one's own presence; take, accept, decline, end, transfer and escalate one's work",
    "routing:supervise": "see queues live, set other agents' presence, move anyone's work",
    "admin": "manage users, tokens and reference data",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """Tokens carry 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()


MAX_FAILURES, FAILURE_WINDOW = 5, 15 * 60.0  # per username and per address


class LoginThrottle:
    """Slows password guessing: after 5 failures in 15 minutes, that username or address must wait."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - FAILURE_WINDOW:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= MAX_FAILURES for key in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:  # forget only what has expired: never the counts being built up
                for stale in [k for k, v in self._failures.items() if not v or v[-1] <= now - FAILURE_WINDOW]:
                    del self._failures[stale]
            for key in keys:
                if key in self._failures or len(self._failures) < 50_000:
                    self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"accueil stored secrets\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret_key: str, plaintext: str) -> str:
    """Encrypt a credential we have to present later (it cannot be hashed)."""
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt_secret(secret_key: str, token: str) -> str:
    """The credential back; ValueError when the secret key changed since it was stored."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with this secret key") from exc
