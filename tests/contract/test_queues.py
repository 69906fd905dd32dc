from __future__ import annotations

import pytest

from postroom.errors import QueueDeletedRecently

from .conftest import STD_ATTRS, T0, make_message


async def test_create_is_idempotent_and_listed_in_order(store):
    a, created = await store.create_queue("1", "us-east-1", "b", STD_ATTRS, {}, T0, None)
    again, created2 = await store.create_queue("1", "us-east-1", "b", STD_ATTRS, {}, T0, None)
    assert created and not created2 and again.queue_id == a.queue_id
    await store.create_queue("1", "us-east-1", "a", STD_ATTRS, {}, T0, None)
    await store.create_queue("2", "us-east-1", "c", STD_ATTRS, {}, T0, None)
    assert [q.name for q in await store.list_queues("1", "", None, 10)] == ["a", "b"]
    assert [q.name for q in await store.list_queues("1", "", "a", 10)] == ["b"]


async def test_delete_drops_messages_and_reuse_rule(store):
    q, _ = await store.create_queue("1", "us-east-1", "q", STD_ATTRS, {}, T0, None)
    await store.send(q, [make_message("x")], T0, 300_000)
    assert await store.delete_queue("1", "q", T0)
    assert await store.get_queue("1", "q") is None
    with pytest.raises(QueueDeletedRecently):
        await store.create_queue("1", "us-east-1", "q", STD_ATTRS, {}, T0 + 59_000, 60_000)
    q2, created = await store.create_queue("1", "us-east-1", "q", STD_ATTRS, {}, T0 + 60_000, 60_000)
    assert created and (await store.counts(q2, T0)).visible == 0


async def test_update_attributes_and_tags(store):
    await store.create_queue("1", "us-east-1", "q", STD_ATTRS, {"a": "1"}, T0, None)
    updated = await store.update_queue("1", "q", {**STD_ATTRS, "VisibilityTimeout": "5"}, None, T0 + 1)
    assert updated.attributes["VisibilityTimeout"] == "5" and updated.tags == {"a": "1"}
    assert updated.modified_ms == T0 + 1
    tagged = await store.update_queue("1", "q", None, {"b": "2"}, T0 + 2)
    assert tagged.tags == {"b": "2"} and tagged.modified_ms == T0 + 1
    fetched = await store.get_queue("1", "q")
    assert fetched is not None and fetched.tags == {"b": "2"}


async def test_shared_setting_is_written_once(store):
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return f"value-{len(calls)}"

    assert await store.shared_setting("k", make) == "value-1"
    assert await store.shared_setting("k", make) == "value-1"
    assert calls == [1], "an existing setting is returned, not made again"
