"""Who wrote a letter: the customers the fields read on it point to, sure or only likely.

Sure means one customer and a reason a mailroom would accept: a number on a "customer number" line of
the letter that is on file (and no name and address on the letter pointing to somebody else), or the
sender's name (fuzzy, to survive OCR, civility left out) on a postal address of that customer with the
same postcode, far ahead of any other. Anything less is a list of candidates for a person to choose
from, never a guess filed on somebody's case.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accueil.channels.letter.sender import LetterFields, plain
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef, access_customer

SURE_NAME_SCORE = 90.0  # token-sort ratio of the sender's name and the address's first line
MARGIN = 5.0  # the best must lead the next customer by this much
MAX_ADDRESSES = 2000  # postal identities compared for one postcode


@dataclass(frozen=True)
class Sender:
    customer_id: str
    reason: str  # customer_number | name_postcode
    identity: IdentityRef  # the identity of the customer the letter is filed with


@dataclass(frozen=True)
class Candidate:
    customer_id: str
    display_name: str | None
    why: str  # customer_number | name_postcode | name
    score: float


def _by_number(session: Session, numbers: tuple[str, ...]) -> list[tuple[str, IdentityRef]]:
    if not numbers:
        return []
    rows = session.execute(select(Identity.customer_id, Identity.value).where(
        Identity.kind == IdentityKind.customer_number, Identity.value.in_(numbers))).all()
    found: dict[str, IdentityRef] = {}
    for row in rows:
        owner = access_customer(session, row.customer_id).id
        found.setdefault(owner, IdentityRef(IdentityKind.customer_number, row.value))
    return list(found.items())


def _by_name_and_postcode(session: Session, fields: LetterFields) -> list[tuple[str, float, IdentityRef]]:
    if not fields.postcode or not fields.sender_name:
        return []
    rows = session.execute(select(Identity.customer_id, Identity.value).where(
        Identity.kind == IdentityKind.postal,
        or_(Identity.value.like(f"% / {fields.postcode} %"), Identity.value.like(f"% / {fields.postcode}")),
    ).order_by(Identity.value).limit(MAX_ADDRESSES)).all()
    name = plain(fields.sender_name)
    best: dict[str, tuple[float, IdentityRef]] = {}
    owners: dict[str, str] = {}
    for row in rows:
        score = fuzz.token_sort_ratio(name, plain(row.value.split(" / ")[0]))
        if row.customer_id not in owners:
            owners[row.customer_id] = access_customer(session, row.customer_id).id
        owner = owners[row.customer_id]
        if owner not in best or score > best[owner][0]:
            best[owner] = (score, IdentityRef(IdentityKind.postal, row.value))
    return sorted(((owner, score, ref) for owner, (score, ref) in best.items()), key=lambda item: -item[1])


def find_sender(session: Session, fields: LetterFields) -> Sender | None:
    """The sender when sure (see the module docstring), else None: a person chooses."""
    named = _by_name_and_postcode(session, fields)
    sure_name = named[0] if named and named[0][1] >= SURE_NAME_SCORE and (
        len(named) == 1 or named[1][1] < named[0][1] - MARGIN) else None
    numbered = _by_number(session, fields.customer_numbers)
    if len(numbered) > 1:
        return None  # two customers' numbers on one letter: a person decides
    if len(numbered) == 1:
        if sure_name is not None and sure_name[0] != numbered[0][0]:
            return None  # the number is one customer's, the name and address another's
        return Sender(numbered[0][0], "customer_number", numbered[0][1])
    if sure_name is not None:
        return Sender(sure_name[0], "name_postcode", sure_name[2])
    return None


def candidates(session: Session, fields: LetterFields, *, limit: int = 8) -> list[Candidate]:
    """Customers the letter may be from, best first, for the mailroom's choice."""
    scored: dict[str, tuple[str, float]] = {}
    for owner, _ref in _by_number(session, fields.number_candidates):
        scored[owner] = ("customer_number", 100.0)
    for owner, score, _ref in _by_name_and_postcode(session, fields):
        if score >= 50 and owner not in scored:
            scored[owner] = ("name_postcode", float(score))
    if fields.sender_name:
        words = [word for word in fields.sender_name.split() if len(word) >= 3]
        if words:
            rows = session.execute(select(Customer.id, Customer.display_name).where(
                Customer.merged_into_id.is_(None),
                or_(*(Customer.display_name.ilike(f"%{word.replace('%', '').replace('_', '')}%") for word in words)),
            ).limit(200)).all()
            name = plain(fields.sender_name)
            for row in rows:
                score = float(fuzz.token_sort_ratio(name, plain(row.display_name or "")))
                if score >= 60 and row.id not in scored:
                    scored[row.id] = ("name", score)
    ordered = sorted(scored.items(), key=lambda item: -item[1][1])[:limit]
    names = dict(session.execute(select(Customer.id, Customer.display_name)
                                 .where(Customer.id.in_([owner for owner, _ in ordered]))).all())
    return [Candidate(owner, names.get(owner), why, score) for owner, (why, score) in ordered]
