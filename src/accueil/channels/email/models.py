"""Mailboxes, the durable inbox of raw mails, and the Message-IDs that thread mails into cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accueil.core import clock
from accueil.db.base import Base, IdMixin


class Mailbox(IdMixin, Base):
    """An address accueil receives mail for (``service@…``), and where its mails go."""

    __tablename__ = "mailboxes"

    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    name: Mapped[str] = mapped_column(String(120), default="")  # the From name of our replies
    motif_code: Mapped[str | None] = mapped_column(String(60))
    queue_code: Mapped[str | None] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    acknowledge: Mapped[bool] = mapped_column(Boolean, default=True)  # send the accusé de réception
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # IMAP: for mail that stays at the company's provider (empty host: mail arrives by SMTP only)
    imap_host: Mapped[str] = mapped_column(String(255), default="")
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_security: Mapped[str] = mapped_column(String(10), default="ssl")  # ssl | starttls | none
    imap_username: Mapped[str] = mapped_column(String(255), default="")
    imap_password: Mapped[str] = mapped_column(Text, default="")  # encrypted (core.security.encrypt_secret)
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    imap_move_to: Mapped[str] = mapped_column(String(255), default="")  # else processed mail is flagged \Seen
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)  # unsigned 32-bit in IMAP
    imap_last_uid: Mapped[int] = mapped_column(BigInteger, default=0)  # the last UID stored, in the same transaction
    imap_polled_at: Mapped[datetime | None]
    imap_error: Mapped[str | None] = mapped_column(Text)


class InboxStatus:
    pending = "pending"  # stored and acknowledged to the sender's server, not read yet
    received = "received"  # an interaction of a case
    noise = "noise"  # automatic (bounce, auto-reply, bulk…): kept, never routed
    duplicate = "duplicate"  # the same Message-ID came before (SMTP and IMAP, or a retry)
    quarantined = "quarantined"  # could not be read: kept with the reason, shown to administrators


class InboundMail(IdMixin, Base):
    """One raw mail as it arrived, written to disk and committed before the SMTP ``250``."""

    __tablename__ = "mail_inbox"

    received_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    source: Mapped[str] = mapped_column(String(10))  # smtp | imap
    mailbox_id: Mapped[str | None] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    envelope_from: Mapped[str] = mapped_column(String(254), default="")
    envelope_to: Mapped[list[Any]] = mapped_column(default=list)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default=InboxStatus.pending, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str | None] = mapped_column(String(255), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    interaction_id: Mapped[str | None] = mapped_column(ForeignKey("interactions.id"))
    processed_at: Mapped[datetime | None]


class MailMessageId(Base):
    """A Message-ID we sent or received, and its case: how a reply finds its thread."""

    __tablename__ = "mail_message_ids"

    message_id_header: Mapped[str] = mapped_column(String(255), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"))
    outbound: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class WebForm(IdMixin, Base):
    """A contact form a company embeds in its site (an iframe of ``/forms/<code>``): its submissions are
    ``webform`` contacts, acknowledged and answered by email from the form's mailbox."""

    __tablename__ = "web_forms"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    mailbox_id: Mapped[str] = mapped_column(ForeignKey("mailboxes.id"))
    queue_code: Mapped[str | None] = mapped_column(String(60))
    motif_codes: Mapped[list[Any]] = mapped_column(default=list)  # offered to the customer (empty: none asked)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class FormSubmission(IdMixin, Base):
    """One accepted submission: which form (hence which mailbox answers it) and what it became."""

    __tablename__ = "form_submissions"

    form_id: Mapped[str] = mapped_column(ForeignKey("web_forms.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
