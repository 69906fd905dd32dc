"""Queue records on every store: identity (account, region, name), idempotent create,
the reuse rule, and changes applied to the row as stored, inside the transaction."""

from __future__ import annotations

import asyncio
import json

import pytest

from postroom.core.model import Queue, QueueChange, ResourceKey
from postroom.core.sqs import queue_changes
from postroom.errors import InvalidParameterValue, QueueDeletedRecently, QueueDoesNotExist

from .conftest import STD_ATTRS, T0, make_message


def key(account: str, name: str, region: str = "us-east-1") -> ResourceKey:
    return ResourceKey(account, region, name)


async def test_create_is_idempotent_and_listed_in_order(store):
    a, created = await store.create_queue(key("1", "b"), STD_ATTRS, {}, T0, None)
    again, created2 = await store.create_queue(key("1", "b"), STD_ATTRS, {}, T0, None)
    assert created and not created2 and again.queue_id == a.queue_id
    await store.create_queue(key("1", "a"), STD_ATTRS, {}, T0, None)
    await store.create_queue(key("2", "c"), STD_ATTRS, {}, T0, None)
    assert [q.name for q in await store.list_queues("1", "us-east-1", "", None, 10)] == ["a", "b"]
    assert [q.name for q in await store.list_queues("1", "us-east-1", "", "a", 10)] == ["b"]


async def test_the_same_name_in_two_regions_is_two_queues(store):
    """AWS: queues are regional; ``orders`` in us-east-1 and in eu-west-1 are different
    queues with different ARNs, and listing, deleting and sending stay in their region."""
    east, _ = await store.create_queue(key("1", "orders"), STD_ATTRS, {}, T0, None)
    west, created = await store.create_queue(key("1", "orders", "eu-west-1"), STD_ATTRS, {}, T0, None)
    assert created and west.queue_id != east.queue_id
    assert east.arn.startswith("arn:aws:sqs:us-east-1:") and west.arn.startswith("arn:aws:sqs:eu-west-1:")
    await store.send(west, [make_message("west")], T0, 300_000)
    assert (await store.counts(east, T0)).visible == 0
    assert [q.region for q in await store.list_queues("1", "eu-west-1", "", None, 10)] == ["eu-west-1"]
    assert await store.delete_queue(key("1", "orders", "eu-west-1"), T0)
    assert await store.get_queue(key("1", "orders")) is not None
    assert await store.get_queue(key("1", "orders", "eu-west-1")) is None


async def test_delete_drops_messages_and_reuse_rule(store):
    q, _ = await store.create_queue(key("1", "q"), STD_ATTRS, {}, T0, None)
    await store.send(q, [make_message("x")], T0, 300_000)
    assert await store.delete_queue(key("1", "q"), T0)
    assert await store.get_queue(key("1", "q")) is None
    with pytest.raises(QueueDeletedRecently):
        await store.create_queue(key("1", "q"), STD_ATTRS, {}, T0 + 59_000, 60_000)
    q2, created = await store.create_queue(key("1", "q"), STD_ATTRS, {}, T0 + 60_000, 60_000)
    assert created and (await store.counts(q2, T0)).visible == 0


async def test_a_send_after_delete_fails_and_the_new_queue_starts_empty(store):
    """A request that resolved a queue before it was deleted must not land anywhere: its
    send fails with QueueDoesNotExist, and a queue re-created under the same name (which
    never reuses the old id) starts empty."""
    old, _ = await store.create_queue(key("1", "gone"), STD_ATTRS, {}, T0, None)
    fifo, _ = await store.create_queue(key("1", "gone.fifo"), {**STD_ATTRS, "FifoQueue": "true"}, {}, T0, None)
    assert await store.delete_queue(key("1", "gone"), T0)
    assert await store.delete_queue(key("1", "gone.fifo"), T0)
    new, _ = await store.create_queue(key("1", "gone"), STD_ATTRS, {}, T0, None)
    assert new.queue_id != old.queue_id
    with pytest.raises(QueueDoesNotExist):
        await store.send(old, [make_message("late")], T0, 300_000)
    with pytest.raises(QueueDoesNotExist):
        await store.send(fifo, [make_message("late", group="g")], T0, 300_000)
    assert (await store.counts(new, T0)).visible == 0


async def test_update_applies_the_change_to_the_stored_row(store):
    await store.create_queue(key("1", "q"), STD_ATTRS, {"a": "1"}, T0, None)
    updated = await store.update_queue(key("1", "q"), queue_changes.set_attributes({"VisibilityTimeout": "5"}), T0 + 1)
    assert updated.attributes["VisibilityTimeout"] == "5" and updated.tags == {"a": "1"}
    assert updated.modified_ms == T0 + 1
    tagged = await store.update_queue(key("1", "q"), queue_changes.tag({"b": "2"}), T0 + 2)
    assert tagged.tags == {"a": "1", "b": "2"} and tagged.modified_ms == T0 + 1, "tags do not move LastModified"
    fetched = await store.get_queue(key("1", "q"))
    assert fetched is not None and fetched.tags == {"a": "1", "b": "2"}
    with pytest.raises(QueueDoesNotExist):
        await store.update_queue(key("1", "nope"), queue_changes.tag({"x": "y"}), T0)


async def test_a_failing_change_changes_nothing(store):
    await store.create_queue(key("1", "q"), STD_ATTRS, {}, T0, None)
    await store.update_queue(key("1", "q"), queue_changes.add_permission("l", ["2"], ["SendMessage"]), T0)
    with pytest.raises(InvalidParameterValue):
        await store.update_queue(key("1", "q"), queue_changes.add_permission("l", ["3"], ["SendMessage"]), T0)
    q = await store.get_queue(key("1", "q"))
    assert q is not None and "iam::2:root" in q.attributes["Policy"] and "iam::3:root" not in q.attributes["Policy"]


async def test_concurrent_changes_each_see_the_other(store):
    """Each change is a function of the row as stored when its transaction runs, so 20
    concurrent changes of different attributes, tags and permissions all survive."""
    await store.create_queue(key("1", "busy"), STD_ATTRS, {}, T0, None)
    changes = [queue_changes.tag({f"t{i}": str(i)}) for i in range(8)]
    changes += [queue_changes.add_permission(f"p{i}", [str(100 + i)], ["SendMessage"]) for i in range(8)]
    changes += [queue_changes.set_attributes({"DelaySeconds": "7"}), queue_changes.set_attributes(
        {"VisibilityTimeout": "77"}), queue_changes.set_attributes({"MaximumMessageSize": "2048"}),
        queue_changes.untag(["missing"])]
    await asyncio.gather(*(store.update_queue(key("1", "busy"), c, T0) for c in changes))
    q = await store.get_queue(key("1", "busy"), fresh=True)
    assert q is not None
    assert q.tags == {f"t{i}": str(i) for i in range(8)}
    assert all(f'"Sid":"p{i}"' in q.attributes["Policy"] for i in range(8))
    assert (q.attributes["DelaySeconds"], q.attributes["VisibilityTimeout"], q.attributes["MaximumMessageSize"]) == (
        "7", "77", "2048")


async def test_the_change_sees_the_committed_row_not_a_copy(store):
    seen: list[dict[str, str]] = []

    def change(q: Queue) -> QueueChange:
        seen.append(dict(q.tags))
        return QueueChange(tags={**q.tags, "n": str(len(q.tags))})

    await store.create_queue(key("1", "q"), STD_ATTRS, {"x": "1"}, T0, None)
    await store.update_queue(key("1", "q"), queue_changes.tag({"y": "2"}), T0)
    await store.update_queue(key("1", "q"), change, T0)
    assert seen == [{"x": "1", "y": "2"}]


async def test_shared_setting_is_written_once(store):
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return f"value-{len(calls)}"

    assert await store.shared_setting("k", make) == "value-1"
    assert await store.shared_setting("k", make) == "value-1"
    assert calls == [1], "an existing setting is returned, not made again"


async def test_dead_letter_sources_are_the_queues_redriving_to_it(store):
    """ListDeadLetterSourceQueues and StartMessageMoveTask's "is it a DLQ" check: the
    sources are exactly the queues (same account and region) whose RedrivePolicy targets
    the DLQ; a queue only naming it in RedriveAllowPolicy, or targeting a queue whose
    name it prefixes, is not one."""
    dlq, _ = await store.create_queue(key("1", "dlq"), STD_ATTRS, {}, T0, None)
    await store.create_queue(key("1", "dlq2"), STD_ATTRS, {}, T0, None)

    def redrive(arn: str) -> dict[str, str]:
        return {**STD_ATTRS, "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3},
                                                         separators=(",", ":"))}

    await store.create_queue(key("1", "src-b"), redrive(dlq.arn), {}, T0, None)
    await store.create_queue(key("1", "src-a"), redrive(dlq.arn), {}, T0, None)
    await store.create_queue(key("1", "other"), redrive(dlq.arn + "2"), {}, T0, None)
    allow = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [dlq.arn]}, separators=(",", ":"))
    await store.create_queue(key("1", "allow"), {**STD_ATTRS, "RedriveAllowPolicy": allow}, {}, T0, None)
    assert [q.name for q in await store.dead_letter_sources(dlq)] == ["src-a", "src-b"]
