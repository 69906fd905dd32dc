"""Message operations of the SQLite store, run on the writer thread inside a transaction.

The rules (retention, redrive, FIFO group order, deduplication scope) come from
``postroom.core.sqs.delivery_rules``; this module only executes them in SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from postroom.core.arns import format_sequence_number
from postroom.core.model import NewMessage, Queue, ReceiveOutcome, SendResult, StoredMessage
from postroom.core.sqs.delivery_rules import Fate, dedup_scope, fate, fifo_group_run
from postroom.errors import QueueDoesNotExist, ReceiptHandleIsInvalid
from postroom.store import receipts
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.codec import dump_attributes
from postroom.store.rows import MessageRow, message_row, stored_message
from postroom.store.sqlite.queries import Q

ATTEMPT_WINDOW_MS = 300_000


def alive(conn: sqlite3.Connection, queue_id: int) -> bool:
    """Whether the queue still exists in this transaction. Queue ids are never reused, so
    a request that resolved a queue before it was deleted cannot write into another."""
    return conn.execute(Q["queue_alive"], (queue_id,)).fetchone() is not None


def send(conn: sqlite3.Connection, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
         dedup_window_ms: int) -> list[SendResult]:
    """Enqueue into ``queue`` if it still exists in this transaction, else QueueDoesNotExist
    (the existence check rides in the INSERT, or in FIFO's sequence-number UPDATE)."""
    return insert(conn, queue, messages, now_ms, dedup_window_ms, checked=False)


def insert(conn: sqlite3.Connection, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
           dedup_window_ms: int, checked: bool = True) -> list[SendResult]:
    """Enqueue; ``checked``: the caller already knows the queue is alive in this transaction."""
    qid = queue.queue_id
    if not queue.fifo:
        rows = [
            (qid, m.message_id, None, m.group_id, None, m.body, m.md5_of_body, dump_attributes(m.attributes),
             m.md5_of_attributes, dump_attributes(m.system_attributes), m.md5_of_system_attributes,
             m.sender_id, now_ms, now_ms + m.delay_ms, None)
            for m in messages
        ]
        if checked:
            conn.executemany(Q["insert_message"], rows)
        elif conn.executemany(Q["insert_message_if_alive"], [(*r, qid) for r in rows]).rowcount != len(rows):
            raise QueueDoesNotExist("The specified queue does not exist.")
        return [SendResult(m.message_id, None) for m in messages]
    return _insert_fifo(conn, queue, messages, now_ms, dedup_window_ms)


def _insert_fifo(conn: sqlite3.Connection, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
                 dedup_window_ms: int) -> list[SendResult]:
    """FIFO: each message is checked against the deduplication window (and against the
    messages before it in this call) in the scope the queue was created with
    (``delivery_rules.dedup_scope``); the ones kept take consecutive sequence numbers in one
    UPDATE, and go in with their dedup entries in two executemany."""
    qid = queue.queue_id
    created = conn.execute(Q["created_dedup_scope"], (qid,)).fetchone()
    if created is None:
        raise QueueDoesNotExist("The specified queue does not exist.")
    results: list[SendResult | None] = []
    kept: list[tuple[int, NewMessage, str, str]] = []
    here: dict[tuple[str, str], int] = {}
    for m in messages:
        scope = dedup_scope(created[0], m.group_id)
        dedup_id = m.dedup_id or ""
        earlier = here.get((scope, dedup_id))
        if earlier is not None:
            results.append(None)  # a duplicate of a message of this call: filled in below
            continue
        seen = conn.execute(Q["find_dedup"], (qid, scope, dedup_id)).fetchone()
        if seen is not None and seen["expires_ms"] > now_ms:
            results.append(SendResult(seen["message_id"], format_sequence_number(seen["seq"]), duplicate=True))
            continue
        here[(scope, dedup_id)] = len(kept)
        kept.append((len(results), m, scope, dedup_id))
        results.append(None)
    if kept:
        taken = conn.execute(Q["take_sequence"], (len(kept), qid, len(kept))).fetchone()
        if taken is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        first = taken[0]
        conn.executemany(Q["insert_message"], [
            (qid, m.message_id, first + i, m.group_id, m.dedup_id, m.body, m.md5_of_body,
             dump_attributes(m.attributes), m.md5_of_attributes, dump_attributes(m.system_attributes),
             m.md5_of_system_attributes, m.sender_id, now_ms, now_ms + m.delay_ms, None)
            for i, (_pos, m, _scope, _dedup) in enumerate(kept)])
        conn.executemany(Q["upsert_dedup"], [(qid, scope, dedup_id, m.message_id, first + i, now_ms + dedup_window_ms)
                                             for i, (_pos, m, scope, dedup_id) in enumerate(kept)])
        for i, (pos, m, _scope, _dedup) in enumerate(kept):
            results[pos] = SendResult(m.message_id, format_sequence_number(first + i))
    out: list[SendResult] = []
    for m, r in zip(messages, results, strict=True):
        if r is None:  # duplicate of an earlier message of this call
            original = kept[here[(dedup_scope(created[0], m.group_id), m.dedup_id or "")]]
            o = results[original[0]]
            assert o is not None
            r = SendResult(o.message_id, o.sequence_number, duplicate=True)
        out.append(r)
    return out


def _move_to_dlq(conn: sqlite3.Connection, source: Queue, dlq: Queue, row: MessageRow) -> None:
    """AWS (SQS Developer Guide, "Configure a dead-letter queue redrive"): a message moved
    into a FIFO dead-letter queue has its deduplication id replaced by its MessageId."""
    seq = None
    if dlq.fifo:
        seq = conn.execute(Q["take_sequence"], (1, dlq.queue_id, 1)).fetchone()[0]
    dedup_id = row.message_id if dlq.fifo else row.dedup_id
    conn.execute(Q["insert_message"], (
        dlq.queue_id, row.message_id, seq, row.group_id, dedup_id, row.body, row.md5_body, row.attrs,
        row.md5_attrs, row.sys_attrs, row.md5_sys_attrs, row.sender_id, row.sent_ms, row.sent_ms, source.arn))
    conn.execute(Q["delete_message"], (row.id,))


def _fifo_candidates(conn: sqlite3.Connection, qid: int, now: int, want: int, min_sent: int) -> list[MessageRow]:
    """AWS: "Amazon SQS first attempts to return as many messages with the same message
    group ID as possible", in order; groups come in the order their first message became
    visible (``postroom.core.sqs.delivery_rules``)."""
    chosen: list[str] = []
    out: list[MessageRow] = []
    while len(out) < want:
        g = conn.execute(Q["fifo_next_group"], (qid, now, json.dumps(chosen))).fetchone()
        if g is None:
            break
        chosen.append(g[0])
        head = conn.execute(Q["fifo_group_head"], (qid, g[0], want - len(out) + 10)).fetchall()
        out += fifo_group_run(map(message_row, head), now, min_sent, want - len(out))
    return out


def receive(conn: sqlite3.Connection, queue: Queue, req: ReceiveRequest, dlq: Queue | None) -> ReceiveOutcome:
    qid = queue.queue_id
    now = req.now_ms
    if queue.fifo and req.attempt_id:
        repeated = _repeat_attempt(conn, qid, req)
        if repeated is not None:
            return ReceiveOutcome(repeated)
    if dlq is not None and not alive(conn, dlq.queue_id):
        dlq = None
    min_sent = now - req.retention_ms
    out: list[StoredMessage] = []
    moved = 0
    for _round in range(4):
        want = req.max_messages - len(out)
        if want <= 0:
            break
        if queue.fifo:
            rows = _fifo_candidates(conn, qid, now, want, min_sent)
        else:
            rows = [message_row(r) for r in conn.execute(Q["standard_candidates"], (qid, now, want)).fetchall()]
        if not rows:
            break
        again = False
        updates: list[tuple[int, int, str, int]] = []
        for row in rows:
            outcome = fate(row.sent_ms, row.receive_count, min_sent, req.max_receive_count, dlq is not None)
            if outcome is Fate.EXPIRE:
                conn.execute(Q["delete_message"], (row.id,))
                again = True
            elif outcome is Fate.DEAD_LETTER:
                assert dlq is not None
                _move_to_dlq(conn, queue, dlq, row)
                moved += 1
                again = True
            else:
                token = receipts.new_token()
                first = row.first_receive_ms if row.first_receive_ms is not None else now
                updates.append((now + req.visibility_ms, now, token, row.id))
                out.append(stored_message(qid, row, token, row.receive_count + 1, first))
        if updates:
            conn.executemany(Q["mark_received"], updates)
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
        row_id, token, _message_id = receipts.decode(handle, qid)
        raw = conn.execute(Q["message_by_row"], (row_id, qid)).fetchone()
        if raw is None:
            return None
        row = message_row(raw)
        if row.token != token or row.visible_ms <= req.now_ms:
            return None
        out.append(stored_message(qid, row, token, row.receive_count, row.first_receive_ms or req.now_ms))
    return out


def delete(conn: sqlite3.Connection, queue: Queue, entries: Sequence[tuple[str, str]],
           now_ms: int) -> list[Exception | None]:
    """DeleteMessage as AWS does it per queue type (``postroom.store.receipts``): on a
    standard queue any handle of the message deletes it; on a FIFO queue only the handle of
    the receive in flight, else "The receipt handle has expired". A handle of a message
    already gone deletes nothing and succeeds on both (AWS: deleting twice is no error)."""
    results: list[Exception | None] = []
    for _entry_id, handle in entries:
        try:
            row_id, token, message_id = receipts.decode(handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results.append(exc)
            continue
        if not queue.fifo:
            conn.execute(Q["delete_by_message"], (row_id, queue.queue_id, message_id, token))
            results.append(None)
        elif conn.execute(Q["delete_by_handle"], (row_id, queue.queue_id, token, now_ms)).rowcount:
            results.append(None)
        elif conn.execute(Q["message_exists"], (row_id, queue.queue_id, message_id)).fetchone() is not None:
            results.append(receipts.expired(handle))
        else:
            results.append(None)
    return results


def change_visibility(conn: sqlite3.Connection, queue: Queue, changes: Sequence[VisibilityChange],
                      now_ms: int) -> list[Exception | None]:
    """ChangeMessageVisibility changes the timeout of the handle's own receive while it is
    in flight, matched in the UPDATE itself. An old handle (its timeout ran out, or the
    message was received again) succeeds and changes nothing, as on AWS; a handle of a
    message that is gone is InvalidParameterValue (``receipts.gone``)."""
    results: list[Exception | None] = []
    for change in changes:
        try:
            row_id, token, message_id = receipts.decode(change.receipt_handle, queue.queue_id)
        except ReceiptHandleIsInvalid as exc:
            results.append(exc)
            continue
        changed = conn.execute(Q["set_visibility"], (now_ms + change.visibility_ms, row_id, queue.queue_id, token,
                                                     now_ms)).rowcount
        if changed or conn.execute(Q["message_exists"], (row_id, queue.queue_id, message_id)).fetchone() is not None:
            results.append(None)
        else:
            results.append(receipts.gone(change.receipt_handle))
    return results
