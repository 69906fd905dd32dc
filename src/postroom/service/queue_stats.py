"""SQS's NumberOfMessagesSent / Received / Deleted, gathered per node in memory and added
to the store every few seconds (one row per queue per flush), so the figures are
bus-wide on PostgreSQL without a write per message. A node killed with -9 loses at most
its last few seconds of these counts — never a message."""

from __future__ import annotations

from postroom.core.sns.publish_effects import MINUTE_MS

Row = tuple[str, int, int, int, int]


class QueueStats:
    def __init__(self) -> None:
        self._pending: dict[str, list[int]] = {}

    def add(self, queue_arn: str, sent: int = 0, received: int = 0, deleted: int = 0) -> None:
        counts = self._pending.get(queue_arn)
        if counts is None:
            counts = self._pending[queue_arn] = [0, 0, 0]
        counts[0] += sent
        counts[1] += received
        counts[2] += deleted

    def drain(self, now_ms: int) -> list[Row]:
        """Everything gathered since the last drain, as (queue arn, minute, sent, received, deleted)."""
        pending, self._pending = self._pending, {}
        minute = now_ms - now_ms % MINUTE_MS
        return [(arn, minute, c[0], c[1], c[2]) for arn, c in pending.items() if any(c)]
