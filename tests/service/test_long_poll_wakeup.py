"""The long-poll wake-up race, on the real SQLite store: a send that lands between a
receive's empty look at the store and the moment it starts waiting must still wake it.

The store is wrapped only to run that send at the one instant that matters (after the
store answered "nothing yet", before the service waits); everything else is the real
service and store. Before the fix the receive slept through its whole wait and came back
empty although the message had been there for seconds.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from postroom.clock import SystemClock
from postroom.core.model import ReceiveOutcome
from postroom.service.context import RequestContext, ServiceSettings
from postroom.service.messages import MessageService, OutgoingMessage, ReceiveOptions
from postroom.service.queues import QueueService
from postroom.service.waiters import Waiters
from postroom.store.base import ReceiveRequest
from postroom.store.sqlite.store import SqliteStore

CTX = RequestContext(account="000000000000", region="us-east-1", host="localhost")


class SendDuringReceive:
    """The real store; its first empty receive triggers a send just before returning."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.send_between: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def receive(self, queue: Any, request: ReceiveRequest) -> ReceiveOutcome:
        outcome = await self._store.receive(queue, request)
        if not outcome.messages and self.send_between is not None:
            send, self.send_between = self.send_between, None
            await send()
        return outcome


async def test_a_send_between_the_empty_look_and_the_wait_wakes_the_poll(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "race.db")
    try:
        wrapped = SendDuringReceive(store)
        waiters = Waiters()
        args = (wrapped, SystemClock(), ServiceSettings(), waiters)
        queues = QueueService(*args)  # type: ignore[arg-type]
        messages = MessageService(*args)  # type: ignore[arg-type]
        queue = await queues.create_queue(CTX, "race", None, None)
        url = CTX.queue_url(queue.account, queue.name)
        wrapped.send_between = lambda: messages.send(CTX, url, OutgoingMessage(body="hello"))
        started = time.monotonic()
        got = await asyncio.wait_for(messages.receive(CTX, url, ReceiveOptions(wait_seconds=5)), 10)
        elapsed = time.monotonic() - started
        assert [m.body for m in got] == ["hello"]
        assert elapsed < 2, f"the poll slept {elapsed:.1f} s through a send it should have seen"
    finally:
        await store.close()
