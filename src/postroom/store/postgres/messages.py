"""Message operations of the PostgreSQL store.

Every decision that several nodes could race on is made inside PostgreSQL: standard
receives claim rows with ``FOR UPDATE SKIP LOCKED``; FIFO sends lock their queue's row
(sequence numbers and the dedup check happen under that lock); FIFO receives of one
queue serialise on an advisory lock, so a group locked by a receive on node A is locked
for node B too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from postroom.core.arns import format_sequence_number
from postroom.core.model import NewMessage, Queue, ReceiveOutcome, SendResult, StoredMessage
from postroom.errors import MessageNotInflight, ReceiptHandleIsInvalid
from postroom.store import receipts
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_attributes
from postroom.store.postgres.queries import Q
from postroom.store.postgres.wakeups import touch
from postroom.store.rows import stored_message

ATTEMPT_WINDOW_MS = 300_000
CHANNEL = "postroom"


async def send(conn: asyncpg.Connection, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
               dedup_window_ms: int) -> list[SendResult]:
    """Standard queues: one INSERT of every row plus the wake-up, in one statement.
    FIFO queues: ``postroom_send_fifo`` per message (see migration 0002), in the
    caller's transaction, so a batch is all-or-nothing and in order."""
    if not queue.fifo:
        return await send_standard(conn, queue, [(m, now_ms) for m in messages])
    qid = queue.queue_id
    by_group = queue.attributes.get("DeduplicationScope") == "messageGroup"
    results: list[SendResult] = []
    for m in messages:
        scope = (m.group_id or "") if by_group else ""
        row = await conn.fetchrow(
            Q["send_fifo"], qid, scope, m.dedup_id or "", m.message_id, m.group_id, m.body, m.md5_of_body,
            dump_attributes(m.attributes), m.md5_of_attributes, dump_attributes(m.system_attributes),
            m.md5_of_system_attributes, m.sender_id, now_ms, now_ms + m.delay_ms, dedup_window_ms)
        results.append(SendResult(row[0], format_sequence_number(row[1]), duplicate=row[2]))
        if not row[2]:
            touch(qid)
    return results


async def send_standard(conn: asyncpg.Connection, queue: Queue,
                        messages: Sequence[tuple[NewMessage, int]]) -> list[SendResult]:
    """Every row plus the wake-up in one statement (one commit)."""
    qid = queue.queue_id
    cols: list[list[Any]] = [[] for _ in range(14)]
    for m, now_ms in messages:
        for i, v in enumerate((m.message_id, None, m.group_id, None, m.body, m.md5_of_body,
                               dump_attributes(m.attributes), m.md5_of_attributes,
                               dump_attributes(m.system_attributes), m.md5_of_system_attributes,
                               m.sender_id, now_ms, now_ms + m.delay_ms, None)):
            cols[i].append(v)
    await conn.execute(Q["insert_messages"], qid, *cols)
    touch(qid)
    return [SendResult(m.message_id, None) for m, _ in messages]


async def _move_to_dlq(conn: asyncpg.Connection, source: Queue, dlq: Queue, row: Sequence[Any]) -> None:
    seq = await conn.fetchval(Q["take_sequence"], dlq.queue_id) if dlq.fifo else None
    await conn.execute(Q["insert_message"], dlq.queue_id, row[1], seq, row[3], row[4], row[5], row[6], row[7],
                       row[8], row[9], row[10], row[11], row[12], row[12], source.arn)
    await conn.execute(Q["delete_message"], row[0])
    touch(dlq.queue_id)


async def receive_standard(conn: asyncpg.Connection, queue: Queue, req: ReceiveRequest,
                           dlq: Queue | None) -> ReceiveOutcome:
    """Claim up to N visible rows in one statement; rows past retention or past the
    redrive limit are then deleted or dead-lettered instead of being handed out."""
    qid = queue.queue_id
    now = req.now_ms
    min_sent = now - req.retention_ms
    out: list[StoredMessage] = []
    moved = 0
    for _round in range(4):
        want = req.max_messages - len(out)
        rows = await conn.fetch(Q["standard_receive"], qid, now, now + req.visibility_ms, want)
        if not rows:
            break
        again = False
        for row in rows:
            if row[12] < min_sent:
                await conn.execute(Q["delete_message"], row[0])
                again = True
            elif req.max_receive_count is not None and dlq is not None and row[14] > req.max_receive_count:
                async with conn.transaction():
                    await _move_to_dlq(conn, queue, dlq, row)
                moved += 1
                again = True
            else:
                out.append(stored_message(qid, row, row[17], row[14], row[15]))
        if not again or len(out) >= req.max_messages:
            break
    next_visible = None if out else await conn.fetchval(Q["next_visible"], qid, now)
    return ReceiveOutcome(out, next_visible, moved)


async def receive_fifo(conn: asyncpg.Connection, queue: Queue, req: ReceiveRequest,
                       dlq: Queue | None) -> ReceiveOutcome:
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
            if row[12] < min_sent:
                await conn.execute(Q["delete_message"], row[0])
                again = True
                continue
            if req.max_receive_count is not None and dlq is not None and row[14] >= req.max_receive_count:
                await _move_to_dlq(conn, queue, dlq, row)
                moved += 1
                again = True
                continue
            token = receipts.new_token()
            first = row[15] if row[15] is not None else now
            updates.append((now + req.visibility_ms, now, token, row[0]))
            out.append(stored_message(qid, row, token, row[14] + 1, first))
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
                           min_sent: int) -> list[Sequence[Any]]:
    chosen: list[str] = []
    out: list[Sequence[Any]] = []
    while len(out) < want:
        group = await conn.fetchval(Q["fifo_next_group"], qid, now, chosen)
        if group is None:
            break
        chosen.append(group)
        for row in await conn.fetch(Q["fifo_group_head"], qid, group, want - len(out) + 10):
            if row[13] > now:
                break
            if row[12] < min_sent:
                continue
            out.append(row)
            if len(out) >= want:
                break
    return out


async def _repeat_attempt(conn: asyncpg.Connection, qid: int, req: ReceiveRequest) -> list[StoredMessage] | None:
    found = await conn.fetchval(Q["find_attempt"], qid, req.attempt_id, req.now_ms)
    if found is None:
        return None
    out = []
    for handle in json.loads(found):
        row_id, token = receipts.decode(handle, qid)
        row = await conn.fetchrow(Q["message_by_row"], row_id, qid)
        if row is None or row[17] != token or row[13] <= req.now_ms:
            return None
        out.append(stored_message(qid, row, token, row[14], row[15]))
    return out


async def delete(conn: asyncpg.Connection, queue: Queue, entries: Sequence[tuple[str, str]],
                 now_ms: int) -> list[Exception | None]:
    """One DELETE matching (row, receive token). A handle that deleted nothing is fine
    on a standard queue (the message is gone, or was received again: AWS "the request
    succeeds, but the message might not be deleted"); on a FIFO queue a handle of a
    message received again since is invalid."""
    results: list[Exception | None] = [None] * len(entries)
    decoded: dict[int, tuple[int, str]] = {}
    for i, (_entry_id, handle) in enumerate(entries):
        try:
            decoded[i] = receipts.decode(handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results[i] = exc
    if not decoded:
        return results
    ids = [rid for rid, _ in decoded.values()]
    tokens = [tok for _, tok in decoded.values()]
    deleted = {r[0] for r in await conn.fetch(Q["delete_by_handles"], queue.queue_id, ids, tokens)}
    if not queue.fifo:
        return results
    missed = [rid for rid, _ in decoded.values() if rid not in deleted]
    if missed:
        states = {r[0]: r for r in await conn.fetch(Q["message_states"], missed, queue.queue_id)}
        for i, (row_id, _token) in decoded.items():
            if row_id in states:
                results[i] = ReceiptHandleIsInvalid(
                    f'The receipt handle "{entries[i][1]}" has expired: the message was received again since.')
    if deleted:
        touch(queue.queue_id)
    return results


async def change_visibility(conn: asyncpg.Connection, queue: Queue, changes: Sequence[VisibilityChange],
                            now_ms: int) -> list[Exception | None]:
    results: list[Exception | None] = []
    for change in changes:
        try:
            row_id, token = receipts.decode(change.receipt_handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results.append(exc)
            continue
        state = await conn.fetchrow(Q["message_states"], [row_id], queue.queue_id)
        if state is None or state[1] != token or state[2] == 0 or state[3] <= now_ms:
            results.append(MessageNotInflight(
                f"Value {change.receipt_handle} for parameter ReceiptHandle is invalid. "
                "Reason: Message does not exist or is not available for visibility timeout change."))
            continue
        await conn.execute(Q["set_visibility"], now_ms + change.visibility_ms, row_id)
        results.append(None)
    touch(queue.queue_id)
    return results
