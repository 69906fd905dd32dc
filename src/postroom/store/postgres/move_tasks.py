"""Message move tasks (DLQ redrive) in the PostgreSQL store.

Every node runs the mover; a task's row is locked (``SKIP LOCKED``) while one node
moves a slice, and ``last_tick_ms`` meters the slices, so MaxNumberOfMessagesPerSecond
holds however many nodes there are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from postroom.core.model import MoveTask, Queue
from postroom.errors import InvalidParameterValue, ResourceNotFound
from postroom.ids import new_uuid
from postroom.store.postgres.queries import Q
from postroom.store.postgres.wakeups import touch
from postroom.store.rows import Row, message_row

DEFAULT_RATE = 500


ALREADY_RUNNING = ("There is already a task running. Only one active task is allowed for a source queue arn at a "
                   "given time.")
"""AWS's answer (InvalidParameterValue, 400) to a second StartMessageMoveTask on a source
with a task running (LocalStack's AWS-recorded test_start_multiple_move_tasks snapshot)."""
NON_EXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
"""The FailureReason AWS reports when a task's destination queue is gone (LocalStack's
AWS-recorded test_move_task_delete_destination_queue_while_running snapshot)."""
NO_MESSAGE_SOURCE = "CouldNotDetermineMessageSource"
"""FailureReason when a message has no source to go back to (see the SQLite store)."""


def _task(row: Row) -> MoveTask:
    return MoveTask(task_handle=row["task_handle"], source_arn=row["source_arn"],
                    destination_arn=row["destination_arn"], max_per_second=row["max_per_second"],
                    status=row["status"], started_ms=row["started_ms"], moved=row["moved"], to_move=row["to_move"],
                    failure_reason=row["failure_reason"])


async def start(conn: asyncpg.Connection, source: Queue, task: MoveTask) -> MoveTask:
    await conn.execute(Q["source_lock"], task.source_arn)
    if await conn.fetchval(Q["running_move_task"], task.source_arn) is not None:
        raise InvalidParameterValue(ALREADY_RUNNING)
    last_row, count = await conn.fetchrow(Q["max_row"], source.queue_id)
    await conn.execute(Q["insert_move_task"], task.task_handle, task.source_arn, task.destination_arn,
                       task.max_per_second, task.started_ms, count, last_row)
    return MoveTask(task.task_handle, task.source_arn, task.destination_arn, task.max_per_second, "RUNNING",
                    task.started_ms, 0, count)


async def list_for(conn: asyncpg.Connection, source_arn: str, limit: int) -> list[MoveTask]:
    return [_task(r) for r in await conn.fetch(Q["move_tasks_by_source"], source_arn, limit)]


async def running(conn: asyncpg.Connection) -> list[MoveTask]:
    return [_task(r) for r in await conn.fetch(Q["running_move_tasks"])]


async def get(conn: asyncpg.Connection, handle: str) -> MoveTask | None:
    row = await conn.fetchrow(Q["move_task"], handle)
    return _task(row) if row else None


async def cancel(conn: asyncpg.Connection, handle: str) -> MoveTask:
    row = await conn.fetchrow(Q["move_task"] + " FOR UPDATE", handle)
    if row is None:
        raise ResourceNotFound("Task does not exist.")
    task = _task(row)
    if task.status != "RUNNING":
        raise ResourceNotFound("Only active tasks can be cancelled.")
    await conn.execute(Q["update_move_task"], "CANCELLED", task.moved, None, handle, row["last_tick_ms"])
    return MoveTask(task.task_handle, task.source_arn, task.destination_arn, task.max_per_second, "CANCELLED",
                    task.started_ms, task.moved, task.to_move, task.failure_reason)


async def move(conn: asyncpg.Connection, task: MoveTask, limit: int, now_ms: int,
               queue_by_arn: Callable[[str], Awaitable[Queue | None]]) -> MoveTask:
    row = await conn.fetchrow(Q["lock_move_task"], task.task_handle)
    if row is None:
        return task
    current = _task(row)
    if current.status != "RUNNING":
        return current
    rate = current.max_per_second or DEFAULT_RATE
    last_tick = row["last_tick_ms"] or now_ms
    allowed = min(limit, int(rate * max(0, now_ms - last_tick) / 1000)) if row["last_tick_ms"] else limit
    if allowed <= 0:
        return current
    source = await queue_by_arn(current.source_arn)
    if source is None:
        await conn.execute(Q["update_move_task"], "FAILED", current.moved, NON_EXISTENT_QUEUE,
                           task.task_handle, now_ms)
        return await get(conn, task.task_handle) or current
    moved = current.moved
    for m in map(message_row, await conn.fetch(Q["move_candidates"], source.queue_id, row["last_row"], allowed)):
        target_arn = current.destination_arn or m.dlq_source_arn
        target = await queue_by_arn(target_arn) if target_arn else None
        if target is None:
            reason = NON_EXISTENT_QUEUE if target_arn else NO_MESSAGE_SOURCE
            await conn.execute(Q["update_move_task"], "FAILED", moved, reason, task.task_handle, now_ms)
            return await get(conn, task.task_handle) or current
        seq = await conn.fetchval(Q["take_sequence"], target.queue_id) if target.fifo else None
        # a redriven message is a new message: new MessageId, enqueued (and retained) from now
        await conn.execute(Q["insert_message"], target.queue_id, new_uuid(), seq, m.group_id, m.dedup_id,
                           m.body, m.md5_body, m.attrs, m.md5_attrs, m.sys_attrs, m.md5_sys_attrs, m.sender_id,
                           now_ms, now_ms, None)
        await conn.execute(Q["delete_message"], m.id)
        touch(target.queue_id)
        moved += 1
    remaining = await conn.fetchrow(Q["move_candidates"], source.queue_id, row["last_row"], 1)
    status = "RUNNING" if remaining is not None else "COMPLETED"
    await conn.execute(Q["update_move_task"], status, moved, None, task.task_handle, now_ms)
    return await get(conn, task.task_handle) or current
