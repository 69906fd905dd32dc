"""The store interface: every piece of state that decides correctness lives here.

Each method is one atomic step: it either happens completely or not at all, and once
its awaitable returns the effect is durable (committed, and flushed to disk unless the
store was opened with relaxed durability). The service layer decides *what* to do
(validation, defaults, AWS's rules); the store executes it atomically, so that several
server processes sharing one database (PostgreSQL, issue #3) make the same decisions a
single process makes on SQLite.

Times are milliseconds since the epoch and are always passed in by the caller, so a
test clock drives them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from postroom.core.model import (
    MoveTask,
    NewMessage,
    Queue,
    QueueCounts,
    ReceiveOutcome,
    SendResult,
)


@dataclass(frozen=True)
class ReceiveRequest:
    """What a receive may hand out.

    ``visibility_ms`` is how long received messages stay invisible. ``retention_ms`` is
    the queue's MessageRetentionPeriod: older messages are never handed out.
    ``max_receive_count``/``dlq`` come from the queue's RedrivePolicy: a message that
    has already been received ``max_receive_count`` times is moved to ``dlq`` (by queue
    name, same account) instead of being handed out again.
    ``attempt_id`` is FIFO's ReceiveRequestAttemptId: a retry with the same id within
    five minutes returns the same messages, if they are still in flight.
    """

    max_messages: int
    visibility_ms: int
    now_ms: int
    retention_ms: int
    max_receive_count: int | None = None
    dlq_name: str | None = None
    attempt_id: str | None = None


@dataclass(frozen=True)
class VisibilityChange:
    entry_id: str
    receipt_handle: str
    visibility_ms: int


class Store(Protocol):
    """Durable state of queues and messages. See the module docstring for the promise
    every method keeps."""

    # ---- queues -------------------------------------------------------------
    async def create_queue(
        self, account: str, region: str, name: str, attributes: dict[str, str], tags: dict[str, str],
        now_ms: int, reuse_after_ms: int | None,
    ) -> tuple[Queue, bool]:
        """Create the queue, or return the existing one of that name and ``False``.
        ``reuse_after_ms`` (AWS timing rules on): raise QueueDeletedRecently if a queue of
        that name was deleted less than that long ago."""
        ...

    async def get_queue(self, account: str, name: str) -> Queue | None: ...

    async def list_queues(self, account: str, prefix: str, after: str | None, limit: int) -> list[Queue]:
        """Queues whose name starts with ``prefix``, ordered by name, strictly after ``after``."""
        ...

    async def delete_queue(self, account: str, name: str, now_ms: int) -> bool:
        """Delete the queue and all its messages; ``False`` if it did not exist."""
        ...

    async def update_queue(
        self, account: str, name: str, attributes: dict[str, str] | None, tags: dict[str, str] | None,
        now_ms: int,
    ) -> Queue:
        """Replace the queue's attributes and/or tags (None leaves that part alone).
        Raises QueueDoesNotExist."""
        ...

    async def dead_letter_sources(self, account: str, dlq_arn: str) -> list[Queue]: ...

    # ---- messages -----------------------------------------------------------
    async def send(
        self, queue: Queue, messages: Sequence[NewMessage], now_ms: int, dedup_window_ms: int,
    ) -> list[SendResult]:
        """Enqueue ``messages`` in order. On a FIFO queue each gets the next sequence
        number, and a message whose (scope, dedup id) was seen within the window is not
        enqueued: its result carries the original's MessageId and SequenceNumber."""
        ...

    async def receive(self, queue: Queue, request: ReceiveRequest) -> ReceiveOutcome:
        """Hand out up to ``max_messages`` visible messages and make them invisible for
        ``visibility_ms``, each with a fresh receipt handle. On a FIFO queue, no message
        of a group that has a message in flight is handed out, and a group's messages are
        handed out in sequence order."""
        ...

    async def delete(
        self, queue: Queue, receipt_handles: Sequence[tuple[str, str]], now_ms: int,
    ) -> list[Exception | None]:
        """Delete by (entry id, receipt handle). A malformed handle, or one for another
        queue, fails that entry with ReceiptHandleIsInvalid; a stale handle of a message
        that still exists deletes nothing on a standard queue (AWS: "the request succeeds,
        but the message might not be deleted") and fails on a FIFO queue."""
        ...

    async def change_visibility(
        self, queue: Queue, changes: Sequence[VisibilityChange], now_ms: int,
    ) -> list[Exception | None]:
        """Set each in-flight message's visibility to now + ``visibility_ms``. A message that
        is not in flight fails with MessageNotInflight."""
        ...

    async def purge(self, queue: Queue, now_ms: int, min_interval_ms: int | None) -> None:
        """Delete every message. With ``min_interval_ms`` (AWS timing rules on), raise
        PurgeQueueInProgress if the last purge was less than that long ago."""
        ...

    async def counts(self, queue: Queue, now_ms: int) -> QueueCounts: ...

    async def expire(self, now_ms: int) -> int:
        """Delete messages older than their queue's retention period, and dedup entries
        past their window. Returns the number of messages deleted."""
        ...

    # ---- message move tasks ---------------------------------------------------
    async def start_move_task(self, task: MoveTask) -> MoveTask:
        """Record a new move task. Raises UnsupportedOperation if the source already has
        a running task."""
        ...

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTask]: ...

    async def get_move_task(self, task_handle: str) -> MoveTask | None: ...

    async def running_move_tasks(self) -> list[MoveTask]: ...

    async def cancel_move_task(self, task_handle: str) -> MoveTask:
        """Mark a running task CANCELLING→CANCELLED. Raises ResourceNotFound."""
        ...

    async def move_messages(self, task: MoveTask, limit: int, now_ms: int) -> MoveTask:
        """Move up to ``limit`` messages for the task (oldest first) from its source DLQ to
        their original source queue (``DeadLetterQueueSourceArn``) or to the task's
        destination, each move atomic; returns the task with updated progress and status
        COMPLETED when the source is drained of what was there at the start."""
        ...

    async def shared_setting(self, name: str, make: Callable[[], str]) -> str:
        """The value stored under ``name``, storing ``make()`` first if there is none. When
        several processes race, the first commit wins and every one gets that value."""
        ...

    def set_wakeup(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(queue_id)`` when another process sharing this store made
        messages available in a queue (a send, a FIFO group unlocked), so long polls
        waiting here answer at once. A store with a single process never calls it."""
        ...

    async def close(self) -> None: ...
