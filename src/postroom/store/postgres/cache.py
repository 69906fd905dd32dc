"""Node-local caches of the PostgreSQL store, coherent by construction.

Several nodes change the same queues, topics and subscriptions; each node caches what it
reads, and every change is announced on the notification channel so every node drops
its copy. Three races could leave a copy stale for good, and each is closed here:

* A notice that arrives while a node is filling an entry (it read the row before the
  change committed, and stores it after the notice was handled): every notice moves
  ``epoch``, and a fill stores its value only if the epoch did not move while it read.
* A node writing its own change into the cache after commit, over a newer change another
  node made meanwhile: nodes never write their own results into the cache; a change
  drops the entry (and moves the epoch) once it committed, and the next read fills it.
* A gap in the listening connection (notices lost): everything is dropped, the epoch
  moves, and every long-poll waiter is woken.

Notices still arrive a moment after the commit they announce. Where that moment matters
— a publish must not miss a subscription that was confirmed before it began — the store
checks a version inside its transaction instead of trusting the cache (see
``PostgresSnsStore.publish``). Queue attributes may lag by that moment, as AWS allows
("can take up to 60 seconds … to propagate").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Epoch:
    """Moves on every change notice, own change and listener gap."""

    def __init__(self) -> None:
        self.value = 0

    def move(self) -> None:
        self.value += 1


class CoherentCache(Generic[K, V]):
    def __init__(self, epoch: Epoch) -> None:
        self._epoch = epoch
        self._entries: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    async def fill(self, key: K, read: Callable[[], Awaitable[V | None]]) -> V | None:
        """Read ``key`` from the database and keep it, unless a change was announced meanwhile."""
        before = self._epoch.value
        value = await read()
        if value is not None and self._epoch.value == before:
            self._entries[key] = value
        return value

    def drop(self, key: K) -> None:
        self._epoch.move()
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._epoch.move()
        self._entries.clear()
