"""A scanned letter's way in: stored and committed at upload, read by OCR in a durable job, filed on its case.

``do_upload_letter`` checks the file (a PDF, JPEG, PNG or TIFF by its first bytes, within the attachment
size limit), writes it to disk (fsync, content-addressed: the same file uploaded twice is one letter) and
commits its row and a ``letter.read`` job in one transaction — from then on the letter cannot be lost.
The job's preparation runs Tesseract outside any transaction (seconds a page; its result is cached next
to the file, so a retry never reads twice); the job then looks for the sender — a customer number printed
on the letter that exists, or else the name on a postal address of the same postcode — and, when exactly
one customer fits, files the letter through the conversations door as a ``letter`` interaction with the
scan attached. Otherwise the letter waits in the mailroom ("to identify") until a person chooses.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.letter.models import LetterScan, ScanStatus
from accueil.channels.letter.ocr import CONTENT_TYPES, UnreadableScan, read_scan, sniff_type
from accueil.channels.letter.sender import LetterFields, plain, read_fields
from accueil.channels.letter.senders import SURE_NAME_SCORE, find_sender
from accueil.config import Settings
from accueil.conversations.content import AttachmentIn, safe_filename, write_durably
from accueil.conversations.models import ChannelKind, Motif
from accueil.conversations.receive import InboundContact, conversation_config_of, do_receive_inbound
from accueil.core.errors import AccueilError, Conflict, NotFound, ValidationFailed
from accueil.customers.models import Customer, Identity, IdentityKind
from accueil.customers.service import IdentityRef, access_customer, do_add_identity, normalise_identity
from accueil.db.jobs import do_schedule_job, job_handler
from accueil.db.session import settings_of
from accueil.routing.models import Queue

log = logging.getLogger(__name__)
READ_KIND = "letter.read"
NO_TEXT = "(courrier sans texte lisible : voir le scan joint / no readable text: see the attached scan)"


@dataclass(frozen=True)
class Upload:
    scan_id: str
    duplicate: bool  # this very file was uploaded before: nothing new was created


def do_upload_letter(session: Session, *, data: bytes, file_name: str, uploaded_by_id: str | None,
                     motif_code: str | None, queue_code: str | None, settings: Settings, now: datetime) -> Upload:
    if not data:
        raise ValidationFailed("letter_empty", file=file_name)
    content_type = sniff_type(data)
    if content_type is None:
        raise ValidationFailed("letter_type", file=file_name, allowed="PDF, JPEG, PNG, TIFF")
    if len(data) > settings.max_attachment_bytes:
        raise ValidationFailed("letter_too_large", file=file_name, limit=settings.max_attachment_bytes)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(LetterScan.id).where(LetterScan.sha256 == digest))
    if existing is not None:
        return Upload(existing, duplicate=True)
    motif_code, queue_code = motif_code or None, queue_code or None
    if motif_code and session.scalar(select(Motif.id).where(Motif.code == motif_code, Motif.active.is_(True))) is None:
        raise NotFound("unknown_motif", value=motif_code)
    if queue_code and session.scalar(select(Queue.id).where(Queue.code == queue_code)) is None:
        raise NotFound("unknown_queue", value=queue_code)
    relative = f"{now:%Y/%m}/{digest}{CONTENT_TYPES[content_type]}"
    # Content-addressed: never removed on rollback (the same bytes may belong to a row committed by a
    # concurrent upload of the same file; an orphan copy of them is harmless).
    _write_durably(settings.letters_dir / relative, data)
    scan = LetterScan(sha256=digest, storage_path=relative, file_name=safe_filename(file_name or "scan")[:255],
                      content_type=content_type, size_bytes=len(data), uploaded_by_id=uploaded_by_id,
                      uploaded_at=now, motif_code=motif_code, queue_code=queue_code)
    session.add(scan)
    session.flush()
    do_schedule_job(session, kind=READ_KIND, run_at=now, payload={"scan_id": scan.id},
                    dedupe_key=f"{READ_KIND}:{scan.id}", max_attempts=5, fresh=True)
    return Upload(scan.id, duplicate=False)


def _write_durably(target: Path, data: bytes) -> bool:
    """Content-addressed files: one already there is the same bytes."""
    if target.exists():
        return False
    write_durably(target, data)
    return True


def ocr_cache_path(settings: Settings, scan: LetterScan) -> Path:
    return settings.letters_dir / (scan.storage_path + ".ocr.json")


def preview_path(settings: Settings, scan: LetterScan) -> Path:
    return settings.letters_dir / (scan.storage_path + ".preview.png")


def read_letter_file(settings: Settings, scan: LetterScan) -> dict[str, Any]:
    """The OCR of a stored scan, from its cache if it was read before (no database work). Never raises for
    what is in the file: anything that goes wrong reading it is an outcome kept with the letter."""
    cache = ocr_cache_path(settings, scan)
    if cache.exists():
        try:
            return json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache.unlink(missing_ok=True)  # a damaged cache is read again
    try:
        result = read_scan((settings.letters_dir / scan.storage_path).read_bytes(),
                           languages=settings.letter_ocr_languages, max_pages=settings.letter_max_pages)
    except UnreadableScan as exc:
        read: dict[str, Any] = {"unreadable": str(exc)[:500]}
    except Exception as exc:  # noqa: BLE001 - a library failing on a strange file: kept, shown, never stuck
        log.warning("letter %s could not be read: %s", scan.id, type(exc).__name__)
        read = {"unreadable": f"{type(exc).__name__}: {str(exc)[:300]}"}
    else:
        read = {"text": result.text, "pages": result.pages, "confidence": result.confidence,
                "warnings": list(result.warnings)}
        if result.preview_png:
            _write_durably(preview_path(settings, scan), result.preview_png)
    transient = any(w == "ocr_unavailable" or w.startswith("ocr_failed") for w in read.get("warnings", ()))
    if not transient:  # a missing Tesseract or a timeout is read again later, for real
        _write_durably(cache, json.dumps(read, ensure_ascii=False).encode())
    return read


@dataclass(frozen=True)
class _ToRead:
    id: str
    storage_path: str
    status: str


def _prepare_read(factory: sessionmaker[Session], payload: dict[str, Any]) -> dict[str, Any]:
    """The OCR, with no session open: on SQLite even a read on the writer's session takes the write lock."""
    with factory() as session:
        scan = session.get(LetterScan, payload["scan_id"])
        settings = settings_of(session)
        found = _ToRead(scan.id, scan.storage_path, scan.status) if scan is not None else None
    if found is None or found.status != ScanStatus.pending:
        return {"read": None}
    return {"read": read_letter_file(settings, found)}  # type: ignore[arg-type]


@job_handler(READ_KIND, prepare=_prepare_read)
def _read_job(session: Session, payload: dict, now: datetime) -> None:
    if payload.get("read") is not None:
        do_file_read_letter(session, scan_id=payload["scan_id"], read=payload["read"], now=now)


def own_postcodes(settings: Settings) -> frozenset[str]:
    return frozenset(word for word in settings.letter_company_address.replace("/", " ").split()
                     if len(word) == 5 and word.isdigit())


def fields_of(settings: Settings, text: str | None) -> LetterFields:
    """What the letter's text says, our own letterhead (postcode and name) told apart from the sender's."""
    return read_fields(text or "", own_postcodes=own_postcodes(settings), own_name=settings.letter_company_name)


def _address_is_theirs(session: Session, customer_id: str, fields: LetterFields) -> bool:
    """The address read joins a customer only when the name on it is that customer's (else a person types it)."""
    customer = session.get(Customer, customer_id)
    if customer is None or not customer.display_name or not fields.sender_name:
        return False
    return fuzz.token_sort_ratio(plain(fields.sender_name), plain(customer.display_name)) >= SURE_NAME_SCORE


def do_file_read_letter(session: Session, *, scan_id: str, read: dict[str, Any], now: datetime) -> str:
    """Record what the OCR read, and file the letter on its sender's case when the sender is sure."""
    scan = session.get(LetterScan, scan_id)
    if scan is None or scan.status != ScanStatus.pending:
        return scan.status if scan is not None else "missing"
    scan.processed_at = now
    if "unreadable" in read:
        scan.status, scan.warnings = ScanStatus.unreadable, read["unreadable"]
        return scan.status
    settings = settings_of(session)
    scan.text, scan.pages, scan.confidence = read["text"], read["pages"], read["confidence"]
    scan.warnings = "; ".join(read["warnings"])[:2000] or None
    fields = fields_of(settings, scan.text)
    scan.sender_name, scan.sender_address = fields.sender_name, fields.sender_address
    found = find_sender(session, fields)
    if found is None:
        scan.status = ScanStatus.to_identify
        return scan.status
    identities = [found.identity]
    if fields.sender_address and found.identity.kind is not IdentityKind.postal \
            and _address_is_theirs(session, found.customer_id, fields):
        identities.append(IdentityRef(IdentityKind.postal, fields.sender_address))
    return _receive(session, scan, fields, identities=identities, reason=found.reason, now=now)


def do_read_again(session: Session, *, scan_id: str, now: datetime) -> LetterScan:
    """Read a letter waiting to be identified once more (Tesseract was missing, or timed out)."""
    scan = session.get(LetterScan, scan_id)
    if scan is None:
        raise NotFound("not_found", kind="letter", id=scan_id)
    if scan.status not in (ScanStatus.to_identify, ScanStatus.unreadable):
        raise Conflict("letter_already_filed", status=scan.status)
    ocr_cache_path(settings_of(session), scan).unlink(missing_ok=True)  # read for real, not from the cache
    scan.status, scan.warnings = ScanStatus.pending, None
    do_schedule_job(session, kind=READ_KIND, run_at=now, payload={"scan_id": scan.id},
                    dedupe_key=f"{READ_KIND}:{scan.id}:{now.timestamp()}", max_attempts=5, fresh=True)
    return scan


def do_file_letter(session: Session, *, scan_id: str, user_id: str, customer_id: str | None, name: str,
                   address: str, customer_number: str, now: datetime) -> LetterScan:
    """A person identified the sender: an existing customer (``customer_id``) or a new one (name, address…).

    The address typed (or corrected) becomes a postal identity of that customer; an address or number that
    belongs to another customer is refused, never moved silently."""
    scan = session.get(LetterScan, scan_id)
    if scan is None:
        raise NotFound("not_found", kind="letter", id=scan_id)
    if scan.status not in (ScanStatus.to_identify, ScanStatus.pending, ScanStatus.unreadable):
        raise Conflict("letter_already_filed", status=scan.status)
    refs = []
    if address.strip():
        refs.append(normalise_identity(IdentityKind.postal, address))
    if customer_number.strip():
        refs.append(normalise_identity(IdentityKind.customer_number, customer_number))
    if customer_id:
        customer = access_customer(session, customer_id)
        for ref in refs:
            do_add_identity(session, customer_id=customer.id, ref=ref)
        if not refs:
            refs = [_any_identity(session, customer)]
        reason = "chosen"
    else:
        if not name.strip() or not refs:
            raise ValidationFailed("letter_sender_required")
        for ref in refs:
            owner = session.scalar(select(Identity.customer_id).where(Identity.kind == ref.kind,
                                                                      Identity.value == ref.value))
            if owner is not None:
                raise Conflict("identity_taken", kind=ref.kind.value, value=ref.value)
        reason = "new"
    scan.filed_by_id = user_id
    scan.sender_name = name.strip()[:200] or scan.sender_name
    fields = fields_of(settings_of(session), scan.text)
    if _receive(session, scan, fields, identities=refs, reason=reason, now=now) != ScanStatus.received:
        raise ValidationFailed("letter_refused", reason=scan.warnings or "")
    return scan


def _any_identity(session: Session, customer: Customer) -> IdentityRef:
    rows = session.execute(select(Identity.kind, Identity.value).where(Identity.customer_id == customer.id)).all()
    preferred = sorted(rows, key=lambda row: [IdentityKind.postal, IdentityKind.customer_number].index(row.kind)
                       if row.kind in (IdentityKind.postal, IdentityKind.customer_number) else 9)
    if not preferred:
        raise ValidationFailed("letter_sender_required")
    return IdentityRef(preferred[0].kind, preferred[0].value)


def _receive(session: Session, scan: LetterScan, fields: LetterFields, *, identities: list[IdentityRef],
             reason: str, now: datetime) -> str:
    settings = settings_of(session)
    config = conversation_config_of(session)
    data = (settings.letters_dir / scan.storage_path).read_bytes()
    text = scan.text or ""
    warnings = [scan.warnings] if scan.warnings else []
    if len(text) > config.limits.max_body_chars:
        warnings.append(f"body_truncated: {len(text)} characters")
        text = text[:config.limits.max_body_chars]
    contact = InboundContact(
        channel=ChannelKind.letter, identities=identities, provider_message_id=f"letter:{scan.sha256}",
        display_name=scan.sender_name, motif_code=scan.motif_code or settings.letter_default_motif or None,
        queue_code=scan.queue_code or settings.letter_default_queue or None,
        case_reference=fields.case_references[0] if fields.case_references else None,
        subject=(fields.subject or "")[:300] or None, body_text=text.strip() or NO_TEXT,
        attachments=[AttachmentIn(scan.file_name, scan.content_type, data)], occurred_at=scan.uploaded_at,
    )
    try:
        with session.begin_nested():
            result = do_receive_inbound(session, contact=contact, config=config, now=now)
    except AccueilError as exc:  # the motif or queue chosen at upload no longer exists, …
        scan.status = ScanStatus.to_identify
        scan.warnings = "; ".join([*warnings, f"refused: {exc.code} {exc.details}"])[:2000]
        return scan.status
    scan.status, scan.match_reason = ScanStatus.received, reason
    scan.customer_id, scan.case_id, scan.interaction_id = result.customer_id, result.case_id, result.interaction_id
    scan.warnings = "; ".join(warnings)[:2000] or None
    return scan.status
