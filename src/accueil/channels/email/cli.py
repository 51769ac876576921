"""``accueil mail``: the SMTP listener, the mailboxes and the inbox (documented in docs/cli.md).

Each command imports its work when it runs, so ``accueil --help`` does not load the whole application.
"""

from __future__ import annotations

import time

import click

from accueil.config import get_settings


@click.group()
def mail() -> None:
    """Email: the inbound SMTP listener, mailboxes and the inbox / l'e-mail entrant."""


@mail.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default: ACCUEIL_MAIL_LISTEN_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="TCP port (default: ACCUEIL_MAIL_LISTEN_PORT, 2525).")
@click.option("--imap/--no-imap", "with_imap", default=True, show_default=True,
              help="Also keep the IMAP mailboxes fetched (IDLE where offered).")
def mail_serve(host: str | None, port: int | None, with_imap: bool) -> None:
    """Receive mail over SMTP for the configured mailboxes, and read the IMAP ones (Ctrl-C to stop)."""
    from accueil.channels.email.imap import MailboxWatcher, imap_mailboxes
    from accueil.channels.email.smtp import MailListener
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    listener = MailListener(runtime.factory, runtime.conversation_config, runtime.settings, host=host, port=port)
    listener.start()
    watchers = []
    if with_imap:
        with runtime.factory() as session:
            ids = imap_mailboxes(session)
        watchers = [MailboxWatcher(runtime.factory, mailbox_id, settings=runtime.settings,
                                   config=runtime.conversation_config).start() for mailbox_id in ids]
    click.echo(f"accueil mail listening on smtp://{listener.host}:{listener.port}, reading {len(watchers)} IMAP "
               "mailbox(es)  (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        for watcher in watchers:
            watcher.stop()
        click.echo(f"{listener.handler.stored} mail(s) received over SMTP")


@mail.command("fetch")
def mail_fetch() -> None:
    """Fetch what is new in every IMAP mailbox once, then exit (for a cron job)."""
    from accueil.channels.email.imap import fetch_mailbox, imap_mailboxes, record_error
    from accueil.channels.email.models import Mailbox
    from accueil.core import clock
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    with runtime.factory() as session:
        boxes = [(box_id, session.get(Mailbox, box_id).address) for box_id in imap_mailboxes(session)]
    failed = 0
    for box_id, address in boxes:
        try:
            result = fetch_mailbox(runtime.factory, box_id, settings=runtime.settings,
                                   config=runtime.conversation_config)
            click.echo(f"{address}: {result.fetched} new mail(s) (last UID {result.last_uid})")
        except Exception as exc:  # noqa: BLE001 - one mailbox down does not stop the others
            failed += 1
            record_error(runtime.factory, box_id, exc, clock.now())
            click.echo(f"{address}: {type(exc).__name__}: {exc}", err=True)
    if failed:
        raise click.ClickException(f"{failed} mailbox(es) could not be read")


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
@click.option("--imap-host", default="", help="Read this mailbox over IMAP from this server (else: SMTP only).")
@click.option("--imap-port", default=None, type=int, help="IMAP port (default 993 with ssl, else 143).")
@click.option("--imap-security", type=click.Choice(["ssl", "starttls", "none"]), default="ssl", show_default=True,
              help="How the IMAP connection is protected.")
@click.option("--imap-user", default="", help="IMAP login.")
@click.option("--imap-password", default="", help="IMAP password (stored encrypted; asked for when omitted).")
@click.option("--imap-folder", default="INBOX", show_default=True, help="Folder to read.")
@click.option("--imap-move-to", default="", help="Move processed mail to this folder (default: flag it as read).")
@click.option("--imap-from-now", is_flag=True,
              help="Leave the mail already in the folder alone: only mail arriving from now on becomes work.")
def mailbox_add(address: str, name: str, motif_code: str | None, queue_code: str | None, language: str,
                no_ack: bool, imap_host: str, imap_port: int | None, imap_security: str, imap_user: str,
                imap_password: str, imap_folder: str, imap_move_to: str, imap_from_now: bool) -> None:
    """Receive mail for ADDRESS (over SMTP, or read from an IMAP account with --imap-host)."""
    from accueil.channels.email.imap import do_configure_imap, skip_existing
    from accueil.channels.email.mailboxes import do_add_mailbox
    from accueil.core.errors import AccueilError
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    if imap_host and not imap_password:
        imap_password = click.prompt("IMAP password", hide_input=True)
    try:
        with runtime.factory() as session, session.begin():
            box = do_add_mailbox(session, address=address, name=name, motif_code=motif_code, queue_code=queue_code,
                                 language=language, acknowledge=not no_ack)
            if imap_host:
                do_configure_imap(session, box, host=imap_host, port=imap_port, security=imap_security,
                                  username=imap_user or address, password=imap_password, folder=imap_folder,
                                  move_to=imap_move_to, settings=runtime.settings)
            click.echo(f"mailbox {box.address} added" + (f" (IMAP {imap_host})" if imap_host else ""))
            box_id = box.id
    except AccueilError as exc:
        raise click.ClickException(f"{exc.code} {exc.details}") from exc
    if imap_host and imap_from_now:
        try:
            left = skip_existing(runtime.factory, box_id, settings=runtime.settings)
        except Exception as exc:  # noqa: BLE001 - the mailbox is added; say why the folder could not be read
            raise click.ClickException(f"mailbox added, but its folder could not be read: {exc}") from exc
        click.echo(f"  {left} message(s) already in {imap_folder} left alone: only new mail becomes work")


@mailbox.command("list")
def mailbox_list() -> None:
    """The mailboxes and where their mails go."""
    from rich.console import Console
    from rich.table import Table

    from accueil.channels.email.mailboxes import list_mailboxes
    from accueil.runtime import build_runtime

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
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import func, select

    from accueil.channels.email.models import InboundMail
    from accueil.runtime import build_runtime

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


@mail.group("form")
def form() -> None:
    """Web contact forms (embedded as an iframe of /forms/CODE)."""


@form.command("add")
@click.argument("code")
@click.option("--mailbox", "mailbox_address", required=True, help="Mailbox that acknowledges and answers it.")
@click.option("--title-fr", default="Nous contacter", show_default=True, help="Title in French.")
@click.option("--title-en", default="Contact us", show_default=True, help="Title in English.")
@click.option("--queue", "queue_code", default=None, help="Queue code its submissions wait in.")
@click.option("--motif", "motif_codes", multiple=True, help="A motif the customer may choose (repeatable).")
def form_add(code: str, mailbox_address: str, title_fr: str, title_en: str, queue_code: str | None,
             motif_codes: tuple[str, ...]) -> None:
    """Create the form CODE, served at /forms/CODE."""
    from accueil.channels.email.forms import do_add_form
    from accueil.core.errors import AccueilError
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    try:
        with runtime.factory() as session, session.begin():
            made = do_add_form(session, code=code, title_fr=title_fr, title_en=title_en,
                               mailbox_address=mailbox_address, queue_code=queue_code, motif_codes=list(motif_codes))
            click.echo(f"form {made.code} added: embed <iframe src=\"https://YOUR-HOST/forms/{made.code}\" "
                       "title=\"Contact\" style=\"width:100%;min-height:720px;border:0\"></iframe>")
    except AccueilError as exc:
        raise click.ClickException(f"{exc.code} {exc.details}") from exc
