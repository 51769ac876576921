"""The ``accueil`` command. Every command and option is documented in docs/cli.md (a test checks)."""

from __future__ import annotations

import logging
import sys

import click

from accueil.config import Settings, get_settings


def _settings() -> Settings:
    return get_settings()


@click.group()
@click.version_option(package_name="accueil")
def main() -> None:
    """accueil — omnichannel customer-relationship centre / centre de relation client omnicanal."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "will assume…" lines tell a user nothing


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes (each one uses a core).")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app and API (embedded mode runs migrations and jobs in-process)."""
    settings = _settings()
    if settings.auto_migrate:
        import os

        from accueil.db import migrate

        migrate.upgrade(settings.effective_database_url)
        os.environ["ACCUEIL_AUTO_MIGRATE"] = "false"  # done once here, not again in each worker process
    from accueil.serving import serve_processes

    click.echo(f"accueil listening on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
    code = serve_processes(host, port, workers, log_level="warning", access_log=False, proxy_headers=True)
    if code:
        raise click.ClickException("a server process stopped unexpectedly")


@main.command()
@click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
def worker(once: bool) -> None:
    """Run durable jobs and timers (scale-out mode; the embedded server runs them itself)."""
    from accueil.app import register_job_handlers
    from accueil.db.jobs import FAST, SLOW, JobRunner, run_due_jobs, worker_name
    from accueil.runtime import build_runtime

    register_job_handlers()
    runtime = build_runtime(_settings())
    if once:
        ran = run_due_jobs(runtime.factory, worker=worker_name())
        click.echo(f"{ran} job(s) run")
        return
    click.echo("accueil worker running; Ctrl-C to stop")
    slow = JobRunner(runtime.factory, poll_seconds=runtime.settings.job_poll_seconds, lane=SLOW).start()
    try:
        JobRunner(runtime.factory, poll_seconds=runtime.settings.job_poll_seconds, lane=FAST).run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        slow.stop()


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: the latest)."""
    from accueil.db import migrate

    url = _settings().effective_database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current(url)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table)."""
    from accueil.db import migrate

    url = _settings().effective_database_url
    migrate.downgrade(url, revision)
    click.echo(f"database at revision {migrate.current(url)}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from accueil.db import migrate

    click.echo(migrate.current(_settings().effective_database_url) or "empty")


def _factory():  # type: ignore[no-untyped-def]
    from accueil.runtime import build_runtime

    return build_runtime(_settings()).factory


@main.group()
def user() -> None:
    """Users: agents, supervisors, admins."""


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "supervisor", "agent", "partner_agent"]), default="agent",
              show_default=True, help="What the user may do.")
@click.option("--name", "display_name", default=None, help="Display name (default: the username).")
@click.option("--email", default=None, help="Email address.")
@click.option("--site", "site_code", default=None, help="Code of the user's site.")
@click.option("--language", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help="UI language.")
@click.password_option(help="Password (asked for when not given).")
def user_create(username: str, role: str, display_name: str | None, email: str | None, site_code: str | None,
                language: str, password: str) -> None:
    """Create a user who can sign in."""
    from sqlalchemy import select

    from accueil.core.errors import AccueilError
    from accueil.identity.models import Role, Site
    from accueil.identity.service import do_create_user

    factory = _factory()
    try:
        with factory() as session, session.begin():
            site = None
            if site_code:
                site = session.scalar(select(Site).where(Site.code == site_code))
                if site is None:
                    raise click.UsageError(f"no site with code {site_code!r}")
            created = do_create_user(session, username=username, display_name=display_name or username,
                                     role=Role(role), password=password, email=email, site=site, language=language)
            click.echo(f"user {created.username} ({created.role.value}) created")
    except AccueilError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--scope", "scopes", multiple=True, help="Scope to grant (repeatable; default: all the role allows).")
def token_create(username: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token for USERNAME and print it once."""
    from accueil.core.errors import AccueilError
    from accueil.identity.service import access_user, do_create_api_token

    factory = _factory()
    try:
        with factory() as session, session.begin():
            created = do_create_api_token(session, user=access_user(session, username=username), name=name,
                                          scopes=list(scopes) or None)
            secret, granted = created.secret, created.token.scopes
    except AccueilError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(secret)
    click.echo(f"scopes: {granted}", err=True)


@main.command()
@click.option("--days", default=42, show_default=True, type=int, help="Weeks of history to generate, in days.")
@click.option("--customers", default=400, show_default=True, type=int, help="How many customers.")
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed (same seed, same company).")
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Serve the app once the demo is built.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--reset/--keep", default=False, show_default=True,
              help="Rebuild the demo even if the database already holds it.")
@click.option("--live/--no-live", default=True, show_default=True,
              help="While serving, simulate arriving contacts and agents answering them (labelled as such).")
def demo(days: int, customers: int, seed: int, serve_after: bool, host: str, port: int, reset: bool,
         live: bool) -> None:
    """Build a demo online retailer (sites, agents, motifs, weeks of history) and serve it."""
    from accueil.demo.generator import DemoSpec, build_demo

    settings = _settings()
    from accueil.db import migrate

    migrate.upgrade(settings.effective_database_url)
    summary = build_demo(settings, DemoSpec(days=days, customers=customers, seed=seed), reset=reset,
                         progress=lambda msg: click.echo(msg, err=True))
    click.echo(summary.describe(f"http://{host}:{port}"))
    if serve_after:
        import os

        os.environ.setdefault("ACCUEIL_MAIL_IN_PROCESS", "true")  # the demo's mailboxes receive mail at once
        if not settings.smtp_host:  # nowhere to send: outgoing mail goes to a local mailbox to read
            os.environ.setdefault("ACCUEIL_MAIL_OUTBOX_MAILDIR", str((settings.data_dir / "outbox").resolve()))
        for name, value in (("LETTER_COMPANY_NAME", "Maison Lumière"), ("LETTER_COMPANY_CITY", "Lille"),
                            ("LETTER_COMPANY_ADDRESS", "Service clients / 12 rue Nationale / 59000 Lille"),
                            ("LETTER_DEFAULT_QUEUE", "courrier")):  # the letterhead of printed replies
            os.environ.setdefault(f"ACCUEIL_{name}", value)
        get_settings.cache_clear()
        mail_settings = get_settings()
        if mail_settings.mail_in_process:
            click.echo(f"  Mail: send to service@maison-lumiere.example or reclamations@maison-lumiere.example\n"
                       f"  through smtp://{mail_settings.mail_listen_host}:{mail_settings.mail_listen_port}"
                       " (ACCUEIL_MAIL_LISTEN_PORT to change it).")
        if mail_settings.mail_outbox_maildir and not mail_settings.smtp_host:
            click.echo(f"  Mail sent to customers (replies, acknowledgements) lands in the Maildir\n"
                       f"  {mail_settings.mail_outbox_maildir} (read it with `mutt -f` or Python's mailbox).\n")
        os.environ.setdefault("ACCUEIL_WHATSAPP_QUEUE", "messagerie")
        os.environ.setdefault("ACCUEIL_HELP_PHONE_NUMBER", "+33320000000")  # Maison Lumière's (fictional) line
        if not (settings.sms_gateway_url or settings.twilio_account_sid):  # no operator: SMS to a local folder
            from accueil.channels.sms.simulator import DEMO_WEBHOOK_SECRET

            os.environ.setdefault("ACCUEIL_SMS_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET)
            os.environ.setdefault("ACCUEIL_SMS_OUTBOX_DIR", str((settings.data_dir / "sms-outbox").resolve()))
            click.echo("  SMS: `accueil sms simulate --from +33612345678 --text \"Bonjour\"` posts a signed gateway\n"
                       f"  delivery; replies land as JSON in {os.environ['ACCUEIL_SMS_OUTBOX_DIR']}.\n")
        if not settings.whatsapp_access_token:  # no Meta account: WhatsApp replies go to a local folder
            from accueil.channels.whatsapp.simulator import DEMO_APP_SECRET

            os.environ.setdefault("ACCUEIL_WHATSAPP_APP_SECRET", DEMO_APP_SECRET)
            os.environ.setdefault("ACCUEIL_WHATSAPP_OUTBOX_DIR", str((settings.data_dir / "whatsapp-outbox").resolve()))
            click.echo("  WhatsApp: `accueil whatsapp simulate --from +33612345678 --text \"Bonjour\"` posts a signed\n"
                       f"  Cloud API delivery; replies land as JSON in {os.environ['ACCUEIL_WHATSAPP_OUTBOX_DIR']}.\n")
        get_settings.cache_clear()  # the server reads the settings set above
        click.echo("  Letters: `accueil letter sample letter.png` draws a scanned letter from a demo customer;\n"
                   "  upload it on the Mailroom page (Courrier) and see the text read and the case it joined.\n")
        if live:
            os.environ["ACCUEIL_DEMO_LIVE_TRAFFIC"] = "true"
            get_settings.cache_clear()
            click.echo("  Live traffic: simulated contacts and simulated agents (Karim, Julie, Thomas, Mehdi, Laura,\n"
                       "  Nicolas, Emma) are running; sign in as alice or chloe to take contacts yourself.\n")
        ctx = click.get_current_context()
        ctx.invoke(serve, host=host, port=port, workers=1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


from accueil.channels.email.cli import mail  # noqa: E402
from accueil.channels.letter.cli import letter  # noqa: E402
from accueil.channels.outbound.cli import campaign  # noqa: E402
from accueil.channels.sms.cli import sms  # noqa: E402
from accueil.channels.whatsapp.cli import whatsapp  # noqa: E402
from accueil.knowledge.cli import kb  # noqa: E402
from accueil.workforce.cli import wfm  # noqa: E402 - registered last: its imports are heavy and lazy

main.add_command(mail)
main.add_command(letter)
main.add_command(campaign)
main.add_command(sms)
main.add_command(whatsapp)
main.add_command(wfm)
main.add_command(kb)
