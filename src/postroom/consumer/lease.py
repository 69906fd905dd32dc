"""Visibility leases and the heartbeat that extends them.

A received message is invisible to other consumers for the visibility timeout, counted by SQS from
the moment it picked the message for a receive. The consumer counts conservatively: from the moment
it sent the receive, or — when a long poll waited — from half a second before the answer arrived, so
its idea of the deadline is earlier than SQS's unless the answer took longer than that to travel.

The heartbeat (one thread per consumer) extends every lease older than a third of the visibility
timeout back to a full timeout with ChangeMessageVisibilityBatch, so batches that finish quickly
cost no extra request. Before each message's handler starts, the worker checks its lease: if the
deadline is near or an extension was refused (the receipt handle is stale: SQS already gave the
message to someone else), the rest of the batch is abandoned — handling it could apply a message
of a FIFO group while another consumer applies its successors. A handler already running when its
lease lapses cannot be stopped; the idempotent inbox is what makes that case safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from postroom.consumer.hooks import Hooks, Stats


class Lease:
    """The in-flight messages of one received batch (receipt handles) and their deadline."""

    def __init__(self, receipts: list[str], visibility_timeout: float, received_at: float) -> None:
        self.held: set[str] = set(receipts)
        self.visibility_timeout = visibility_timeout
        self.visible_until = received_at + visibility_timeout
        self.last_extended = received_at
        self.lost = False
        self.lock = threading.Lock()

    def margin(self) -> float:
        return min(1.0, self.visibility_timeout * 0.1)

    def valid(self) -> bool:
        """Whether a new handler may still start on this batch."""
        with self.lock:
            return not self.lost and time.monotonic() < self.visible_until - self.margin()

    def forget(self) -> None:
        """The batch is being settled: an extension racing with its deletes reports nothing."""
        with self.lock:
            self.held.clear()


class Heartbeat:
    """Extends leases in the background while their messages are being handled."""

    def __init__(self, client: Any, queue_url: str, visibility_timeout: int, hooks: Hooks, stats: Stats,
                 report: Callable[[str, BaseException | str], None]) -> None:
        self._client = client
        self._queue_url = queue_url
        self._timeout = visibility_timeout
        self._hooks = hooks
        self._stats = stats
        self._report = report
        self._leases: set[Lease] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postroom-consumer-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def add(self, lease: Lease) -> None:
        with self._lock:
            self._leases.add(lease)

    def remove(self, lease: Lease) -> None:
        with self._lock:
            self._leases.discard(lease)

    def _run(self) -> None:
        tick = max(0.05, self._timeout / 6)
        while not self._stop.wait(tick):
            with self._lock:
                leases = list(self._leases)
            now = time.monotonic()
            for lease in leases:
                if not lease.lost and now - lease.last_extended >= self._timeout / 3:
                    self.extend(lease)

    def extend(self, lease: Lease) -> None:
        with lease.lock:
            receipts = sorted(lease.held)
        if not receipts:
            return
        started = time.monotonic()
        refused = errored = False
        for start in range(0, len(receipts), 10):
            chunk = receipts[start:start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": self._timeout}
                       for i, r in enumerate(chunk)]
            try:
                response = self._client.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=entries)
            except Exception as exc:
                self._report("ChangeMessageVisibilityBatch (heartbeat)", exc)
                errored = True  # transient: the lease simply runs out unless a later tick succeeds
                continue
            for entry in response.get("Failed", []):
                receipt = chunk[int(entry["Id"])]
                with lease.lock:
                    still_held = receipt in lease.held
                if still_held:  # a message finished meanwhile is no loss
                    self._report("ChangeMessageVisibilityBatch (heartbeat)",
                                 f"{entry.get('Code')}: {entry.get('Message')}")
                    refused = True
            self._stats.add("extended", len(chunk) - len(response.get("Failed", [])))
        with lease.lock:
            if refused:
                lease.lost = True
            elif not errored:
                lease.visible_until = started + self._timeout
                lease.last_extended = started
        if not (refused or errored):
            self._hooks.on_extended(len(receipts))
