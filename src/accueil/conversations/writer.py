"""Group commit for inbound contacts: one writer thread, many contacts per transaction.

Under load, contacts that arrive together are received in one transaction and acknowledged together
once it has committed — never before, so an acknowledged contact is on disk. SQLite has one writer
anyway; giving it a single thread removes lock waits (whose back-off sleeps collapse throughput), and
on both databases a shared commit costs a fraction of one commit per contact. Batches are optimistic:
if any contact in a batch fails (unknown motif, a lost race on a unique key…), the batch is rolled
back as a whole and each of its contacts is received again in its own transaction, so one bad
contact only ever fails itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from accueil.conversations.receive import (
    ConversationConfig,
    InboundContact,
    ReceiveResult,
    begin_batch,
    do_receive_inbound,
    flush_batch,
    receive_inbound,
)
from accueil.core import clock
from accueil.db.session import SQLiteWriteLock

log = logging.getLogger(__name__)

_Item = tuple[InboundContact, "Future[ReceiveResult]"]


class InboundWriter:
    def __init__(self, factory: sessionmaker[Session], config: ConversationConfig, *, max_batch: int = 64,
                 threads: int = 1) -> None:
        self._factory, self._config, self._max_batch = factory, config, max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        # PostgreSQL: several writers overlap their network round trips (each batch is its own transaction).
        self._thread_count = threads
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = False

    async def receive(self, contact: InboundContact) -> ReceiveResult:
        """Receive a contact from async code; returns once its transaction committed."""
        import asyncio

        return await asyncio.wrap_future(self.submit(contact))

    def submit(self, contact: InboundContact) -> Future[ReceiveResult]:
        """Queue a contact; the future resolves once its transaction committed (or with its error)."""
        future: Future[ReceiveResult] = Future()
        with self._lock:
            if self._stopping:
                raise RuntimeError("the inbound writer is stopped")
            if not self._threads:
                for number in range(self._thread_count):
                    thread = threading.Thread(target=self._run, name=f"accueil-inbound-{number}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
        self._queue.put((contact, future))
        return future

    def stop(self, timeout: float = 10.0) -> None:
        """Finish every queued contact, then stop the thread."""
        with self._lock:
            self._stopping = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop_after = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop_after = True  # each thread takes one stop marker
                    break
                batch.append(item)
            self._receive(batch)
            if stop_after:
                return

    def _receive(self, batch: list[_Item]) -> None:
        live = [(contact, future) for contact, future in batch if self._claim(future)]
        if not live:
            return
        if len(live) > 1:
            try:
                results = self._together(live)
            except Exception:  # noqa: BLE001 - one contact failed: redo them one by one below
                log.debug("inbound batch of %d rolled back; receiving one by one", len(live))
            else:
                for (_, future), result in zip(live, results, strict=True):
                    future.set_result(result)
                return
        for contact, future in live:
            try:
                future.set_result(receive_inbound(self._factory, contact=contact, config=self._config))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                future.set_exception(exc)

    @staticmethod
    def _claim(future: Any) -> bool:
        """False when the waiting request went away (its contact is then not received)."""
        return future.set_running_or_notify_cancel()

    def _together(self, live: list[_Item], now: datetime | None = None) -> list[ReceiveResult]:
        now = now or clock.now()
        contacts = [contact for contact, _ in live]
        with self._factory() as session, session.begin():
            begin_batch(session, contacts, config=self._config, now=now)
            results = [do_receive_inbound(session, contact=contact, config=self._config, now=now)
                       for contact in contacts]
            flush_batch(session)
            return results


class InlineInboundWriter(InboundWriter):
    """Group commit on the event loop's own thread, for SQLite.

    SQLite answers in microseconds from local disk, so writing a batch inline costs less than handing it
    to another thread: two busy threads in one process spend much of their time passing the GIL.
    Contacts submitted during one turn of the event loop are written together at the next turn.
    """

    def __init__(self, factory: sessionmaker[Session], config: ConversationConfig, *, max_batch: int = 64,
                 write_lock: SQLiteWriteLock | None = None) -> None:
        super().__init__(factory, config, max_batch=max_batch)
        self._pending: list[_Item] = []
        self._scheduled = False
        self._write_lock = write_lock

    async def receive(self, contact: InboundContact) -> ReceiveResult:
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[ReceiveResult] = loop.create_future()  # settled on this thread: no wake-up
        self._pending.append((contact, future))  # type: ignore[arg-type]
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    @staticmethod
    def _claim(future: Any) -> bool:
        return not future.done()

    def _flush(self) -> None:
        import asyncio

        self._scheduled = False
        if self._write_lock is not None and not self._write_lock.try_acquire():
            # Another process is writing: keep serving requests (the batch grows) and try again shortly,
            # rather than block this event loop on the lock.
            self._scheduled = True
            asyncio.get_running_loop().call_later(0.0005, self._flush)
            return
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch:]
                self._receive(batch)
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
