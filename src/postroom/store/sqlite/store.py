"""The embedded SQLite store: one database file in WAL mode, written by one thread with
group commit (see ``writer.py``).

Durability: with ``durability="full"`` (the default) SQLite runs with
``synchronous=FULL``, so every acknowledged commit has been fsync'd and survives a power
cut. ``"relaxed"`` uses ``synchronous=NORMAL``: in WAL mode a crash of the process (even
``kill -9``) still loses nothing committed, but a power cut may lose the last commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from postroom.core.arns import parse_queue_arn
from postroom.core.model import MoveTask, NewMessage, Queue, QueueCounts, ReceiveOutcome, SendResult
from postroom.errors import PurgeQueueInProgress, QueueDeletedRecently, QueueDoesNotExist
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_map
from postroom.store.rows import queue_record
from postroom.store.sqlite import messages, move_tasks
from postroom.store.sqlite.migrate import upgrade
from postroom.store.sqlite.queries import Q
from postroom.store.sqlite.sns_store import SqliteSnsStore
from postroom.store.sqlite.writer import Writer

_queue = queue_record


def open_connection(path: Path, durability: str = "full") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


# The SNS accounting is insert-only (no hot counter row); the retention sweep folds it.
FOLD_COUNTS_AFTER = 1_000


class SqliteStore(SqliteSnsStore):
    """Implements ``postroom.store.base.Store`` on one SQLite file.

    Queue records are cached in memory: this process is the file's only writer (the
    server holds a lock on the data dir), so the cache is exact; it is filled from the
    database at start and updated only after each change has committed.
    """

    def __init__(self, path: Path, durability: str = "full") -> None:
        self.path = path
        conn = open_connection(path, durability)
        upgrade(conn)
        self._by_name: dict[tuple[str, str], Queue] = {}
        for row in conn.execute(Q["all_queues"]).fetchall():
            q = _queue(row)
            self._by_name[(q.account, q.name)] = q
        self._load_sns(conn)
        self._writer = Writer(conn)

    # ---- queues -------------------------------------------------------------
    async def create_queue(self, account: str, region: str, name: str, attributes: dict[str, str],
                           tags: dict[str, str], now_ms: int, reuse_after_ms: int | None) -> tuple[Queue, bool]:
        def op(conn: sqlite3.Connection) -> tuple[Queue, bool]:
            row = conn.execute(Q["queue_by_name"], (account, name)).fetchone()
            if row is not None:
                return _queue(row), False
            if reuse_after_ms is not None:
                gone = conn.execute(Q["deleted_at"], (account, name)).fetchone()
                if gone is not None and now_ms - gone[0] < reuse_after_ms:
                    raise QueueDeletedRecently(
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name.")
            qid = conn.execute(Q["insert_queue"], (account, region, name, dump_map(attributes), dump_map(tags),
                                                   now_ms, now_ms)).fetchone()[0]
            return Queue(qid, account, region, name, dict(attributes), dict(tags), now_ms, now_ms), True

        queue, created = await self._writer.call(op)
        self._by_name[(account, name)] = queue
        return queue, created

    async def get_queue(self, account: str, name: str) -> Queue | None:
        return self._by_name.get((account, name))

    async def list_queues(self, account: str, prefix: str, after: str | None, limit: int) -> list[Queue]:
        names = sorted(n for (a, n) in self._by_name if a == account and n.startswith(prefix)
                       and (after is None or n > after))
        return [self._by_name[(account, n)] for n in names[:limit]]

    async def delete_queue(self, account: str, name: str, now_ms: int) -> bool:
        queue = self._by_name.get((account, name))
        if queue is None:
            return False

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(Q["delete_queue"], (queue.queue_id,))
            conn.execute(Q["delete_queue_messages"], (queue.queue_id,))
            conn.execute(Q["delete_queue_dedup"], (queue.queue_id,))
            conn.execute(Q["delete_queue_attempts"], (queue.queue_id,))
            conn.execute(Q["remember_deleted"], (account, name, now_ms))

        await self._writer.call(op)
        self._by_name.pop((account, name), None)
        return True

    async def update_queue(self, account: str, name: str, attributes: dict[str, str] | None,
                           tags: dict[str, str] | None, now_ms: int) -> Queue:
        current = self._by_name.get((account, name))
        if current is None:
            raise QueueDoesNotExist()
        new_attrs = dict(attributes) if attributes is not None else current.attributes
        new_tags = dict(tags) if tags is not None else current.tags
        modified = now_ms if attributes is not None else current.modified_ms
        updated = Queue(current.queue_id, account, current.region, name, new_attrs, new_tags,
                        current.created_ms, modified)

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(Q["update_queue"], (dump_map(new_attrs), dump_map(new_tags), modified, current.queue_id))

        await self._writer.call(op)
        if (account, name) in self._by_name:
            self._by_name[(account, name)] = updated
        return updated

    async def dead_letter_sources(self, account: str, dlq_arn: str) -> list[Queue]:
        found = []
        for (a, _name), q in sorted(self._by_name.items()):
            policy = q.attributes.get("RedrivePolicy")
            if a == account and policy and f'"{dlq_arn}"' in policy:
                found.append(q)
        return found

    def queue_by_arn(self, arn: str) -> Queue | None:
        parsed = parse_queue_arn(arn)
        return self._by_name.get((parsed.account, parsed.name))

    # ---- messages -----------------------------------------------------------
    async def send(self, queue: Queue, msgs: Sequence[NewMessage], now_ms: int,
                   dedup_window_ms: int) -> list[SendResult]:
        return await self._writer.call(lambda conn: messages.send(conn, queue, msgs, now_ms, dedup_window_ms))

    async def receive(self, queue: Queue, request: ReceiveRequest) -> ReceiveOutcome:
        dlq = None
        if request.max_receive_count is not None and request.dlq_name is not None:
            dlq = self._by_name.get((queue.account, request.dlq_name))
        return await self._writer.call(lambda conn: messages.receive(conn, queue, request, dlq))

    async def delete(self, queue: Queue, receipt_handles: Sequence[tuple[str, str]],
                     now_ms: int) -> list[Exception | None]:
        return await self._writer.call(lambda conn: messages.delete(conn, queue, receipt_handles, now_ms))

    async def change_visibility(self, queue: Queue, changes: Sequence[VisibilityChange],
                                now_ms: int) -> list[Exception | None]:
        return await self._writer.call(lambda conn: messages.change_visibility(conn, queue, changes, now_ms))

    async def purge(self, queue: Queue, now_ms: int, min_interval_ms: int | None) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if min_interval_ms is not None:
                last = conn.execute(Q["last_purge"], (queue.queue_id,)).fetchone()
                if last is not None and last[0] is not None and now_ms - last[0] < min_interval_ms:
                    raise PurgeQueueInProgress(
                        f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.")
            conn.execute(Q["purge_messages"], (queue.queue_id,))
            conn.execute(Q["set_last_purge"], (now_ms, queue.queue_id))

        await self._writer.call(op)

    async def counts(self, queue: Queue, now_ms: int) -> QueueCounts:
        def op(conn: sqlite3.Connection) -> QueueCounts:
            v, f, d = conn.execute(Q["count_messages"], (now_ms, now_ms, now_ms, queue.queue_id)).fetchone()
            return QueueCounts(int(v), int(f), int(d))

        return await self._writer.call(op)

    async def expire(self, now_ms: int) -> int:
        queues = list(self._by_name.values())

        def op(conn: sqlite3.Connection) -> int:
            n = 0
            for q in queues:
                cutoff = now_ms - int(q.attributes.get("MessageRetentionPeriod", "345600")) * 1000
                n += conn.execute(Q["expire_messages"], (q.queue_id, cutoff)).rowcount
            conn.execute(Q["expire_dedup"], (now_ms,))
            conn.execute(Q["expire_attempts"], (now_ms,))
            last, rows = conn.execute(Q["max_count_id"]).fetchone()
            if rows > FOLD_COUNTS_AFTER:
                conn.execute(Q["fold_counts"], (last,))
                conn.execute(Q["drop_folded_counts"], (last,))
            return n

        return await self._writer.call(op)

    # ---- message move tasks ---------------------------------------------------
    async def start_move_task(self, task: MoveTask) -> MoveTask:
        source = self.queue_by_arn(task.source_arn)
        if source is None:
            raise QueueDoesNotExist()
        return await self._writer.call(lambda conn: move_tasks.start(conn, source, task))

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTask]:
        return await self._writer.call(lambda conn: move_tasks.list_for(conn, source_arn, limit))

    async def running_move_tasks(self) -> list[MoveTask]:
        return await self._writer.call(
            lambda conn: [move_tasks._task(r) for r in conn.execute(Q["running_move_tasks"]).fetchall()])

    async def get_move_task(self, task_handle: str) -> MoveTask | None:
        return await self._writer.call(lambda conn: move_tasks.get(conn, task_handle))

    async def cancel_move_task(self, task_handle: str) -> MoveTask:
        return await self._writer.call(lambda conn: move_tasks.cancel(conn, task_handle))

    async def move_messages(self, task: MoveTask, limit: int, now_ms: int) -> MoveTask:
        return await self._writer.call(
            lambda conn: move_tasks.move(conn, task, limit, now_ms, self.queue_by_arn))

    async def shared_setting(self, name: str, make: Callable[[], str]) -> str:
        def op(conn: sqlite3.Connection) -> str:
            row = conn.execute(Q["setting"], (name,)).fetchone()
            if row is not None:
                return str(row[0])
            value = make()
            conn.execute(Q["insert_setting"], (name, value))
            return value

        return await self._writer.call(op)

    def set_wakeup(self, callback: Callable[[int], None]) -> None:
        """One process owns the file, and it wakes its own long polls."""

    async def close(self) -> None:
        self._writer.close()
