"""Stored rows as typed records, shared by both engines.

Both drivers hand out rows that can be read by column name (``sqlite3.Row``,
``asyncpg.Record``); every query selects the columns by the names used here, and the
stores read rows only through these records, never by position.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple, Protocol

from postroom.core.arns import format_sequence_number
from postroom.core.model import Queue, StoredMessage
from postroom.core.sns import archive
from postroom.core.sns.model import Subscription, Topic
from postroom.core.sns.replay import QueueTarget, Replay
from postroom.store import receipts
from postroom.store.codec import load_attributes, load_map


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


class MessageRow(NamedTuple):
    """One stored message. ``visible_ms``: when it can next be received; in flight when
    ``receive_count > 0`` and ``visible_ms > now``; ``token`` identifies its latest receive.
    (A named tuple, built from each row with ``_make``: receives read many rows.)"""

    id: int
    message_id: str
    seq: int | None
    group_id: str | None
    dedup_id: str | None
    body: str
    md5_body: str
    attrs: str | None
    md5_attrs: str | None
    sys_attrs: str | None
    md5_sys_attrs: str | None
    sender_id: str
    sent_ms: int
    visible_ms: int
    receive_count: int
    first_receive_ms: int | None
    dlq_source_arn: str | None
    token: str | None


MESSAGE_COLUMNS = ", ".join(MessageRow._fields)
"""Every query that reads messages selects exactly these columns, in this order."""


def message_row(r: Row) -> MessageRow:
    return MessageRow._make(r)  # type: ignore[arg-type]


def stored_message(queue_id: int, row: MessageRow, token: str, receive_count: int, first_ms: int) -> StoredMessage:
    """The record a receive hands out, with the receipt handle of this receive."""
    return StoredMessage(
        message_id=row.message_id, receipt_handle=receipts.encode(queue_id, row.id, token, row.message_id),
        body=row.body, md5_of_body=row.md5_body, attributes=load_attributes(row.attrs), md5_of_attributes=row.md5_attrs,
        system_attributes=load_attributes(row.sys_attrs), md5_of_system_attributes=row.md5_sys_attrs,
        sender_id=row.sender_id, sent_ms=row.sent_ms, first_receive_ms=first_ms, receive_count=receive_count,
        group_id=row.group_id, dedup_id=row.dedup_id,
        sequence_number=format_sequence_number(row.seq) if row.seq is not None else None,
        dead_letter_source_arn=row.dlq_source_arn,
    )


def queue_record(r: Row) -> Queue:
    return Queue(queue_id=r["queue_id"], account=r["account"], region=r["region"], name=r["name"],
                 attributes=load_map(r["attributes"]), tags=load_map(r["tags"]), created_ms=r["created_ms"],
                 modified_ms=r["modified_ms"])


def topic_record(r: Row) -> Topic:
    return Topic(topic_id=r["topic_id"], account=r["account"], region=r["region"], name=r["name"],
                 attributes=load_map(r["attributes"]), tags=load_map(r["tags"]), created_ms=r["created_ms"])


def subscription_record(r: Row) -> Subscription:
    return Subscription(sub_id=r["sub_id"], topic_arn=r["topic_arn"], owner=r["owner"], protocol=r["protocol"],
                        endpoint=r["endpoint"], attributes=load_map(r["attributes"]), confirmed=bool(r["confirmed"]),
                        token=r["token"])


def archived_message(r: Row) -> archive.ArchivedMessage:
    return archive.ArchivedMessage(
        archive_id=r["id"], topic_arn=r["topic_arn"], message_id=r["message_id"], published_ms=r["published_ms"],
        message=r["message"], subject=r["subject"], structure=r["structure"],
        attributes=archive.load_attributes(r["attrs"]), group_id=r["group_id"], dedup_id=r["dedup_id"],
        sequence_number=format_sequence_number(r["seq"]) if r["seq"] is not None else None, unrouted=r["unrouted"])


def replay_record(r: Row) -> Replay:
    target = json.loads(r["queue_target"]) if r["queue_target"] else None
    return Replay(
        replay_id=r["replay_id"], topic_arn=r["topic_arn"], sub_arn=r["sub_arn"],
        queue=QueueTarget(target["queue_arn"], target["raw"]) if target else None, start_ms=r["start_ms"],
        end_ms=r["end_ms"], selection=r["selection"], rate=r["rate"], status=r["status"],
        requested_by=r["requested_by"], origin=r["origin"], created_ms=r["created_ms"], updated_ms=r["updated_ms"],
        cursor_id=r["cursor_id"], last_id=r["last_id"], total=r["total"], delivered=r["delivered"],
        skipped=r["skipped"], failure=r["failure"])


def replay_params(topic_id: int, replay: Replay) -> tuple[Any, ...]:
    """The replays table's columns, in the order both stores' INSERT takes them."""
    target = (json.dumps({"queue_arn": replay.queue.queue_arn, "raw": replay.queue.raw})
              if replay.queue is not None else None)
    return (replay.replay_id, topic_id, replay.topic_arn, replay.sub_arn, target, replay.start_ms, replay.end_ms,
            replay.selection, replay.rate, replay.status, replay.requested_by, replay.origin, replay.created_ms,
            replay.updated_ms, replay.cursor_id, replay.last_id, replay.total, replay.delivered, replay.skipped,
            replay.failure)
