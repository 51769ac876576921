"""How long does the first IMAP sync of a 10,000-message mailbox take, and an incremental poll after it?

Why: issue 14 asks for the IMAP first sync of a 10,000-message mailbox and the incremental poll time
(no target figure), and for mailboxes that survive restarts without fetching anything twice.

How: a throw-away Dovecot (the tests' ``tests/channels/email/dovecot.py``) whose INBOX is filled, untimed,
by writing N Maildir files directly: the realistic ~19 KB French mails of ``smtp_ingest.py``. Dovecot
indexes the folder before anything is timed. Per backend, a fresh data dir (and a fresh PostgreSQL
database), ``accueil demo --no-serve`` for the organisation, ``accueil mail mailbox add --imap-host …`` for
the IMAP mailbox, then in this process the function ``accueil mail fetch`` runs (``fetch_mailbox``):

* first sync: every message fetched, stored (file fsync'd, row and last UID committed), read (parse,
  thread, the conversations door) and flagged ``\\Seen``. The time spent reading is measured around
  ``imap.process_mail`` (the same call, timed); the rest is "fetched and stored".
* incremental poll with nothing new, ``--polls`` times: connect + select + search + disconnect (a cron job's
  ``accueil mail fetch``), and on an open connection (``fetch_new``, what the watcher does each poll);
  then with 10 new messages (appended over IMAP, untimed), ``--rounds`` times.
* restart: every ``\\Seen`` flag removed, then ``accueil mail fetch`` in a new process must fetch 0.

    .venv/bin/python benchmarks/imap_sync.py [--messages 10000] [--backends sqlite,postgresql] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the tests' Dovecot helper
from _common import machine  # noqa: E402
from ingest import cli  # noqa: E402
from smtp_ingest import realistic_mail  # noqa: E402
from tests.channels.email.dovecot import DOVECOT, IMAP_PASSWORD, IMAP_USER, Dovecot, start_dovecot  # noqa: E402

ADDRESS = "boutique@maison-lumiere.example"


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MiB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def write_corpus(directory: Path, count: int, seed: int) -> int:
    """``count`` realistic mails as files; returns the bytes written."""
    directory.mkdir(parents=True)
    rng = random.Random(seed)
    total = 0
    for n in range(count):
        raw = realistic_mail(rng, n, f"imap-{seed}")
        (directory / f"{n:06d}.eml").write_bytes(raw)
        total += len(raw)
    return total


def fill_maildir(server: Dovecot, corpus: Path) -> int:
    """The corpus as the user's INBOX, written as Maildir files (not timed); Dovecot then indexes it."""
    maildir = server.maildir
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    base = int(time.time())
    files = sorted(corpus.iterdir())
    for n, path in enumerate(files):
        size = path.stat().st_size
        # seen by nobody yet (no flag after ":2,"); one second per mail keeps Dovecot's order = the corpus order
        shutil.copyfile(path, maildir / "cur" / f"{base - len(files) + n}.M{n}P{os.getpid()}.bench,S={size}:2,")
    subprocess.run(["chown", "-R", "nobody:nogroup", str(server.root / "mail")], check=True)
    client = server.client(timeout=300)
    try:
        selected = client.select_folder("INBOX")
        assert int(selected[b"EXISTS"]) == len(files), selected
        client.search(["ALL"])
    finally:
        client.logout()
    return len(files)


def counts(factory) -> dict:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from accueil.channels.email.models import InboundMail
    from accueil.conversations.models import Case, Interaction

    with factory() as session:
        statuses = dict(session.execute(select(InboundMail.status, func.count()).group_by(InboundMail.status)).all())
        return {"inbox": dict(sorted(statuses.items())),
                "interactions": session.scalar(select(func.count()).select_from(Interaction)),
                "cases": session.scalar(select(func.count()).select_from(Case))}


class Commands:
    """Counts the IMAP commands sent (each one a round trip to the provider), by name."""

    def __enter__(self) -> Commands:
        import imaplib
        from collections import Counter

        self.imaplib, self.original, self.sent = imaplib, imaplib.IMAP4._command_complete, Counter()
        original, sent = self.original, self.sent

        def counted(imap, name, tag):  # type: ignore[no-untyped-def] - every command ends here, imapclient's too
            sent[name] += 1
            return original(imap, name, tag)

        imaplib.IMAP4._command_complete = counted
        return self

    def __exit__(self, *exc: object) -> None:
        self.imaplib.IMAP4._command_complete = self.original


class ReadMeter:
    """Times ``imap.process_mail`` (the reading) as ``fetch_new`` calls it, and moves the progress bar."""

    def __init__(self, progress=None, task=None) -> None:  # type: ignore[no-untyped-def]
        from accueil.channels.email import imap

        self.imap, self.original = imap, imap.process_mail
        self.progress, self.task = progress, task
        self.seconds, self.count, self.done_at = 0.0, 0, []

    def __enter__(self) -> ReadMeter:
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                now = time.perf_counter()
                self.seconds += now - started
                self.count += 1
                self.done_at.append(now)
                if self.progress is not None:
                    self.progress.advance(self.task)

        self.imap.process_mail = timed
        return self

    def __exit__(self, *exc: object) -> None:
        self.imap.process_mail = self.original


def bench_backend(backend: str, corpus: Path, opts: argparse.Namespace) -> dict:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    work = Path(tempfile.mkdtemp(prefix=f"accueil-imap-{backend}-"))
    env = {**os.environ, "ACCUEIL_DATA_DIR": str(work / "var"), "ACCUEIL_AUTO_MIGRATE": "true"}
    env.pop("ACCUEIL_DATABASE_URL", None)
    pg_name = None
    if backend == "postgresql":
        pg_name = f"accueil_imap_bench_{os.getpid()}"
        subprocess.run(["psql", f"{opts.pg_url}/postgres", "-c", f'CREATE DATABASE "{pg_name}"'], check=True,
                       capture_output=True)
        env["ACCUEIL_DATABASE_URL"] = f"{opts.pg_url}/{pg_name}"
    server = start_dovecot()
    runtime = None
    try:
        messages = fill_maildir(server, corpus)
        cli(["demo", "--no-serve", "--days", "1", "--customers", "50"], env, work, 600)
        cli(["mail", "mailbox", "add", ADDRESS, "--name", "Boutique", "--queue", "email_n2", "--imap-host", "127.0.0.1",
             "--imap-port", str(server.port), "--imap-security", "none", "--imap-user", IMAP_USER,
             "--imap-password", IMAP_PASSWORD], env, work, 120)
        from accueil.channels.email.imap import connect, fetch_mailbox, fetch_new, imap_mailboxes
        from accueil.channels.email.models import Mailbox
        from accueil.config import Settings
        from accueil.runtime import build_runtime

        runtime = build_runtime(Settings(data_dir=work / "var", database_url=env.get("ACCUEIL_DATABASE_URL", ""),
                                         auto_migrate=True))
        factory, settings, config = runtime.factory, runtime.settings, runtime.conversation_config
        with factory() as session:
            (box_id,) = [i for i in imap_mailboxes(session) if session.get(Mailbox, i).address == ADDRESS]

        # (a) the first sync
        demo = counts(factory)  # what the demo organisation already has
        rss_before = rss_mib()
        columns = (TextColumn(f"[bold]{backend}[/] first sync"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task("sync", total=messages, rate="")
            with ReadMeter(progress, task) as meter, Commands() as commands:
                began = time.perf_counter()
                result = fetch_mailbox(factory, box_id, settings=settings, config=config)
                total_s = time.perf_counter() - began
            progress.update(task, rate=f"{messages / total_s:.0f} mails/s")
        rss_after = rss_mib()
        stored_s = total_s - meter.seconds
        done = [t - began for t in meter.done_at]
        tenth = max(1, len(done) // 10)
        first_rate = tenth / done[tenth - 1] if done else 0.0
        last_rate = tenth / (done[-1] - done[-tenth - 1]) if len(done) > tenth else 0.0
        after_sync = counts(factory)
        first = {"messages": messages, "fetched": result.fetched, "last_uid": result.last_uid, "total_s": total_s,
                 "overall_per_s": messages / total_s, "stored_s": stored_s, "stored_per_s": messages / stored_s,
                 "read_s": meter.seconds, "read_per_s": meter.count / meter.seconds if meter.seconds else 0.0,
                 "first_tenth_per_s": first_rate, "last_tenth_per_s": last_rate,
                 "imap_commands": sum(commands.sent.values()), "imap_commands_by_name": dict(commands.sent),
                 "rss_mib_before": rss_before[0], "rss_mib_after": rss_after[0], "rss_mib_peak": rss_after[1],
                 **after_sync, "new_interactions": after_sync["interactions"] - demo["interactions"],
                 "new_cases": after_sync["cases"] - demo["cases"]}
        print(f"[{backend}] first sync: {result.fetched} fetched in {total_s:.1f} s; fetched and stored "
              f"{first['stored_per_s']:.0f} mails/s ({stored_s:.1f} s), read into cases {first['read_per_s']:.0f} "
              f"mails/s ({meter.seconds:.1f} s); {first['imap_commands']} IMAP commands {dict(commands.sent)}; first/last tenth {first_rate:.0f}/{last_rate:.0f} mails/s; "
              f"{after_sync}", file=sys.stderr, flush=True)

        # (b) incremental polls
        cold, warm = [], []
        for _ in range(opts.polls):
            began = time.perf_counter()
            assert fetch_mailbox(factory, box_id, settings=settings, config=config).fetched == 0
            cold.append(time.perf_counter() - began)
        with factory() as session:
            mailbox = session.get(Mailbox, box_id)
            session.expunge(mailbox)
        client = connect(mailbox, settings)
        try:
            for _ in range(opts.polls):
                began = time.perf_counter()
                assert fetch_new(factory, client, box_id, settings=settings, config=config).fetched == 0
                warm.append(time.perf_counter() - began)
        finally:
            client.logout()
        rng = random.Random(opts.seed + 1)
        new_times, new_read = [], []
        for r in range(opts.rounds):
            server.deliver(*(realistic_mail(rng, 100_000 + 10 * r + i, f"imap-new-{opts.seed}") for i in range(10)))
            with ReadMeter() as meter, Commands() as commands:
                began = time.perf_counter()
                assert fetch_mailbox(factory, box_id, settings=settings, config=config).fetched == 10
                new_times.append(time.perf_counter() - began)
            new_read.append(meter.seconds)
            new_commands = sum(commands.sent.values())
        polls = {"polls": opts.polls, "rounds": opts.rounds,
                 "nothing_new_connect_p50_ms": pct(cold, 50), "nothing_new_connect_p99_ms": pct(cold, 99),
                 "nothing_new_open_p50_ms": pct(warm, 50), "nothing_new_open_p99_ms": pct(warm, 99),
                 "ten_new_p50_ms": pct(new_times, 50), "ten_new_p99_ms": pct(new_times, 99),
                 "ten_new_read_p50_ms": pct(new_read, 50), "ten_new_imap_commands": new_commands}
        print(f"[{backend}] poll, nothing new: {polls['nothing_new_connect_p50_ms']:.1f} ms p50 / "
              f"{polls['nothing_new_connect_p99_ms']:.1f} ms p99 (connect each time), "
              f"{polls['nothing_new_open_p50_ms']:.1f} / {polls['nothing_new_open_p99_ms']:.1f} ms (open connection); "
              f"10 new: {polls['ten_new_p50_ms']:.0f} / {polls['ten_new_p99_ms']:.0f} ms", file=sys.stderr, flush=True)

        # (c) restart: \Seen removed everywhere, then ``accueil mail fetch`` in a new process
        client = server.client(timeout=120)
        try:
            client.select_folder("INBOX")
            everything = client.search(["ALL"])
            client.remove_flags(everything, [b"\\Seen"])
            unseen = len(client.search(["UNSEEN"]))
        finally:
            client.logout()
        before = counts(factory)
        began = time.perf_counter()
        shown = cli(["mail", "fetch"], env, work, 600)
        restart_s = time.perf_counter() - began
        found = re.search(rf"{re.escape(ADDRESS)}: (\d+) new mail\(s\) \(last UID (\d+)\)", shown)
        after = counts(factory)
        restart = {"unseen_before": unseen, "fetched": int(found.group(1)) if found else None,
                   "last_uid": int(found.group(2)) if found else None, "command_s": restart_s,
                   "output": shown.strip(), "unchanged": before == after}
        print(f"[{backend}] restart (\\Seen removed from {unseen} messages), `accueil mail fetch` in a new process: "
              f"{shown.strip()!r}; nothing stored twice: {before == after}", file=sys.stderr, flush=True)
        return {"backend": backend, "first_sync": first, "poll": polls, "restart": restart,
                "final": after}
    finally:
        if runtime is not None:
            runtime.factory.kw["bind"].dispose()
        server.stop()
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
        if pg_name:
            subprocess.run(["psql", f"{opts.pg_url}/postgres", "-c", f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'],
                           capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=10_000, help="mails in the mailbox before the first sync")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--polls", type=int, default=20, help="incremental polls with nothing new (each way)")
    ap.add_argument("--rounds", type=int, default=5, help="incremental polls with 10 new messages")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    opts = ap.parse_args()
    if DOVECOT is None:
        ap.error("dovecot is not installed (apt-get install dovecot-imapd)")
    info = machine(("accueil", "imapclient", "sqlalchemy"))
    info["dovecot"] = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout.strip()
    print(json.dumps(info))
    corpus_dir = Path(tempfile.mkdtemp(prefix="accueil-imap-corpus-"))
    try:
        began = time.perf_counter()
        size = write_corpus(corpus_dir / "mails", opts.messages, opts.seed)
        print(f"corpus: {opts.messages} mails, {size / opts.messages / 1024:.1f} KB each on average "
              f"({time.perf_counter() - began:.1f} s to make, not timed)", file=sys.stderr, flush=True)
        results = {"machine": info, "messages": opts.messages, "mail_bytes": round(size / opts.messages),
                   "backends": []}
        for backend in opts.backends.split(","):
            results["backends"].append(bench_backend(backend.strip(), corpus_dir / "mails", opts))
            results["backends"][-1]["loadavg_after"] = machine(())["loadavg"]
    finally:
        shutil.rmtree(corpus_dir, ignore_errors=True)
    print(f"\n{opts.messages} mails of {results['mail_bytes'] / 1024:.1f} KB, load average at the start {info['loadavg']}")
    print(f"{'backend':<11} {'total s':>8} {'mails/s':>8} {'stored/s':>9} {'read/s':>7} {'1st/last 10%':>13} "
          f"{'idle poll ms':>13} {'open ms':>8} {'10 new ms':>10} {'restart':>8}")
    for r in results["backends"]:
        f, p, s = r["first_sync"], r["poll"], r["restart"]
        print(f"{r['backend']:<11} {f['total_s']:>8.1f} {f['overall_per_s']:>8.0f} {f['stored_per_s']:>9.0f} "
              f"{f['read_per_s']:>7.0f} {f['first_tenth_per_s']:>6.0f}/{f['last_tenth_per_s']:<6.0f} "
              f"{p['nothing_new_connect_p50_ms']:>6.1f}/{p['nothing_new_connect_p99_ms']:<6.1f} "
              f"{p['nothing_new_open_p50_ms']:>4.1f}/{p['nothing_new_open_p99_ms']:<4.1f}"
              f"{p['ten_new_p50_ms']:>5.0f}/{p['ten_new_p99_ms']:<5.0f}"
              f"{s['fetched'] if s['fetched'] is not None else '?':>5} new")
        print(f"  {f['imap_commands']} IMAP commands for the first sync, {p['ten_new_imap_commands']} for 10 new; "
              f"inbox {f['inbox']}, {f['new_interactions']} new interactions, {f['new_cases']} new cases; RSS "
              f"{f['rss_mib_before']:.0f} → {f['rss_mib_after']:.0f} MiB (peak {f['rss_mib_peak']:.0f}); "
              f"load average after {r['loadavg_after']}")
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
