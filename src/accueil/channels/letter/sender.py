"""What a letter's text says about who sent it, and what about: pure, from the OCR'd text alone.

A French letter opens with the sender's block (name, street, postcode and town, often a customer or
contract number), then the recipient's (ours), the place and date, and "Objet : …". OCR splits these
blocks with blank lines and sometimes misreads a character, so the reading is tolerant, and careful
about what it claims:

- the sender's block is the first postcode-and-town line that is not ours (our postcode *and* our name
  tell our block apart), with up to five address lines above it — prose, salutations and labels stop it;
- a number is a **customer number** only when it stands on a line labelled as one ("N° client",
  "Numéro d'adhérent", "Customer number"…); every other identifier-shaped token (an invoice, a phone
  number, our case reference) is only a *candidate* a person may pick — the database says which exist.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from accueil.core.errors import ValidationFailed
from accueil.customers.service import normalise_postal_address

_POSTCODE_LINE = re.compile(r"^(?:F-?\s?)?((?:\d{2}|2[AB])\s?\d{3})\s+([^\d\W][\w'’ .-]{1,40})$", re.IGNORECASE)
_SUBJECT = re.compile(r"^\s*(?:objet|object|subject|concerne)\s*[:：]\s*(.{3,300})$", re.IGNORECASE)
_CASE_REFERENCE = re.compile(r"\bD\s?-\s?(\d{4})\s?-\s?(\d{6,})\b")
_IDENTIFIER = re.compile(r"\b([A-Z]{1,4}[ -]?[0-9OIl]{4,12}|[0-9]{6,12})\b")
# "N° client", "Numéro d'adhérent", "Réf. client", "Customer number", "Client n°" (the word may come first)
_NUMBER_LABEL = re.compile(
    r"^(?:(?:n[°o]\.?|num[ée]ro|num\.|r[ée]f[ée]rence|r[ée]f\.?)\s*(?:de\s+|d['’]\s*)?"
    r"(?:client|adh[ée]rent|abonn[ée]|sociétaire|customer)|(?:client|adh[ée]rent|customer)\s*"
    r"(?:n[°o]\.?|num[ée]ro|number|no\.?|id))(?!\w)", re.IGNORECASE)
_LABEL = re.compile(r"^(?:n[°o]|num[ée]ro|num\.|r[ée]f[ée]rence|r[ée]f|t[ée]l[ée]phone|t[ée]l|portable|e-?mail|"
                    r"courriel|mail|contrat|client|customer|adh[ée]rent|date|objet|subject|dossier|facture)(?!\w)",
                    re.IGNORECASE)
# a line that is only a salutation ("Madame, Monsieur,"), or the start of prose: not an address line
_SALUTATION = re.compile(r"^(?:(?:madame|monsieur|mesdames|messieurs|mademoiselle)[\s,]*)+$|"
                         r"^(?:dear|hello|bonjour|je |j['’]|nous |veuillez|merci)", re.IGNORECASE)
_CIVILITY = re.compile(r"^(?:m\.|mr\.?|mme\.?|mlle\.?|mrs\.?|ms\.?|monsieur|madame|mademoiselle)\s+", re.IGNORECASE)
MAX_BLOCK_LINES = 6  # La Poste: at most six lines, the name first and the town last


@dataclass(frozen=True)
class LetterFields:
    sender_name: str | None
    sender_address: str | None  # normalised postal address (name first), or None when none could be read
    postcode: str | None
    subject: str | None
    customer_numbers: tuple[str, ...]  # on a line labelled as a customer number: may identify the sender
    number_candidates: tuple[str, ...]  # every identifier printed, labelled ones first (for the choice)
    case_references: tuple[str, ...]  # D-2026-000042 written on the letter


def plain(text: str) -> str:
    """Capitals without accents or civility: how two spellings of a name are compared."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return re.sub(r"\s+", " ", _CIVILITY.sub("", re.sub(r"[^A-Z0-9' -]+", " ", text).strip())).strip()


def read_fields(text: str, *, own_postcodes: frozenset[str] = frozenset(), own_name: str = "") -> LetterFields:
    lines = [line.strip() for line in text.splitlines()]
    postcode, block = _sender_block(lines, own_postcodes, plain(own_name) if own_name else "")
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
    labelled, others = _numbers(text, own_postcodes)
    clean_name = _CIVILITY.sub("", name).strip() if name else None
    return LetterFields(sender_name=clean_name[:200] if clean_name else None, sender_address=address,
                        postcode=postcode, subject=subject, customer_numbers=labelled,
                        number_candidates=tuple(dict.fromkeys(labelled + others))[:50], case_references=references)


def _is_ours(block: list[str], own_name: str) -> bool:
    return bool(own_name) and any(own_name in plain(line) for line in block)


def _sender_block(lines: list[str], own_postcodes: frozenset[str], own_name: str) -> tuple[str | None, list[str]]:
    """The first postcode-and-town line that is not ours, and up to five address lines above it."""
    for index, line in enumerate(lines):
        found = _POSTCODE_LINE.match(line)
        if found is None:
            continue
        postcode = found.group(1).replace(" ", "").upper()
        above: list[str] = []
        for candidate in reversed(lines[max(0, index - 10):index]):
            if not candidate:
                continue  # OCR puts blank lines inside a block
            if _SALUTATION.match(candidate) or len(candidate) > 60 or candidate.endswith((".", ",", ";", ":")) \
                    or _POSTCODE_LINE.match(candidate):
                break  # prose, or the block before: the address starts below
            if _LABEL.match(candidate):
                continue
            above.insert(0, candidate)
            if len(above) == MAX_BLOCK_LINES - 1:
                break
        block = [*above, line]
        if postcode in own_postcodes and (not own_name or _is_ours(block, own_name)):
            continue  # our own address (a customer of the same postcode still has their block)
        if _is_ours(block, own_name):
            continue
        return postcode, block
    return None, []


def _numbers(text: str, own_postcodes: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Identifier-shaped tokens: on customer-number lines, and elsewhere — each with OCR's digit-for-letter
    confusions undone (O→0, I/l→1) as a second spelling. Our case references and postcodes are left out."""
    references = {m.group(0) for m in _CASE_REFERENCE.finditer(text)}
    labelled: list[str] = []
    others: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        for reference in references:
            stripped = stripped.replace(reference, " ")
        target = labelled if _NUMBER_LABEL.match(stripped) else others
        for token in _IDENTIFIER.findall(stripped):
            for value in _spellings(token):
                if value not in own_postcodes:
                    target.append(value)
    labelled_unique = tuple(dict.fromkeys(labelled))
    return labelled_unique, tuple(v for v in dict.fromkeys(others) if v not in labelled_unique)


def _spellings(token: str) -> list[str]:
    """The token as printed, without spaces and hyphens, and with OCR's confusions undone in its digits:
    every split into a letter prefix and a digit part is tried ("CLIOOO42" → "CL100042", "C1100042")."""
    value = token.upper().replace(" ", "")
    compact = value.replace("-", "")
    found = [compact, value]
    for cut in range(len(compact) - 3):
        head, tail = compact[:cut], compact[cut:]
        if re.fullmatch(r"[A-Z]*", head) and re.fullmatch(r"[0-9OIL]+", tail) and re.search(r"\d", tail):
            found.append(head + tail.replace("O", "0").replace("I", "1").replace("L", "1"))
    return list(dict.fromkeys(found))
