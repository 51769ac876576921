"""IMAP mailboxes against a real Dovecot: incremental by UID, nothing fetched twice across restarts,
processed mail flagged or moved, a rebuilt folder creates no duplicates, the password encrypted at rest."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from accueil.channels.email.imap import MailboxWatcher, fetch_mailbox, skip_existing
from accueil.channels.email.models import InboundMail, InboxStatus, Mailbox
from accueil.conversations.models import Interaction
from tests.channels.email.conftest import IMAP_PASSWORD, IMAP_USER
from tests.channels.email.mails import mail


def fetch(runtime, box_id):
    return fetch_mailbox(runtime.factory, box_id, settings=runtime.settings, config=runtime.conversation_config)


def counts(runtime) -> tuple[int, int]:
    with runtime.factory() as session:
        return (session.scalar(select(func.count()).select_from(InboundMail)),
                session.scalar(select(func.count()).select_from(Interaction)))


def test_new_mail_is_fetched_once_and_flagged_as_read(runtime, dovecot, imap_mailbox):
    dovecot.deliver(mail(to=IMAP_USER, subject="Un", message_id="<imap-1@example.fr>"),
                    mail(to=IMAP_USER, subject="Deux", message_id="<imap-2@example.fr>"))
    assert fetch(runtime, imap_mailbox).fetched == 2
    assert counts(runtime) == (2, 2)
    assert fetch(runtime, imap_mailbox).fetched == 0  # incremental: nothing new, nothing again
    dovecot.deliver(mail(to=IMAP_USER, subject="Trois", message_id="<imap-3@example.fr>"))
    result = fetch(runtime, imap_mailbox)  # a new process would start from the stored last UID the same way
    assert result.fetched == 1 and counts(runtime) == (3, 3)
    client = dovecot.client()
    client.select_folder("INBOX")
    assert len(client.search(["UNSEEN"])) == 0 and len(client.search(["ALL"])) == 3
    client.logout()
    with runtime.factory() as session:
        rows = session.scalars(select(InboundMail)).all()
        assert {row.source for row in rows} == {"imap"} and {row.status for row in rows} == {InboxStatus.received}


def test_a_mailbox_started_from_now_leaves_the_mail_already_there_alone(runtime, dovecot, imap_mailbox):
    dovecot.deliver(mail(to=IMAP_USER, subject="Ancien", message_id="<old-1@example.fr>"),
                    mail(to=IMAP_USER, subject="Ancien", message_id="<old-2@example.fr>"))
    assert skip_existing(runtime.factory, imap_mailbox, settings=runtime.settings) == 2
    assert fetch(runtime, imap_mailbox).fetched == 0 and counts(runtime) == (0, 0)
    dovecot.deliver(mail(to=IMAP_USER, subject="Nouveau", message_id="<new-1@example.fr>"))
    assert fetch(runtime, imap_mailbox).fetched == 1 and counts(runtime) == (1, 1)
    client = dovecot.client()
    client.select_folder("INBOX")
    assert len(client.search(["UNSEEN"])) == 2  # the history is not even marked as read
    client.logout()


def test_the_password_is_encrypted_at_rest(runtime, imap_mailbox):
    with runtime.factory() as session:
        stored = session.get(Mailbox, imap_mailbox).imap_password
    assert IMAP_PASSWORD not in stored and len(stored) > 40


def test_processed_mail_can_be_moved_to_a_folder(runtime, dovecot, imap_mailbox):
    with runtime.factory() as session, session.begin():
        session.get(Mailbox, imap_mailbox).imap_move_to = "Traités"
    dovecot.deliver(mail(to=IMAP_USER, message_id="<imap-move@example.fr>"))
    assert fetch(runtime, imap_mailbox).fetched == 1
    client = dovecot.client()
    assert client.select_folder("INBOX")[b"EXISTS"] == 0 and client.select_folder("Traités")[b"EXISTS"] == 1
    client.logout()


def test_a_rebuilt_folder_is_read_again_without_creating_anything_twice(runtime, dovecot, imap_mailbox):
    dovecot.deliver(mail(to=IMAP_USER, message_id="<imap-again@example.fr>"))
    fetch(runtime, imap_mailbox)
    with runtime.factory() as session, session.begin():
        session.get(Mailbox, imap_mailbox).imap_uidvalidity = 12345  # as if the server's folder changed identity
    assert fetch(runtime, imap_mailbox).fetched == 1
    with runtime.factory() as session:
        statuses = sorted(row.status for row in session.scalars(select(InboundMail)))
    assert statuses == [InboxStatus.duplicate, InboxStatus.received] and counts(runtime)[1] == 1


def test_the_same_mail_by_smtp_and_imap_is_one_interaction(runtime, dovecot, imap_mailbox, listener):
    raw = mail(to=IMAP_USER, message_id="<both-ways@example.fr>")
    listener.send(raw, to=["service@maison-lumiere.example"])
    listener.inbox()
    dovecot.deliver(raw)
    fetch(runtime, imap_mailbox)
    assert counts(runtime) == (2, 1)


def test_a_watcher_with_idle_picks_up_new_mail_within_seconds(runtime, dovecot, imap_mailbox):
    watcher = MailboxWatcher(runtime.factory, imap_mailbox, settings=runtime.settings,
                             config=runtime.conversation_config, poll_seconds=2).start()
    try:
        time.sleep(0.5)
        dovecot.deliver(mail(to=IMAP_USER, message_id="<idle@example.fr>"))
        deadline = time.monotonic() + 10
        while counts(runtime)[1] < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watcher.stop()
    assert counts(runtime)[1] == 1


def test_a_wrong_password_is_recorded_without_the_password(runtime, dovecot, imap_mailbox):
    from accueil.channels.email.imap import do_configure_imap

    with runtime.factory() as session, session.begin():
        box = session.get(Mailbox, imap_mailbox)
        do_configure_imap(session, box, host="127.0.0.1", port=dovecot.port, security="none", username=IMAP_USER,
                          password="faux-mot-de-passe", settings=runtime.settings)
    watcher = MailboxWatcher(runtime.factory, imap_mailbox, settings=runtime.settings,
                             config=runtime.conversation_config, poll_seconds=1).start()
    deadline = time.monotonic() + 10
    error = None
    while error is None and time.monotonic() < deadline:
        time.sleep(0.1)
        with runtime.factory() as session:
            error = session.get(Mailbox, imap_mailbox).imap_error
    watcher.stop()
    assert error is not None and "faux-mot-de-passe" not in error


def test_committed_messages_are_flagged_or_moved_a_chunk_at_a_time(runtime, dovecot, imap_mailbox, monkeypatch):
    """One STORE (or MOVE) per chunk of messages, not one round trip to the provider per message."""
    from imapclient import IMAPClient

    from accueil.channels.email import imap

    calls: list[tuple[str, int]] = []
    for name in ("add_flags", "move"):
        original = getattr(IMAPClient, name)

        def counting(client, messages, *args, _name=name, _original=original, **kwargs):
            calls.append((_name, len(messages)))
            return _original(client, messages, *args, **kwargs)

        monkeypatch.setattr(IMAPClient, name, counting)
    monkeypatch.setattr(imap, "FETCH_CHUNK", 2)
    dovecot.deliver(*(mail(to=IMAP_USER, subject=f"Lot {n}", message_id=f"<chunk-{n}@example.fr>") for n in range(5)))
    assert fetch(runtime, imap_mailbox).fetched == 5
    assert calls == [("add_flags", 2), ("add_flags", 2), ("add_flags", 1)] and counts(runtime) == (5, 5)
    client = dovecot.client()
    client.select_folder("INBOX")
    assert client.search(["UNSEEN"]) == [] and len(client.search(["ALL"])) == 5
    client.logout()

    calls.clear()
    with runtime.factory() as session, session.begin():
        session.get(Mailbox, imap_mailbox).imap_move_to = "Traités"
    dovecot.deliver(*(mail(to=IMAP_USER, message_id=f"<chunk-move-{n}@example.fr>") for n in range(3)))
    assert fetch(runtime, imap_mailbox).fetched == 3
    assert calls == [("move", 2), ("move", 1)]
    client = dovecot.client()
    assert client.select_folder("INBOX")[b"EXISTS"] == 5 and client.select_folder("Traités")[b"EXISTS"] == 3
    client.logout()
