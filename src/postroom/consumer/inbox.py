"""The idempotent inbox: a processed-message table in the application's own database.

The handler's state change and the record "this message was processed" commit in **one**
transaction. A message that comes back — redelivered after a crash between commit and
DeleteMessage, replayed from an SNS archive, recovered from logs — finds its key already recorded
and has no second effect; a handler that fails rolls back both, so the retry starts clean. This is
the transactional-inbox pattern; SQS's own deduplication (5 minutes, FIFO only, send side) cannot
give it.

The keys are inserted *before* the handler runs (``INSERT … ON CONFLICT DO NOTHING``): on
PostgreSQL a second consumer holding the same message waits on the first one's row lock and then
sees the conflict; on SQLite ``BEGIN IMMEDIATE`` serialises the two. See
:mod:`postroom.consumer.keys` for which keys a message has.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from postroom.consumer.inbox_sql import Backend, Transaction, backend_for
from postroom.consumer.keys import KeyFunction, message_keys
from postroom.consumer.message import Message

T = TypeVar("T")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class Inbox:
    """Processed-message keys in table ``table`` (created if missing), under ``scope``.

    ``conn``: a ``sqlite3.Connection``, a DB-API connection (psycopg 3), or a SQLAlchemy
    ``Engine``/``Connection``. ``scope`` separates consumers sharing one table (use one per logical
    consumer). ``key``: a function giving a message's single key instead of the default identities;
    ``use_dedup_id=False`` leaves FIFO dedup ids out of them (see :mod:`postroom.consumer.keys`).
    """

    def __init__(self, conn: Any, *, table: str = "postroom_inbox", scope: str = "default",
                 key: KeyFunction | None = None, use_dedup_id: bool = True) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(f"invalid table name: {table!r}")
        self._backend: Backend = backend_for(conn)
        self.table = table
        self.scope = scope
        self._key = key
        self._use_dedup_id = use_dedup_id
        self._ready = False
        self._ready_lock = threading.Lock()
        self.stats = {"applied": 0, "duplicates": 0, "rolled_back": 0}
        self._stats_lock = threading.Lock()

    def keys(self, message: Message) -> tuple[str, ...]:
        return message_keys(message, key=self._key, use_dedup_id=self._use_dedup_id)

    def setup(self) -> None:
        """Create the table and its pruning index if they do not exist (idempotent)."""
        with self._ready_lock:
            if self._ready:
                return
            index = self.table.replace(".", "_") + "_processed_at"
            index_table = self.table
            for attempt in range(3):
                try:
                    with self._backend.transaction() as tx:
                        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (scope TEXT NOT NULL, "
                                   "msg_key TEXT NOT NULL, message_id TEXT, processed_at DOUBLE PRECISION NOT NULL, "
                                   "PRIMARY KEY (scope, msg_key))")
                        tx.execute(f"CREATE INDEX IF NOT EXISTS {index.split('.')[-1]} "
                                   f"ON {index_table} (processed_at)")
                    break
                except Exception:
                    if attempt == 2:  # concurrent CREATE TABLE in another process: look again
                        raise
                    time.sleep(0.05)
            self._ready = True

    def _claim(self, tx: Transaction, message: Message) -> bool:
        """Insert every key in one statement; any conflict means the message was processed before."""
        keys = self.keys(message)
        now = time.time()
        rows = ", ".join("(?, ?, ?, ?)" for _ in keys)
        params: list[Any] = []
        for key in keys:
            params.extend((self.scope, key, message.message_id, now))
        inserted = tx.execute(f"INSERT INTO {self.table} (scope, msg_key, message_id, processed_at) "
                              f"VALUES {rows} ON CONFLICT DO NOTHING", params)
        return inserted == len(keys)

    def process(self, message: Message, apply: Callable[[Message, Any], object]) -> bool:
        """Run ``apply(message, connection)`` in one transaction with recording the message's keys.

        Returns True when applied, False when the message had been processed before (nothing runs,
        nothing changes). An exception from ``apply`` rolls everything back and propagates.
        """
        self.setup()
        applied = False
        try:
            with self._backend.transaction() as tx:
                if self._claim(tx, message):
                    apply(message, tx.connection)
                    applied = True
                else:
                    raise _Duplicate
        except _Duplicate:
            self._count("duplicates")
            return False
        except BaseException:
            self._count("rolled_back")
            raise
        self._count("applied")
        return applied

    def handler(self, apply: Callable[[Message, Any], object]) -> Callable[[Message], bool]:
        """Decorator: ``apply(message, connection)`` becomes a consumer handler run through the inbox."""

        def handle(message: Message) -> bool:
            return self.process(message, apply)

        handle.__name__ = getattr(apply, "__name__", "handle")
        handle.__doc__ = apply.__doc__
        return handle

    def seen(self, message: Message) -> bool:
        """Whether any of the message's keys is recorded (outside any handler transaction)."""
        self.setup()
        keys = self.keys(message)
        marks = ", ".join("?" for _ in keys)
        with self._backend.transaction() as tx:
            found = tx.scalar(f"SELECT count(*) FROM {self.table} WHERE scope = ? AND msg_key IN ({marks})",
                              (self.scope, *keys))
        return int(found or 0) > 0

    def prune(self, older_than: float) -> int:
        """Forget keys recorded more than ``older_than`` seconds ago; returns how many were deleted.

        Keep keys at least as long as a message can come back: the queue's retention period for
        redeliveries, the topic's archive retention for replays, and as far back as you may recover.
        """
        self.setup()
        with self._backend.transaction() as tx:
            return tx.execute(f"DELETE FROM {self.table} WHERE scope = ? AND processed_at < ?",
                              (self.scope, time.time() - older_than))

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1


class _Duplicate(Exception):
    """Internal: leaves the transaction through rollback when a key is already recorded."""
