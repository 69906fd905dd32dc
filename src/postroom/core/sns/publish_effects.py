"""What one published message writes, once the store knows its sequence number and which
subscribed queues still exist — decided here once for both engines, so what a publish
adds (the archive, the unrouted capture) is written in one place.

AWS's rules: a delivery into a queue that no longer exists, or whose Policy refuses the
topic, has failed, and goes to the subscription's dead-letter queue when it has one (SNS
"redrive policy"); every published
message is counted for its topic, and per subscription as delivered, filtered out or
failed; a FIFO topic's envelopes carry the topic's sequence number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from postroom.core.model import NewMessage, ResourceKey
from postroom.core.sns.archive import FAILED, FILTERED, NO_SUBSCRIPTION, ArchiveRecord
from postroom.core.sns.model import HttpDelivery, PublishPlan, fill_sequence, with_sequence
from postroom.core.sns.notifications import Notification

MINUTE_MS = 60_000

CountRow = tuple[str, str | None, int, int, int, int, int, int, int, int]
"""(topic arn, subscription arn or None, minute, published, unrouted for want of a subscription,
unrouted because every filter rejected it, unrouted because every delivery failed, delivered,
filtered out, failed) — one accounting row, summed by readers."""


@dataclass(frozen=True)
class ArchiveRow:
    record: ArchiveRecord
    sequence: int | None
    unrouted: str | None
    expires_ms: int


@dataclass
class Effects:
    """Rows to write for one or more published messages, in order."""

    inserts: list[tuple[ResourceKey, NewMessage]] = field(default_factory=list)
    outbox: list[HttpDelivery] = field(default_factory=list)
    counts: list[CountRow] = field(default_factory=list)
    archive: list[ArchiveRow] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    """SMS, email and push deliveries; the store writes them and counts each delivered or failed."""


def _count(topic_arn: str, sub_arn: str | None, minute: int, *values: int) -> CountRow:
    v = (*values, 0, 0, 0, 0, 0, 0, 0)[:7]
    return (topic_arn, sub_arn, minute, v[0], v[1], v[2], v[3], v[4], v[5], v[6])


def add_entry(effects: Effects, topic_arn: str, plan: PublishPlan, sequence: int | None, sequence_number: str | None,
              now_ms: int, exists: Callable[[ResourceKey], bool]) -> str | None:
    """Add the writes of one published (not deduplicated) message to ``effects``; returns
    why it reached no one, if it did not reach anyone."""
    minute = now_ms - now_ms % MINUTE_MS
    routed = bool(plan.http_deliveries) or bool(plan.notifications)
    effects.notifications += plan.notifications
    failed = bool(plan.failed)
    for d in plan.queue_deliveries:
        message = with_sequence(d.message, sequence_number) if sequence_number else d.message
        if not d.denied and exists(d.queue):
            effects.inserts.append((d.queue, message))
            effects.counts.append(_count(topic_arn, d.sub_arn, minute, 0, 0, 0, 0, 1))
            routed = True
            continue
        failed = True
        effects.counts.append(_count(topic_arn, d.sub_arn, minute, 0, 0, 0, 0, 0, 0, 1))
        if d.dlq is not None and exists(d.dlq):
            effects.inserts.append((d.dlq, message))
    for h in plan.http_deliveries:
        body = fill_sequence(h.body, sequence_number) if sequence_number else h.body
        effects.outbox.append(HttpDelivery(h.sub_arn, h.endpoint, body, h.headers))
    effects.counts += [_count(topic_arn, arn, minute, 0, 0, 0, 0, 0, 1) for arn in plan.filtered_out]
    effects.counts += [_count(topic_arn, arn, minute, 0, 0, 0, 0, 0, 0, 1) for arn in plan.failed]
    unrouted = None if routed else FAILED if failed else FILTERED if plan.filtered_out else NO_SUBSCRIPTION
    effects.counts.append(_count(topic_arn, None, minute, 1, int(unrouted == NO_SUBSCRIPTION),
                                 int(unrouted == FILTERED), int(unrouted == FAILED)))
    if plan.archive is not None:
        expires = plan.archive.expires_ms(unrouted)
        if expires is not None:
            effects.archive.append(ArchiveRow(plan.archive, sequence, unrouted, expires))
    return unrouted


def delivery_count(topic_arn: str, sub_arn: str, now_ms: int, delivered: bool) -> CountRow:
    """The accounting row of one delivery that ended later (HTTP): delivered or failed."""
    minute = now_ms - now_ms % MINUTE_MS
    return _count(topic_arn, sub_arn, minute, 0, 0, 0, 0, int(delivered), 0, int(not delivered))


def archive_params(topic_id: int, topic_arn: str, row: ArchiveRow) -> tuple[object, ...]:
    """The archive table's columns for one row, in the order both stores' INSERT takes them."""
    r = row.record
    return (topic_id, topic_arn, r.message_id, r.published_ms, r.message, r.subject, r.structure, r.attributes,
            r.group_id, r.dedup_id, row.sequence, row.unrouted, row.expires_ms)


def by_queue(inserts: list[tuple[ResourceKey, NewMessage]]) -> dict[ResourceKey, list[NewMessage]]:
    """The inserts grouped per queue, each group in its original order (a FIFO queue's
    sequence numbers follow it), so a store writes each queue's share in one call."""
    grouped: dict[ResourceKey, list[NewMessage]] = {}
    for key, message in inserts:
        grouped.setdefault(key, []).append(message)
    return grouped
