"""What a letter's text says about who sent it, and what about: pure, from the OCR'd text alone.

A French letter opens with the sender's block (name, street, postcode and town, often a customer or
contract number), then the recipient's (ours, told apart by our own postcodes), the place and date, and
"Objet : …". OCR splits these blocks with blank lines and sometimes misreads a character, so the reading
is tolerant: the sender's block is the lines above the first postcode-and-town line that is not ours,
and every token shaped like an identifier is a *candidate* customer number — the database says which
one exists (``intake``), the text alone never decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from accueil.core.errors import ValidationFailed
from accueil.customers.service import normalise_postal_address

_POSTCODE_LINE = re.compile(r"^(?:F-?\s?)?(\d{2}\s?\d{3})\s+([^\d\W][\w'’ .-]{1,40})$")
_SUBJECT = re.compile(r"^\s*(?:objet|object|subject|concerne)\s*[:：]\s*(.{3,300})$", re.IGNORECASE)
_CASE_REFERENCE = re.compile(r"\bD\s?-\s?(\d{4})\s?-\s?(\d{6,})\b")
_IDENTIFIER = re.compile(r"\b([A-Z]{1,4}[ -]?[0-9OIl]{4,12}|[0-9]{6,12})\b")
_LABEL = re.compile(r"^(?:n[°o]|num[ée]ro|r[ée]f|t[ée]l|t[ée]l[ée]phone|e-?mail|courriel|mail|contrat|client|"
                    r"customer|adh[ée]rent|date|objet)\b", re.IGNORECASE)


@dataclass(frozen=True)
class LetterFields:
    sender_name: str | None
    sender_address: str | None  # normalised postal address (name first), or None when none could be read
    postcode: str | None
    subject: str | None
    number_candidates: tuple[str, ...]  # identifiers printed on the letter, most likely first
    case_references: tuple[str, ...]  # D-2026-000042 written on the letter


def read_fields(text: str, *, own_postcodes: frozenset[str] = frozenset()) -> LetterFields:
    lines = [line.strip() for line in text.splitlines()]
    postcode, block = _sender_block(lines, own_postcodes)
    name = next((line for line in block if not re.search(r"\d", line) and not _LABEL.match(line)), None)
    address = None
    if block:
        address_lines = [line for line in block if not _LABEL.match(line)]
        if name is not None and address_lines and address_lines[0] != name:
            address_lines.insert(0, name)
        try:
            address = normalise_postal_address("\n".join(address_lines))
        except ValidationFailed:
            address = None
    subject = next((m.group(1).strip() for line in lines if (m := _SUBJECT.match(line))), None)
    references = tuple(dict.fromkeys(f"D-{m.group(1)}-{m.group(2)}" for m in _CASE_REFERENCE.finditer(text)))
    return LetterFields(sender_name=name[:200] if name else None, sender_address=address, postcode=postcode,
                        subject=subject, number_candidates=_number_candidates(text, own_postcodes),
                        case_references=references)


def _sender_block(lines: list[str], own_postcodes: frozenset[str]) -> tuple[str | None, list[str]]:
    """The first postcode-and-town line that is not ours, and up to three written lines above it."""
    for index, line in enumerate(lines):
        found = _POSTCODE_LINE.match(line)
        if found is None:
            continue
        postcode = found.group(1).replace(" ", "")
        if postcode in own_postcodes:
            continue
        above = [candidate for candidate in lines[max(0, index - 8):index] if candidate]
        above = [candidate for candidate in above if not _LABEL.match(candidate)][-3:]
        return postcode, [*above, line]
    return None, []


def _number_candidates(text: str, own_postcodes: frozenset[str]) -> tuple[str, ...]:
    """Identifier-shaped tokens, labelled ones first ("N° client : CL100042"), each with the digit-for-letter
    confusions of OCR undone (O→0, I/l→1) as a second spelling."""
    labelled, others = [], []
    for line in text.splitlines():
        target = labelled if _LABEL.match(line.strip()) else others
        for token in _IDENTIFIER.findall(line.upper() if not _LABEL.match(line.strip()) else line):
            value = token.upper().replace(" ", "").replace("-", "")
            if value in own_postcodes:
                continue
            head = re.match(r"^[A-Z]*", value).group(0)  # type: ignore[union-attr]
            tail = value[len(head):]
            target.append(value)
            fixed = head + tail.replace("O", "0").replace("I", "1").replace("L", "1")
            if fixed != value:
                target.append(fixed)
    return tuple(dict.fromkeys(labelled + others))[:50]
