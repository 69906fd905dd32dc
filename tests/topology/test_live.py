"""read_live against real endpoints (postroom and moto's server): every resource is read through
the public APIs and normalised to the model — names instead of ARNs, canonical JSON, depth over
the three approximate counters, only declarable attributes."""

from __future__ import annotations

import json
from typing import Any

from postroom.topology.live import read_live
from postroom.topology.model import QUEUE_ATTRIBUTES, TOPIC_ATTRIBUTES
from tests.endpoints import Endpoint
from tests.topology.conftest import queue_arn, target


def _build(ep: Endpoint, p: str) -> dict[str, Any]:
    sqs, sns = ep.client("sqs"), ep.client("sns")
    dlq_url = sqs.create_queue(QueueName=f"{p}dlq")["QueueUrl"]
    dlq_arn = queue_arn(sqs, f"{p}dlq")
    src_arn = dlq_arn.rsplit(":", 1)[0] + f":{p}work"
    sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [src_arn]})})
    work = sqs.create_queue(QueueName=f"{p}work", Attributes={
        "VisibilityTimeout": "45", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 4})},
        tags={"team": "billing"})["QueueUrl"]
    sqs.create_queue(QueueName=f"{p}ordered.fifo", Attributes={"FifoQueue": "true",
                                                               "ContentBasedDeduplication": "true"})
    topic = sns.create_topic(Name=f"{p}orders", Tags=[{"Key": "team", "Value": "orders"}])["TopicArn"]
    sns.create_topic(Name=f"{p}orders.fifo", Attributes={"FifoTopic": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, f"{p}work"), ReturnSubscriptionArn=True,
                  Attributes={"RawMessageDelivery": "true", "FilterPolicy": '{ "kind" : ["order"] }',
                              "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    # depth: one visible, one in flight, one delayed
    sqs.send_message(QueueUrl=work, MessageBody="visible")
    sqs.send_message(QueueUrl=work, MessageBody="inflight")
    got = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=1, VisibilityTimeout=60, WaitTimeSeconds=1)
    assert len(got.get("Messages", [])) == 1
    sqs.send_message(QueueUrl=work, MessageBody="delayed", DelaySeconds=60)
    return {"topic_arn": topic, "work_url": work}


def test_read_live_normalises_to_the_model(endpoint: Endpoint, prefix: str) -> None:
    p = prefix
    made = _build(endpoint, p)
    live = read_live(target(endpoint))

    work = live.queues[f"{p}work"]
    assert work.dlq == f"{p}dlq" and work.max_receive_count == 4
    assert work.attributes["VisibilityTimeout"] == "45"
    assert set(work.attributes) <= set(QUEUE_ATTRIBUTES), "read-only attributes (QueueArn, counters) are not kept"
    assert work.tags == {"team": "billing"}
    assert work.depth == 3, "depth = visible + not visible + delayed"
    assert work.url == made["work_url"] and work.arn and work.arn.endswith(f":{p}work")
    assert live.queues[f"{p}ordered.fifo"].fifo
    assert live.queues[f"{p}ordered.fifo"].attributes["ContentBasedDeduplication"] == "true"
    if endpoint.name == "postroom":  # moto's server does not keep RedriveAllowPolicy
        allow = live.queues[f"{p}dlq"].redrive_allow
        assert allow is not None and allow.permission == "byQueue" and allow.sources == (f"{p}work",)

    orders = live.topics[f"{p}orders"]
    assert orders.arn == made["topic_arn"] and orders.tags == {"team": "orders"}
    assert set(orders.attributes) <= set(TOPIC_ATTRIBUTES)
    assert all(v != "" for v in orders.attributes.values()), "empty values (moto's DeliveryPolicy) are dropped"
    assert live.topics[f"{p}orders.fifo"].fifo

    sub = live.subscriptions[(f"{p}orders", "sqs", f"{p}work")]
    assert sub.raw is True
    assert sub.filter_policy == '{"kind":["order"]}', "filter policies are held canonical"
    assert sub.filter_scope == "MessageAttributes"
    assert sub.dlq == f"{p}dlq"
    assert sub.arn and sub.arn.startswith("arn:")
    assert live.subscriptions_to_queue(f"{p}work") == [sub]


def test_read_live_sees_every_resource_of_a_larger_setup(endpoint: Endpoint, prefix: str) -> None:
    """Dozens of resources, read concurrently: none is lost or duplicated."""
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    n = 24
    for i in range(n):
        sqs.create_queue(QueueName=f"{prefix}q{i}")
    topic = sns.create_topic(Name=f"{prefix}fan")["TopicArn"]
    for i in range(0, n, 2):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, f"{prefix}q{i}"))
    live = read_live(target(endpoint))
    assert sorted(q for q in live.queues if q.startswith(prefix)) == sorted(f"{prefix}q{i}" for i in range(n))
    subs = live.subscriptions_of(f"{prefix}fan")
    assert sorted(s.endpoint for s in subs) == sorted(f"{prefix}q{i}" for i in range(0, n, 2))


def test_read_live_after_deletes(endpoint: Endpoint, prefix: str) -> None:
    """Deleted resources are not live; a deleted topic takes its subscriptions with it (AWS's rule)."""
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    url = sqs.create_queue(QueueName=f"{prefix}gone")["QueueUrl"]
    topic = sns.create_topic(Name=f"{prefix}gone-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, f"{prefix}gone"))
    assert (f"{prefix}gone-topic", "sqs", f"{prefix}gone") in read_live(target(endpoint)).subscriptions
    sqs.delete_queue(QueueUrl=url)
    sns.delete_topic(TopicArn=topic)
    live = read_live(target(endpoint))
    assert f"{prefix}gone" not in live.queues and f"{prefix}gone-topic" not in live.topics
    assert not live.subscriptions_of(f"{prefix}gone-topic")


def test_read_live_follows_pagination(postroom_endpoint: Endpoint, prefix: str) -> None:
    """ListTopics and ListSubscriptions answer 100 at a time (AWS, postroom and moto alike): more
    than a page of each is read completely. postroom only: the 210 set-up calls are slow on moto,
    and what is tested is read_live following NextToken, not the peer's paging."""
    sqs, sns = postroom_endpoint.client("sqs"), postroom_endpoint.client("sns")
    sqs.create_queue(QueueName=f"{prefix}sink")
    sink = queue_arn(sqs, f"{prefix}sink")
    n = 105
    for i in range(n):
        arn = sns.create_topic(Name=f"{prefix}p{i}")["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=sink)
    first_page = sns.list_topics()
    assert "NextToken" in first_page, "the setup really spans more than one page"
    live = read_live(target(postroom_endpoint))
    assert sum(1 for t in live.topics if t.startswith(f"{prefix}p")) == n
    assert len(live.subscriptions_to_queue(f"{prefix}sink")) == n


def test_read_live_leaves_out_probe_reply_queues(endpoint: Endpoint, prefix: str) -> None:
    """A probe reply queue of a verify or watch round running elsewhere is temporary: it is never
    part of the live topology, so plan and verify never report it as drift."""
    sqs = endpoint.client("sqs")
    reply = sqs.create_queue(QueueName=f"postroom-probe-replies-{prefix}x")["QueueUrl"]
    kept = sqs.create_queue(QueueName=f"{prefix}kept")["QueueUrl"]
    try:
        live = read_live(target(endpoint))
        assert f"{prefix}kept" in live.queues
        assert not [n for n in live.queues if n.startswith("postroom-probe-replies-")], sorted(live.queues)
    finally:
        sqs.delete_queue(QueueUrl=reply)
        sqs.delete_queue(QueueUrl=kept)
