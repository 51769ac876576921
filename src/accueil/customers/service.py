"""The one write path for customers: identity normalisation, resolution, creation and merges."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accueil.core import clock
from accueil.core.errors import Conflict, NotFound, ValidationFailed
from accueil.customers.events import CustomerCreated, CustomerMerged
from accueil.customers.models import Customer, CustomerMerge, Identity, IdentityKind
from accueil.db.session import queue_event

_OPAQUE = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")


@dataclass(frozen=True, slots=True)
class IdentityRef:
    kind: IdentityKind
    value: str


def normalise_identity(kind: str | IdentityKind, raw: str, *, phone_region: str = "FR") -> IdentityRef:
    """One canonical spelling per address, so the same person is found whatever they typed."""
    try:
        kind = IdentityKind(kind)
    except ValueError:
        raise ValidationFailed(
            "invalid_identity", value=raw, kind=kind, allowed=[k.value for k in IdentityKind]
        ) from None
    value = (raw or "").strip()
    if kind is IdentityKind.email:
        try:
            checked = validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            raise ValidationFailed("invalid_email", value=raw) from None
        return IdentityRef(kind, checked.normalized.lower())
    if kind in (IdentityKind.phone, IdentityKind.whatsapp):
        if kind is IdentityKind.whatsapp and value.isdigit():
            value = "+" + value  # WhatsApp ids are international numbers without the plus
        try:
            number = phonenumbers.parse(value, phone_region)
        except phonenumbers.NumberParseException:
            raise ValidationFailed("invalid_phone", value=raw) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationFailed("invalid_phone", value=raw)
        return IdentityRef(kind, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if kind is IdentityKind.postal:
        return IdentityRef(kind, normalise_postal_address(raw))
    if kind is IdentityKind.customer_number:
        value = value.upper().replace(" ", "")
    if not _OPAQUE.match(value):
        raise ValidationFailed("invalid_identity", value=raw, kind=kind.value)
    return IdentityRef(kind, value)


def normalise_postal_address(raw: str) -> str:
    """A postal address as La Poste would print it: capitals without accents, no punctuation but hyphens and
    apostrophes, one space, lines joined by " / " — so the same address written twice is one identity.

    Two to six lines, the last with the postcode and town (``12 rue des Lilas\n75011 Paris`` →
    ``12 RUE DES LILAS / 75011 PARIS``)."""
    text = unicodedata.normalize("NFKD", raw or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    lines = []
    for line in re.split(r"\s*(?:\n|\r| / )\s*", text):
        line = re.sub(r"[^A-Z0-9'\- ]+", " ", line.replace("\u2019", "'"))
        line = re.sub(r"\s+", " ", line).strip(" -'")
        if line:
            lines.append(line)
    if lines:
        lines[-1] = re.sub(r"^(\d{2}) (\d{3})(?!\d)", r"\1\2", lines[-1])  # "75 011 PARIS" is 75011
    joined = " / ".join(lines)
    if not 2 <= len(lines) <= 6 or any(len(line) > 60 for line in lines) or not re.search(r"\d", lines[-1]) \
            or len(joined) > 320:
        raise ValidationFailed("invalid_postal_address", value=raw)
    return joined


def access_customer(session: Session, customer_id: str, *, follow_merge: bool = True) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("not_found", kind="customer", id=customer_id)
    seen = 0
    while follow_merge and customer.merged_into_id and seen < 20:
        customer = session.get(Customer, customer.merged_into_id)
        seen += 1
        assert customer is not None
    return customer


def find_customer_by_identity(session: Session, ref: IdentityRef) -> Customer | None:
    return session.scalar(
        select(Customer).join(Identity, Identity.customer_id == Customer.id).where(
            Identity.kind == ref.kind, Identity.value == ref.value
        )
    )


def do_resolve_identity(
    session: Session,
    *,
    identities: list[IdentityRef],
    display_name: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> tuple[Customer, bool]:
    """Find the customer any of these identities belongs to, or create one; attach the new identities.

    When identities point at two different customers we do not merge silently: the first match wins
    and the unknown identities join it; merging is an explicit, traced decision (``do_merge_customers``).
    """
    if not identities:
        raise ValidationFailed("identity_required")
    now = now or clock.now()
    matches: list[Customer] = []
    known: set[IdentityRef] = set()
    rows = session.execute(
        select(Identity.kind, Identity.value, Identity.customer_id).where(
            Identity.value.in_([ref.value for ref in identities])
        )
    ).all()
    by_ref = {IdentityRef(IdentityKind(kind), value): cid for kind, value, cid in rows}
    for ref in identities:
        if ref in by_ref:
            known.add(ref)
            matches.append(access_customer(session, by_ref[ref]))
    created = not matches
    if created:
        customer = Customer(
            display_name=display_name, preferred_language=language or "fr", created_at=now, updated_at=now
        )
        session.add(customer)
        session.flush()
    else:
        customer = matches[0]
        if display_name and not customer.display_name:
            customer.display_name = display_name
    for ref in dict.fromkeys(identities):
        if ref not in known:
            session.add(Identity(customer_id=customer.id, kind=ref.kind, value=ref.value, created_at=now))
    session.flush()
    if created:
        queue_event(session, CustomerCreated(customer_id=customer.id), now)
    return customer, created


def do_add_identity(session: Session, *, customer_id: str, ref: IdentityRef, verified: bool = False) -> Identity:
    customer = access_customer(session, customer_id)
    existing = session.scalar(select(Identity).where(Identity.kind == ref.kind, Identity.value == ref.value))
    if existing is not None:
        if existing.customer_id != customer.id:

            raise Conflict("identity_taken", kind=ref.kind.value, value=ref.value)
        return existing
    identity = Identity(customer_id=customer.id, kind=ref.kind, value=ref.value, verified=verified)
    session.add(identity)
    session.flush()
    return identity


def do_mark_undeliverable(session: Session, *, kind: IdentityKind, value: str, reason: str, now: datetime) -> str | None:
    """A message to this address bounced: mark the identity (if we know it); returns its customer's id."""
    identity = session.scalar(select(Identity).where(Identity.kind == kind, Identity.value == value))
    if identity is None:
        return None
    identity.undeliverable_at, identity.undeliverable_reason = now, reason[:200]
    return identity.customer_id


def do_clear_undeliverable(session: Session, *, kind: IdentityKind, value: str) -> None:
    """The address wrote to us: it works again."""
    session.execute(update(Identity).where(Identity.kind == kind, Identity.value == value,
                                           Identity.undeliverable_at.is_not(None))
                    .values(undeliverable_at=None, undeliverable_reason=None))


def check_merge(session: Session, *, source_id: str, target_id: str) -> tuple[Customer, Customer]:
    """Both customers, if ``source`` may be merged into ``target``."""
    source = access_customer(session, source_id, follow_merge=False)
    target = access_customer(session, target_id)
    if source.merged_into_id is not None:
        raise ValidationFailed("customer_merged", id=source.id, into=source.merged_into_id)
    if source.id == target.id:
        raise ValidationFailed("merge_same_customer")
    return source, target


def do_merge_customers(
    session: Session,
    *,
    source_id: str,
    target_id: str,
    merged_by_id: str | None = None,
    reason: str | None = None,
    moved_history: dict[str, int] | None = None,
    now: datetime | None = None,
) -> CustomerMerge:
    """Move the identities of ``source`` to ``target``; ``source`` then redirects. Its cases and
    interactions move in the same unit of work (``flows.merge``), and ``moved_history`` counts them."""
    now = now or clock.now()
    source, target = check_merge(session, source_id=source_id, target_id=target_id)
    moved = {
        "identities": session.execute(
            update(Identity).where(Identity.customer_id == source.id).values(customer_id=target.id)
        ).rowcount,
        **(moved_history or {}),
    }
    target.display_name = target.display_name or source.display_name
    target.consent_email = target.consent_email or source.consent_email
    target.consent_sms = target.consent_sms or source.consent_sms
    target.updated_at = now
    source.merged_into_id = target.id
    source.updated_at = now
    trace = CustomerMerge(
        source_id=source.id, target_id=target.id, merged_by_id=merged_by_id, reason=reason, moved=moved,
        merged_at=now,
    )
    session.add(trace)
    session.flush()
    session.expire_all()
    queue_event(session, CustomerMerged(source_id=source.id, target_id=target.id), now)
    return trace


def do_create_customer(
    session: Session, *, identities: list[IdentityRef], display_name: str | None = None, language: str = "fr",
    consent_email: bool = False, consent_sms: bool = False, now: datetime | None = None,
) -> Customer:
    """Create a customer explicitly; an identity that already belongs to someone is a conflict."""

    for ref in identities:
        if find_customer_by_identity(session, ref) is not None:
            raise Conflict("identity_taken", kind=ref.kind.value, value=ref.value)
    customer, _ = do_resolve_identity(
        session, identities=identities, display_name=display_name, language=language, now=now
    )
    customer.consent_email, customer.consent_sms = consent_email, consent_sms
    return customer
