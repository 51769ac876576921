"""Fixtures: the same tests run on SQLite and on PostgreSQL, against a real HTTP server.

PostgreSQL: ``ACCUEIL_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``)
is used to create a throw-away database for the run. When no server answers the PostgreSQL tests
skip with a clear message — except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from accueil.app import DISPATCH_TRIGGERS, create_app
from accueil.channels.email.adapter import SmtpEmail
from accueil.config import Settings
from accueil.core.events import Event, InProcessEventBus
from accueil.db import migrate
from accueil.db.models import metadata
from accueil.db.session import make_engine
from accueil.routing.service import Dispatcher
from accueil.runtime import Runtime, make_runtime
from tests.factories import Cast, make_cast, use_adapters

POSTGRES_ADMIN_URL = os.environ.get("ACCUEIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_database(tmp_name: str) -> str | None:
    """Create a fresh database for this run; None when no server answers (outside CI)."""
    from accueil.config import normalise_database_url

    admin_url = normalise_database_url(POSTGRES_ADMIN_URL)
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{tmp_name}"'))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is required in CI but {POSTGRES_ADMIN_URL} failed: {exc}") from exc
        return None
    return admin_url.rsplit("/", 1)[0] + "/" + tmp_name


def _drop_postgres_database(name: str) -> None:
    from accueil.config import normalise_database_url

    engine = create_engine(normalise_database_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "accueil.sqlite3"
        url = f"sqlite:///{path.as_posix()}"
        migrate.upgrade(url)
        yield url
        return
    name = f"accueil_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = _postgres_database(name)
    if url is None:
        pytest.skip(f"PostgreSQL tests skipped: no server at {POSTGRES_ADMIN_URL} (set ACCUEIL_TEST_POSTGRES_URL)")
    migrate.upgrade(url)
    yield url
    _drop_postgres_database(name)


class RecordingBus(InProcessEventBus):
    """The real in-process bus, also remembering what was published (for assertions)."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Event] = []
        self.subscribe(self.published.append)

    def names(self) -> list[str]:
        return [e.name for e in self.published]


@pytest.fixture(scope="session")
def shared_runtime(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data_dir = tmp_path_factory.mktemp("data")
    settings = Settings(
        environment="test", secret_key="test-secret-" + "x" * 32, database_url=database_url, data_dir=data_dir,
        auto_migrate=False,
        run_jobs_in_process=False, dispatch_in_process=False, max_attachment_bytes=200_000, max_body_chars=20_000,
    )
    engine = make_engine(settings.effective_database_url)
    runtime = make_runtime(settings, engine, RecordingBus())
    yield runtime
    runtime.inbound_writer.stop()
    engine.dispose()


def _clean(runtime: Runtime) -> None:
    """Empty every table. On PostgreSQL a request still finishing on the test server (a live page of the
    previous test) can deadlock with the TRUNCATE; PostgreSQL then aborts one of the two: try again."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    for attempt in range(5):
        try:
            with runtime.factory() as session, session.begin():
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                         + " RESTART IDENTITY CASCADE"))
                else:
                    for table in tables:
                        session.execute(text(f'DELETE FROM "{table}"'))
            return
        except OperationalError as exc:
            if attempt == 4 or "deadlock" not in str(exc).lower():
                raise
            time.sleep(0.2 * (attempt + 1))


@pytest.fixture
def runtime(shared_runtime: Runtime) -> Runtime:
    """A clean database (every table emptied) and a fresh list of published events."""
    _clean(shared_runtime)
    shared_runtime.routing_rules.clear()
    shared_runtime.login_throttle.clear()
    shared_runtime.bus.published.clear()  # type: ignore[attr-defined]
    return shared_runtime


@pytest.fixture
def session(runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.factory() as session:
        yield session


@pytest.fixture
def cast(runtime: Runtime) -> Cast:
    """The fixed cast: alice (agent), bob (supervisor), chloe (partner agent, N1), admin, customer david."""
    return make_cast(runtime)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(shared_runtime: Runtime) -> Iterator[str]:
    """A real uvicorn server on a loopback port, serving the app over the shared runtime."""
    app = create_app(runtime=shared_runtime)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def http(server_url: str, runtime: Runtime) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=20) as client:
        yield client


@pytest.fixture
def data_dir(shared_runtime: Runtime) -> Path:
    return shared_runtime.settings.data_dir


class SmtpInbox:
    """What a real local SMTP server (aiosmtpd) received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list = []
        self.raw: list[bytes] = []  # as received, for signature checks
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001 - aiosmtpd's handler API
        import email
        import email.policy

        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.raw.append(envelope.content)
        return "250 OK"

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


@pytest.fixture
def smtp_server(runtime: Runtime) -> Iterator[SmtpInbox]:
    """A real SMTP server on a loopback port; the runtime's email adapter points at it meanwhile."""
    inbox = SmtpInbox()
    inbox.port, inbox.mail_from = _free_port(), "Service client <service@accueil.test>"
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    restore = use_adapters(runtime, SmtpEmail(host="127.0.0.1", port=inbox.port, mail_from=inbox.mail_from))
    try:
        yield inbox
    finally:
        restore()
        controller.stop()


@pytest.fixture
def dispatcher(runtime) -> Iterator[Dispatcher]:
    """The dispatcher an app process runs (tests turn it off by default): offers work as it arrives."""
    worker = Dispatcher(runtime.factory, runtime.routing_rules, poll_seconds=0.2)
    unsubscribes = [runtime.bus.subscribe(worker.wake, prefix=prefix) for prefix in DISPATCH_TRIGGERS]
    worker.start()
    yield worker
    worker.stop()
    for unsubscribe in unsubscribes:
        unsubscribe()
