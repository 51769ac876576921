"""A bounded chaos test: ``accueil mail serve`` killed with SIGKILL at the end of DATA, on both databases.

The sending server did not hear 250, so it sends the mail again once the listener is back (what every
MTA does); whatever instant the kill fell on — before the mail was stored, after the commit, after the
reply — the customer's mail ends as exactly one interaction, and a mail that was answered 250 is never
lost.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accueil.channels.email.models import InboundMail
from accueil.conversations.models import Interaction
from accueil.core import clock
from accueil.db.jobs import run_due_jobs
from tests.channels.email.conftest import free_port
from tests.channels.email.mails import SERVICE, mail

KILL_AFTER_SECONDS = (0.0, 0.01, 0.25)  # after the final "." — before, during and after the store


def _start(runtime, port: int) -> subprocess.Popen:
    settings = runtime.settings
    env = {**os.environ, "ACCUEIL_DATABASE_URL": settings.effective_database_url,
           "ACCUEIL_DATA_DIR": str(settings.data_dir), "ACCUEIL_SECRET_KEY": settings.secret_key,
           "ACCUEIL_AUTO_MIGRATE": "false", "ACCUEIL_MAX_ATTACHMENT_BYTES": str(settings.max_attachment_bytes)}
    process = subprocess.Popen([sys.executable, "-m", "accueil", "mail", "serve", "--port", str(port), "--no-imap"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
                if probe.recv(512).startswith(b"220"):
                    return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("accueil mail serve did not start")


def _lines(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _send_and_kill(port: int, raw: bytes, process: subprocess.Popen, kill_after: float) -> bool:
    """One SMTP conversation, the server killed right after the end of DATA; True if it answered 250."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        _lines(sock)  # 220
        for command in (b"EHLO sender.example", f"MAIL FROM:<{'david.martin@example.fr'}>".encode(),
                        f"RCPT TO:<{SERVICE}>".encode(), b"DATA"):
            sock.sendall(command + b"\r\n")
            reply = _lines(sock)
            while reply.splitlines()[-1][3:4] == b"-":  # a multi-line EHLO answer
                reply += _lines(sock)
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").replace(b"\r\n.", b"\r\n..")
        sock.sendall(body + b"\r\n.\r\n")
        if kill_after:
            time.sleep(kill_after)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        try:
            return _lines(sock).startswith(b"250")
        except (ConnectionError, OSError):
            return False


def _count(runtime, model) -> int:  # noqa: ANN001
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("kill_after", KILL_AFTER_SECONDS)
def test_a_listener_killed_at_the_end_of_data_loses_nothing_and_duplicates_nothing(runtime, mailboxes, kill_after):
    port = free_port()
    raw = mail(message_id=f"<killed-{kill_after}@example.fr>", subject="Facture introuvable")
    answered = _send_and_kill(port, raw, _start(runtime, port), kill_after)
    if answered:  # acknowledged: it must be on disk and in the database, whatever happens next
        assert _count(runtime, InboundMail) == 1
    restarted = _start(runtime, port)
    try:
        if not answered:  # the sending server tries again
            import smtplib

            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                assert smtp.sendmail("david.martin@example.fr", [SERVICE], raw) == {}
        deadline = time.monotonic() + 20
        while _count(runtime, Interaction) == 0 and time.monotonic() < deadline:
            # a mail stored by the killed process waits for the safety-net job (run by `accueil serve`)
            run_due_jobs(runtime.factory, worker="test", now=clock.now() + timedelta(minutes=5))
            time.sleep(0.1)
    finally:
        restarted.send_signal(signal.SIGINT)
        restarted.wait(10)
    assert _count(runtime, Interaction) == 1
