"""SNS store behaviour, on every store: topics and subscriptions, one-transaction
fan-out into queues, FIFO topic deduplication and sequence numbers, accounting, and the
HTTP outbox's leases."""

from __future__ import annotations

from postroom.core.sns_model import HttpDelivery, PublishPlan, QueueDelivery, Subscription
from postroom.store.base import ReceiveRequest

from .conftest import T0, make_message

FIFO_TOPIC = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}


def req(now: int = T0) -> ReceiveRequest:
    return ReceiveRequest(max_messages=10, visibility_ms=30_000, now_ms=now, retention_ms=345_600_000)


async def _topic(store, name: str, fifo: bool = False):  # type: ignore[no-untyped-def]
    topic, created = await store.create_topic("000000000000", "us-east-1", name + (".fifo" if fifo else ""),
                                              dict(FIFO_TOPIC) if fifo else {}, {}, T0)
    assert created
    return topic


def _sub(topic, sub_id: str, queue_name: str, confirmed: bool = True) -> Subscription:  # type: ignore[no-untyped-def]
    return Subscription(sub_id, topic.arn, "000000000000", "sqs",
                        f"arn:aws:sqs:us-east-1:000000000000:{queue_name}", {}, confirmed)


async def test_topics_and_subscriptions(store, new_queue):
    topic = await _topic(store, "t")
    again, created = await store.create_topic("000000000000", "us-east-1", "t", {}, {}, T0)
    assert not created and again.topic_id == topic.topic_id
    assert [t.name for t in await store.list_topics("000000000000")] == ["t"]
    s1 = await store.subscribe(topic, _sub(topic, "s1", "q1"), T0)
    dup = await store.subscribe(topic, _sub(topic, "other-id", "q1"), T0)
    assert dup.sub_id == s1.sub_id, "the same endpoint subscribes once"
    assert [s.sub_id for s in await store.subscriptions_of(topic.arn)] == ["s1"]
    assert (await store.get_subscription(s1.arn)) == s1
    await store.unsubscribe(s1)
    assert await store.get_subscription(s1.arn) is None
    await store.subscribe(topic, _sub(topic, "s2", "q2"), T0)
    await store.delete_topic(topic)
    assert await store.get_topic("000000000000", "t") is None
    assert await store.subscriptions_of(topic.arn) == []


async def test_publish_fans_out_into_every_queue_and_counts(store, new_queue):
    q1, q2 = await new_queue("fan1"), await new_queue("fan2")
    topic = await _topic(store, "fan")
    for i, q in enumerate((q1, q2)):
        await store.subscribe(topic, _sub(topic, f"s{i}", q.name), T0)

    def plan(seq: str | None) -> PublishPlan:
        assert seq is None
        return PublishPlan("mid-1", queue_deliveries=[
            QueueDelivery(f"{topic.arn}:s{i}", "000000000000", q.name, make_message(f"hello-{i}"))
            for i, q in enumerate((q1, q2))], filtered_out=[f"{topic.arn}:filtered"])

    result = await store.publish(topic, plan, "mid-1", None, T0, 300_000)
    assert result.message_id == "mid-1" and not result.duplicate
    assert [m.body for m in (await store.receive(q1, req())).messages] == ["hello-0"]
    assert [m.body for m in (await store.receive(q2, req())).messages] == ["hello-1"]
    topics, subs = await store.sns_counts()
    assert topics[topic.arn].published == 1 and topics[topic.arn].no_subscribers == 0
    assert subs[f"{topic.arn}:s0"].delivered == 1
    assert subs[f"{topic.arn}:filtered"].filtered_out == 1


async def test_publish_without_subscribers_is_counted(store):
    topic = await _topic(store, "lonely")
    await store.publish(topic, lambda seq: PublishPlan("m"), "m", None, T0, 300_000)
    await store.publish(topic, lambda seq: PublishPlan("n"), "n", None, T0, 300_000)
    topics, _ = await store.sns_counts()
    assert topics[topic.arn].published == 2 and topics[topic.arn].no_subscribers == 2


async def test_delivery_to_a_missing_queue_fails_and_uses_the_dlq(store, new_queue):
    dlq = await new_queue("sub-dlq")
    topic = await _topic(store, "gone")
    await store.subscribe(topic, _sub(topic, "s", "missing"), T0)
    plan = PublishPlan("m", queue_deliveries=[
        QueueDelivery(f"{topic.arn}:s", "000000000000", "missing", make_message("x")),
        QueueDelivery(f"{topic.arn}:s2", "000000000000", "missing", make_message("y"),
                      dlq=("000000000000", dlq.name))])
    await store.publish(topic, lambda seq: plan, "m", None, T0, 300_000)
    _, subs = await store.sns_counts()
    assert subs[f"{topic.arn}:s"].failed == 1
    assert subs[f"{topic.arn}:s2"].failed == 1 and subs[f"{topic.arn}:s2"].delivered == 0
    assert [m.body for m in (await store.receive(dlq, req())).messages] == ["y"]


async def test_fifo_topic_dedups_and_numbers_in_order(store, new_queue):
    q = await new_queue("ff", fifo=True)
    topic = await _topic(store, "ft", fifo=True)
    await store.subscribe(topic, _sub(topic, "s", q.name), T0)
    seqs: list[str | None] = []

    def plan_for(body: str):  # type: ignore[no-untyped-def]
        def plan(seq: str | None) -> PublishPlan:
            seqs.append(seq)
            return PublishPlan(body, queue_deliveries=[QueueDelivery(
                f"{topic.arn}:s", "000000000000", q.name, make_message(body, "G", dedup=body))])
        return plan

    r1 = await store.publish(topic, plan_for("a"), "a", "d1", T0, 300_000)
    r2 = await store.publish(topic, plan_for("b"), "b", "d2", T0, 300_000)
    dup = await store.publish(topic, plan_for("c"), "c", "d1", T0 + 1_000, 300_000)
    assert dup.duplicate and dup.message_id == "a" and dup.sequence_number == r1.sequence_number
    assert int(r2.sequence_number or 0) > int(r1.sequence_number or 0)
    assert len(seqs) == 2, "a duplicate builds no deliveries"
    assert [m.body for m in (await store.receive(q, req())).messages] == ["a", "b"]
    later = await store.publish(topic, plan_for("d"), "d", "d1", T0 + 300_000, 300_000)
    assert not later.duplicate


async def test_outbox_lease_and_retry(store):
    topic = await _topic(store, "web")
    plan = PublishPlan("m", http_deliveries=[HttpDelivery(f"{topic.arn}:h", "http://127.0.0.1:1/x", "body",
                                                          {"x-amz-sns-message-type": "Notification"})])
    await store.publish(topic, lambda seq: plan, "m", None, T0, 300_000)
    (item,) = await store.claim_outbox(T0, 10, 60_000)
    assert item.body == "body" and item.attempts == 0
    assert await store.claim_outbox(T0 + 59_999, 10, 60_000) == [], "leased"
    (again,) = await store.claim_outbox(T0 + 60_000, 10, 60_000)
    assert again.item_id == item.item_id, "a lease that ran out is delivered again"
    await store.outbox_retry(item.item_id, T0 + 80_000)
    assert await store.claim_outbox(T0 + 79_999, 10, 60_000) == []
    (third,) = await store.claim_outbox(T0 + 80_000, 10, 60_000)
    assert third.attempts == 1
    await store.outbox_done(item.item_id)
    assert await store.claim_outbox(T0 + 10**9, 10, 60_000) == []


async def test_folding_the_accounting_keeps_every_count(store):
    topic = await _topic(store, "fold")
    for i in range(1_200):
        plan = PublishPlan(f"m{i}", filtered_out=[f"{topic.arn}:s"])
        await store.publish(topic, lambda seq, plan=plan: plan, f"m{i}", None, T0, 300_000)
    before = await store.sns_counts()
    await store.expire(T0)
    after = await store.sns_counts()
    assert after == before
    assert after[0][topic.arn].published == 1_200 and after[1][f"{topic.arn}:s"].filtered_out == 1_200
    await store.publish(topic, lambda seq: PublishPlan("late"), "late", None, T0, 300_000)
    assert (await store.sns_counts())[0][topic.arn].published == 1_201
