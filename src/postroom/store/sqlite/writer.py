"""One writer thread per SQLite database, with group commit.

SQLite allows one writer at a time, and a durable commit costs an fsync. Every
operation is queued to this thread; the thread takes everything that is waiting, runs
each operation inside its own SAVEPOINT (so one failing operation undoes only itself)
and commits them all in a single transaction — one fsync for the whole group. Callers
are answered only after that commit, so an acknowledged operation is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from postroom.errors import ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]
_Item = tuple[Op, "asyncio.Future[Any]", asyncio.AbstractEventLoop]

MAX_GROUP = 512


def _resolve(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, exc in results:
        if fut.done():
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)


class Writer:
    """Runs operations on one connection in a background thread, group-committing them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="postroom-sqlite-writer", daemon=True)
        self._closed = False
        self._thread.start()

    async def call(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise ServiceUnavailable("The store is shutting down.")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((op, fut, loop))
        return await fut

    def close(self) -> None:
        """Finish everything queued, then stop the thread and close the connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        conn = self._conn
        stop = False
        while not stop:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run_group(conn, batch)

    @staticmethod
    def _run_group(conn: sqlite3.Connection, batch: list[_Item]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            single = len(batch) == 1
            for op, fut, _loop in batch:
                if not single:
                    conn.execute("SAVEPOINT op")
                try:
                    value = op(conn)
                except Exception as exc:
                    if single:
                        conn.execute("ROLLBACK")
                        conn.execute("BEGIN IMMEDIATE")
                    else:
                        conn.execute("ROLLBACK TO op")
                        conn.execute("RELEASE op")
                    outcomes.append((fut, None, exc))
                    continue
                if not single:
                    conn.execute("RELEASE op")
                outcomes.append((fut, value, None))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("SQLite group commit failed")
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            failure = ServiceUnavailable(f"The store could not commit: {exc}")
            outcomes = [(fut, None, failure) for _op, fut, _loop in batch]
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
        for (_op, _fut, loop), outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(loop, []).append(outcome)
        for loop, results in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, results)
            except RuntimeError:
                pass
