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


def dedup_scope(created_scope: str | None, group_id: str | None) -> str:
    """The scope a FIFO deduplication id is checked in. AWS: with
    ``DeduplicationScope=messageGroup`` "deduplication occurs at the message group
    level"; with ``queue`` (the default) across the whole queue ('' here).

    ``created_scope`` is the DeduplicationScope the queue was *created* with. AWS accepts
    a later SetQueueAttributes DeduplicationScope, and GetQueueAttributes reports it, but
    the queue goes on deduplicating as it was created to (observed: LocalStack's
    AWS-validated high-throughput FIFO tests, localstack#10324 and #10887, "You can change
    the attributes, but AWS does not seem to change the deduplication behaviour of the
    queue"). The stores keep that value beside the queue (migration 0008)."""
    if created_scope == "messageGroup":
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
    retention are skipped (the retention sweep deletes them).

    Which groups a receive serves, and in which order, as observed on AWS (LocalStack's
    AWS-validated FIFO tests ``test_fifo_receive_message_visibility_timeout_shared_in_group``,
    ``test_fifo_message_group_visibility_after_change_message_visibility``,
    ``…_after_terminate_visibility_timeout``, ``…_after_delete``,
    ``…_after_partial_delete`` and ``test_fifo_receive_message_with_zero_visibility_timeout``):

    - a group can be served when its *first* message is visible. While that message is in
      flight the group is locked, and so are its later messages, received or not; but when
      the first message becomes visible again (its visibility timeout ran out, or
      ChangeMessageVisibility ended it) the group is served from it at once, even while a
      later message of the same receive is still in flight ("a message group becomes
      visible as soon as a message within it has become visible again") — the run then
      stops before that message;
    - groups are served in the order their first message became visible: a group whose
      message timed out comes back *after* the groups that were waiting all along, not in
      the place its oldest message would give it; a group whose received messages were
      all deleted takes its place by its next message's send time. Ties (the same
      millisecond, e.g. a receive with VisibilityTimeout=0) go by arrival.

    The stores find that group in SQL (``fifo_next_group``: the visible message with the
    smallest ``(visible_ms, id)`` that is its group's first) and take this run from it.
    """
    run: list[R] = []
    for row in rows:
        if len(run) >= want or row.visible_ms > now_ms:
            break
        if row.sent_ms < min_sent_ms:
            continue
        run.append(row)
    return run
