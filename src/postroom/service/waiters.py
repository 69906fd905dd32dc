"""Long-poll wake-ups within one process.

AWS: with WaitTimeSeconds > 0, ReceiveMessage "waits until a message is available in
the queue before sending a response" — so a send must wake the waiting receives at once
rather than leave them to poll. A waiter sleeps on its queue's event until a send (or a
delete that unlocks a FIFO group, or a visibility change) notifies, or until the next
moment the store says a message becomes visible, or until its deadline.

A receive starts watching *before* it asks the store, so a notification that lands
between the store's empty answer and the wait is not lost: the watch already holds the
event that notification set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Watch:
    """The event a receive waits on, taken before it looked at the store."""

    def __init__(self, event: asyncio.Event, closed: bool) -> None:
        self._event = event
        self._closed = closed

    async def wait(self, timeout: float) -> bool:
        """Wait for a notification since the watch began; ``False`` on timeout."""
        if timeout <= 0 or self._closed:
            return False
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False


class Waiters:
    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}
        self._counts: dict[int, int] = {}
        self.closed = False

    def notify(self, queue_id: int) -> None:
        event = self._events.get(queue_id)
        if event is not None:
            event.set()
            self._events[queue_id] = asyncio.Event()

    def wake(self, queue_id: int | None) -> None:
        """A store's wake-up: one queue, or (``None``) every queue after notices may have been lost."""
        if queue_id is None:
            self.notify_all()
        else:
            self.notify(queue_id)

    def close(self) -> None:
        """Shutting down: wake every waiter and let no new one wait."""
        self.closed = True
        self.notify_all()

    def notify_all(self) -> None:
        for queue_id in list(self._events):
            self.notify(queue_id)

    @contextmanager
    def watch(self, queue_id: int) -> Iterator[Watch]:
        event = self._events.get(queue_id)
        if event is None:
            event = self._events[queue_id] = asyncio.Event()
        self._counts[queue_id] = self._counts.get(queue_id, 0) + 1
        try:
            yield Watch(event, self.closed)
        finally:
            self._counts[queue_id] -= 1
            if self._counts[queue_id] == 0:
                del self._counts[queue_id]
                self._events.pop(queue_id, None)  # nobody holds it any more

    async def wait(self, queue_id: int, timeout: float) -> bool:
        """Wait for a notification on ``queue_id`` from now on; ``False`` on timeout."""
        with self.watch(queue_id) as watch:
            return await watch.wait(timeout)
