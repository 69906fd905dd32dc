"""One writer thread per SQLite database, with group commit.

SQLite allows one writer at a time, and a durable commit costs an fsync. Every
operation is queued to this thread; the thread takes everything that is waiting, runs
each operation inside its own SAVEPOINT (so one failing operation undoes only itself)
and commits them all in a single transaction — one fsync for the whole group. Callers
are answered only after that commit, so an acknowledged operation is on disk.

An operation can register work to run at commit (:func:`after_commit`): the store's
caches change there, on this thread, in commit order, before any caller of the group is
answered — so a cache never shows what a rolled-back operation wrote, and never lags
behind what a caller has been told.

Faults: an operation that raises an ``Exception`` fails alone. Anything else (a
``BaseException`` such as SystemExit from deep inside a driver) rolls the whole group
back and fails its callers with ServiceUnavailable; the thread carries on with the next
group. If the connection itself is unusable, every queued and later call fails with
ServiceUnavailable at once instead of hanging.

A full disk (SQLITE_FULL) or an I/O error (SQLITE_IOERR), in an operation or at COMMIT, fails
that operation (or group) with ServiceUnavailable (503, AWS's error for "a temporary failure
of the server", which SDKs retry): nothing of it committed, nothing was acknowledged. The
connection stays usable, so writes succeed again by themselves once space is freed.
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
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]

MAX_GROUP = 512

_local = threading.local()


def after_commit(hook: Callable[[], None]) -> None:
    """Run ``hook`` on the writer thread once the running operation has committed (not
    if it fails or its group rolls back). Only valid inside a writer operation."""
    hooks: list[Callable[[], None]] | None = getattr(_local, "hooks", None)
    if hooks is None:
        raise RuntimeError("after_commit() called outside a writer operation")
    hooks.append(hook)


class _Hooks:
    """The commit hooks of one group, registered for this thread while it runs."""

    def __enter__(self) -> list[Callable[[], None]]:
        self.hooks: list[Callable[[], None]] = []
        _local.hooks = self.hooks
        return self.hooks

    def __exit__(self, *exc: object) -> None:
        _local.hooks = None


def _resolve(results: list[_Outcome]) -> None:
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
        self._broken: str | None = None
        self._thread.start()

    async def call(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._broken is not None:
            raise ServiceUnavailable(f"The store cannot write: {self._broken}")
        if self._closed:
            raise ServiceUnavailable("The store is shutting down.")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((op, fut, loop))
        if self._broken is not None:  # broke while we queued: the thread no longer drains
            self._fail_queued()
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
            try:
                outcomes = self._run_group(self._conn, batch)
            except BaseException as exc:  # the group failed as a whole: nothing of it committed
                outcomes = self._abandon(batch, exc)
            _answer(batch, outcomes)
            if self._broken is not None:
                self._fail_queued()
                return

    def _abandon(self, batch: list[_Item], exc: BaseException) -> list[_Outcome]:
        log.error("SQLite writer: a group failed with %r; rolling it back", exc, exc_info=exc)
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except BaseException as rollback_error:
            self._broken = f"the connection failed ({rollback_error!r})"
            log.critical("SQLite writer cannot roll back; failing every call from now on", exc_info=True)
        failure = ServiceUnavailable(f"The store could not complete the request ({type(exc).__name__}).")
        return [(fut, None, failure) for _op, fut, _loop in batch]

    def _fail_queued(self) -> None:
        failure = ServiceUnavailable(f"The store cannot write: {self._broken}")
        pending: list[_Item] = []
        while True:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is not None:
                pending.append(nxt)
        _answer(pending, [(fut, None, failure) for _op, fut, _loop in pending])

    @staticmethod
    def _run_group(conn: sqlite3.Connection, batch: list[_Item]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        try:
            with _Hooks() as hooks:
                conn.execute("BEGIN IMMEDIATE")
                single = len(batch) == 1
                for op, fut, _loop in batch:
                    if not single:
                        conn.execute("SAVEPOINT op")
                    mark = len(hooks)
                    try:
                        value = op(conn)
                    except Exception as exc:
                        del hooks[mark:]  # a failed operation's hooks never run
                        if single:
                            conn.execute("ROLLBACK")
                            conn.execute("BEGIN IMMEDIATE")
                        else:
                            conn.execute("ROLLBACK TO op")
                            conn.execute("RELEASE op")
                        outcomes.append((fut, None, _storage_failure(exc) or exc))
                        continue
                    if not single:
                        conn.execute("RELEASE op")
                    outcomes.append((fut, value, None))
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            failure = _storage_failure(exc)  # logs a full disk or an I/O error in one line
            if failure is None:
                log.exception("SQLite group commit failed")
                failure = ServiceUnavailable(f"The store could not commit: {exc}")
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            return [(fut, None, failure) for _op, fut, _loop in batch]
        for hook in hooks:
            try:
                hook()
            except BaseException:  # committed already: its callers are answered with success
                log.exception("SQLite writer: a commit hook failed")
        return outcomes


_SQLITE_IOERR = 10
_SQLITE_FULL = 13


def _storage_failure(exc: BaseException) -> ServiceUnavailable | None:
    """ServiceUnavailable for a full disk or an I/O error; None for any other error."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    if code & 0xFF == _SQLITE_FULL:
        log.error("SQLite: the disk is full; writes fail with ServiceUnavailable until space is freed")
        return ServiceUnavailable("The store is out of disk space; the request was not carried out.")
    if code & 0xFF == _SQLITE_IOERR:
        log.error("SQLite: I/O error %s; the request fails with ServiceUnavailable", exc)
        return ServiceUnavailable("The store could not write (I/O error); the request was not carried out.")
    return None


def _answer(batch: list[_Item], outcomes: list[_Outcome]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for (_op, _fut, loop), outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(loop, []).append(outcome)
    for loop, results in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, results)
        except RuntimeError:
            pass
