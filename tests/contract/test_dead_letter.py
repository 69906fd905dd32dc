"""Dead-letter moves and message move tasks, as AWS documents them (SQS Developer Guide,
"Configure a dead-letter queue redrive" and "Troubleshooting DLQ redrive issues")."""

from __future__ import annotations

from postroom.core.model import MoveTask
from postroom.store.base import ReceiveRequest

from .conftest import T0, make_message


def _req(now: int, max_receive_count: int | None = None, dlq=None) -> ReceiveRequest:
    return ReceiveRequest(max_messages=10, visibility_ms=0, now_ms=now, retention_ms=345_600_000,
                          max_receive_count=max_receive_count, dlq=dlq)


async def _dead_letter(store, src, dlq, now: int) -> None:
    """Receive once (count 1), then again: with maxReceiveCount 1 the message moves to the DLQ."""
    assert len((await store.receive(src, _req(now, 1, dlq.key))).messages) == 1
    assert (await store.receive(src, _req(now + 1, 1, dlq.key))).messages == []


async def _run(store, task: MoveTask, now: int) -> MoveTask:
    """Move until the task ends, a second of the store's clock per step (the stores keep
    to the task's rate, and may report a step's outcome on the next one)."""
    for step in range(10):
        task = await store.move_messages(task, 100, now + step * 1000)
        if task.status != "RUNNING":
            break
    return task


async def test_a_redriven_message_is_a_new_message(store, new_queue):
    """"All redriven messages are considered new messages and are assigned a new messageID
    and enqueueTime": the move task gives the message a new MessageId and the move's time
    as SentTimestamp (which retention counts from); body and attributes stay."""
    src = await new_queue("redrive-src")
    dlq = await new_queue("redrive-dlq")
    (sent,) = await store.send(src, [make_message("poison")], T0, 300_000)
    await _dead_letter(store, src, dlq, T0 + 10)
    (in_dlq,) = (await store.receive(dlq, _req(T0 + 20))).messages
    assert in_dlq.message_id == sent.message_id and in_dlq.sent_ms == T0
    task = await store.start_move_task(dlq, MoveTask("h1", dlq.arn, None, None, "RUNNING", T0 + 50_000))
    task = await _run(store, task, T0 + 60_000)
    assert (task.status, task.moved) == ("COMPLETED", 1)
    (back,) = (await store.receive(src, _req(T0 + 80_000))).messages
    assert back.body == "poison"
    assert back.message_id != sent.message_id
    assert T0 + 60_000 <= back.sent_ms <= T0 + 70_000
    assert back.receive_count == 1


async def test_a_message_with_no_source_fails_the_task_with_could_not_determine_message_source(store, new_queue):
    """A task without DestinationArn that meets a message sent straight to the DLQ fails
    with FailureReason "CouldNotDetermineMessageSource"; the message stays."""
    dlq = await new_queue("nosrc-dlq")
    await store.send(dlq, [make_message("direct")], T0, 300_000)
    task = await store.start_move_task(dlq, MoveTask("h2", dlq.arn, None, None, "RUNNING", T0 + 1))
    task = await _run(store, task, T0 + 2)
    assert (task.status, task.failure_reason, task.moved) == ("FAILED", "CouldNotDetermineMessageSource", 0)
    assert [m.body for m in (await store.receive(dlq, _req(T0 + 20_000))).messages] == ["direct"]


async def test_a_fifo_dead_letter_queue_replaces_the_deduplication_id_by_the_message_id(store, new_queue):
    """"When a message is moved from a FIFO queue to a FIFO DLQ, the original message's
    deduplication ID will be replaced with the original message's ID."""
    src = await new_queue("dedup-src", fifo=True)
    dlq = await new_queue("dedup-dlq", fifo=True)
    (sent,) = await store.send(src, [make_message("poison", "g", dedup="d-1")], T0, 300_000)
    await _dead_letter(store, src, dlq, T0 + 10)
    (moved,) = (await store.receive(dlq, _req(T0 + 20))).messages
    assert (moved.message_id, moved.group_id) == (sent.message_id, "g")
    assert moved.dedup_id == sent.message_id
