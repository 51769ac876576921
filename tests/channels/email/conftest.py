"""A real SMTP listener (``MailListener``) on a loopback port, with two mailboxes, over the test runtime."""

from __future__ import annotations

import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from accueil.channels.email.mailboxes import do_add_mailbox
from accueil.channels.email.models import InboundMail, InboxStatus
from accueil.channels.email.smtp import MailListener
from tests.channels.email.mails import COMPLAINTS, SERVICE
from tests.web.conftest import browser, web  # noqa: F401 - the web tests' fixtures, for the console tests here


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


DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
DOVECOT_CONF = """protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""
IMAP_USER, IMAP_PASSWORD = "service@maison-lumiere.example", "mot-de-passe-imap"


class Dovecot:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port

    def client(self):
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    def deliver(self, *raws: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            for raw in raws:
                client.append(folder, raw)
        finally:
            client.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server with a throw-away configuration, on a loopback port (``.ci/run`` installs it)."""
    if DOVECOT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("IMAP tests need Dovecot (apt-get install dovecot-imapd)")
    # Dovecot's own users (dovecot, nobody) must reach it: not under pytest's private (0700) temp dirs
    root = Path(tempfile.mkdtemp(prefix="accueil-dovecot-"))
    for name in ("run", "state", "mail"):
        (root / name).mkdir()
    os.chmod(root, 0o755)
    os.chmod(root / "mail", 0o777)
    port = free_port()
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, port=port))
    (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    server = Dovecot(root, port)
    deadline = time.monotonic() + 15
    while True:
        try:
            server.client().logout()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
            time.sleep(0.1)
    yield server
    process.terminate()
    process.wait(10)
    shutil.rmtree(root, ignore_errors=True)


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
