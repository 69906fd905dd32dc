"""Stored rows as typed records, shared by both engines.

Both drivers hand out rows that can be read by column name (``sqlite3.Row``,
``asyncpg.Record``); every query selects the columns by the names used here, and the
stores read rows only through these records, never by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from postroom.core.arns import format_sequence_number
from postroom.core.model import Queue, StoredMessage
from postroom.core.sns_model import Subscription, Topic
from postroom.store import receipts
from postroom.store.codec import load_attributes, load_map


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One stored message. ``visible_ms``: when it can next be received; in flight when
    ``receive_count > 0`` and ``visible_ms > now``; ``token`` identifies its latest receive."""

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


MESSAGE_COLUMNS = ("id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, "
                   "md5_sys_attrs, sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, "
                   "dlq_source_arn, token")


def message_row(r: Row) -> MessageRow:
    return MessageRow(r["id"], r["message_id"], r["seq"], r["group_id"], r["dedup_id"], r["body"], r["md5_body"],
                      r["attrs"], r["md5_attrs"], r["sys_attrs"], r["md5_sys_attrs"], r["sender_id"], r["sent_ms"],
                      r["visible_ms"], r["receive_count"], r["first_receive_ms"], r["dlq_source_arn"], r["token"])


def stored_message(queue_id: int, row: MessageRow, token: str, receive_count: int, first_ms: int) -> StoredMessage:
    """The record a receive hands out, with the receipt handle of this receive."""
    return StoredMessage(
        message_id=row.message_id, receipt_handle=receipts.encode(queue_id, row.id, token), body=row.body,
        md5_of_body=row.md5_body, attributes=load_attributes(row.attrs), md5_of_attributes=row.md5_attrs,
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
