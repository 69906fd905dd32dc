"""What one published message writes, once the store knows its sequence number and which
subscribed queues still exist — decided here once for both engines, so what a publish
adds (the archive, the unrouted capture) is written in one place.

AWS's rules: a delivery into a queue that no longer exists has failed, and goes to the
subscription's dead-letter queue when it has one (SNS "redrive policy"); every published
message is counted for its topic, and per subscription as delivered, filtered out or
failed; a FIFO topic's envelopes carry the topic's sequence number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from postroom.core.model import NewMessage, ResourceKey
from postroom.core.sns_model import HttpDelivery, PublishPlan, fill_sequence, with_sequence

CountRow = tuple[str, str | None, int, int, int, int, int]
"""(topic arn, subscription arn or None, published, no_subscribers, delivered, filtered_out, failed)"""


@dataclass
class Effects:
    """Rows to write for one or more published messages, in order."""

    inserts: list[tuple[ResourceKey, NewMessage]] = field(default_factory=list)
    outbox: list[HttpDelivery] = field(default_factory=list)
    counts: list[CountRow] = field(default_factory=list)


def add_entry(effects: Effects, topic_arn: str, plan: PublishPlan, sequence_number: str | None, subscribed: bool,
              exists: Callable[[ResourceKey], bool]) -> None:
    """Add the writes of one published (not deduplicated) message to ``effects``."""
    effects.counts.append((topic_arn, None, 1, 0 if subscribed else 1, 0, 0, 0))
    for d in plan.queue_deliveries:
        message = with_sequence(d.message, sequence_number) if sequence_number else d.message
        if exists(d.queue):
            effects.inserts.append((d.queue, message))
            effects.counts.append((topic_arn, d.sub_arn, 0, 0, 1, 0, 0))
            continue
        effects.counts.append((topic_arn, d.sub_arn, 0, 0, 0, 0, 1))
        if d.dlq is not None and exists(d.dlq):
            effects.inserts.append((d.dlq, message))
    for h in plan.http_deliveries:
        body = fill_sequence(h.body, sequence_number) if sequence_number else h.body
        effects.outbox.append(HttpDelivery(h.sub_arn, h.endpoint, body, h.headers))
    effects.counts += [(topic_arn, arn, 0, 0, 0, 1, 0) for arn in plan.filtered_out]
    effects.counts += [(topic_arn, arn, 0, 0, 0, 0, 1) for arn in plan.failed]
