"""How long does a scanned letter take to be read, and what does accueil add to Tesseract itself?

Why: a mailroom uploads letters by the hundred each morning; the reading (OCR) is the slow part, and it
must not be accueil's own work that makes it slow. Issue 14 sets no target: this records the figures.

How: the same A4 letters drawn by ``accueil.channels.letter.sample`` (200 dpi, grey) as PNG, as a scanned
PDF (the image inside a PDF) and as a PDF with a text layer (reportlab), read in turn, interleaved:
- ``tesseract`` alone: the command line on the PNG (``tesseract page.png - -l fra+eng``), the baseline;
- ``read_scan``: accueil's reading (type sniffing, rendering PDFs with pypdfium2, Tesseract through
  pytesseract's ``image_to_data``, lines and confidence, the page preview);
- the whole pipeline on SQLite: upload (file fsync'd, row and job committed) → OCR → sender found by
  customer number → letter interaction with the scan attached, one letter after the other.

    .venv/bin/python benchmarks/letters.py [--letters 6] [--json docs/results/letters-2026-12-07.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from accueil.channels.letter.ocr import read_scan
from accueil.channels.letter.sample import SampleLetter, draw_letter, letter_bytes


def _letters(count: int) -> list[SampleLetter]:
    subjects = ["réclamation sur ma facture", "changement d'adresse", "résiliation de mon contrat",
                "demande de remboursement", "colis jamais reçu", "erreur de prélèvement"]
    names = ["Marie Dupont", "Jean Moreau", "Sophie Bernard", "Luc Petit", "Claire Robert", "Hugo Richard",
             "Emma Durand", "Louis Leroy", "Alice Fournier", "Paul Girard"]
    return [SampleLetter(sender=(f"{names[i % len(names)]}", f"{i + 2} rue des Lilas", "75011 Paris"),
                         customer_number=f"CL{100000 + i}", subject=subjects[i % len(subjects)])
            for i in range(count)]


def _text_pdf(letter: SampleLetter) -> bytes:
    path = Path(tempfile.mkstemp(suffix=".pdf")[1])
    page = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in (*letter.sender, f"N° client : {letter.customer_number}", "", f"Objet : {letter.subject}",
                 "", *letter.body):
        page.drawString(60, y, line.encode("latin-1", "replace").decode("latin-1"))
        y -= 16
    page.save()
    data = path.read_bytes()
    path.unlink()
    return data


def _tesseract_cli(png: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["tesseract", str(png), "-", "-l", "fra+eng"], check=True, capture_output=True)
    return time.perf_counter() - started


def _timed(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _pipeline(letters: list[SampleLetter], work: Path) -> list[float]:
    """Upload → read → file, through the product's functions, on a fresh SQLite data directory."""
    os.environ.update({"ACCUEIL_DATA_DIR": str(work / "var"), "ACCUEIL_RUN_JOBS_IN_PROCESS": "false"})
    from accueil.channels.letter.intake import do_file_read_letter, do_upload_letter, read_letter_file
    from accueil.channels.letter.models import LetterScan, ScanStatus
    from accueil.config import get_settings
    from accueil.core import clock
    from accueil.customers.models import IdentityKind
    from accueil.customers.service import IdentityRef, do_resolve_identity
    from accueil.db import migrate
    from accueil.runtime import build_runtime

    get_settings.cache_clear()
    settings = get_settings()
    migrate.upgrade(settings.effective_database_url)
    runtime = build_runtime(settings)
    with runtime.factory() as session, session.begin():
        for letter in letters:
            do_resolve_identity(session, identities=[IdentityRef(IdentityKind.customer_number, letter.customer_number)],
                                display_name=letter.sender[0])
    times = []
    for letter in letters:
        data = letter_bytes(letter)
        started = time.perf_counter()
        with runtime.factory() as session, session.begin():
            upload = do_upload_letter(session, data=data, file_name="scan.png", uploaded_by_id=None, motif_code=None,
                                      queue_code=None, settings=settings, now=clock.now())
        with runtime.factory() as session:
            read = read_letter_file(settings, session.get(LetterScan, upload.scan_id))
        with runtime.factory() as session, session.begin():
            status = do_file_read_letter(session, scan_id=upload.scan_id, read=read, now=clock.now())
        times.append(time.perf_counter() - started)
        if status != ScanStatus.received:
            with runtime.factory() as session:
                scan = session.get(LetterScan, upload.scan_id)
                raise AssertionError(f"{status}: {scan.warnings} {scan.sender_name}")
    runtime.inbound_writer.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=6, help="letters per kind (default 6)")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    letters = _letters(args.letters)
    work = Path(tempfile.mkdtemp(prefix="accueil-letters-"))
    figures: dict[str, list[float]] = {"tesseract_cli_png": [], "read_scan_png": [], "read_scan_scanned_pdf": [],
                                       "read_scan_text_pdf": []}
    for index, letter in enumerate(letters):  # interleaved: the baseline and accueil under the same load
        png = work / f"letter-{index}.png"
        draw_letter(letter).save(png)
        png_bytes = png.read_bytes()
        scanned_pdf = letter_bytes(letter, format="PDF")
        text_pdf = _text_pdf(letter)
        figures["tesseract_cli_png"].append(_tesseract_cli(png))
        figures["read_scan_png"].append(_timed(lambda data=png_bytes: read_scan(data)))
        figures["read_scan_scanned_pdf"].append(_timed(lambda data=scanned_pdf: read_scan(data)))
        figures["read_scan_text_pdf"].append(_timed(lambda data=text_pdf: read_scan(data)))
        print(f"letter {index + 1}/{len(letters)}", file=sys.stderr)
    figures["pipeline_sqlite"] = _pipeline(letters, work)
    baseline = statistics.median(figures["tesseract_cli_png"])
    print(f"\n{len(letters)} one-page letters, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()},"
          f" Python {platform.python_version()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'what':<28}{'median s':>10}{'min s':>8}{'max s':>8}{'× tesseract':>13}{'pages/min':>11}")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"{name:<28}{median:>10.3f}{min(values):>8.3f}{max(values):>8.3f}{median / baseline:>13.2f}"
              f"{60 / median:>11.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "loadavg": os.getloadavg(),
                                         "figures": figures}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
