"""Customers and their identities (one person, many ways to reach them) and the trace of merges."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accueil.core import clock
from accueil.db.base import Base, IdMixin
from accueil.identity.models import enum_column


class IdentityKind(enum.StrEnum):
    email = "email"
    phone = "phone"
    whatsapp = "whatsapp"
    chat_visitor = "chat_visitor"
    customer_number = "customer_number"
    social = "social"
    postal = "postal"  # a postal address, normalised (see customers.service.normalise_postal_address)


class Customer(IdMixin, Base):
    __tablename__ = "customers"

    display_name: Mapped[str | None] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(5), default="fr")
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_surveys: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when this record was merged into another one; it then holds nothing and only redirects.
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", order_by="Identity.created_at", foreign_keys="Identity.customer_id"
    )


class Identity(IdMixin, Base):
    """A normalised address (E.164 phone, lower-case email…) that points at exactly one customer."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("value", "kind"),)  # value first: lookups by value use it

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[IdentityKind] = mapped_column(enum_column(IdentityKind))
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # a mail to this address came back as undeliverable (a bounce): agents are told; cleared when it writes again
    undeliverable_at: Mapped[datetime | None] = mapped_column(default=None)
    undeliverable_reason: Mapped[str | None] = mapped_column(String(200), default=None)

    customer: Mapped[Customer] = relationship(back_populates="identities", foreign_keys=[customer_id])


class CustomerMerge(IdMixin, Base):
    """Who merged which customer into which, and what moved — merges are never silent."""

    __tablename__ = "customer_merges"

    source_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merged_at: Mapped[datetime] = mapped_column(default=clock.now)
