"""The inbound SMTP listener (aiosmtpd): ``250`` only once the mail is on disk and committed.

It accepts mail for the configured mailboxes only (``550`` for any other address, ``452`` past the
recipient limit, ``552`` past the size limit), offers STARTTLS when a certificate is configured, and
answers ``451`` (try again later) when the mail could not be stored — the sending server keeps it and
retries, so nothing acknowledged is ever lost. Reading the mail happens after the reply, in a worker
thread; the durable ``mail.process`` job covers a listener that stops in between.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import ssl
import threading
import time
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accueil.channels.email.intake import (
    SAFETY_NET_DELAY,
    StoredMail,
    do_record_mails,
    process_mails,
    store_mail_file,
)
from accueil.channels.email.models import Mailbox
from accueil.config import Settings
from accueil.conversations.receive import ConversationConfig
from accueil.core import clock

log = logging.getLogger(__name__)

MAILBOX_CACHE_SECONDS = 10.0  # a mailbox added by an administrator is served within this delay
# aiosmtpd logs every command with the sender's and recipients' addresses at INFO: personal data stays out
logging.getLogger("mail.log").setLevel(logging.WARNING)


class InboxWriter:
    """Commits the rows of stored mails in groups: one transaction (one fsync of the database) for every mail
    that arrived meanwhile, so concurrent SMTP sessions do not queue behind each other's commits. Each mail
    is acknowledged only once the transaction holding its row has committed."""

    MAX_GROUP = 64

    def __init__(self, factory: sessionmaker[Session], root: Any, read_delay: timedelta) -> None:
        self.factory, self.root, self.read_delay = factory, root, read_delay
        self._queue: queue.Queue[tuple[StoredMail, Future[str]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="accueil-mail-inbox", daemon=True)
        self._thread.start()

    def submit(self, stored: StoredMail) -> Future[str]:
        done: Future[str] = Future()
        self._queue.put((stored, done))
        return done

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < self.MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                group.append(more)
            try:
                with self.factory() as session, session.begin():
                    do_record_mails(session, [item for item, _done in group], root=self.root, now=clock.now(),
                                    read_delay=self.read_delay)
            except Exception as exc:  # noqa: BLE001 - each sender hears 451 and retries
                for _item, done in group:
                    done.set_exception(exc)
                continue
            for item, done in group:
                done.set_result(item.mail_id)


class MailReader:
    """Reads stored mails right after their ``250``, in groups: every mail stored meanwhile is parsed (no
    lock held) and then read in one transaction — one commit for the group instead of one per mail.
    A mail not read here (the process stopped, the group failed and so did the mail alone) is read by
    its durable job."""

    MAX_GROUP = 32

    def __init__(self, factory: sessionmaker[Session], config: ConversationConfig, root: Any,
                 threads: int = 2) -> None:
        self.factory, self.config, self.root = factory, config, root
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, name=f"accueil-mail-{n}", daemon=True)
                         for n in range(threads)]
        self._stopped = False
        for thread in self._threads:
            thread.start()

    def submit(self, mail_id: str) -> None:
        if self._stopped:
            raise RuntimeError("the mail reader is stopped")
        self._queue.put(mail_id)

    def stop(self) -> None:
        """Read what is queued, then stop."""
        self._stopped = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, stop_after = [first], False
            while len(group) < self.MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop_after = True  # each thread takes one stop marker
                    break
                group.append(more)
            try:
                process_mails(self.factory, group, config=self.config, root=self.root)
            except Exception:  # noqa: BLE001 - their durable jobs read them again later
                log.exception("%d mail(s) could not be read now; their jobs will retry", len(group))
            if stop_after:
                return


class MailHandler:
    """aiosmtpd's handler: checks recipients, stores each mail, then reads it."""

    def __init__(self, factory: sessionmaker[Session], config: ConversationConfig, settings: Settings) -> None:
        self.factory, self.config, self.settings = factory, config, settings
        self._mailboxes: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self.readers = MailReader(factory, config, settings.mail_dir)
        self.stored = 0
        # False: reading is left to the durable job, run by ``accueil worker`` (another process, another core)
        self.read_at_once = settings.mail_read_at_once
        self.writer = InboxWriter(factory, settings.mail_dir,
                                  SAFETY_NET_DELAY if self.read_at_once else timedelta(0))

    def _fresh(self) -> bool:
        return time.monotonic() - self._loaded_at <= MAILBOX_CACHE_SECONDS

    def mailboxes(self) -> dict[str, str]:
        """Active mailbox addresses -> ids (read at most every few seconds)."""
        if not self._fresh():
            with self.factory() as session:
                self._mailboxes = dict(session.execute(
                    select(Mailbox.address, Mailbox.id).where(Mailbox.active.is_(True))).all())
            self._loaded_at = time.monotonic()
        return self._mailboxes

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        loop = asyncio.get_running_loop()
        try:
            # fresh: answered on the event loop (no hop to a thread for every recipient); else read in one
            known = self._mailboxes if self._fresh() else await loop.run_in_executor(None, self.mailboxes)
        except Exception:  # noqa: BLE001 - the database is away: the sender retries later
            log.exception("mailboxes could not be read")
            return "451 4.3.0 Temporary failure, try again later"
        if address.strip().lower() not in known:
            return "550 5.1.1 No such mailbox here"
        if len(envelope.rcpt_tos) >= self.settings.mail_max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [address.strip().lower() for address in envelope.rcpt_tos]
        mailbox_id = next((self._mailboxes[a] for a in recipients if a in self._mailboxes), None)
        loop = asyncio.get_running_loop()
        try:
            stored = await loop.run_in_executor(None, lambda: store_mail_file(
                self.settings.mail_dir, raw, source="smtp", mailbox_id=mailbox_id,
                envelope_from=envelope.mail_from or "", envelope_to=recipients))
            mail_id = await asyncio.wrap_future(self.writer.submit(stored))
        except Exception:  # noqa: BLE001 - not stored, so not acknowledged: the sender keeps it and retries
            log.exception("an inbound mail could not be stored; answered 451")
            return "451 4.3.0 Temporary failure, try again later"
        self.stored += 1
        if self.read_at_once:
            try:
                self.readers.submit(mail_id)
            except RuntimeError:  # shutting down: the durable job reads it; the mail is stored either way
                pass
        return f"250 2.0.0 Queued as {mail_id}"


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if not (settings.mail_tls_cert and settings.mail_tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.mail_tls_cert, settings.mail_tls_key)
    return context


class MailListener:
    """The SMTP listener on its own thread and event loop (``accueil mail serve``, or inside ``accueil serve``)."""

    def __init__(self, factory: sessionmaker[Session], config: ConversationConfig, settings: Settings, *,
                 host: str | None = None, port: int | None = None) -> None:
        self.handler = MailHandler(factory, config, settings)
        self.host = host or settings.mail_listen_host
        self.port = settings.mail_listen_port if port is None else port
        self.controller = Controller(
            self.handler, hostname=self.host, port=self.port, data_size_limit=settings.mail_max_bytes,
            enable_SMTPUTF8=True, decode_data=False, tls_context=tls_context(settings), ident="accueil ESMTP")

    def start(self) -> MailListener:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.handler.writer.stop()
        self.handler.readers.stop()
