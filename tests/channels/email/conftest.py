"""A real SMTP listener (``MailListener``) on a loopback port, with two mailboxes, over the test runtime;
a throw-away Dovecot (``dovecot.py``) for the IMAP mailboxes."""

from __future__ import annotations

import os
import smtplib
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from accueil.channels.email.mailboxes import do_add_mailbox
from accueil.channels.email.models import InboundMail, InboxStatus
from accueil.channels.email.smtp import MailListener
from tests.channels.email.dovecot import DOVECOT, IMAP_PASSWORD, IMAP_USER, Dovecot, free_port, start_dovecot
from tests.channels.email.mails import COMPLAINTS, SERVICE
from tests.web.conftest import browser, web  # noqa: F401 - the web tests' fixtures, for the console tests here


class Listener:
    def __init__(self, runtime, listener: MailListener) -> None:
        self.runtime, self.listener, self.port = runtime, listener, listener.port

    def send(self, raw: bytes, *, to: list[str] | None = None, sender: str = "david.martin@example.fr") -> dict:
        """One SMTP conversation; returns the refused recipients (empty when all were accepted)."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            return smtp.sendmail(sender, to or [SERVICE], raw)

    def inbox(self, count: int = 1, timeout: float = 10.0) -> list[InboundMail]:
        """The inbox rows once ``count`` of them have been read (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.runtime.factory() as session:
                rows = list(session.scalars(select(InboundMail).order_by(InboundMail.received_at)))
                for row in rows:
                    session.expunge(row)
            done = [row for row in rows if row.status != InboxStatus.pending]
            if len(done) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.02)


@pytest.fixture
def mailboxes(runtime, cast):
    with runtime.factory() as session, session.begin():
        do_add_mailbox(session, address=SERVICE, name="Service client", queue_code="email_n2")
        do_add_mailbox(session, address=COMPLAINTS, name="Réclamations", motif_code="reclamation",
                       queue_code="email_n2")


@pytest.fixture
def listener(runtime, mailboxes) -> Iterator[Listener]:
    started = MailListener(runtime.factory, runtime.conversation_config, runtime.settings, port=free_port()).start()
    try:
        yield Listener(runtime, started)
    finally:
        started.stop()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server with a throw-away configuration, on a loopback port (``.ci/run`` installs it)."""
    if DOVECOT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("IMAP tests need Dovecot (apt-get install dovecot-imapd)")
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def imap_mailbox(runtime, cast, dovecot):
    """A mailbox read over IMAP from the test Dovecot, its INBOX emptied first."""
    from accueil.channels.email.imap import do_configure_imap
    from accueil.channels.email.models import Mailbox

    client = dovecot.client()
    try:
        for folder in ("INBOX", "Traités"):
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.select_folder(folder)
            messages = client.search(["ALL"])
            if messages:
                client.delete_messages(messages)
                client.expunge()
    finally:
        client.logout()
    with runtime.factory() as session, session.begin():
        box = do_add_mailbox(session, address="boutique@maison-lumiere.example", name="Boutique", queue_code="email_n2")
        do_configure_imap(session, box, host="127.0.0.1", port=dovecot.port, security="none", username=IMAP_USER,
                          password=IMAP_PASSWORD, settings=runtime.settings)
        box_id = box.id
    with runtime.factory() as session:
        return session.get(Mailbox, box_id).id
