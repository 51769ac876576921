"""Group commit for chat lines: one writer thread, the lines that arrive together in one transaction.

With hundreds of visitors typing at once, one transaction (and, on SQLite, one fsync) per line spends
most of the time committing. Lines queued while the previous batch was being written are written
together and acknowledged together once their transaction has committed — never before. If any line of
a batch fails (a closed chat, a lost race), the batch is rolled back and each line is written again on
its own, so one bad line only ever fails itself.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accueil.conversations.receive import is_retryable

log = logging.getLogger(__name__)

Work = Callable[[Session], Any]


class ChatWriter:
    def __init__(self, factory: sessionmaker[Session], *, max_batch: int = 64) -> None:
        self.factory, self.max_batch = factory, max_batch
        self._queue: queue.SimpleQueue[tuple[Work, Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, work: Work) -> Any:
        """``work(session)`` in a shared transaction; returns its result once that transaction committed."""
        future: Future = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="accueil-chat-writer", daemon=True)
                self._thread.start()
        self._queue.put((work, future))
        return await asyncio.wrap_future(future)

    def stop(self) -> None:
        self._queue.put(None)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._write(batch)
                    return
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[tuple[Work, Future]]) -> None:
        live = [(work, future) for work, future in batch if future.set_running_or_notify_cancel()]
        if len(live) > 1:
            try:
                with self.factory() as session, session.begin():
                    results = [work(session) for work, _ in live]
            except Exception:  # noqa: BLE001 - one line failed: write them one by one below
                log.debug("chat batch of %d rolled back; writing one by one", len(live))
            else:
                for (_, future), result in zip(live, results, strict=True):
                    future.set_result(result)
                return
        for work, future in live:
            try:
                future.set_result(self._alone(work))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting socket
                future.set_exception(exc)

    def _alone(self, work: Work) -> Any:
        for attempt in range(4):
            try:
                with self.factory() as session, session.begin():
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                if attempt == 3 or not is_retryable(exc):
                    raise
        raise AssertionError("unreachable")

