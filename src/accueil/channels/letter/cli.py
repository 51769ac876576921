"""``accueil letter``: scanned letters from the command line (a scanner's output folder, a batch import).

Each command imports its work when it runs, so ``accueil --help`` does not load the whole application.
"""

from __future__ import annotations

from pathlib import Path

import click

from accueil.config import get_settings


@click.group()
def letter() -> None:
    """Scanned letters: import, read (OCR) and list / les courriers scannés."""


@letter.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--motif", "motif_code", default=None, help="Motif code of these letters (default: the settings').")
@click.option("--queue", "queue_code", default=None, help="Queue code they wait in (default: the settings').")
@click.option("--read/--no-read", "read_now", default=True, show_default=True,
              help="Read them (OCR) now; else the job runner of `accueil serve` or `accueil worker` does.")
def letter_import(files: tuple[Path, ...], motif_code: str | None, queue_code: str | None, read_now: bool) -> None:
    """Store scanned letters (PDF, JPEG, PNG, TIFF), read them and file them on their senders' cases."""
    from collections import Counter

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from accueil.channels.letter.intake import do_file_read_letter, do_upload_letter, read_letter_file
    from accueil.channels.letter.models import LetterScan
    from accueil.core import clock
    from accueil.core.errors import AccueilError
    from accueil.core.i18n import error_message
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    outcomes: Counter[str] = Counter()
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("letters", total=len(files))
        for path in files:
            progress.update(task, description=path.name[:40])
            try:
                with runtime.factory() as session, session.begin():
                    upload = do_upload_letter(session, data=path.read_bytes(), file_name=path.name,
                                              uploaded_by_id=None, motif_code=motif_code, queue_code=queue_code,
                                              settings=runtime.settings, now=clock.now())
            except AccueilError as exc:
                outcomes["refused"] += 1
                console.print(f"{path}: {error_message(exc.code, runtime.settings.default_language, exc.details)}")
                progress.advance(task)
                continue
            if upload.duplicate:
                outcomes["duplicate"] += 1
            elif read_now:
                with runtime.read_factory() as session:  # the OCR below runs with no session open
                    scan = session.get(LetterScan, upload.scan_id)
                    session.expunge(scan)
                read = read_letter_file(runtime.settings, scan)
                with runtime.factory() as session, session.begin():
                    outcomes[do_file_read_letter(session, scan_id=upload.scan_id, read=read, now=clock.now())] += 1
            else:
                outcomes["pending"] += 1
            progress.advance(task)
    click.echo(", ".join(f"{count} {status}" for status, count in sorted(outcomes.items())) or "nothing done")


@letter.command("list")
@click.option("--status", default=None, type=click.Choice(["pending", "to_identify", "received", "unreadable"]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def letter_list(status: str | None, limit: int) -> None:
    """The latest scanned letters and what became of them."""
    from sqlalchemy import select

    from accueil.channels.letter.models import LetterScan
    from accueil.runtime import build_runtime

    runtime = build_runtime(get_settings())
    with runtime.read_factory() as session:
        query = select(LetterScan).order_by(LetterScan.uploaded_at.desc()).limit(limit)
        if status:
            query = query.where(LetterScan.status == status)
        for scan in session.scalars(query):
            click.echo(f"{scan.id}  {scan.uploaded_at:%Y-%m-%d %H:%M}  {scan.status:<11}  {scan.pages:>2} p.  "
                       f"{scan.match_reason or '-':<15}  {scan.file_name}")


@letter.command("sample")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--customer", "customer_number", default=None,
              help="Write it from the customer with this number (default: one of the database's customers).")
@click.option("--no-number", is_flag=True, help="Leave the customer number off the letter (name and address only).")
def letter_sample(path: Path, customer_number: str | None, no_number: bool) -> None:
    """Write a realistic scanned letter (A4 image; .png, .jpg, .tif or .pdf by PATH's suffix) to try the mailroom."""
    from sqlalchemy import select

    from accueil.channels.letter.sample import SampleLetter, letter_bytes
    from accueil.customers.models import Customer, Identity, IdentityKind
    from accueil.runtime import build_runtime

    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".pdf": "PDF"}
    if path.suffix.lower() not in formats:
        raise click.BadParameter("the file name must end in .png, .jpg, .tif or .pdf", param_hint="PATH")
    runtime = build_runtime(get_settings())
    query = select(Identity.value, Customer.display_name).join(Customer, Customer.id == Identity.customer_id).where(
        Identity.kind == IdentityKind.customer_number, Customer.display_name.is_not(None))
    if customer_number:
        query = query.where(Identity.value == customer_number.upper().replace(" ", ""))
    with runtime.read_factory() as session:
        found = session.execute(query.order_by(Identity.created_at).limit(1)).first()
    if found is None:
        raise click.ClickException("no customer with a customer number (run `accueil demo` first, or pass --customer)")
    letter = SampleLetter(sender=(found.display_name, "12 rue des Lilas", "75011 Paris"),
                          customer_number=None if no_number else found.value)
    path.write_bytes(letter_bytes(letter, format=formats[path.suffix.lower()]))
    click.echo(f"{path}: a letter from {found.display_name}" + ("" if no_number else f" ({found.value})"))
