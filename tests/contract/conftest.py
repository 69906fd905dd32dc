"""Stores under contract. Every test here runs against each store implementation; a
store is correct when it passes them all."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from postroom.core.model import NewMessage, Queue, ResourceKey
from postroom.store.base import Store
from postroom.store.sqlite.store import SqliteStore
from tests.pg import drop_schema, new_schema, require_pg, with_schema

FIFO_ATTRS = {"FifoQueue": "true", "ContentBasedDeduplication": "false", "DeduplicationScope": "queue",
              "FifoThroughputLimit": "perQueue", "VisibilityTimeout": "30", "MessageRetentionPeriod": "345600",
              "DelaySeconds": "0"}
STD_ATTRS = {"VisibilityTimeout": "30", "MessageRetentionPeriod": "345600", "DelaySeconds": "0"}
T0 = 1_700_000_000_000

_ids = itertools.count(1)


def make_message(body: str, group: str | None = None, dedup: str | None = None, delay_ms: int = 0) -> NewMessage:
    return NewMessage(message_id=f"m-{next(_ids)}", body=body, md5_of_body="0" * 32, attributes={},
                      md5_of_attributes=None, system_attributes={}, md5_of_system_attributes=None,
                      sender_id="000000000000", delay_ms=delay_ms, group_id=group,
                      dedup_id=dedup if dedup is not None else (body if group is not None else None))


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "contract.db")
        yield s
        await s.close()
        return
    from postroom.store.postgres.store import PostgresStore

    dsn = require_pg()
    schema = new_schema()
    s = await PostgresStore.open(with_schema(dsn, schema))
    try:
        yield s
    finally:
        await s.close()
        drop_schema(dsn, schema)


@pytest.fixture
def new_queue(store: Store) -> Callable[..., object]:
    async def make(name: str, fifo: bool = False, **extra: str) -> Queue:
        attrs = dict(FIFO_ATTRS if fifo else STD_ATTRS)
        attrs.update(extra)
        full = name + (".fifo" if fifo else "")
        q, created = await store.create_queue(ResourceKey("000000000000", "us-east-1", full), attrs, {}, T0, None)
        assert created
        return q

    return make
