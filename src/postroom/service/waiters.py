"""Long-poll wake-ups within one process.

AWS: with WaitTimeSeconds > 0, ReceiveMessage "waits until a message is available in
the queue before sending a response" — so a send must wake the waiting receives at once
rather than leave them to poll. A waiter sleeps on its queue's event until a send (or a
delete that unlocks a FIFO group, or a visibility change) notifies, or until the next
moment the store says a message becomes visible, or until its deadline.
"""

from __future__ import annotations

import asyncio


class Waiters:
    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}
        self._counts: dict[int, int] = {}

    def notify(self, queue_id: int) -> None:
        event = self._events.get(queue_id)
        if event is not None:
            event.set()
            self._events[queue_id] = asyncio.Event()

    closed = False

    def close(self) -> None:
        """Shutting down: wake every waiter and let no new one wait."""
        self.closed = True
        self.notify_all()

    def notify_all(self) -> None:
        for queue_id in list(self._events):
            self.notify(queue_id)

    async def wait(self, queue_id: int, timeout: float) -> bool:
        """Wait for a notification on ``queue_id``; ``False`` on timeout."""
        if timeout <= 0 or self.closed:
            return False
        event = self._events.get(queue_id)
        if event is None:
            event = self._events[queue_id] = asyncio.Event()
        self._counts[queue_id] = self._counts.get(queue_id, 0) + 1
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._counts[queue_id] -= 1
            if self._counts[queue_id] == 0:
                del self._counts[queue_id]
                if self._events.get(queue_id) is event and not event.is_set():
                    del self._events[queue_id]
