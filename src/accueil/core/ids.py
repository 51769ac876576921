"""Opaque, time-sortable identifiers (ULID-like, 26 Crockford base-32 characters).

Sorting by id sorts by creation time, which makes cursor pagination a simple ``id < cursor``.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(at_ms: int | None = None) -> str:
    """A new id; monotonic within a process even inside one millisecond."""
    global _last_ms, _last_rand
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    with _lock:
        if at_ms is None and ms <= _last_ms:
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        if at_ms is None:
            _last_ms, _last_rand = ms, rand
    return _encode(ms & ((1 << 48) - 1), 10) + _encode(rand & ((1 << 80) - 1), 16)


def id_at(when_epoch_seconds: float) -> str:
    """An id whose time part is a given moment (for back-dated demo history)."""
    return new_id(int(when_epoch_seconds * 1000))


def is_valid_id(value: str) -> bool:
    return len(value) == 26 and all(c in _ALPHABET for c in value)
