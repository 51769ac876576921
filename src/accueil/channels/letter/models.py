"""A scanned letter as the mailroom uploaded it, what the OCR read in it, and where it went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin


class ScanStatus:
    pending = "pending"  # stored, waiting for the OCR
    to_identify = "to_identify"  # read, but the sender is not known for sure: a person chooses
    received = "received"  # an interaction of the sender's case, with the scan attached
    unreadable = "unreadable"  # the file could not be opened as an image or a PDF: kept with the reason


class LetterScan(IdMixin, Base):
    """One uploaded file (a letter, all its pages). The same file uploaded twice is this one row."""

    __tablename__ = "letter_scans"

    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    storage_path: Mapped[str] = mapped_column(String(300))  # under the letters directory
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    motif_code: Mapped[str | None] = mapped_column(String(60))  # chosen at upload, else the settings' default
    queue_code: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default=ScanStatus.pending, index=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str | None] = mapped_column(Text)  # what the OCR (or the PDF's own text layer) read
    confidence: Mapped[float | None] = mapped_column(Float)  # Tesseract's mean word confidence, 0–100
    warnings: Mapped[str | None] = mapped_column(String(2000))  # "; "-separated codes (no_text, low_confidence…)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_address: Mapped[str | None] = mapped_column(String(320))  # the postal identity read on the letter
    match_reason: Mapped[str | None] = mapped_column(String(30))  # customer_number | name_postcode | chosen | new
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))
    processed_at: Mapped[datetime | None]
    filed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # who identified it by hand
