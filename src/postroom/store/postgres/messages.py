"""Message operations of the PostgreSQL store.

Every decision that several nodes could race on is made inside PostgreSQL: standard
receives claim rows with ``FOR UPDATE SKIP LOCKED``; FIFO sends lock their queue's row
(sequence numbers and the dedup check happen under that lock); FIFO receives of one
queue serialise on an advisory lock, so a group locked by a receive on node A is locked
for node B too. The rules themselves (retention, redrive, FIFO group order, dedup scope)
come from ``postroom.core.sqs.delivery_rules``.

Retrying after a deadlock or serialization failure is only safe for a step that is
atomic: a whole transaction, or a single statement. A standard receive is not one
transaction (its claim commits on its own, so that a receive costs one round trip):
after its claim, the messages it claimed are decided, and only the follow-up that moves
some of them to the DLQ or deletes expired ones is retried — as a transaction of its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import asyncpg

from postroom.core.arns import format_sequence_number
from postroom.core.model import NewMessage, Queue, ReceiveOutcome, SendResult, StoredMessage
from postroom.core.sqs.delivery_rules import Fate, fate, fifo_group_run
from postroom.errors import ReceiptHandleIsInvalid
from postroom.store import receipts
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_attributes
from postroom.store.postgres.queries import Q
from postroom.store.postgres.wakeups import touch
from postroom.store.rows import MessageRow, message_row, stored_message

log = logging.getLogger(__name__)

ATTEMPT_WINDOW_MS = 300_000
CHANNEL = "postroom"
RETRYABLE = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
ATTEMPTS = 3
T = TypeVar("T")


async def atomically(step: Callable[[], Awaitable[T]]) -> T:
    """Run an atomic step (one statement, or one transaction), again after a deadlock or
    serialization failure — which undid the step entirely."""
    for attempt in range(ATTEMPTS):
        try:
            return await step()
        except RETRYABLE:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def send(conn: asyncpg.Connection, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
               dedup_window_ms: int) -> list[SendResult]:
    """Standard queues: one INSERT of every row, in one statement.
    FIFO queues: ``postroom_send_fifo`` per message (migrations 0002 and 0008: it
    deduplicates in the scope the queue was created with, ``delivery_rules.dedup_scope``),
    in the caller's transaction, so a batch is all-or-nothing and in order."""
    if not queue.fifo:
        return await send_standard(conn, queue, [(m, now_ms) for m in messages])
    qid = queue.queue_id
    results: list[SendResult] = []
    for m in messages:
        row = await conn.fetchrow(
            Q["send_fifo"], qid, m.dedup_id or "", m.message_id, m.group_id, m.body, m.md5_of_body,
            dump_attributes(m.attributes), m.md5_of_attributes, dump_attributes(m.system_attributes),
            m.md5_of_system_attributes, m.sender_id, now_ms, now_ms + m.delay_ms, dedup_window_ms)
        results.append(SendResult(row["message_id"], format_sequence_number(row["seq"]), duplicate=row["duplicate"]))
        if not row["duplicate"]:
            touch(qid)
    return results


def _columns(rows: Sequence[tuple[int, NewMessage, int]]) -> list[list[Any]]:
    """(queue id, message, now) rows as the column arrays ``insert_deliveries`` unnests."""
    cols: list[list[Any]] = [[] for _ in range(15)]
    for qid, m, now_ms in rows:
        for i, v in enumerate((qid, m.message_id, None, m.group_id, None, m.body, m.md5_of_body,
                               dump_attributes(m.attributes), m.md5_of_attributes,
                               dump_attributes(m.system_attributes), m.md5_of_system_attributes,
                               m.sender_id, now_ms, now_ms + m.delay_ms, None)):
            cols[i].append(v)
    return cols


async def send_standard(conn: asyncpg.Connection, queue: Queue,
                        messages: Sequence[tuple[NewMessage, int]]) -> list[SendResult]:
    """Every row in one statement (one commit)."""
    await insert_standard(conn, [(queue.queue_id, m, t) for m, t in messages])
    return [SendResult(m.message_id, None) for m, _ in messages]


async def insert_standard(conn: asyncpg.Connection, rows: Sequence[tuple[int, NewMessage, int]]) -> None:
    """Messages into standard queues (any number of them) in one statement; a queue that
    no longer exists fails it with a foreign key violation."""
    if not rows:
        return
    await conn.execute(Q["insert_deliveries"], *_columns(rows))
    for qid in {qid for qid, _, _ in rows}:
        touch(qid)


async def _move_to_dlq(conn: asyncpg.Connection, source: Queue, dlq: Queue, row: MessageRow) -> None:
    """AWS (SQS Developer Guide, "Configure a dead-letter queue redrive"): a message moved
    into a FIFO dead-letter queue has its deduplication id replaced by its MessageId."""
    seq = await conn.fetchval(Q["take_sequence"], dlq.queue_id) if dlq.fifo else None
    dedup_id = row.message_id if dlq.fifo else row.dedup_id
    await conn.execute(Q["insert_message"], dlq.queue_id, row.message_id, seq, row.group_id, dedup_id, row.body,
                       row.md5_body, row.attrs, row.md5_attrs, row.sys_attrs, row.md5_sys_attrs, row.sender_id,
                       row.sent_ms, row.sent_ms, source.arn)
    await conn.execute(Q["delete_message"], row.id)
    touch(dlq.queue_id)


async def _dispose(conn: asyncpg.Connection, queue: Queue, dlq: Queue | None,
                   doomed: list[tuple[Fate, MessageRow]]) -> int:
    """Expire or dead-letter claimed rows, in one transaction; returns how many moved."""
    moved = 0
    async with conn.transaction():
        for outcome, row in doomed:
            if outcome is Fate.DEAD_LETTER and dlq is not None:
                await _move_to_dlq(conn, queue, dlq, row)
                moved += 1
            else:
                await conn.execute(Q["delete_message"], row.id)
    return moved


async def receive_standard(conn: asyncpg.Connection, queue: Queue, req: ReceiveRequest,
                           dlq: Queue | None) -> ReceiveOutcome:
    """Claim up to N visible rows in one statement; claimed rows past retention or past
    the redrive limit are then deleted or dead-lettered in a transaction of their own,
    instead of being handed out. What was claimed for delivery is always returned."""
    qid = queue.queue_id
    now = req.now_ms
    min_sent = now - req.retention_ms
    out: list[StoredMessage] = []
    moved = 0
    for _round in range(4):
        want = req.max_messages - len(out)
        claimed = await atomically(partial(conn.fetch, Q["standard_receive"], qid, now, now + req.visibility_ms, want))
        if not claimed:
            break
        doomed: list[tuple[Fate, MessageRow]] = []
        for row in map(message_row, claimed):
            outcome = fate(row.sent_ms, row.receive_count - 1, min_sent, req.max_receive_count, dlq is not None)
            if outcome is Fate.DELIVER:
                out.append(stored_message(qid, row, row.token or "", row.receive_count,
                                          row.first_receive_ms or now))
            else:
                doomed.append((outcome, row))
        if not doomed:
            break
        try:
            moved += await atomically(partial(_dispose, conn, queue, dlq, doomed))
        except RETRYABLE:
            # They stay claimed (invisible, not handed out) until their visibility runs out,
            # and the next receive after that disposes of them again.
            log.warning("could not dispose of %d claimed messages of %s; retried later", len(doomed), queue.arn)
            break
        if len(out) >= req.max_messages:
            break
    next_visible = None if out else await conn.fetchval(Q["next_visible"], qid, now)
    return ReceiveOutcome(out, next_visible, moved)


async def receive_fifo(conn: asyncpg.Connection, queue: Queue, req: ReceiveRequest,
                       dlq: Queue | None) -> ReceiveOutcome:
    """Runs in one transaction (the caller's), so a retry after a deadlock is safe."""
    qid = queue.queue_id
    now = req.now_ms
    await conn.execute(Q["fifo_lock"], qid)
    if req.attempt_id:
        again_msgs = await _repeat_attempt(conn, qid, req)
        if again_msgs is not None:
            return ReceiveOutcome(again_msgs)
    min_sent = now - req.retention_ms
    out: list[StoredMessage] = []
    moved = 0
    for _round in range(4):
        want = req.max_messages - len(out)
        if want <= 0:
            break
        rows = await _fifo_candidates(conn, qid, now, want, min_sent)
        if not rows:
            break
        again = False
        updates = []
        for row in rows:
            outcome = fate(row.sent_ms, row.receive_count, min_sent, req.max_receive_count, dlq is not None)
            if outcome is Fate.EXPIRE:
                await conn.execute(Q["delete_message"], row.id)
                again = True
            elif outcome is Fate.DEAD_LETTER:
                assert dlq is not None
                await _move_to_dlq(conn, queue, dlq, row)
                moved += 1
                again = True
            else:
                token = receipts.new_token()
                first = row.first_receive_ms if row.first_receive_ms is not None else now
                updates.append((now + req.visibility_ms, now, token, row.id))
                out.append(stored_message(qid, row, token, row.receive_count + 1, first))
        if updates:
            await conn.executemany(Q["mark_received"], updates)
        if not again:
            break
    next_visible = None
    if not out:
        next_visible = await conn.fetchval(Q["next_visible"], qid, now)
    elif req.attempt_id:
        await conn.execute(Q["save_attempt"], qid, req.attempt_id, json.dumps([m.receipt_handle for m in out]),
                           now + ATTEMPT_WINDOW_MS)
    return ReceiveOutcome(out, next_visible, moved)


async def _fifo_candidates(conn: asyncpg.Connection, qid: int, now: int, want: int,
                           min_sent: int) -> list[MessageRow]:
    """As many messages of one group as possible, in order, groups in the order their first
    message became visible (``postroom.core.sqs.delivery_rules``)."""
    chosen: list[str] = []
    out: list[MessageRow] = []
    while len(out) < want:
        group = await conn.fetchval(Q["fifo_next_group"], qid, now, chosen)
        if group is None:
            break
        chosen.append(group)
        head = await conn.fetch(Q["fifo_group_head"], qid, group, want - len(out) + 10)
        out += fifo_group_run(map(message_row, head), now, min_sent, want - len(out))
    return out


async def _repeat_attempt(conn: asyncpg.Connection, qid: int, req: ReceiveRequest) -> list[StoredMessage] | None:
    found = await conn.fetchval(Q["find_attempt"], qid, req.attempt_id, req.now_ms)
    if found is None:
        return None
    out = []
    for handle in json.loads(found):
        row_id, token, _message_id = receipts.decode(handle, qid)
        raw = await conn.fetchrow(Q["message_by_row"], row_id, qid)
        if raw is None:
            return None
        row = message_row(raw)
        if row.token != token or row.visible_ms <= req.now_ms:
            return None
        out.append(stored_message(qid, row, token, row.receive_count, row.first_receive_ms or req.now_ms))
    return out


async def delete(conn: asyncpg.Connection, queue: Queue, entries: Sequence[tuple[str, str]],
                 now_ms: int) -> list[Exception | None]:
    """One DELETE for the whole batch, as AWS rules per queue type
    (``postroom.store.receipts``): on a standard queue any handle of the message deletes
    it; on a FIFO queue only the handle of the receive in flight, and a handle of a
    message still there but no longer in that receive is "The receipt handle has
    expired". A message already gone deletes nothing and succeeds."""
    results: list[Exception | None] = [None] * len(entries)
    decoded: dict[int, receipts.Receipt] = {}
    for i, (_entry_id, handle) in enumerate(entries):
        try:
            decoded[i] = receipts.decode(handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results[i] = exc
    if not decoded:
        return results
    ids = [r.row_id for r in decoded.values()]
    tokens = [r.token for r in decoded.values()]
    message_ids = [r.message_id for r in decoded.values()]
    deleted = {r["id"] for r in await conn.fetch(Q["delete_by_handles"], queue.queue_id, ids, tokens,
                                                 now_ms if queue.fifo else None, message_ids)}
    if not queue.fifo:
        return results
    missed = {i: r for i, r in decoded.items() if r.row_id not in deleted}
    if missed:
        present = {r["id"] for r in await conn.fetch(Q["messages_present"], queue.queue_id,
                                                     [r.row_id for r in missed.values()],
                                                     [r.message_id for r in missed.values()])}
        for i, receipt in missed.items():
            if receipt.row_id in present:
                results[i] = receipts.expired(entries[i][1])
    if deleted:
        touch(queue.queue_id)
    return results


async def change_visibility(conn: asyncpg.Connection, queue: Queue, changes: Sequence[VisibilityChange],
                            now_ms: int) -> list[Exception | None]:
    """The handle's own receive is matched in the UPDATE itself, so a stale handle never
    changes the timeout of the message's next receiver. An old handle (timeout over, or
    the message received again) succeeds and changes nothing, as on AWS; a handle of a
    message that is gone is InvalidParameterValue (``receipts.gone``)."""
    results: list[Exception | None] = []
    for change in changes:
        try:
            row_id, token, message_id = receipts.decode(change.receipt_handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results.append(exc)
            continue
        changed = await conn.fetchval(Q["set_visibility"], now_ms + change.visibility_ms, row_id, queue.queue_id,
                                      token, now_ms)
        if changed is not None or await conn.fetchval(Q["message_exists"], row_id, queue.queue_id,
                                                      message_id) is not None:
            results.append(None)
        else:
            results.append(receipts.gone(change.receipt_handle))
    touch(queue.queue_id)
    return results
