"""The shared store on PostgreSQL: any number of stateless postroom nodes, one bus.

Nodes cache queue, topic and subscription records (``cache.py`` says how the caches stay
coherent): every change is announced on the ``postroom`` channel (``q:<account>/<region>/
<name>``, ``t:<topic arn>``, ``s:<topic arn>``) and every node drops its copy; a node that
loses its listening connection drops everything and wakes every long poll. Sends
announce ``m:<queue id>`` so long polls on every node wake at once.

PostgreSQL unreachable or restarting: operations fail with ServiceUnavailable (HTTP 503,
retriable by every AWS SDK) and the pool reconnects on the next request; nothing is
acknowledged before PostgreSQL has committed it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

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
from postroom.core.sqs.queue_attributes import redrive_policy
from postroom.errors import (
    PostroomError,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    ServiceUnavailable,
)
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_map, load_map
from postroom.store.postgres import messages, move_tasks, wakeups
from postroom.store.postgres.archive_store import PostgresArchiveStore, PostgresAuditStore
from postroom.store.postgres.cache import CoherentCache, Epoch
from postroom.store.postgres.coalesce import Coalescer
from postroom.store.postgres.messages import RETRYABLE
from postroom.store.postgres.migrate import upgrade
from postroom.store.postgres.platform_store import PostgresPlatformStore
from postroom.store.postgres.queries import Q
from postroom.store.postgres.sns_store import PostgresSnsStore
from postroom.store.rows import queue_record

log = logging.getLogger(__name__)
T = TypeVar("T")
CHANNEL = messages.CHANNEL
# The SNS accounting is insert-only (no hot counter row); each retention sweep folds the
# oldest rows into one row per topic/subscription.
FOLD_COUNTS_BATCH = 50_000
UNAVAILABLE = (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
               asyncpg.exceptions.CannotConnectNowError, asyncpg.InterfaceError, OSError, TimeoutError,
               asyncpg.exceptions.InsufficientResourcesError)  # 53xxx: disk full, out of memory, too many connections


def split_dsn(dsn: str) -> tuple[str, dict[str, str]]:
    """asyncpg takes server settings separately; ``?schema=x`` selects a schema (tests
    use one per run) and becomes the connection's search_path."""
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    settings = {}
    schema = query.pop("schema", None)
    if schema:
        settings["search_path"] = schema
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return clean, settings


def queue_notice(key: ResourceKey) -> str:
    return f"q:{key.account}/{key.region}/{key.name}"


class PostgresStore(PostgresSnsStore, PostgresArchiveStore, PostgresAuditStore, PostgresPlatformStore):
    """Implements ``postroom.store.base.Store`` on PostgreSQL (asyncpg)."""

    def __init__(self, dsn: str, pool: asyncpg.Pool, settings: dict[str, str]) -> None:
        self._dsn = dsn
        self._settings = settings
        self._pool = pool
        self._epoch = Epoch()
        self._queues: CoherentCache[ResourceKey, Queue] = CoherentCache(self._epoch)
        self._init_sns(self._epoch)
        self._wakeup: Callable[[int | None], None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        self._notifier = wakeups.Notifier(lambda payload: self._pool.execute(Q["notify"], CHANNEL, payload))
        self._standard_sends: Coalescer[tuple[Queue, NewMessage, int], SendResult] = Coalescer(
            self._flush_standard)

    @classmethod
    async def open(cls, dsn: str, min_size: int = 2, max_size: int = 16) -> PostgresStore:
        clean, settings = split_dsn(dsn)
        if "search_path" in settings:
            conn = await asyncpg.connect(clean)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings["search_path"]}"')
            finally:
                await conn.close()
        pool = await asyncpg.create_pool(clean, min_size=min_size, max_size=max_size,
                                         server_settings=settings, command_timeout=30)
        async with pool.acquire() as conn:
            await upgrade(conn)
        store = cls(clean, pool, settings)
        store._listener = asyncio.create_task(store._listen_forever())
        return store

    # ---- plumbing -------------------------------------------------------------
    async def _tx(self, op: Callable[[asyncpg.Connection], Awaitable[T]], transaction: bool = True,
                  single_statement: bool = False) -> T:
        """Run ``op`` on a pooled connection, in a transaction unless told otherwise. Only
        what is atomic is retried whole after a deadlock (it was undone entirely): a
        transaction, or an op of one statement; any other op retries its own atomic steps
        (``messages.atomically``)."""
        attempts = messages.ATTEMPTS if transaction or single_statement else 1
        for attempt in range(attempts):
            touched, token = wakeups.begin()
            try:
                async with self._pool.acquire() as conn:
                    if not transaction:
                        result = await op(conn)
                    else:
                        async with conn.transaction():
                            result = await op(conn)
                self._notifier.announce(touched)
                return result
            except PostroomError:
                raise
            except RETRYABLE:
                if attempt == attempts - 1:
                    raise ServiceUnavailable("The store is busy; retry the request.") from None
            except asyncpg.exceptions.ForeignKeyViolationError as exc:
                raise QueueDoesNotExist("The specified queue does not exist.") from exc
            except UNAVAILABLE as exc:
                raise ServiceUnavailable(f"The store is unavailable: {type(exc).__name__}") from exc
            finally:
                wakeups.end(token)
        raise ServiceUnavailable("The store is busy; retry the request.")

    async def _announce(self, conn: asyncpg.Connection, notice: str) -> None:
        """A change notice, sent inside the changing transaction: it is delivered to the
        other nodes only if, and once, the transaction commits."""
        await conn.execute(Q["notify"], CHANNEL, notice)

    async def shared_setting(self, name: str, make: Callable[[], str]) -> str:
        async def op(conn: asyncpg.Connection) -> str:
            found = await conn.fetchval(Q["setting"], name)
            if found is not None:
                return str(found)
            await conn.execute(Q["insert_setting"], name, make())
            return str(await conn.fetchval(Q["setting"], name))

        return await self._tx(op)

    def set_wakeup(self, callback: Callable[[int | None], None]) -> None:
        self._wakeup = callback

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        if kind == "m" and self._wakeup is not None:
            for part in rest.split(","):
                try:
                    self._wakeup(int(part))
                except ValueError:
                    pass
        elif kind == "q":
            account, _, rest2 = rest.partition("/")
            region, _, name = rest2.partition("/")
            self._queues.drop(ResourceKey(account, region, name))
        else:
            self._on_sns_notice(kind, rest)

    async def _listen_forever(self) -> None:
        """Keep one connection LISTENing; after any gap, forget every cached record (a
        change may have been missed) and wake every waiter (a send may have been)."""
        while not self._closing:
            try:
                conn = await asyncpg.connect(self._dsn, server_settings=self._settings)
            except Exception:
                await asyncio.sleep(0.5)
                continue
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                self._forget_all()
                while not self._closing and not conn.is_closed():
                    await asyncio.sleep(0.5)
                    try:
                        await conn.execute("SELECT 1")
                    except Exception:
                        break
            except Exception:
                log.warning("listener connection lost; reconnecting")
            finally:
                self._forget_all()
                if not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(0.2)

    def _forget_all(self) -> None:
        self._queues.clear()
        self._forget_sns()
        if self._wakeup is not None:
            self._wakeup(None)

    # ---- queues -------------------------------------------------------------
    async def create_queue(self, key: ResourceKey, attributes: dict[str, str], tags: dict[str, str], now_ms: int,
                           reuse_after_ms: int | None) -> tuple[Queue, bool]:
        async def op(conn: asyncpg.Connection) -> tuple[Queue, bool]:
            row = await conn.fetchrow(Q["queue_by_key"], key.account, key.region, key.name)
            if row is not None:
                return queue_record(row), False
            if reuse_after_ms is not None:
                gone = await conn.fetchval(Q["deleted_at"], key.account, key.region, key.name)
                if gone is not None and now_ms - gone < reuse_after_ms:
                    raise QueueDeletedRecently(
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name.")
            qid = await conn.fetchval(Q["insert_queue"], key.account, key.region, key.name, dump_map(attributes),
                                      dump_map(tags), now_ms)
            if qid is None:
                return queue_record(await conn.fetchrow(Q["queue_by_key"], key.account, key.region, key.name)), False
            await self._announce(conn, queue_notice(key))
            return Queue(qid, key.account, key.region, key.name, dict(attributes), dict(tags), now_ms, now_ms), True

        queue, created = await self._tx(op)
        if created:
            self._queues.drop(key)
        return queue, created

    async def get_queue(self, key: ResourceKey, *, fresh: bool = False) -> Queue | None:
        if not fresh:
            cached = self._queues.get(key)
            if cached is not None:
                return cached

        async def read() -> Queue | None:
            row = await self._tx(lambda conn: conn.fetchrow(Q["queue_by_key"], key.account, key.region, key.name),
                                 transaction=False)
            return queue_record(row) if row is not None else None

        return await self._queues.fill(key, read)

    async def list_queues(self, account: str, region: str, prefix: str, after: str | None,
                          limit: int) -> list[Queue]:
        rows = await self._tx(lambda conn: conn.fetch(Q["list_queues"], account, region, prefix, after or "", limit),
                              transaction=False)
        return [queue_record(r) for r in rows]

    async def delete_queue(self, key: ResourceKey, now_ms: int) -> bool:
        async def op(conn: asyncpg.Connection) -> bool:
            row = await conn.fetchrow(Q["queue_by_key"], key.account, key.region, key.name)
            if row is None:
                return False
            await conn.execute(Q["delete_queue"], row["queue_id"])
            await conn.execute(Q["remember_deleted"], key.account, key.region, key.name, now_ms)
            await self._announce(conn, queue_notice(key))
            return True

        found = await self._tx(op)
        self._queues.drop(key)
        return found

    async def update_queue(self, key: ResourceKey, change: QueueMutation, now_ms: int) -> Queue:
        async def op(conn: asyncpg.Connection) -> Queue:
            row = await conn.fetchrow(Q["lock_queue_by_key"], key.account, key.region, key.name)
            if row is None:
                raise QueueDoesNotExist("The specified queue does not exist.")
            current = queue_record(row)
            updated = queue_changes.apply(current, change(current), now_ms)
            await conn.execute(Q["update_queue"], updated.queue_id, dump_map(updated.attributes),
                               dump_map(updated.tags), updated.modified_ms)
            await self._announce(conn, queue_notice(key))
            return updated

        updated = await self._tx(op)
        self._queues.drop(key)
        return updated

    async def dead_letter_sources(self, dlq: Queue) -> list[Queue]:
        # The attributes column is JSON text in which RedrivePolicy is itself a JSON string,
        # so the ARN appears there quoted as \"<arn>\"; the rows found are then checked.
        needle = json.dumps(json.dumps(dlq.arn))[1:-1]
        rows = await self._tx(lambda conn: conn.fetch(Q["dead_letter_sources"], dlq.account, dlq.region,
                                                      needle), transaction=False)
        sources = [queue_record(r) for r in rows]
        return [q for q in sources
                if (p := redrive_policy(q.attributes)) is not None and p.dead_letter_target_arn == dlq.arn]

    async def _queue_by_arn(self, arn: str) -> Queue | None:
        parsed = parse_queue_arn(arn)
        return await self.get_queue(ResourceKey(parsed.account, parsed.region, parsed.name))

    # ---- messages -----------------------------------------------------------
    async def send(self, queue: Queue, msgs: Sequence[NewMessage], now_ms: int,
                   dedup_window_ms: int) -> list[SendResult]:
        if not queue.fifo:
            return await self._standard_sends.submit(queue.queue_id, [(queue, m, now_ms) for m in msgs])
        return await self._tx(lambda conn: messages.send(conn, queue, msgs, now_ms, dedup_window_ms),
                              transaction=len(msgs) > 1, single_statement=True)

    async def _flush_standard(self, _queue_id: int, items: list[tuple[Queue, NewMessage, int]]) -> list[SendResult]:
        queue = items[0][0]
        return await self._tx(lambda conn: messages.send_standard(conn, queue, [(m, t) for _, m, t in items]),
                              transaction=False, single_statement=True)

    async def receive(self, queue: Queue, request: ReceiveRequest) -> ReceiveOutcome:
        dlq = await self.get_queue(request.dlq) if request.dlq is not None else None
        if queue.fifo:
            return await self._tx(lambda conn: messages.receive_fifo(conn, queue, request, dlq))
        return await self._tx(lambda conn: messages.receive_standard(conn, queue, request, dlq), transaction=False)

    async def delete(self, queue: Queue, receipt_handles: Sequence[tuple[str, str]],
                     now_ms: int) -> list[Exception | None]:
        return await self._tx(lambda conn: messages.delete(conn, queue, receipt_handles, now_ms),
                              transaction=queue.fifo, single_statement=True)

    async def change_visibility(self, queue: Queue, changes: Sequence[VisibilityChange],
                                now_ms: int) -> list[Exception | None]:
        return await self._tx(lambda conn: messages.change_visibility(conn, queue, changes, now_ms))

    async def purge(self, queue: Queue, now_ms: int, min_interval_ms: int | None) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            found = await conn.fetchrow(Q["purge_guard"], queue.queue_id)
            if found is None:
                raise QueueDoesNotExist("The specified queue does not exist.")
            last = found["last_purge_ms"]
            if min_interval_ms is not None and last is not None and now_ms - last < min_interval_ms:
                raise PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.")
            await conn.execute(Q["purge_messages"], queue.queue_id)
            await conn.execute(Q["set_last_purge"], now_ms, queue.queue_id)

        await self._tx(op)

    async def counts(self, queue: Queue, now_ms: int) -> QueueCounts:
        row = await self._tx(lambda conn: conn.fetchrow(Q["count_messages"], queue.queue_id, now_ms),
                             transaction=False)
        return QueueCounts(int(row[0]), int(row[1]), int(row[2]), row[3])

    async def expire(self, now_ms: int) -> int:
        async def op(conn: asyncpg.Connection) -> int:
            n = 0
            for row in await conn.fetch(Q["retention_periods"]):
                cutoff = now_ms - retention_ms(load_map(row["attributes"]))
                status = await conn.execute(Q["expire_messages"], row["queue_id"], cutoff)
                n += int(status.split()[-1])
            await conn.execute(Q["expire_dedup"], now_ms)
            await conn.execute(Q["expire_attempts"], now_ms)
            await conn.execute(Q["fold_counts"], FOLD_COUNTS_BATCH)
            return n

        return await self._tx(op)

    # ---- message move tasks ---------------------------------------------------
    async def start_move_task(self, source: Queue, task: MoveTask) -> MoveTask:
        return await self._tx(lambda conn: move_tasks.start(conn, source, task))

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTask]:
        return await self._tx(lambda conn: move_tasks.list_for(conn, source_arn, limit), transaction=False)

    async def running_move_tasks(self) -> list[MoveTask]:
        return await self._tx(move_tasks.running, transaction=False)

    async def get_move_task(self, task_handle: str) -> MoveTask | None:
        return await self._tx(lambda conn: move_tasks.get(conn, task_handle), transaction=False)

    async def cancel_move_task(self, task_handle: str) -> MoveTask:
        return await self._tx(lambda conn: move_tasks.cancel(conn, task_handle))

    async def move_messages(self, task: MoveTask, limit: int, now_ms: int) -> MoveTask:
        lookup: dict[str, Queue | None] = {}
        for arn in {task.source_arn, *([task.destination_arn] if task.destination_arn else [])}:
            lookup[arn] = await self._queue_by_arn(arn)

        async def by_arn(arn: str) -> Queue | None:
            if arn not in lookup:
                lookup[arn] = await self._queue_by_arn(arn)
            return lookup[arn]

        return await self._tx(lambda conn: move_tasks.move(conn, task, limit, now_ms, by_arn))

    async def close(self) -> None:
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):
                pass
        await self._pool.close()
