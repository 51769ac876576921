"""A throw-away Dovecot IMAP server on a loopback port, for the IMAP tests and ``benchmarks/imap_sync.py``.

No pytest here: the benchmark starts the same server. Dovecot's own users (dovecot, nobody) must reach
its files, so it runs from a world-readable directory made with ``tempfile.mkdtemp`` (never under
pytest's private 0700 temp dirs), and every mailbox belongs to ``nobody``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """A running server: ``client()`` logs in as ``IMAP_USER``; ``stop()`` ends it and removes its files."""

    def __init__(self, root: Path, port: int, process: subprocess.Popen | None = None) -> None:
        self.root, self.port, self.process = root, port, process

    @property
    def maildir(self) -> Path:
        """``IMAP_USER``'s Maildir (its INBOX), as Dovecot keeps it on disk."""
        return self.root / "mail" / IMAP_USER

    def client(self, timeout: float = 10):  # type: ignore[no-untyped-def]
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=timeout)
        client.login(IMAP_USER, IMAP_PASSWORD)
        return client

    def deliver(self, *raws: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            for raw in raws:
                client.append(folder, raw)
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(timeout: float = 15) -> Dovecot:
    """Start Dovecot (``DOVECOT`` must not be None) with a fresh configuration on a free loopback port."""
    assert DOVECOT is not None, "dovecot is not installed (apt-get install dovecot-imapd)"
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
    server = Dovecot(root, port, process)
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.client().logout()
            return server
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                server.stop()
                raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
            time.sleep(0.1)
