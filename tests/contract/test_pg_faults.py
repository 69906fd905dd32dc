"""PostgreSQL-only faults that need a second connection or an injected error, on the real
store: a deadlock in the middle of a standard receive, and a receive that supersedes a
receipt handle while a ChangeMessageVisibility with that handle is under way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from postroom.core.model import Queue, ResourceKey
from postroom.store import receipts
from postroom.store.base import ReceiveRequest, VisibilityChange
from postroom.store.postgres import messages
from postroom.store.postgres.store import PostgresStore, split_dsn
from tests.pg import drop_schema, new_schema, require_pg, with_schema

from .conftest import STD_ATTRS, T0, make_message


@pytest.fixture
async def pg() -> AsyncIterator[tuple[PostgresStore, str]]:
    dsn = require_pg()
    schema = new_schema()
    store = await PostgresStore.open(with_schema(dsn, schema))
    try:
        yield store, with_schema(dsn, schema)
    finally:
        await store.close()
        drop_schema(dsn, schema)


async def _queue(store: PostgresStore, name: str) -> Queue:
    queue, _ = await store.create_queue(ResourceKey("1", "us-east-1", name), dict(STD_ATTRS), {}, T0, None)
    return queue


def req(now: int, vis: int = 30_000, **kw: Any) -> ReceiveRequest:
    return ReceiveRequest(max_messages=10, visibility_ms=vis, now_ms=now, retention_ms=345_600_000, **kw)


async def test_a_deadlock_while_dead_lettering_loses_no_claimed_message(pg, monkeypatch):
    """A standard receive claims rows in one statement, then dead-letters those over the
    redrive limit. A deadlock in that second step used to re-run the whole receive: the
    rows the first claim had taken (receive count raised, invisible) were never returned —
    counted as received without being delivered, a step closer to the DLQ each time. Now
    only the atomic dead-letter step is retried, and the claimed messages are handed out."""
    store, _dsn = pg
    queue, dlq = await _queue(store, "src"), await _queue(store, "src-dlq")
    await store.send(queue, [make_message("old")], T0, 300_000)
    (first,) = (await store.receive(queue, req(T0, vis=0))).messages  # "old" has been received once
    await store.send(queue, [make_message("new-1"), make_message("new-2")], T0 + 1, 300_000)
    real = messages._move_to_dlq
    calls: list[int] = []

    async def deadlock_once(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise asyncpg.exceptions.DeadlockDetectedError("injected deadlock")
        await real(*args)

    monkeypatch.setattr(messages, "_move_to_dlq", deadlock_once)
    got = await store.receive(queue, req(T0 + 2, max_receive_count=1, dlq=dlq.key))
    assert sorted(m.body for m in got.messages) == ["new-1", "new-2"]
    assert all(m.receive_count == 1 for m in got.messages)
    assert [m.body for m in (await store.receive(dlq, req(T0 + 3))).messages] == [first.body]
    assert len(calls) == 2, "the dead-letter step was retried once"


async def test_a_superseded_handle_cannot_change_the_next_receivers_timeout(pg):
    """ChangeMessageVisibility with handle H1 races a receive that supersedes H1 (the
    message's visibility ran out and another consumer received it: new token, new
    timeout). A second connection holds the message's row lock while the change is under
    way and lets the re-receive commit first. The change must then find H1 stale and touch
    nothing (it succeeds, as ChangeMessageVisibility with an old handle does on AWS);
    before the fix it had checked H1 and then updated by message id alone, rewriting the
    new receiver's timeout."""
    store, dsn = pg
    queue = await _queue(store, "vis")
    await store.send(queue, [make_message("m")], T0, 300_000)
    (m,) = (await store.receive(queue, req(T0, vis=1_000))).messages
    row_id = receipts.decode(m.receipt_handle, queue.queue_id).row_id
    clean, settings = split_dsn(dsn)
    other = await asyncpg.connect(clean, server_settings=settings)
    try:
        tx = other.transaction()
        await tx.start()
        await other.execute("SELECT 1 FROM messages WHERE id = $1 FOR UPDATE", row_id)
        change = asyncio.create_task(store.change_visibility(
            queue, [VisibilityChange("e", m.receipt_handle, 600_000)], T0 + 500))
        await asyncio.sleep(0.3)
        assert not change.done(), "the change waits for the row lock"
        # The re-receive by another consumer: a new token and its own 30 s timeout.
        await other.execute("UPDATE messages SET token = 'next-receiver', visible_ms = $2, "
                            "receive_count = receive_count + 1 WHERE id = $1", row_id, T0 + 30_500)
        await tx.commit()
        (error,) = await asyncio.wait_for(change, 10)
        assert error is None, "a superseded handle is no error"
        visible = await other.fetchval("SELECT visible_ms FROM messages WHERE id = $1", row_id)
        assert visible == T0 + 30_500, "the next receiver's timeout is its own"
    finally:
        await other.close()
