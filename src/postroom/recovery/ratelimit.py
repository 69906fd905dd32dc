"""--rate: an even pace of at most N messages per second across all senders."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, n: int, stop: threading.Event) -> None:
        """Wait until ``n`` more messages may go (returns early if ``stop`` is set)."""
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + n * self.interval
        delay = start - time.monotonic()
        if delay > 0:
            stop.wait(delay)
