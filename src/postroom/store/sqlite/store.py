"""The embedded SQLite store: one database file in WAL mode, written by one thread with
group commit (see ``writer.py``), read by another without waiting for writers.

Durability: with ``durability="full"`` (the default) SQLite runs with
``synchronous=FULL``, so every acknowledged commit has been fsync'd and survives a power
cut. ``"relaxed"`` uses ``synchronous=NORMAL``: in WAL mode a crash of the process (even
``kill -9``) still loses nothing committed, but a power cut may lose the last commits.

Caches: queue, topic and subscription records are kept in memory. This process is the
file's only writer (the server holds a lock on the data dir), so the caches are exact:
they are filled from the database at start and changed only by commit hooks on the
writer thread, in commit order, before the caller of a change is answered. Each cache is
replaced whole (copy on write), so a reader on the event loop always sees one consistent
state. Decisions that must be exact inside a transaction (does the queue still exist?
is the subscription set the one a publish was planned from?) read the database there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from postroom.core.arns import parse_queue_arn
from postroom.core.model import (
    MoveTask,
    NewMessage,
    Queue,
    QueueCounts,
    QueueMutation,
    ReceiveOutcome,
    ResourceKey,
    SendResult,
)
from postroom.core.sqs import queue_changes
from postroom.core.sqs.delivery_rules import retention_ms
from postroom.errors import PurgeQueueInProgress, QueueDeletedRecently, QueueDoesNotExist
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_map, load_map
from postroom.store.rows import queue_record
from postroom.store.sqlite import messages, move_tasks
from postroom.store.sqlite.archive_store import SqliteArchiveStore, SqliteAuditStore
from postroom.store.sqlite.migrate import upgrade
from postroom.store.sqlite.platform_store import SqlitePlatformStore
from postroom.store.sqlite.queries import Q
from postroom.store.sqlite.reader import Reader
from postroom.store.sqlite.sns_store import SqliteSnsStore
from postroom.store.sqlite.writer import Writer, after_commit

# The SNS accounting is insert-only (no hot counter row); the retention sweep folds it.
FOLD_COUNTS_AFTER = 1_000


def open_connection(path: Path, durability: str = "full") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class SqliteStore(SqliteSnsStore, SqliteArchiveStore, SqliteAuditStore, SqlitePlatformStore):
    """Implements ``postroom.store.base.Store`` on one SQLite file."""

    def __init__(self, path: Path, durability: str = "full") -> None:
        self.path = path
        conn = open_connection(path, durability)
        upgrade(conn)
        self._queues: dict[ResourceKey, Queue] = {}
        for row in conn.execute(Q["all_queues"]).fetchall():
            q = queue_record(row)
            self._queues[q.key] = q
        self._load_sns(conn)
        self._writer = Writer(conn)
        self._reader = Reader(path)

    def _cache_queue(self, key: ResourceKey, queue: Queue | None) -> None:
        """Commit hook: replace the queue cache with one that has ``queue`` (or not) at ``key``."""
        updated = dict(self._queues)
        if queue is None:
            updated.pop(key, None)
        else:
            updated[key] = queue
        self._queues = updated

    # ---- queues -------------------------------------------------------------
    async def create_queue(self, key: ResourceKey, attributes: dict[str, str], tags: dict[str, str], now_ms: int,
                           reuse_after_ms: int | None) -> tuple[Queue, bool]:
        def op(conn: sqlite3.Connection) -> tuple[Queue, bool]:
            row = conn.execute(Q["queue_by_key"], (key.account, key.region, key.name)).fetchone()
            if row is not None:
                return queue_record(row), False
            if reuse_after_ms is not None:
                gone = conn.execute(Q["deleted_at"], (key.account, key.region, key.name)).fetchone()
                if gone is not None and now_ms - gone[0] < reuse_after_ms:
                    raise QueueDeletedRecently(
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name.")
            qid = conn.execute(Q["insert_queue"], (key.account, key.region, key.name, dump_map(attributes),
                                                   dump_map(tags), now_ms, now_ms)).fetchone()[0]
            queue = Queue(qid, key.account, key.region, key.name, dict(attributes), dict(tags), now_ms, now_ms)
            after_commit(lambda: self._cache_queue(key, queue))
            return queue, True

        return await self._writer.call(op)

    async def get_queue(self, key: ResourceKey, *, fresh: bool = False) -> Queue | None:
        return self._queues.get(key)

    async def list_queues(self, account: str, region: str, prefix: str, after: str | None,
                          limit: int) -> list[Queue]:
        queues = self._queues
        names = sorted(k.name for k in queues if k.account == account and k.region == region
                       and k.name.startswith(prefix) and (after is None or k.name > after))
        return [queues[ResourceKey(account, region, n)] for n in names[:limit]]

    async def delete_queue(self, key: ResourceKey, now_ms: int) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            row = conn.execute(Q["queue_by_key"], (key.account, key.region, key.name)).fetchone()
            if row is None:
                return False
            qid = row["queue_id"]
            conn.execute(Q["delete_queue"], (qid,))
            conn.execute(Q["delete_queue_messages"], (qid,))
            conn.execute(Q["delete_queue_dedup"], (qid,))
            conn.execute(Q["delete_queue_attempts"], (qid,))
            conn.execute(Q["remember_deleted"], (key.account, key.region, key.name, now_ms))
            after_commit(lambda: self._cache_queue(key, None))
            return True

        return await self._writer.call(op)

    async def update_queue(self, key: ResourceKey, change: QueueMutation, now_ms: int) -> Queue:
        def op(conn: sqlite3.Connection) -> Queue:
            row = conn.execute(Q["queue_by_key"], (key.account, key.region, key.name)).fetchone()
            if row is None:
                raise QueueDoesNotExist("The specified queue does not exist.")
            updated = queue_changes.apply(queue_record(row), change(queue_record(row)), now_ms)
            conn.execute(Q["update_queue"], (dump_map(updated.attributes), dump_map(updated.tags),
                                             updated.modified_ms, updated.queue_id))
            after_commit(lambda: self._cache_queue(key, updated))
            return updated

        return await self._writer.call(op)

    async def dead_letter_sources(self, dlq: Queue) -> list[Queue]:
        needle = f'"{dlq.arn}"'
        return [q for k, q in sorted(self._queues.items())
                if k.account == dlq.account and k.region == dlq.region and needle in q.attributes.get(
                    "RedrivePolicy", "")]

    def _queue_by_arn(self, arn: str) -> Queue | None:
        parsed = parse_queue_arn(arn)
        return self._queues.get(ResourceKey(parsed.account, parsed.region, parsed.name))

    # ---- messages -----------------------------------------------------------
    async def send(self, queue: Queue, msgs: Sequence[NewMessage], now_ms: int,
                   dedup_window_ms: int) -> list[SendResult]:
        return await self._writer.call(lambda conn: messages.send(conn, queue, msgs, now_ms, dedup_window_ms))

    async def receive(self, queue: Queue, request: ReceiveRequest) -> ReceiveOutcome:
        dlq = self._queues.get(request.dlq) if request.dlq is not None else None
        return await self._writer.call(lambda conn: messages.receive(conn, queue, request, dlq))

    async def delete(self, queue: Queue, receipt_handles: Sequence[tuple[str, str]],
                     now_ms: int) -> list[Exception | None]:
        return await self._writer.call(lambda conn: messages.delete(conn, queue, receipt_handles, now_ms))

    async def change_visibility(self, queue: Queue, changes: Sequence[VisibilityChange],
                                now_ms: int) -> list[Exception | None]:
        return await self._writer.call(lambda conn: messages.change_visibility(conn, queue, changes, now_ms))

    async def purge(self, queue: Queue, now_ms: int, min_interval_ms: int | None) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute(Q["queue_alive"], (queue.queue_id,)).fetchone() is None:
                raise QueueDoesNotExist("The specified queue does not exist.")
            if min_interval_ms is not None:
                last = conn.execute(Q["last_purge"], (queue.queue_id,)).fetchone()
                if last is not None and last[0] is not None and now_ms - last[0] < min_interval_ms:
                    raise PurgeQueueInProgress(
                        f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.")
            conn.execute(Q["purge_messages"], (queue.queue_id,))
            conn.execute(Q["purge_dedup"], (queue.queue_id,))
            conn.execute(Q["set_last_purge"], (now_ms, queue.queue_id))

        await self._writer.call(op)

    async def counts(self, queue: Queue, now_ms: int) -> QueueCounts:
        def op(conn: sqlite3.Connection) -> QueueCounts:
            v, f, d, oldest = conn.execute(Q["count_messages"], (now_ms, now_ms, now_ms, queue.queue_id)).fetchone()
            return QueueCounts(int(v), int(f), int(d), oldest)

        return await self._reader.call(op)

    async def expire(self, now_ms: int) -> int:
        def op(conn: sqlite3.Connection) -> int:
            n = 0
            for row in conn.execute(Q["retention_periods"]).fetchall():
                cutoff = now_ms - retention_ms(load_map(row["attributes"]))
                n += conn.execute(Q["expire_messages"], (row["queue_id"], cutoff)).rowcount
            conn.execute(Q["expire_dedup"], (now_ms,))
            conn.execute(Q["expire_attempts"], (now_ms,))
            last, rows = conn.execute(Q["max_count_id"]).fetchone()
            if rows > FOLD_COUNTS_AFTER:
                conn.execute(Q["fold_counts"], (last,))
                conn.execute(Q["drop_folded_counts"], (last,))
            return n

        return await self._writer.call(op)

    # ---- message move tasks ---------------------------------------------------
    async def start_move_task(self, source: Queue, task: MoveTask) -> MoveTask:
        return await self._writer.call(lambda conn: move_tasks.start(conn, source, task))

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTask]:
        return await self._reader.call(lambda conn: move_tasks.list_for(conn, source_arn, limit))

    async def running_move_tasks(self) -> list[MoveTask]:
        return await self._reader.call(move_tasks.running)

    async def get_move_task(self, task_handle: str) -> MoveTask | None:
        return await self._reader.call(lambda conn: move_tasks.get(conn, task_handle))

    async def cancel_move_task(self, task_handle: str) -> MoveTask:
        return await self._writer.call(lambda conn: move_tasks.cancel(conn, task_handle))

    async def move_messages(self, task: MoveTask, limit: int, now_ms: int) -> MoveTask:
        return await self._writer.call(
            lambda conn: move_tasks.move(conn, task, limit, now_ms, self._queue_by_arn))

    async def shared_setting(self, name: str, make: Callable[[], str]) -> str:
        def op(conn: sqlite3.Connection) -> str:
            row = conn.execute(Q["setting"], (name,)).fetchone()
            if row is not None:
                return str(row[0])
            value = make()
            conn.execute(Q["insert_setting"], (name, value))
            return value

        return await self._writer.call(op)

    def set_wakeup(self, callback: Callable[[int | None], None]) -> None:
        """One process owns the file, and it wakes its own long polls."""

    async def close(self) -> None:
        self._writer.close()
        self._reader.close()
