"""``Idempotency-Key`` for API POSTs: a repeat returns the first response and does nothing again."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from accueil.core import clock
from accueil.core.errors import Conflict
from accueil.db.base import Base, IdMixin


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    principal: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def find_replay(session: Session, *, principal: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    record = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
    )
    if record is not None and record.request_hash != fingerprint:
        raise Conflict("idempotency_key_reused")
    return record


def do_remember_response(
    session: Session, *, principal: str, key: str, fingerprint: str, status_code: int, response: dict[str, Any]
) -> None:
    """Stored in the same transaction as the work, so the key exists exactly when the work does."""
    session.add(
        IdempotencyRecord(
            principal=principal, key=key, request_hash=fingerprint, status_code=status_code, response=response
        )
    )
    session.flush()
