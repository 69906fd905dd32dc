"""Turning a stored message row into the record a receive hands out (shared by stores).

Row layout, as every store's queries select it: id, message_id, seq, group_id, dedup_id,
body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs, sender_id, sent_ms,
visible_ms, receive_count, first_receive_ms, dlq_source_arn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from postroom.core.arns import format_sequence_number
from postroom.core.model import Queue, StoredMessage
from postroom.store import receipts
from postroom.store.codec import load_attributes, load_map


def stored_message(queue_id: int, row: Sequence[Any], token: str, receive_count: int,
                   first_ms: int) -> StoredMessage:
    return StoredMessage(
        message_id=row[1], receipt_handle=receipts.encode(queue_id, row[0], token), body=row[5],
        md5_of_body=row[6], attributes=load_attributes(row[7]), md5_of_attributes=row[8],
        system_attributes=load_attributes(row[9]), md5_of_system_attributes=row[10], sender_id=row[11],
        sent_ms=row[12], first_receive_ms=first_ms, receive_count=receive_count, group_id=row[3],
        dedup_id=row[4], sequence_number=format_sequence_number(row[2]) if row[2] is not None else None,
        dead_letter_source_arn=row[16],
    )


def queue_record(row: Sequence[Any]) -> Queue:
    """A queue row (queue_id, account, region, name, attributes, tags, created_ms,
    modified_ms) as a record."""
    return Queue(queue_id=row[0], account=row[1], region=row[2], name=row[3], attributes=load_map(row[4]),
                 tags=load_map(row[5]), created_ms=row[6], modified_ms=row[7])
