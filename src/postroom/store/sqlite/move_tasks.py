"""Message move tasks (DLQ redrive) in the SQLite store.

AWS: a move task moves the messages that are in the dead-letter queue when it starts,
oldest first, back to each message's original source queue or to a given destination.
Only one task per source can be RUNNING; a cancelled task keeps what it moved. A moved
message is a new message (AWS SQS Developer Guide, "Configure a dead-letter queue
redrive": "All redriven messages are considered new messages and are assigned a new
messageID and enqueueTime", and the retention period starts again): a new MessageId, and
SentTimestamp, which retention counts from, is the time of the move.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from postroom.core.model import MoveTask, Queue
from postroom.errors import InvalidParameterValue, ResourceNotFound
from postroom.ids import new_uuid
from postroom.store.rows import Row, message_row
from postroom.store.sqlite.messages import alive
from postroom.store.sqlite.queries import Q

ALREADY_RUNNING = ("There is already a task running. Only one active task is allowed for a source queue arn at a "
                   "given time.")
"""AWS's answer (InvalidParameterValue, 400) to a second StartMessageMoveTask on a source
with a task running (LocalStack's AWS-recorded test_start_multiple_move_tasks snapshot)."""
NON_EXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
"""The FailureReason AWS reports when a task's destination queue is gone (LocalStack's
AWS-recorded test_move_task_delete_destination_queue_while_running snapshot), or its
source queue (SQS Developer Guide, "Troubleshooting DLQ redrive issues": "The
NonExistentQueue error occurs when the Amazon SQS source queue doesn't exist, or was
deleted")."""
NO_MESSAGE_SOURCE = "CouldNotDetermineMessageSource"
"""The FailureReason of a task without DestinationArn that meets a message SQS did not
dead-letter itself, e.g. one sent straight to the DLQ (SQS Developer Guide,
"Troubleshooting DLQ redrive issues": "Failed: CouldNotDetermineMessageSource")."""


def _task(row: Row) -> MoveTask:
    return MoveTask(task_handle=row["task_handle"], source_arn=row["source_arn"],
                    destination_arn=row["destination_arn"], max_per_second=row["max_per_second"],
                    status=row["status"], started_ms=row["started_ms"], moved=row["moved"], to_move=row["to_move"],
                    failure_reason=row["failure_reason"])


def running(conn: sqlite3.Connection) -> list[MoveTask]:
    return [_task(r) for r in conn.execute(Q["running_move_tasks"]).fetchall()]


def start(conn: sqlite3.Connection, source: Queue, task: MoveTask) -> MoveTask:
    if conn.execute(Q["running_move_task"], (task.source_arn,)).fetchone() is not None:
        raise InvalidParameterValue(ALREADY_RUNNING)
    last_row, count = conn.execute(Q["max_row"], (source.queue_id,)).fetchone()
    conn.execute(Q["insert_move_task"], (task.task_handle, task.source_arn, task.destination_arn,
                                         task.max_per_second, "RUNNING", task.started_ms, count, last_row))
    return MoveTask(task.task_handle, task.source_arn, task.destination_arn, task.max_per_second, "RUNNING",
                    task.started_ms, 0, count)


def list_for(conn: sqlite3.Connection, source_arn: str, limit: int) -> list[MoveTask]:
    return [_task(r) for r in conn.execute(Q["move_tasks_by_source"], (source_arn, limit)).fetchall()]


def get(conn: sqlite3.Connection, handle: str) -> MoveTask | None:
    row = conn.execute(Q["move_task"], (handle,)).fetchone()
    return _task(row) if row else None


def cancel(conn: sqlite3.Connection, handle: str) -> MoveTask:
    row = conn.execute(Q["move_task"], (handle,)).fetchone()
    if row is None:
        raise ResourceNotFound("Task does not exist.")
    task = _task(row)
    if task.status != "RUNNING":
        raise ResourceNotFound("Only active tasks can be cancelled.")
    conn.execute(Q["update_move_task"], ("CANCELLED", task.moved, None, handle))
    return MoveTask(task.task_handle, task.source_arn, task.destination_arn, task.max_per_second, "CANCELLED",
                    task.started_ms, task.moved, task.to_move, task.failure_reason)


def move(conn: sqlite3.Connection, task: MoveTask, limit: int, now_ms: int,
         queue_by_arn: Callable[[str], Queue | None]) -> MoveTask:
    row = conn.execute(Q["move_task"], (task.task_handle,)).fetchone()
    if row is None:
        raise ResourceNotFound("Task does not exist.")
    current = _task(row)
    if current.status != "RUNNING":
        return current
    source = queue_by_arn(current.source_arn)
    if source is None:
        conn.execute(Q["update_move_task"], ("FAILED", current.moved, NON_EXISTENT_QUEUE, task.task_handle))
        return get(conn, task.task_handle) or current
    moved = current.moved
    for m in map(message_row, conn.execute(Q["move_candidates"], (source.queue_id, row["last_row"], limit))):
        target_arn = current.destination_arn or m.dlq_source_arn
        target = queue_by_arn(target_arn) if target_arn else None
        if target is not None and not alive(conn, target.queue_id):
            target = None
        if target is None:
            reason = NON_EXISTENT_QUEUE if target_arn else NO_MESSAGE_SOURCE
            conn.execute(Q["update_move_task"], ("FAILED", moved, reason, task.task_handle))
            return get(conn, task.task_handle) or current
        seq = None
        if target.fifo:
            seq = conn.execute(Q["take_sequence"], (1, target.queue_id, 1)).fetchone()[0]
        conn.execute(Q["insert_message"], (target.queue_id, new_uuid(), seq, m.group_id, m.dedup_id,
                                           m.body, m.md5_body, m.attrs, m.md5_attrs, m.sys_attrs, m.md5_sys_attrs,
                                           m.sender_id, now_ms, now_ms, None))
        conn.execute(Q["delete_message"], (m.id,))
        moved += 1
    remaining = conn.execute(Q["move_candidates"], (source.queue_id, row["last_row"], 1)).fetchone()
    status = "RUNNING" if remaining is not None else "COMPLETED"
    conn.execute(Q["update_move_task"], (status, moved, None, task.task_handle))
    return get(conn, task.task_handle) or current
