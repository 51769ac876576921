"""A campaign's list from a CSV file: ``phone,email,name,customer_number`` (any order, any subset; ``;`` or
``,`` separated; UTF-8, with or without a BOM). Each line is checked on its own: a bad line is refused with
its number and why, the good ones are added (one transaction: the caller's), and a summary says how many
were added, merged with a line already on the list, excluded (opposition list…) or refused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from accueil.channels.outbound.models import TargetStatus
from accueil.channels.outbound.queries import access_campaign
from accueil.channels.outbound.service import do_add_target
from accueil.channels.outbound.texts import text
from accueil.core.errors import ValidationFailed
from accueil.customers.models import IdentityKind
from accueil.customers.service import IdentityRef, find_customer_by_identity, normalise_identity

COLUMNS = ("phone", "email", "name", "customer_number")
ALIASES = {"telephone": "phone", "téléphone": "phone", "tel": "phone", "mobile": "phone", "mail": "email",
           "e-mail": "email", "nom": "name", "numero_client": "customer_number", "client": "customer_number"}
MAX_LINES = 200_000


@dataclass(frozen=True)
class LineError:
    line: int
    code: str
    value: str

    def message(self, language: str = "en") -> str:
        return text(self.code, language, line=self.line, value=self.value)


@dataclass
class ImportReport:
    added: int = 0
    merged: int = 0
    excluded: int = 0
    errors: list[LineError] = field(default_factory=list)

    def summary(self, language: str = "en") -> str:
        return text("csv_summary", language, added=self.added, merged=self.merged, excluded=self.excluded,
                    errors=len(self.errors))


def _header(names: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(names):
        name = raw.strip().lstrip("\ufeff").lower()
        name = ALIASES.get(name, name)
        if name in COLUMNS and name not in found:
            found[name] = index
    if not found or not ({"phone", "email", "customer_number"} & set(found)):
        raise ValidationFailed("validation_error", summary=text("csv_no_columns"))
    return found


def do_import_csv(session: Session, *, campaign_id: str, content: str, now: datetime,
                  phone_region: str = "FR") -> ImportReport:
    campaign = access_campaign(session, campaign_id)
    sample = content[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=delimiter)
    try:
        header = _header(next(rows))
    except StopIteration:
        raise ValidationFailed("validation_error", summary=text("csv_no_columns")) from None
    report = ImportReport()
    for line, row in enumerate(rows, start=2):
        if line > MAX_LINES:
            raise ValidationFailed("validation_error", summary=f"at most {MAX_LINES} lines per file")
        cells = {name: (row[index].strip() if index < len(row) else "") for name, index in header.items()}
        if not any(cells.values()):
            continue
        phone = email = None
        customer_id = None
        try:
            if cells.get("phone"):
                phone = normalise_identity(IdentityKind.phone, cells["phone"], phone_region=phone_region)
        except ValidationFailed:
            report.errors.append(LineError(line, "csv_invalid_phone", cells["phone"]))
            continue
        try:
            if cells.get("email"):
                email = normalise_identity(IdentityKind.email, cells["email"])
        except ValidationFailed:
            report.errors.append(LineError(line, "csv_invalid_email", cells["email"]))
            continue
        if cells.get("customer_number"):
            try:
                number = normalise_identity(IdentityKind.customer_number, cells["customer_number"])
            except ValidationFailed:
                number = IdentityRef(IdentityKind.customer_number, cells["customer_number"])
            owner = find_customer_by_identity(session, number)
            if owner is None:
                report.errors.append(LineError(line, "csv_unknown_customer", cells["customer_number"]))
                continue
            customer_id = owner.id
        if phone is None and email is None and customer_id is None:
            report.errors.append(LineError(line, "csv_nothing_to_reach", ""))
            continue
        added = do_add_target(session, campaign=campaign, customer_id=customer_id, phone=phone, email=email,
                              name=cells.get("name") or None, now=now)
        if added.merged:
            report.merged += 1
        else:
            report.added += 1
            report.excluded += added.target.status is TargetStatus.excluded
    return report
