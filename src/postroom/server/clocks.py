"""The server's clock. With ``--debug-clock`` tests may move it forward through
``POST /_postroom/clock/advance?seconds=N`` instead of sleeping (retention, delays,
visibility timeouts, the deduplication window)."""

from __future__ import annotations

import time


class OffsetClock:
    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)
