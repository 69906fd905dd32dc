"""Cross-node wake-ups, announced after commit and batched.

PostgreSQL serialises the commits of every transaction that issued NOTIFY (it holds a
database-wide lock from NOTIFY until the end of commit, WAL flush included), so a NOTIFY
inside each send would turn concurrent sends into one-at-a-time commits. Instead,
operations ``touch`` the queues they made receivable; once their transaction committed,
the store hands the set to a ``Notifier``, which sends one ``m:<id>,<id>,…`` notification
for everything touched meanwhile, outside any data transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

log = logging.getLogger(__name__)

_touched: ContextVar[set[int] | None] = ContextVar("postroom_touched", default=None)
MAX_PAYLOAD = 7000  # PostgreSQL's NOTIFY payload limit is 8000 bytes


def touch(queue_id: int) -> None:
    """Record that ``queue_id`` got messages (or an unlocked FIFO group) in this transaction."""
    touched = _touched.get()
    if touched is not None:
        touched.add(queue_id)


def begin() -> tuple[set[int], object]:
    touched: set[int] = set()
    return touched, _touched.set(touched)


def end(token: object) -> None:
    _touched.reset(token)  # type: ignore[arg-type]


class Notifier:
    def __init__(self, send: Callable[[str], Awaitable[object]]) -> None:
        self._send = send
        self._pending: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    def announce(self, queue_ids: set[int]) -> None:
        if not queue_ids:
            return
        self._pending |= queue_ids
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)
        while self._pending:
            ids = sorted(self._pending)
            self._pending.clear()
            chunk: list[str] = []
            for text in map(str, ids):
                if sum(len(c) + 1 for c in chunk) + len(text) > MAX_PAYLOAD:
                    await self._emit(chunk)
                    chunk = []
                chunk.append(text)
            await self._emit(chunk)

    async def _emit(self, chunk: list[str]) -> None:
        try:
            await self._send("m:" + ",".join(chunk))
        except Exception:
            # Best effort: a waiter on another node that misses this wakes at its next
            # visibility time or when its WaitTimeSeconds runs out, as SQS allows.
            log.warning("could not send a wake-up notification", exc_info=True)
