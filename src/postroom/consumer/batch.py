"""How one received batch is split into lanes, and what happens to each message afterwards (pure).

A *lane* is a run of messages handled strictly one after another. On a FIFO queue the lanes are
the message groups, in the order SQS returned them (which is the group's order). When a message of
a lane fails, the lane stops: its later messages are not handled and are released (visibility 0)
so they come back after the failed one. This is AWS Lambda's rule for FIFO event sources with
``ReportBatchItemFailures`` ("after the first failure, stop processing and return it and every
later message") and Powertools' ``SqsFifoPartialProcessor``, applied per group (Powertools'
``skip_group_on_error``), so one bad group does not hold up the others.

On a standard queue every message is its own lane, unless an ``order_key`` groups them: messages
with the same key are then handled one at a time, oldest ``SentTimestamp`` first — within what one
receive returned. Standard queues promise neither order nor single delivery, so this serialises
work per key; it cannot restore an order SQS did not keep.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from postroom.consumer.message import Message


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    """Handled: delete it."""
    FAILED = "failed"
    """The handler raised: leave it for a retry (optionally with a backoff visibility)."""
    SKIPPED = "skipped"
    """Not handled because an earlier message of its lane failed: release it (visibility 0)."""
    NOT_STARTED = "not-started"
    """Not handled because the consumer is shutting down: release it (visibility 0)."""
    LEASE_LOST = "lease-lost"
    """Not handled because its visibility may have lapsed: another consumer may hold it; leave it alone."""


def lanes(messages: Sequence[Message], *, fifo: bool,
          order_key: Callable[[Message], str | None] | None = None) -> list[list[Message]]:
    """Split a batch into lanes; within a lane, messages keep their order of handling."""
    if fifo:
        by_group: dict[str, list[Message]] = {}
        for m in messages:
            by_group.setdefault(m.group_id or "", []).append(m)
        return list(by_group.values())
    if order_key is None:
        return [[m] for m in messages]
    result: list[list[Message]] = []
    by_key: dict[str, list[Message]] = {}
    for m in messages:
        key = order_key(m)
        if key is None:
            result.append([m])
        else:
            by_key.setdefault(key, []).append(m)
    for lane in by_key.values():
        lane.sort(key=lambda m: (m.sent_timestamp or 0))
        result.append(lane)
    return result


@dataclass
class BatchResult:
    """What became of each message of a batch, in the order decided."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    """By receipt handle."""
    messages: dict[str, Message] = field(default_factory=dict)

    def set(self, message: Message, outcome: Outcome) -> None:
        self.outcomes[message.receipt_handle] = outcome
        self.messages[message.receipt_handle] = message

    def with_outcome(self, outcome: Outcome) -> list[Message]:
        return [self.messages[r] for r, o in self.outcomes.items() if o is outcome]
