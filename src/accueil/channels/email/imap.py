"""Mailboxes that stay at the company's provider, read over IMAP: incremental, restart-safe, IDLE when offered.

Each new message (UID above the last one stored, under the folder's current UIDVALIDITY) is stored exactly
like a mail received over SMTP (``intake.do_accept_mail``), and the mailbox's last UID moves forward **in
the same transaction**: after a crash or a restart the next fetch starts after it, so nothing is fetched
twice. Once committed the message is flagged ``\\Seen`` or moved to the configured folder, a chunk of
them (``FETCH_CHUNK``) at a time: one command per chunk, as each is a round trip to the provider. A new
UIDVALIDITY (the folder was rebuilt) starts from the beginning again; the Message-IDs then make every
already-known mail a ``duplicate`` that creates nothing. The password is stored encrypted and never logged.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.email.intake import do_accept_mail, process_mail
from accueil.channels.email.models import Mailbox
from accueil.config import Settings
from accueil.conversations.receive import ConversationConfig
from accueil.core import clock
from accueil.core.errors import ValidationFailed
from accueil.core.security import decrypt_secret, encrypt_secret

log = logging.getLogger(__name__)

FETCH_CHUNK = 50  # messages per FETCH round trip
SEEN = b"\\Seen"


@dataclass(frozen=True)
class FetchResult:
    fetched: int
    uidvalidity: int
    last_uid: int


def do_configure_imap(session: Session, mailbox: Mailbox, *, host: str, username: str, password: str,
                      settings: Settings, port: int | None = None, security: str = "ssl", folder: str = "INBOX",
                      move_to: str = "") -> None:
    """Point a mailbox at its IMAP account (the password encrypted at rest)."""
    if security not in ("ssl", "starttls", "none"):
        raise ValidationFailed("invalid_imap_security", value=security)
    mailbox.imap_host, mailbox.imap_username, mailbox.imap_security = host, username, security
    mailbox.imap_port = port or (993 if security == "ssl" else 143)
    mailbox.imap_password = encrypt_secret(settings.secret_key, password)
    mailbox.imap_folder, mailbox.imap_move_to = folder or "INBOX", move_to
    mailbox.imap_uidvalidity, mailbox.imap_last_uid = None, 0


def connect(mailbox: Mailbox, settings: Settings, *, timeout: float = 30.0) -> IMAPClient:
    context = ssl.create_default_context()
    client = IMAPClient(mailbox.imap_host, port=mailbox.imap_port, ssl=mailbox.imap_security == "ssl",
                        ssl_context=context if mailbox.imap_security == "ssl" else None, timeout=timeout)
    if mailbox.imap_security == "starttls":
        client.starttls(context)
    client.login(mailbox.imap_username, decrypt_secret(settings.secret_key, mailbox.imap_password))
    return client


def fetch_new(factory: sessionmaker[Session], client: IMAPClient, mailbox_id: str, *, settings: Settings,
              config: ConversationConfig) -> FetchResult:
    """Store every message above the last stored UID, then read it; returns what was fetched."""
    with factory() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        folder, move_to, address = mailbox.imap_folder, mailbox.imap_move_to, mailbox.address
        known_validity, last_uid = mailbox.imap_uidvalidity, mailbox.imap_last_uid
    selected = client.select_folder(folder)
    validity = int(selected[b"UIDVALIDITY"])
    if validity != known_validity:
        last_uid = 0  # a rebuilt folder: its UIDs mean something else now (Message-IDs catch repeats)
    uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    fetched = 0
    for start in range(0, len(uids), FETCH_CHUNK):
        chunk = uids[start:start + FETCH_CHUNK]
        bodies = client.fetch(chunk, ["BODY.PEEK[]"])
        committed: list[int] = []
        try:
            for uid in chunk:
                raw = bodies.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    continue  # expunged meanwhile
                with factory() as session, session.begin():
                    now = clock.now()
                    stored = do_accept_mail(session, raw=raw, source="imap", mailbox_id=mailbox_id,
                                            envelope_from="", envelope_to=[address], root=settings.mail_dir, now=now)
                    row = session.get(Mailbox, mailbox_id)
                    row.imap_uidvalidity, row.imap_last_uid, last_uid = validity, uid, uid
                    stored_id = stored.id
                committed.append(uid)
                fetched += 1
                try:
                    process_mail(factory, stored_id, config=config, root=settings.mail_dir)
                except Exception:  # noqa: BLE001 - stored: the durable job reads it later
                    log.exception("mail %s could not be read now; its job will retry", stored_id)
        except Exception:
            if committed:  # what is committed is still flagged or moved, if the server lets us
                try:
                    _mark_done(client, committed, move_to)
                except (IMAPClientError, OSError):
                    log.warning("IMAP mailbox %s: %d stored message(s) left unflagged", mailbox_id, len(committed))
            raise
        if committed:
            _mark_done(client, committed, move_to)
    with factory() as session, session.begin():
        row = session.get(Mailbox, mailbox_id)
        row.imap_uidvalidity, row.imap_polled_at, row.imap_error = validity, clock.now(), None
    return FetchResult(fetched=fetched, uidvalidity=validity, last_uid=last_uid)


def _mark_done(client: IMAPClient, uids: list[int], move_to: str) -> None:
    """Flag or move committed messages: one command per chunk, not one round trip to the provider per message."""
    if move_to:
        client.move(uids, move_to)
    else:
        client.add_flags(uids, [SEEN])


def fetch_mailbox(factory: sessionmaker[Session], mailbox_id: str, *, settings: Settings,
                  config: ConversationConfig) -> FetchResult:
    """Connect, fetch what is new, disconnect (``accueil mail fetch --once``, a cron job)."""
    with factory() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        session.expunge(mailbox)
    client = connect(mailbox, settings)
    try:
        return fetch_new(factory, client, mailbox_id, settings=settings, config=config)
    finally:
        try:
            client.logout()
        except (IMAPClientError, OSError):
            pass


def skip_existing(factory: sessionmaker[Session], mailbox_id: str, *, settings: Settings) -> int:
    """Start a mailbox from now: what is already in its folder is history, not new work (no acknowledgement,
    no routing). Records the folder's UIDVALIDITY and highest UID; returns how many messages were left."""
    with factory() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        session.expunge(mailbox)
    client = connect(mailbox, settings)
    try:
        selected = client.select_folder(mailbox.imap_folder, readonly=True)
        uids = client.search(["ALL"])
    finally:
        try:
            client.logout()
        except (IMAPClientError, OSError):
            pass
    with factory() as session, session.begin():
        row = session.get(Mailbox, mailbox_id)
        row.imap_uidvalidity, row.imap_last_uid = int(selected[b"UIDVALIDITY"]), max(uids, default=0)
    return len(uids)


def imap_mailboxes(session: Session) -> list[str]:
    return list(session.scalars(select(Mailbox.id).where(Mailbox.active.is_(True), Mailbox.imap_host != "")))


def record_error(factory: sessionmaker[Session], mailbox_id: str, error: Exception, now: datetime) -> None:
    """What went wrong, for the administrators (the exception's type and text: never the password)."""
    with factory() as session, session.begin():
        row = session.get(Mailbox, mailbox_id)
        if row is not None:
            row.imap_error, row.imap_polled_at = f"{type(error).__name__}: {error}"[:500], now


class MailboxWatcher:
    """Keeps one IMAP mailbox fetched: IDLE when the server offers it (new mail in seconds), else polling."""

    def __init__(self, factory: sessionmaker[Session], mailbox_id: str, *, settings: Settings,
                 config: ConversationConfig, poll_seconds: float = 60.0) -> None:
        self.factory, self.mailbox_id, self.settings, self.config = factory, mailbox_id, settings, config
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"accueil-imap-{mailbox_id[-6:]}", daemon=True)

    def start(self) -> MailboxWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_seconds + 5)

    def _run(self) -> None:
        backoff = 5.0
        while not self._stop.is_set():
            try:
                with self.factory() as session:
                    mailbox = session.get(Mailbox, self.mailbox_id)
                    session.expunge(mailbox)
                client = connect(mailbox, self.settings)
                try:
                    idle = b"IDLE" in client.capabilities()
                    while not self._stop.is_set():
                        fetch_new(self.factory, client, self.mailbox_id, settings=self.settings, config=self.config)
                        backoff = 5.0
                        if idle:
                            client.idle()
                            client.idle_check(timeout=min(self.poll_seconds, 29 * 60))  # RFC 2177: < 30 min
                            client.idle_done()
                        else:
                            self._stop.wait(self.poll_seconds)
                finally:
                    try:
                        client.logout()
                    except (IMAPClientError, OSError):
                        pass
            except Exception as exc:  # noqa: BLE001 - the provider is away: retry later, say why
                log.warning("IMAP mailbox %s: %s; retrying in %.0f s", self.mailbox_id, type(exc).__name__, backoff)
                record_error(self.factory, self.mailbox_id, exc, clock.now())
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 600.0)
