"""A real SMTP listener (``MailListener``) on a loopback port, with two mailboxes, over the test runtime."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from accueil.channels.email.mailboxes import do_add_mailbox
from accueil.channels.email.models import InboundMail, InboxStatus
from accueil.channels.email.smtp import MailListener
from tests.channels.email.mails import COMPLAINTS, SERVICE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
