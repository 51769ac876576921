"""Password hashing (argon2) and API tokens (random, shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
