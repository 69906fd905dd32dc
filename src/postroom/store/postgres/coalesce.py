"""Group commit for the PostgreSQL store.

Each commit costs PostgreSQL a WAL flush and postroom a round trip. Standard-queue
sends that arrive while a previous insert into the same queue is in flight wait, and
then go together as one multi-row INSERT — one statement, one commit — and each caller
is answered only after that commit. Under load this turns N commits into one, which is
what SQLite's writer thread does for the embedded store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_ITEMS = 500


class Coalescer(Generic[T, R]):
    """Runs ``flush(key, items)`` for batches of items per key, one flush per key at a time."""

    def __init__(self, flush: Callable[[int, list[T]], Awaitable[list[R]]]) -> None:
        self._flush = flush
        self._pending: dict[int, list[tuple[Sequence[T], asyncio.Future[list[R]]]]] = {}
        self._running: set[int] = set()

    async def submit(self, key: int, items: Sequence[T]) -> list[R]:
        fut: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((items, fut))
        if key not in self._running:
            self._running.add(key)
            asyncio.get_running_loop().create_task(self._drain(key))
        return await fut

    async def _drain(self, key: int) -> None:
        try:
            while self._pending.get(key):
                waiting = self._pending[key]
                group: list[tuple[Sequence[T], asyncio.Future[list[R]]]] = []
                count = 0
                while waiting and (not group or count + len(waiting[0][0]) <= MAX_ITEMS):
                    entry = waiting.pop(0)
                    group.append(entry)
                    count += len(entry[0])
                flat = [item for items, _ in group for item in items]
                try:
                    results = await self._flush(key, flat)
                except BaseException as exc:
                    for _, fut in group:
                        if not fut.done():
                            fut.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                pos = 0
                for items, fut in group:
                    if not fut.done():
                        fut.set_result(results[pos:pos + len(items)])
                    pos += len(items)
        finally:
            self._running.discard(key)
            if not self._pending.get(key):
                self._pending.pop(key, None)
