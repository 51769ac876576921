"""Engines and sessions; domain events queued on a session are published only after its commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from accueil.core.events import Event, EventBus

READ_ONLY = "accueil_read_only"
PENDING_EVENTS = "accueil_pending_events"
WRITTEN_FILES = "accueil_written_files"  # files written by a transaction, removed if it rolls back


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL a pooled psycopg engine."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy-controlled BEGIN work: pysqlite's implicit transactions are off.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock up front (IMMEDIATE), so two writers queue instead of failing on a lock
            # upgrade; readers (``read_only`` engines) begin deferred and never wait for writers (WAL).
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_session_factory(engine: Engine, bus: EventBus | None = None) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    _publish_after_commit(factory, bus)
    return factory


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads: on SQLite they never take the write lock, so reads never queue behind writes."""
    return sessionmaker(bind=engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def queue_event(session: Session, event_: Event) -> None:
    """Remember an event; it is published if and when the session commits."""
    session.info.setdefault(PENDING_EVENTS, []).append(event_)


def _publish_after_commit(factory: sessionmaker[Session], bus: EventBus | None) -> None:
    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        session.info.pop(WRITTEN_FILES, None)
        pending = session.info.pop(PENDING_EVENTS, [])
        if bus is not None:
            for item in pending:
                bus.publish(item)

    @event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop(PENDING_EVENTS, None)
        for path in session.info.pop(WRITTEN_FILES, []):
            path.unlink(missing_ok=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
