"""``accueil mail``: the SMTP listener, the mailboxes and the inbox (documented in docs/cli.md)."""

from __future__ import annotations

import time

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from accueil.channels.email.mailboxes import do_add_mailbox, list_mailboxes
from accueil.channels.email.models import InboundMail
from accueil.channels.email.smtp import MailListener
from accueil.config import get_settings
from accueil.core.errors import AccueilError
from accueil.runtime import build_runtime


@click.group()
def mail() -> None:
    """Email: the inbound SMTP listener, mailboxes and the inbox / l'e-mail entrant."""


@mail.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default: ACCUEIL_MAIL_LISTEN_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="TCP port (default: ACCUEIL_MAIL_LISTEN_PORT, 2525).")
def mail_serve(host: str | None, port: int | None) -> None:
    """Receive mail over SMTP for the configured mailboxes (Ctrl-C to stop)."""
    runtime = build_runtime(get_settings())
    listener = MailListener(runtime.factory, runtime.conversation_config, runtime.settings, host=host, port=port)
    listener.start()
    click.echo(f"accueil mail listening on smtp://{listener.host}:{listener.port}  (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        click.echo(f"{listener.handler.stored} mail(s) received")


@mail.group("mailbox")
def mailbox() -> None:
    """The addresses mail is received for."""


@mailbox.command("add")
@click.argument("address")
@click.option("--name", default="", help="Name shown as the sender of replies (e.g. \"Service client\").")
@click.option("--motif", "motif_code", default=None, help="Motif code given to its mails.")
@click.option("--queue", "queue_code", default=None, help="Queue code its mails wait in.")
@click.option("--language", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="Language of its acknowledgements.")
@click.option("--no-ack", is_flag=True, help="Send no automatic acknowledgement.")
def mailbox_add(address: str, name: str, motif_code: str | None, queue_code: str | None, language: str,
                no_ack: bool) -> None:
    """Receive mail for ADDRESS."""
    runtime = build_runtime(get_settings())
    try:
        with runtime.factory() as session, session.begin():
            box = do_add_mailbox(session, address=address, name=name, motif_code=motif_code, queue_code=queue_code,
                                 language=language, acknowledge=not no_ack)
            click.echo(f"mailbox {box.address} added")
    except AccueilError as exc:
        raise click.ClickException(f"{exc.code} {exc.details}") from exc


@mailbox.command("list")
def mailbox_list() -> None:
    """The mailboxes and where their mails go."""
    runtime = build_runtime(get_settings())
    table = Table("address", "name", "motif", "queue", "language", "ack", "active")
    with runtime.factory() as session:
        for box in list_mailboxes(session):
            table.add_row(box.address, box.name, box.motif_code or "", box.queue_code or "", box.language,
                          "yes" if box.acknowledge else "no", "yes" if box.active else "no")
    Console().print(table)


@mail.command("inbox")
@click.option("--status", default=None, help="Only this status (pending, received, noise, duplicate, quarantined).")
@click.option("--limit", default=20, show_default=True, type=int, help="Rows shown.")
def mail_inbox(status: str | None, limit: int) -> None:
    """Mails as received: counts by status, then the latest ones with the reason when kept aside."""
    runtime = build_runtime(get_settings())
    with runtime.factory() as session:
        counts = dict(session.execute(select(InboundMail.status, func.count()).group_by(InboundMail.status)).all())
        query = select(InboundMail).order_by(InboundMail.received_at.desc()).limit(limit)
        if status:
            query = query.where(InboundMail.status == status)
        rows = list(session.scalars(query))
        console = Console()
        console.print(" · ".join(f"{name}: {count}" for name, count in sorted(counts.items())) or "no mail yet")
        table = Table("received (UTC)", "id", "source", "size", "status", "reason")
        for row in rows:
            table.add_row(row.received_at.strftime("%Y-%m-%d %H:%M:%S"), row.id, row.source, str(row.size_bytes),
                          row.status, (row.reason or "")[:80])
        console.print(table)
