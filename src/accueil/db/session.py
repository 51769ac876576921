"""Engines and sessions; domain events queued on a session are published only after its commit."""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from accueil.config import Settings
from accueil.core.events import DomainEvent, Event, EventBus

READ_ONLY = "accueil_read_only"
PENDING_EVENTS = "accueil_pending_events"
WRITTEN_FILES = "accueil_written_files"  # files written by a transaction, removed if it rolls back
SETTINGS = "accueil_settings"  # the runtime's settings, for durable jobs that need them
TRANSACTION_CACHE = "accueil_transaction_cache"  # rows read once per transaction (e.g. motifs), dropped at its end


class SQLiteWriteLock:
    """One SQLite writer at a time across the threads and processes of one database file.

    SQLite's own busy handler sleeps 1, 2, 5 … 100 ms between retries, so several processes writing
    at once mostly sleep; a lock file taken with ``flock`` hands the database over in microseconds.
    The operating system releases it if a process dies. Reentrant within a thread, so a writer can
    take it ahead of its transactions (``try_acquire``) and keep serving while another process writes.
    """

    def __init__(self, database_path: str, timeout: float = 30.0) -> None:
        self.path, self.timeout = database_path + ".write-lock", timeout
        self._threads = threading.RLock()
        self._depth = 0  # changed only by the thread holding ``_threads``
        self._fd: int | None = None

    def acquire(self) -> None:
        if not self._threads.acquire(timeout=self.timeout):
            raise TimeoutError(f"SQLite write lock not obtained in {self.timeout} s")
        if self._depth == 0:
            deadline = time.monotonic() + self.timeout
            while not self._flock():
                if time.monotonic() > deadline:
                    self._threads.release()
                    raise TimeoutError(f"SQLite write lock not obtained in {self.timeout} s")
                time.sleep(0.0002)
        self._depth += 1

    def try_acquire(self) -> bool:
        """Take the lock only if it is free now; never waits."""
        if not self._threads.acquire(blocking=False):
            return False
        if self._depth == 0 and not self._flock():
            self._threads.release()
            return False
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def _flock(self) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, SQLiteWriteLock] = weakref.WeakKeyDictionary()


def write_lock_for(engine: Engine) -> SQLiteWriteLock | None:
    """The write lock of a SQLite file engine (None for PostgreSQL or in-memory SQLite)."""
    return _WRITE_LOCKS.get(engine)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """SQLite gets WAL, foreign keys, a busy timeout and a fast write lock; PostgreSQL a pooled engine."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True,
                               pool_size=pool_size, max_overflow=4 * pool_size)
        database = engine.url.database
        lock = SQLiteWriteLock(database) if database and database != ":memory:" else None
        if lock is not None:
            _WRITE_LOCKS[engine] = lock

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy-controlled BEGIN work: pysqlite's implicit transactions are off.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # FULL: every commit reaches the disk before it returns, so an acknowledged contact survives
            # an operating-system crash or power cut too (NORMAL would only survive a process crash).
            # Group commit makes that one fsync per batch of contacts, not one per contact.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA temp_store=MEMORY")
            # Checkpoints run in the background (``WalCheckpointer``); a writer only checkpoints itself,
            # stalling its commit, if the WAL grows past ~40 MB because the background one fell behind.
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock up front (IMMEDIATE), so two writers queue instead of failing on a lock
            # upgrade; readers (``read_only`` engines) begin deferred and never wait for writers (WAL).
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            if lock is None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            lock.acquire()
            holders.add(id(conn.connection.dbapi_connection))
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn.connection.dbapi_connection)
                raise

        if lock is not None:
            holders: set[int] = set()
            dialect = engine.dialect
            commit, rollback = dialect.do_commit, dialect.do_rollback

            def _release(connection: Any) -> None:
                # Called with the raw DBAPI connection or SQLAlchemy's proxy of it, depending on the caller.
                key = id(getattr(connection, "dbapi_connection", None) or connection)
                if key in holders:
                    holders.discard(key)
                    lock.release()

            def do_commit(dbapi_connection: Any) -> None:
                try:
                    commit(dbapi_connection)
                finally:  # after the COMMIT itself, so the next writer never meets SQLite's busy lock
                    _release(dbapi_connection)

            def do_rollback(dbapi_connection: Any) -> None:
                try:
                    rollback(dbapi_connection)
                finally:
                    _release(dbapi_connection)

            dialect.do_commit = do_commit  # type: ignore[method-assign]
            dialect.do_rollback = do_rollback  # type: ignore[method-assign]

            @event.listens_for(engine.pool, "invalidate")
            def _invalidated(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
                _release(dbapi_connection)  # a broken connection must not keep the lock

            @event.listens_for(engine.pool, "close")
            def _closed(dbapi_connection: Any, _record: Any) -> None:
                _release(dbapi_connection)

        return engine
    # hide_parameters: an error's message (logged, kept on a failed job) never carries a customer's words
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True)


class WalCheckpointer:
    """Copies SQLite's write-ahead log into the database file every second, off the request path.

    Left to itself SQLite checkpoints inside whichever commit crosses 1,000 pages, and that request
    waits for the copy and its fsync. PASSIVE checkpoints never block readers or writers.
    """

    def __init__(self, engine: Engine, every: float = 1.0) -> None:
        self.engine, self.every = engine, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="accueil-wal-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        if self.engine.dialect.name == "sqlite":
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                # Outside any transaction (a checkpoint cannot run inside one): the raw connection
                # is in autocommit mode, as every connection of this engine.
                raw = self.engine.raw_connection()
                try:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                finally:
                    raw.close()
            except Exception:  # noqa: BLE001 - next second will try again
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def make_session_factory(engine: Engine, bus: EventBus | None = None) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    _publish_after_commit(factory, bus)
    return factory


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads: on SQLite they never take the write lock, so reads never queue behind writes."""
    return sessionmaker(bind=engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


Reaction = Callable[[Session, Event], None]
_REACTIONS: dict[str, list[Reaction]] = {}


def reacts_to(*events: type[DomainEvent]) -> Callable[[Reaction], Reaction]:
    """Register a reaction run inside the transaction that queues one of ``events``.

    This is how one domain follows another without calling back up the layers: the domain that owns
    the change queues its event, the domain that depends on it reacts in the same unit of work (a
    resolved case makes routing forget its work), so both commit or neither does.
    """

    def register(reaction: Reaction) -> Reaction:
        for event_ in events:
            _REACTIONS.setdefault(event_.name, []).append(reaction)
        return reaction

    return register


def queue_event(session: Session, event_: Event | DomainEvent, at: datetime | None = None) -> None:
    """Remember an event; it is published if and when the session commits. Reactions run now."""
    envelope = event_ if isinstance(event_, Event) else event_.envelope(at)
    session.info.setdefault(PENDING_EVENTS, []).append(envelope)
    for reaction in _REACTIONS.get(envelope.name, ()):
        reaction(session, envelope)


def _publish_after_commit(factory: sessionmaker[Session], bus: EventBus | None) -> None:
    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        session.info.pop(WRITTEN_FILES, None)
        session.info.pop(TRANSACTION_CACHE, None)
        pending = session.info.pop(PENDING_EVENTS, [])
        if bus is not None:
            for item in pending:
                bus.publish(item)

    @event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop(PENDING_EVENTS, None)
        session.info.pop(TRANSACTION_CACHE, None)
        for path in session.info.pop(WRITTEN_FILES, []):
            path.unlink(missing_ok=True)


def attach_to_sessions(*factories: sessionmaker[Session], **values: Any) -> None:
    """Every session these factories make carries ``values`` in its ``info`` (the runtime's collaborators)."""
    for factory in factories:
        factory.configure(info={**factory.kw.get("info", {}), **values})


def settings_of(session: Session) -> Settings:
    """The settings of the runtime this session belongs to."""
    found = session.info.get(SETTINGS)
    if found is None:
        raise RuntimeError("this session belongs to no runtime (runtime.make_runtime attaches the settings)")
    return found
