"""What happens to customers (typed events, listed in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accueil.core.events import DomainEvent


@dataclass(frozen=True)
class CustomerCreated(DomainEvent):
    """A customer was created: by hand, or by a contact from an identity nobody owned yet."""

    name: ClassVar[str] = "customer.created"
    customer_id: str


@dataclass(frozen=True)
class CustomerMerged(DomainEvent):
    """A duplicate customer (``source_id``) was merged into another (``target_id``), its history moved."""

    name: ClassVar[str] = "customer.merged"
    source_id: str
    target_id: str
