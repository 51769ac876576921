"""How many mails per second does ``accueil mail serve`` take, and how long does one SMTP transaction last?

Why: issue 14 asks for >= 300 mails/s of realistic 20 KB mails on one process, with p99 SMTP transaction
<= 200 ms, on SQLite and PostgreSQL; and the cost of reading a mail against the standard library's parser
alone (the ratio shows what threading, storage and the conversations door add).

How: per backend, a fresh data dir (and a fresh PostgreSQL database), ``accueil demo --no-serve`` for the
organisation and its two mailboxes, then ``accueil mail serve`` in a subprocess. Client threads, each with
its own SMTP connection (smtplib), send mails for a fixed time: a 20 KB mix of French text, a quoted
history and a small attachment, from a pool of senders, a few of them replies. A transaction is timed
from MAIL FROM to the 250 after DATA (the mail is on disk and committed then). After the sending phase the
script waits for every stored mail to be read (inbox status no longer ``pending``) and reports that rate
too. Finally, in this process, the parse cost per mail: ``email`` parser alone vs ``parse_mail``.

    .venv/bin/python benchmarks/smtp_ingest.py [--backends sqlite,postgresql] [--duration 10] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from ingest import HOST, Server, cli, free_port  # noqa: E402

MAILBOXES = ["service@maison-lumiere.example", "reclamations@maison-lumiere.example"]
PARAGRAPH = ("Bonjour, je vous écris au sujet de ma commande passée le mois dernier : le colis n'est jamais "
             "arrivé et le suivi du transporteur n'a pas bougé depuis dix jours. Pouvez-vous me dire où il en "
             "est, et me rembourser s'il est perdu ? Merci d'avance pour votre aide. ")


def realistic_mail(rng: random.Random, n: int, run: str) -> bytes:
    """About 20 KB: a text part, an HTML part, a quoted history and a small PDF attachment."""
    message = EmailMessage()
    sender = f"client{rng.randrange(2000)}@example.fr"
    message["From"] = f"Client {n} <{sender}>"
    message["To"] = rng.choice(MAILBOXES)
    message["Subject"] = rng.choice(["Ma commande", "Colis non reçu", "Remboursement", "Facture erronée"])
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{run}-{n}@example.fr>"
    body = PARAGRAPH * rng.randint(10, 16)
    quoted = "\n".join("> " + line for line in (PARAGRAPH * 8).split(". "))
    text = f"{body}\n\nLe lun. 7 déc. 2026 à 10:00, Service client <{MAILBOXES[0]}> a écrit :\n{quoted}\n"
    message.set_content(text)
    message.add_alternative(f"<html><body><p>{body}</p><blockquote>{quoted}</blockquote></body></html>",
                            subtype="html")
    message.add_attachment(os.urandom(4000), maintype="application", subtype="pdf", filename="facture.pdf")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def wait_smtp(port: int, server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"mail server exited:\n{server.log.read_text()[-3000:]}")
        try:
            with smtplib.SMTP(HOST, port, timeout=2) as smtp:
                smtp.noop()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("mail server not ready")


def send_phase(port: int, mails: list[bytes], clients: int, duration: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock, index = threading.Lock(), [0]
    stop_at = time.monotonic() + duration

    def client() -> None:
        smtp = smtplib.SMTP(HOST, port, timeout=30)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if index[0] >= len(mails):
                        return
                    raw, index[0] = mails[index[0]], index[0] + 1
                started = time.perf_counter()
                try:
                    smtp.sendmail("bench@example.fr", [MAILBOXES[0]], raw)
                    with lock:
                        latencies.append(time.perf_counter() - started)
                except smtplib.SMTPException as exc:
                    with lock:
                        errors.append(str(exc)[:200])
        finally:
            smtp.quit()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)

    def pct(p: float) -> float | None:
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else None

    return {"sent": len(latencies), "errors": len(errors), "error_samples": errors[:3], "elapsed_s": elapsed,
            "mails_per_s": len(latencies) / elapsed if elapsed else 0, "p50_ms": pct(50), "p99_ms": pct(99)}


def pending_count(backend: str, url: str) -> tuple[int, int]:
    """(mails still pending, mails stored) in the inbox."""
    query = "SELECT sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), count(*) FROM mail_inbox"
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            pending, total = conn.execute(query).fetchone()
    else:
        out = subprocess.run(["psql", url, "-At", "-c", query], capture_output=True, text=True, check=True)
        pending, total = (int(v or 0) for v in out.stdout.strip().split("|"))
    return int(pending or 0), int(total or 0)


def bench_backend(backend: str, mode: str, opts: argparse.Namespace) -> dict:
    """``mode``: "at-once" (the listener reads each mail after storing it) or "worker" (it only stores;
    ``accueil worker``, another process, reads them from their durable jobs)."""
    work = Path(tempfile.mkdtemp(prefix=f"accueil-smtp-{backend}-"))
    env = {**os.environ, "ACCUEIL_DATA_DIR": str(work / "var"), "ACCUEIL_AUTO_MIGRATE": "true",
           "ACCUEIL_MAIL_READ_AT_ONCE": "true" if mode == "at-once" else "false", "ACCUEIL_JOB_POLL_SECONDS": "0.2"}
    pg_name = None
    if backend == "postgresql":
        pg_name = f"accueil_smtp_bench_{os.getpid()}"
        subprocess.run(["psql", f"{opts.pg_url}/postgres", "-c", f'CREATE DATABASE "{pg_name}"'], check=True,
                       capture_output=True)
        env["ACCUEIL_DATABASE_URL"] = f"{opts.pg_url}/{pg_name}"
        url = env["ACCUEIL_DATABASE_URL"]
    else:
        url = f"sqlite:///{work / 'var' / 'accueil.sqlite3'}"
    cli(["demo", "--no-serve", "--days", "1", "--customers", "50"], env, work, 600)
    port = free_port()
    server = Server([sys.executable, "-m", "accueil", "mail", "serve", "--port", str(port)], env, work,
                    work / "mail.log")
    worker = Server([sys.executable, "-m", "accueil", "worker"], env, work, work / "worker.log") \
        if mode == "worker" else None
    try:
        wait_smtp(port, server)
        rng = random.Random(opts.seed)
        run = f"{backend}-{os.getpid()}"
        mails = [realistic_mail(rng, n, run) for n in range(opts.max_mails)]
        size = statistics.mean(len(m) for m in mails[:200])
        warm = send_phase(port, mails[:200], 4, 2.0)
        phase = send_phase(port, mails[200:], opts.clients, opts.duration)
        started = time.monotonic()
        while True:
            pending, stored = pending_count(backend, url)
            if pending == 0 or time.monotonic() - started > 300:
                break
            time.sleep(0.5)
        drained = time.monotonic() - started
        problems = server.problems() + (worker.problems() if worker else [])
    finally:
        server.stop()
        if worker is not None:
            worker.stop()
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
        if pg_name:
            subprocess.run(["psql", f"{opts.pg_url}/postgres", "-c", f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'],
                           capture_output=True)
    total_sent = warm["sent"] + phase["sent"]
    return {"backend": backend, "mode": mode, "mail_bytes": round(size), **phase, "stored": stored, "still_pending": pending,
            "read_after_send_s": drained, "read_per_s_overall": total_sent / (phase["elapsed_s"] + drained),
            "server_problems": problems[:5]}


def parse_costs(n: int = 300) -> dict:
    from accueil.channels.email.noise import noise_of
    from accueil.channels.email.parse import parse_mail

    rng = random.Random(7)
    mails = [realistic_mail(rng, i, "parse") for i in range(n)]
    parser = BytesParser(policy=policy.default)
    began = time.perf_counter()
    for raw in mails:
        message = parser.parsebytes(raw)
        message.get_body(preferencelist=("plain",)).get_content()
    stdlib = (time.perf_counter() - began) / n
    began = time.perf_counter()
    for raw in mails:
        noise_of(parse_mail(raw))
    ours = (time.perf_counter() - began) / n
    return {"stdlib_ms": 1000 * stdlib, "parse_mail_ms": 1000 * ours, "ratio": ours / stdlib}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--duration", type=float, default=10.0, help="sending phase, seconds")
    ap.add_argument("--clients", type=int, default=8, help="concurrent SMTP connections")
    ap.add_argument("--max-mails", type=int, default=12000, help="mails prepared (the phase stops when used up)")
    ap.add_argument("--modes", default="at-once,worker", help="at-once (the listener reads) and/or worker")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs")
    opts = ap.parse_args()
    info = machine(("accueil", "aiosmtpd", "sqlalchemy"))
    print(json.dumps(info))
    results = {"machine": info, "backends": [], "parse": parse_costs()}
    for backend in opts.backends.split(","):
        for mode in opts.modes.split(","):
            print(f"[{backend}, {mode}] …", file=sys.stderr, flush=True)
            results["backends"].append(bench_backend(backend.strip(), mode.strip(), opts))
    print(f"\n{'backend':<11} {'mode':<8} {'mail KB':>7} {'mails/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'read after s':>12} {'read/s':>7}")
    for r in results["backends"]:
        print(f"{r['backend']:<11} {r['mode']:<8} {r['mail_bytes'] / 1024:>7.1f} {r['mails_per_s']:>8.0f} {r['p50_ms']:>7.1f} "
              f"{r['p99_ms']:>7.1f} {r['errors']:>6} {r['read_after_send_s']:>12.1f} {r['read_per_s_overall']:>7.0f}")
        if r["server_problems"] or r["still_pending"]:
            print(f"  problems: {r['server_problems']} pending: {r['still_pending']}")
    p = results["parse"]
    print(f"\nparse per mail: stdlib parser {p['stdlib_ms']:.2f} ms, parse_mail + noise {p['parse_mail_ms']:.2f} ms "
          f"(x{p['ratio']:.1f})")
    print("target (issue 14): >= 300 mails/s, p99 SMTP transaction <= 200 ms")
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
