"""SNS store behaviour, on every store: topics and subscriptions, one-transaction
fan-out into queues, the subscription version a publish is checked against, FIFO topic
deduplication and sequence numbers, accounting, and the HTTP outbox."""

from __future__ import annotations

import asyncio

import pytest

from postroom.core.model import NewMessage, ResourceKey
from postroom.core.sns import topic_changes
from postroom.core.sns.model import (
    SEQUENCE_SLOT,
    HttpDelivery,
    OutboxOutcome,
    PublishPlan,
    PublishWriteSet,
    QueueDelivery,
    StaleSubscriptions,
    Subscription,
    Topic,
)
from postroom.errors import InvalidParameter, NotFound
from postroom.store.base import ReceiveRequest

from .conftest import T0, make_message

FIFO_TOPIC = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}
ACCOUNT = "000000000000"


def req(now: int = T0) -> ReceiveRequest:
    return ReceiveRequest(max_messages=10, visibility_ms=30_000, now_ms=now, retention_ms=345_600_000)


def qkey(name: str) -> ResourceKey:
    return ResourceKey(ACCOUNT, "us-east-1", name)


async def _topic(store, name: str, fifo: bool = False) -> Topic:  # type: ignore[no-untyped-def]
    topic, created = await store.create_topic(qkey(name + (".fifo" if fifo else "")),
                                              dict(FIFO_TOPIC) if fifo else {}, {}, T0)
    assert created
    return topic  # type: ignore[no-any-return]


def _sub(topic: Topic, sub_id: str, queue_name: str, confirmed: bool = True) -> Subscription:
    return Subscription(sub_id, topic.arn, ACCOUNT, "sqs", f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue_name}", {},
                        confirmed)


async def _write_set(store, topic: Topic, *plans: PublishPlan) -> PublishWriteSet:  # type: ignore[no-untyped-def]
    subset = await store.subscriptions_of(topic)
    return PublishWriteSet(topic, subset.version, bool(subset.subscriptions), list(plans))


async def test_topics_and_subscriptions(store, new_queue):
    topic = await _topic(store, "t")
    again, created = await store.create_topic(qkey("t"), {}, {}, T0)
    assert not created and again.topic_id == topic.topic_id
    assert [t.name for t in await store.list_topics(ACCOUNT, "us-east-1")] == ["t"]
    assert await store.list_topics(ACCOUNT, "eu-west-1") == []
    s1 = await store.subscribe(topic, _sub(topic, "s1", "q1"), T0)
    dup = await store.subscribe(topic, _sub(topic, "other-id", "q1"), T0)
    assert dup.sub_id == s1.sub_id, "the same endpoint subscribes once"
    assert [s.sub_id for s in (await store.subscriptions_of(topic)).subscriptions] == ["s1"]
    assert (await store.get_subscription(s1.arn)) == s1
    assert await store.unsubscribe(s1.arn, T0)
    assert not await store.unsubscribe(s1.arn, T0)
    assert await store.get_subscription(s1.arn) is None
    await store.subscribe(topic, _sub(topic, "s2", "q2"), T0)
    await store.delete_topic(topic.key)
    assert await store.get_topic(qkey("t")) is None
    with pytest.raises(NotFound):
        await store.subscribe(topic, _sub(topic, "s3", "q3"), T0)


async def test_every_subscription_change_moves_the_version(store):
    """Subscribe, SetSubscriptionAttributes, ConfirmSubscription and Unsubscribe each move
    the topic's subscription version; a Subscribe of an existing endpoint does not."""
    topic = await _topic(store, "v")
    versions = [(await store.subscriptions_of(topic)).version]
    sub = await store.subscribe(topic, _sub(topic, "s", "q"), T0)
    versions.append((await store.subscriptions_of(topic)).version)
    await store.subscribe(topic, _sub(topic, "again", "q"), T0)
    assert (await store.subscriptions_of(topic)).version == versions[-1]
    await store.update_subscription(sub.arn, topic_changes.set_subscription_attribute("RawMessageDelivery", "true",
                                                                                      False))
    versions.append((await store.subscriptions_of(topic)).version)
    http = Subscription("h", topic.arn, ACCOUNT, "http", "http://127.0.0.1:1/", {}, False, "tok")
    await store.subscribe(topic, http, T0)
    versions.append((await store.subscriptions_of(topic)).version)
    confirmed = await store.confirm_subscription(topic, "tok")
    assert confirmed is not None and confirmed.confirmed
    versions.append((await store.subscriptions_of(topic)).version)
    assert await store.confirm_subscription(topic, "nope") is None
    await store.unsubscribe(sub.arn, T0)
    versions.append((await store.subscriptions_of(topic)).version)
    assert versions == sorted(set(versions)), versions
    current = await store.subscriptions_of(topic)
    assert [(s.sub_id, s.confirmed) for s in current.subscriptions] == [("h", True)]


async def test_publish_fans_out_into_every_queue_and_counts(store, new_queue):
    q1, q2 = await new_queue("fan1"), await new_queue("fan2")
    topic = await _topic(store, "fan")
    for i, q in enumerate((q1, q2)):
        await store.subscribe(topic, _sub(topic, f"s{i}", q.name), T0)
    plan = PublishPlan("mid-1", queue_deliveries=[
        QueueDelivery(f"{topic.arn}:s{i}", q.key, make_message(f"hello-{i}")) for i, q in enumerate((q1, q2))],
        filtered_out=[f"{topic.arn}:filtered"])
    (result,) = await store.publish(await _write_set(store, topic, plan), T0, 300_000)
    assert result.message_id == "mid-1" and not result.duplicate
    assert [m.body for m in (await store.receive(q1, req())).messages] == ["hello-0"]
    assert [m.body for m in (await store.receive(q2, req())).messages] == ["hello-1"]
    topics, subs = await store.sns_counts()
    assert topics[topic.arn].published == 1 and topics[topic.arn].no_subscribers == 0
    assert subs[f"{topic.arn}:s0"].delivered == 1
    assert subs[f"{topic.arn}:filtered"].filtered_out == 1


async def test_a_publish_planned_from_an_old_subscription_set_changes_nothing(store, new_queue):
    """The check that makes a publish unable to miss a confirmed subscription: a write set
    built before a Subscribe committed is refused whole, and nothing of it lands."""
    q1, q2 = await new_queue("old1"), await new_queue("old2")
    topic = await _topic(store, "moving")
    await store.subscribe(topic, _sub(topic, "s1", q1.name), T0)
    plan = PublishPlan("m", queue_deliveries=[QueueDelivery(f"{topic.arn}:s1", q1.key, make_message("x"))])
    stale = await _write_set(store, topic, plan)
    await store.subscribe(topic, _sub(topic, "s2", q2.name), T0)
    with pytest.raises(StaleSubscriptions):
        await store.publish(stale, T0, 300_000)
    assert (await store.counts(q1, T0)).visible == 0
    assert await store.sns_counts() == ({}, {})
    await store.publish(await _write_set(store, topic, plan), T0, 300_000)
    assert (await store.counts(q1, T0)).visible == 1


async def test_publish_without_subscribers_is_counted(store):
    topic = await _topic(store, "lonely")
    await store.publish(await _write_set(store, topic, PublishPlan("m"), PublishPlan("n")), T0, 300_000)
    topics, _ = await store.sns_counts()
    assert topics[topic.arn].published == 2 and topics[topic.arn].no_subscribers == 2


async def test_a_batch_is_one_transaction(store, new_queue):
    """PublishBatch: the entries that passed validation commit together or not at all —
    here the last entry's delivery hits a failure after the first two were written, and
    neither of those is kept (a client retrying the batch would otherwise duplicate them)."""
    q = await new_queue("batch")
    topic = await _topic(store, "batch")
    await store.subscribe(topic, _sub(topic, "s", q.name), T0)
    broken = NewMessage(message_id="bad", body=None, md5_of_body="", attributes={},  # type: ignore[arg-type]
                        md5_of_attributes=None, system_attributes={}, md5_of_system_attributes=None, sender_id="x")
    plans = [PublishPlan(f"m{i}", queue_deliveries=[QueueDelivery(f"{topic.arn}:s", q.key, make_message(f"b{i}"))])
             for i in range(2)]
    plans.append(PublishPlan("m2", queue_deliveries=[QueueDelivery(f"{topic.arn}:s", q.key, broken)]))
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a NULL body
        await store.publish(await _write_set(store, topic, *plans), T0, 300_000)
    assert (await store.counts(q, T0)).visible == 0
    assert await store.sns_counts() == ({}, {})
    results = await store.publish(await _write_set(store, topic, *plans[:2]), T0, 300_000)
    assert [r.message_id for r in results] == ["m0", "m1"]
    assert [m.body for m in (await store.receive(q, req())).messages] == ["b0", "b1"]


async def test_delivery_to_a_missing_queue_fails_and_uses_the_dlq(store, new_queue):
    dlq = await new_queue("sub-dlq")
    topic = await _topic(store, "gone")
    await store.subscribe(topic, _sub(topic, "s", "missing"), T0)
    plan = PublishPlan("m", queue_deliveries=[
        QueueDelivery(f"{topic.arn}:s", qkey("missing"), make_message("x")),
        QueueDelivery(f"{topic.arn}:s2", qkey("missing"), make_message("y"), dlq=dlq.key)])
    await store.publish(await _write_set(store, topic, plan), T0, 300_000)
    _, subs = await store.sns_counts()
    assert subs[f"{topic.arn}:s"].failed == 1
    assert subs[f"{topic.arn}:s2"].failed == 1 and subs[f"{topic.arn}:s2"].delivered == 0
    assert [m.body for m in (await store.receive(dlq, req())).messages] == ["y"]


async def test_fifo_topic_dedups_and_numbers_in_order(store, new_queue):
    q = await new_queue("ff", fifo=True)
    topic = await _topic(store, "ft", fifo=True)
    await store.subscribe(topic, _sub(topic, "s", q.name), T0)

    def plan(body: str, dedup: str) -> PublishPlan:
        message = make_message(f'{{"SequenceNumber":"{SEQUENCE_SLOT}","Message":"{body}"}}', "G", dedup=body)
        return PublishPlan(body, dedup_id=dedup, queue_deliveries=[QueueDelivery(f"{topic.arn}:s", q.key, message)])

    r1, r2, dup = await store.publish(await _write_set(store, topic, plan("a", "d1"), plan("b", "d2"),
                                                       plan("c", "d1")), T0, 300_000)
    assert dup.duplicate and dup.message_id == "a" and dup.sequence_number == r1.sequence_number
    assert int(r2.sequence_number or 0) > int(r1.sequence_number or 0)
    got = (await store.receive(q, req())).messages
    assert [m.body for m in got] == [f'{{"SequenceNumber":"{r.sequence_number}","Message":"{b}"}}'
                                     for r, b in ((r1, "a"), (r2, "b"))], "the store fills the sequence slot"
    (later,) = await store.publish(await _write_set(store, topic, plan("d", "d1")), T0 + 300_000, 300_000)
    assert not later.duplicate


async def test_concurrent_topic_changes_each_see_the_other(store):
    topic = await _topic(store, "busy")
    changes = [topic_changes.tag({f"k{i}": "v"}) for i in range(6)]
    changes += [topic_changes.add_permission(f"p{i}", [str(i)], ["Publish"]) for i in range(6)]
    changes += [topic_changes.set_attribute("DisplayName", "shown")]
    await asyncio.gather(*(store.update_topic(topic.key, c) for c in changes))
    stored = await store.get_topic(topic.key)
    assert stored is not None and stored.tags == {f"k{i}": "v" for i in range(6)}
    assert all(f'"Sid": "p{i}"' in stored.attributes["Policy"] for i in range(6))
    assert stored.attributes["DisplayName"] == "shown"
    with pytest.raises(InvalidParameter):
        await store.update_topic(topic.key, topic_changes.add_permission("p0", ["9"], ["Publish"]))
    with pytest.raises(NotFound):
        await store.update_topic(qkey("nope"), topic_changes.tag({"a": "b"}))


async def test_outbox_lease_and_retry(store):
    topic = await _topic(store, "web")
    plan = PublishPlan("m", http_deliveries=[HttpDelivery(f"{topic.arn}:h", "http://127.0.0.1:1/x", "body",
                                                          {"x-amz-sns-message-type": "Notification"})])
    await store.publish(await _write_set(store, topic, plan), T0, 300_000)
    (item,) = await store.claim_outbox(T0, 10, 60_000)
    assert item.body == "body" and item.attempts == 0
    assert await store.claim_outbox(T0 + 59_999, 10, 60_000) == [], "leased"
    (again,) = await store.claim_outbox(T0 + 60_000, 10, 60_000)
    assert again.item_id == item.item_id, "a lease that ran out is delivered again"
    await store.outbox_retry(item.item_id, T0 + 80_000)
    assert await store.claim_outbox(T0 + 79_999, 10, 60_000) == []
    (third,) = await store.claim_outbox(T0 + 80_000, 10, 60_000)
    assert third.attempts == 1
    await store.finish_outbox(OutboxOutcome(item.item_id, topic.arn, f"{topic.arn}:h", True, True), T0)
    assert await store.claim_outbox(T0 + 10**9, 10, 60_000) == []
    assert (await store.sns_counts())[1][f"{topic.arn}:h"].delivered == 1


async def test_a_failed_delivery_ends_in_one_transaction(store, new_queue):
    """The outbox row, the DLQ copy and the failure count are one transaction: when the DLQ
    write fails (here: a message the database refuses), the row is still there to be
    delivered again and nothing was counted — no lost DLQ copy, no count without it."""
    dlq = await new_queue("http-dlq")
    topic = await _topic(store, "web2")
    plan = PublishPlan("m", http_deliveries=[HttpDelivery(f"{topic.arn}:h", "http://127.0.0.1:1/x", "body",
                                                          {"x-amz-sns-message-type": "Notification"})])
    await store.publish(await _write_set(store, topic, plan), T0, 300_000)
    (item,) = await store.claim_outbox(T0, 10, 1_000)
    broken = NewMessage(message_id="m", body=None, md5_of_body="", attributes={},  # type: ignore[arg-type]
                        md5_of_attributes=None, system_attributes={}, md5_of_system_attributes=None, sender_id="x")
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a NULL body
        await store.finish_outbox(OutboxOutcome(item.item_id, topic.arn, f"{topic.arn}:h", True, False,
                                                (dlq.key, broken)), T0)
    (still,) = await store.claim_outbox(T0 + 1_000, 10, 1_000)
    assert still.item_id == item.item_id
    assert f"{topic.arn}:h" not in (await store.sns_counts())[1]
    await store.finish_outbox(OutboxOutcome(item.item_id, topic.arn, f"{topic.arn}:h", True, False,
                                            (dlq.key, make_message("body"))), T0)
    assert [m.body for m in (await store.receive(dlq, req())).messages] == ["body"]
    assert (await store.sns_counts())[1][f"{topic.arn}:h"].failed == 1
    assert await store.claim_outbox(T0 + 10**9, 10, 60_000) == []


async def test_folding_the_accounting_keeps_every_count(store):
    topic = await _topic(store, "fold")
    for i in range(12):
        plans = [PublishPlan(f"m{i}-{j}", filtered_out=[f"{topic.arn}:s"]) for j in range(100)]
        await store.publish(await _write_set(store, topic, *plans), T0, 300_000)
    before = await store.sns_counts()
    await store.expire(T0)
    after = await store.sns_counts()
    assert after == before
    assert after[0][topic.arn].published == 1_200 and after[1][f"{topic.arn}:s"].filtered_out == 1_200
    await store.publish(await _write_set(store, topic, PublishPlan("late")), T0, 300_000)
    assert (await store.sns_counts())[0][topic.arn].published == 1_201
