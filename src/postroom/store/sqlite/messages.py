"""Message operations of the SQLite store, run on the writer thread inside a transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from postroom.core.arns import format_sequence_number
from postroom.core.model import NewMessage, Queue, ReceiveOutcome, SendResult, StoredMessage
from postroom.errors import MessageNotInflight, ReceiptHandleIsInvalid
from postroom.store import receipts
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_attributes
from postroom.store.rows import stored_message
from postroom.store.sqlite.queries import Q

ATTEMPT_WINDOW_MS = 300_000
Row = tuple[Any, ...]


def send(conn: sqlite3.Connection, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
         dedup_window_ms: int) -> list[SendResult]:
    results: list[SendResult] = []
    qid = queue.queue_id
    if not queue.fifo:
        rows = [
            (qid, m.message_id, None, None, None, m.body, m.md5_of_body, dump_attributes(m.attributes),
             m.md5_of_attributes, dump_attributes(m.system_attributes), m.md5_of_system_attributes,
             m.sender_id, now_ms, now_ms + m.delay_ms, None)
            for m in messages
        ]
        conn.executemany(Q["insert_message"], rows)
        return [SendResult(m.message_id, None) for m in messages]
    by_group = queue.attributes.get("DeduplicationScope") == "messageGroup"
    for m in messages:
        scope = (m.group_id or "") if by_group else ""
        dedup_id = m.dedup_id or ""
        seen = conn.execute(Q["find_dedup"], (qid, scope, dedup_id)).fetchone()
        if seen is not None and seen[2] > now_ms:
            results.append(SendResult(seen[0], format_sequence_number(seen[1]), duplicate=True))
            continue
        seq = conn.execute(Q["take_sequence"], (1, qid, 1)).fetchone()[0]
        conn.execute(Q["insert_message"], (
            qid, m.message_id, seq, m.group_id, m.dedup_id, m.body, m.md5_of_body,
            dump_attributes(m.attributes), m.md5_of_attributes, dump_attributes(m.system_attributes),
            m.md5_of_system_attributes, m.sender_id, now_ms, now_ms + m.delay_ms, None))
        conn.execute(Q["upsert_dedup"], (qid, scope, dedup_id, m.message_id, seq, now_ms + dedup_window_ms))
        results.append(SendResult(m.message_id, format_sequence_number(seq)))
    return results


def _move_to_dlq(conn: sqlite3.Connection, source: Queue, dlq: Queue, row: Row) -> None:
    seq = None
    if dlq.fifo:
        seq = conn.execute(Q["take_sequence"], (1, dlq.queue_id, 1)).fetchone()[0]
    conn.execute(Q["insert_message"], (
        dlq.queue_id, row[1], seq, row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10],
        row[11], row[12], row[12], source.arn))
    conn.execute(Q["delete_message"], (row[0],))


def _fifo_candidates(conn: sqlite3.Connection, qid: int, req: ReceiveRequest, want: int,
                     min_sent: int) -> list[Row]:
    """AWS: "Amazon SQS first attempts to return as many messages with the same message
    group ID as possible", in order, from the oldest group that is not locked."""
    now = req.now_ms
    chosen: list[str] = []
    out: list[Row] = []
    while len(out) < want:
        g = conn.execute(Q["fifo_next_group"], (qid, now, json.dumps(chosen), now)).fetchone()
        if g is None:
            break
        chosen.append(g[0])
        for row in conn.execute(Q["fifo_group_head"], (qid, g[0], want - len(out) + 10)).fetchall():
            if row[13] > now:
                break
            if row[12] < min_sent:
                continue
            out.append(row)
            if len(out) >= want:
                break
    return out


def receive(conn: sqlite3.Connection, queue: Queue, req: ReceiveRequest, dlq: Queue | None) -> ReceiveOutcome:
    qid = queue.queue_id
    now = req.now_ms
    if queue.fifo and req.attempt_id:
        repeated = _repeat_attempt(conn, qid, req)
        if repeated is not None:
            return ReceiveOutcome(repeated)
    min_sent = now - req.retention_ms
    out: list[StoredMessage] = []
    moved = 0
    updates: list[tuple[int, int, str, int]] = []
    for _round in range(4):
        want = req.max_messages - len(out)
        if want <= 0:
            break
        if queue.fifo:
            rows = _fifo_candidates(conn, qid, req, want, min_sent)
        else:
            rows = conn.execute(Q["standard_candidates"], (qid, now, want)).fetchall()
        if not rows:
            break
        again = False
        for row in rows:
            if row[12] < min_sent:
                conn.execute(Q["delete_message"], (row[0],))
                again = True
                continue
            if req.max_receive_count is not None and dlq is not None and row[14] >= req.max_receive_count:
                _move_to_dlq(conn, queue, dlq, row)
                moved += 1
                again = True
                continue
            token = receipts.new_token()
            first = row[15] if row[15] is not None else now
            updates.append((now + req.visibility_ms, now, token, row[0]))
            out.append(stored_message(qid, row, token, row[14] + 1, first))
        if updates:
            conn.executemany(Q["mark_received"], updates)
            updates = []
        if not again:
            break
    next_visible = None
    if not out:
        next_visible = conn.execute(Q["next_visible"], (qid, now)).fetchone()[0]
    elif queue.fifo and req.attempt_id:
        handles = json.dumps([m.receipt_handle for m in out])
        conn.execute(Q["save_attempt"], (qid, req.attempt_id, handles, now + ATTEMPT_WINDOW_MS))
    return ReceiveOutcome(out, next_visible, moved)


def _repeat_attempt(conn: sqlite3.Connection, qid: int, req: ReceiveRequest) -> list[StoredMessage] | None:
    """AWS: "If a caller of ReceiveMessage can't track the ReceiveRequestAttemptId, … the
    same messages and receipt handles are returned" on a retry within 5 minutes, as long
    as none of them was deleted or had its visibility changed."""
    found = conn.execute(Q["find_attempt"], (qid, req.attempt_id, req.now_ms)).fetchone()
    if found is None:
        return None
    out = []
    for handle in json.loads(found[0]):
        row_id, token = receipts.decode(handle, qid)
        row = conn.execute(Q["message_by_row"], (row_id, qid)).fetchone()
        if row is None or row[17] != token or row[13] <= req.now_ms:
            return None
        out.append(stored_message(qid, row, token, row[14], row[15]))
    return out


def delete(conn: sqlite3.Connection, queue: Queue, entries: Sequence[tuple[str, str]],
           now_ms: int) -> list[Exception | None]:
    results: list[Exception | None] = []
    for _entry_id, handle in entries:
        try:
            row_id, token = receipts.decode(handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results.append(exc)
            continue
        state = conn.execute(Q["message_state"], (row_id, queue.queue_id)).fetchone()
        if state is None:
            results.append(None)
        elif state[0] == token:
            conn.execute(Q["delete_message"], (row_id,))
            results.append(None)
        elif queue.fifo:
            results.append(ReceiptHandleIsInvalid(
                f'The receipt handle "{handle}" has expired: the message was received again since.'))
        else:
            results.append(None)
    return results


def change_visibility(conn: sqlite3.Connection, queue: Queue, changes: Sequence[VisibilityChange],
                      now_ms: int) -> list[Exception | None]:
    results: list[Exception | None] = []
    for change in changes:
        try:
            row_id, token = receipts.decode(change.receipt_handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results.append(exc)
            continue
        state = conn.execute(Q["message_state"], (row_id, queue.queue_id)).fetchone()
        if state is None or state[0] != token or state[1] == 0 or state[2] <= now_ms:
            results.append(MessageNotInflight(
                f"Value {change.receipt_handle} for parameter ReceiptHandle is invalid. "
                "Reason: Message does not exist or is not available for visibility timeout change."))
            continue
        conn.execute(Q["set_visibility"], (now_ms + change.visibility_ms, row_id))
        results.append(None)
    return results
