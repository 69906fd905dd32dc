"""What a receive may hand out, decided once for every store.

The stores fetch candidate rows and execute what these functions decide: whether a
message is past its queue's retention, whether it has been received too often and goes
to the dead-letter queue, which messages of a FIFO group come next, and in which
deduplication scope a FIFO send is checked. SQLite and PostgreSQL run the same rules,
so the archive and replay built on them are written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Protocol, TypeVar

from postroom.core import limits


def retention_ms(attributes: Mapping[str, str]) -> int:
    """MessageRetentionPeriod in milliseconds (AWS default: 4 days, 345,600 s)."""
    return int(attributes.get("MessageRetentionPeriod", str(limits.RETENTION_DEFAULT))) * 1000


def dedup_scope(attributes: Mapping[str, str], group_id: str | None) -> str:
    """The scope a FIFO deduplication id is checked in. AWS: with
    ``DeduplicationScope=messageGroup`` "deduplication occurs at the message group
    level"; with ``queue`` (the default) across the whole queue ('' here)."""
    if attributes.get("DeduplicationScope") == "messageGroup":
        return group_id or ""
    return ""


class Fate(Enum):
    DELIVER = "deliver"
    EXPIRE = "expire"
    DEAD_LETTER = "dead-letter"


def fate(sent_ms: int, receives_before: int, min_sent_ms: int, max_receive_count: int | None,
         has_dlq: bool) -> Fate:
    """What a receive does with a candidate message.

    AWS: a message older than the queue's retention period is deleted, never handed out.
    With a RedrivePolicy, "when the ReceiveCount for a message exceeds the
    maxReceiveCount for a queue, Amazon SQS moves the message to a dead-letter queue":
    a message already received ``maxReceiveCount`` times goes to the DLQ instead of
    being handed out once more (so it is handed out at most ``maxReceiveCount`` times).
    """
    if sent_ms < min_sent_ms:
        return Fate.EXPIRE
    if has_dlq and max_receive_count is not None and receives_before >= max_receive_count:
        return Fate.DEAD_LETTER
    return Fate.DELIVER


class Timed(Protocol):
    @property
    def sent_ms(self) -> int: ...

    @property
    def visible_ms(self) -> int: ...


R = TypeVar("R", bound=Timed)


def fifo_group_run(rows: Iterable[R], now_ms: int, min_sent_ms: int, want: int) -> list[R]:
    """The messages of one FIFO group a receive may take, given the group's messages in
    sequence order. AWS: "Amazon SQS first attempts to return as many messages with the
    same message group ID as possible", always in order: the run stops at the first
    message that is not visible yet, so nothing behind it overtakes it. Messages past
    retention are skipped (the retention sweep deletes them)."""
    run: list[R] = []
    for row in rows:
        if len(run) >= want or row.visible_ms > now_ms:
            break
        if row.sent_ms < min_sent_ms:
            continue
        run.append(row)
    return run
