"""``accueil campaign``: a campaign's list and the opposition list from files, and the compliance checks.

Each command imports its work when it runs, so ``accueil --help`` does not load the whole application.
"""

from __future__ import annotations

from pathlib import Path

import click

from accueil.config import get_settings


@click.group()
def campaign() -> None:
    """Outbound campaigns: lists, opposition list, compliance / les campagnes sortantes."""


def _campaign_id(session, code: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from accueil.channels.outbound.models import Campaign

    found = session.scalar(select(Campaign.id).where(Campaign.code == code))
    if found is None:
        raise click.ClickException(f"no campaign {code!r}")
    return found


@campaign.command("import-list")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_list(code: str, file: Path) -> None:
    """Add the people of a CSV file (phone, email, name, customer_number) to the campaign CODE."""
    from accueil.channels.outbound.csv_import import do_import_csv
    from accueil.core import clock
    from accueil.core.errors import AccueilError
    from accueil.core.i18n import error_message
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    language = runtime.settings.default_language
    try:
        with runtime.factory() as session, session.begin():
            report = do_import_csv(session, campaign_id=_campaign_id(session, code),
                                   content=file.read_text(encoding="utf-8-sig", errors="replace"), now=clock.now(),
                                   phone_region=runtime.settings.default_phone_region)
    except AccueilError as exc:
        raise click.ClickException(error_message(exc.code, language, exc.details)) from exc
    for error in report.errors:
        click.echo(error.message(language), err=True)
    click.echo(report.summary(language))


@campaign.command("opposition-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(100, 10_000),
              help="Numbers written per transaction.")
def opposition_import(file: Path, batch_size: int) -> None:
    """Import an opposition list (Bloctel-style: one number per line); a number already listed is kept once."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from accueil.channels.outbound.service import do_import_opposition_batch, opposition_numbers
    from accueil.channels.outbound.texts import text
    from accueil.core import clock
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    added = known = invalid = 0
    columns = (TextColumn(file.name[:40]), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress, file.open("rb") as raw:
        task = progress.add_task("numbers", total=file.stat().st_size)

        def lines():  # type: ignore[no-untyped-def]
            for line in raw:
                progress.update(task, completed=raw.tell())
                yield line.decode("utf-8", errors="replace")

        batch: list[str] = []

        def write() -> None:
            nonlocal added, known
            with runtime.factory() as session, session.begin():
                fresh, already = do_import_opposition_batch(session, numbers=batch, source_file=file.name,
                                                            now=clock.now())
            added, known = added + fresh, known + already
            batch.clear()

        for number in opposition_numbers(lines(), phone_region=runtime.settings.default_phone_region):
            if number is None:
                invalid += 1
                continue
            batch.append(number)
            if len(batch) >= batch_size:
                write()
        if batch:
            write()
    click.echo(text("opposition_summary", runtime.settings.default_language, added=added, known=known,
                    invalid=invalid))


@campaign.command("report")
@click.argument("code")
def report(code: str) -> None:
    """The compliance checks of the campaign CODE, recomputed from its recorded calls (exit 1 on a violation)."""
    from accueil.channels.outbound.queries import campaign_report
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    with runtime.factory() as session:
        found = campaign_report(session, _campaign_id(session, code))
    for check, ids in found.violations.items():
        click.echo(f"{check}: {'OK' if not ids else f'{len(ids)} violations'}")
    for reason, count in found.refused_by_reason.items():
        click.echo(f"refused by the dialer, {reason}: {count}")
    if not found.compliant:
        raise SystemExit(1)


@campaign.command("consent")
@click.option("--phone", default="", help="The consumer's number (any usual spelling).")
@click.option("--customer-number", default="", help="Or their customer number.")
@click.option("--proof", required=True, help="The proof: form, recording reference, signed paper...")
@click.option("--given-at", default="", help="When it was given, ISO 8601 (default: now); local time if no offset.")
def consent(phone: str, customer_number: str, proof: str, given_at: str) -> None:
    """Record a consumer's express prior consent to prospecting calls outside the legal hours."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from accueil.channels.outbound.service import customer_by_number, do_record_consent
    from accueil.core import clock
    from accueil.core.errors import AccueilError
    from accueil.core.i18n import error_message
    from accueil.customers.models import IdentityKind
    from accueil.customers.service import normalise_identity
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    settings, language = runtime.settings, runtime.settings.default_language
    try:
        when = datetime.fromisoformat(given_at) if given_at else clock.now()
    except ValueError:
        raise click.BadParameter("an ISO 8601 date and time, e.g. 2026-12-01T10:00", param_hint="--given-at") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(settings.timezone))
    try:
        with runtime.factory() as session, session.begin():
            ref = normalise_identity(IdentityKind.phone, phone, phone_region=settings.default_phone_region) \
                if phone else None
            customer_id = customer_by_number(session, customer_number) if customer_number else None
            if customer_number and customer_id is None:
                raise click.ClickException(error_message("unknown_customer_number", language,
                                                         {"value": customer_number}))
            made = do_record_consent(session, source=proof, given_at=clock.ensure_utc(when), now=clock.now(),
                                     customer_id=customer_id, phone=ref)
            consent_id = made.id
    except AccueilError as exc:
        raise click.ClickException(error_message(exc.code, language, exc.details)) from exc
    click.echo(consent_id)


@campaign.command("consent-withdraw")
@click.argument("consent_id")
def consent_withdraw(consent_id: str) -> None:
    """The consumer takes their consent back: the legal hours apply to them again."""
    from accueil.channels.outbound.service import do_withdraw_consent
    from accueil.core import clock
    from accueil.core.errors import AccueilError
    from accueil.core.i18n import error_message
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    try:
        with runtime.factory() as session, session.begin():
            do_withdraw_consent(session, consent_id=consent_id, now=clock.now())
    except AccueilError as exc:
        raise click.ClickException(error_message(exc.code, runtime.settings.default_language, exc.details)) from exc
