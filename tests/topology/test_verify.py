"""verify against real endpoints (postroom and moto's server): drift, health, and probes that
travel real subscriptions.

How we know probing disturbs nothing: before verify runs, a real message is sent to every route's
queue; afterwards each queue is drained and must hold exactly that message, body intact, and no
probe. How we know a confirmation is real: the route with its subscription removed is published
to the same way and must come back "not confirmed".
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from postroom.probe import probe_of
from postroom.topology.live import read_live
from postroom.topology.model import Declared, Queue, Sample, Subscription, Topic, Topology, canonical_json
from postroom.topology.verify import REPLY_QUEUE_PREFIX, verify
from tests.endpoints import Endpoint
from tests.topology.conftest import queue_arn, target, topic_arn


def _declared(p: str, *items: Queue | Topic | Subscription) -> Declared:
    return Declared(topology=Topology.of(*items), scope=(f"{p}*",))


def _make(ep: Endpoint, p: str, routes: list[tuple[str, str, dict[str, str]]]) -> Declared:
    """Create topics, queues and subscriptions live, and the Declared that says exactly that."""
    sqs, sns = ep.client("sqs"), ep.client("sns")
    items: list[Queue | Topic | Subscription] = []
    for topic in sorted({t for t, _, _ in routes}):
        sns.create_topic(Name=p + topic, Attributes={"FifoTopic": "true"} if topic.endswith(".fifo") else {})
        items.append(Topic(p + topic))
    for queue in sorted({q for _, q, _ in routes}):
        sqs.create_queue(QueueName=p + queue, Attributes={"FifoQueue": "true"} if queue.endswith(".fifo") else {})
        items.append(Queue(p + queue))
    for topic, queue, attrs in routes:
        sns.subscribe(TopicArn=topic_arn(sns, p + topic), Protocol="sqs", Endpoint=queue_arn(sqs, p + queue),
                      Attributes=attrs, ReturnSubscriptionArn=True)
        policy = attrs.get("FilterPolicy")
        items.append(Subscription(p + topic, "sqs", p + queue, raw=attrs.get("RawMessageDelivery") == "true",
                                  filter_policy=canonical_json(policy) if policy else None))
    return _declared(p, *items)


def _drain(ep: Endpoint, name: str) -> list[dict[str, Any]]:
    sqs = ep.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    out: list[dict[str, Any]] = []
    empty = 0
    while empty < 2:  # deliveries are committed before Publish answers: two empty receives in a row = drained
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])
        empty = 0 if got else empty + 1
        for m in got:
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def _send_real(ep: Endpoint, name: str) -> str:
    sqs = ep.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    body = json.dumps({"real": name, "amount": 42})
    extra = {"MessageGroupId": "customer-1", "MessageDeduplicationId": "real-1"} if name.endswith(".fifo") else {}
    sqs.send_message(QueueUrl=url, MessageBody=body, **extra,
                     MessageAttributes={"source": {"DataType": "String", "StringValue": "checkout"}})
    return body


ROUTES = [("orders", "raw", {"RawMessageDelivery": "true"}), ("orders", "env", {}),
          ("orders.fifo", "fifo-raw.fifo", {"RawMessageDelivery": "true"}), ("orders.fifo", "fifo-env.fifo", {})]


def test_probes_confirmed_through_real_subscriptions_and_real_messages_untouched(endpoint: Endpoint,
                                                                                 prefix: str) -> None:
    p = prefix
    declared = _make(endpoint, p, ROUTES)
    real = {p + q: _send_real(endpoint, p + q) for _, q, _ in ROUTES}
    live = read_live(target(endpoint))

    report = verify(declared, live, target(endpoint), probe=True, consume=True, timeout=20)

    assert report.drift == [], report.render()
    assert [(r.topic, r.queue, r.status, r.received_by) for r in report.routes] == sorted(
        (p + t, p + q, "confirmed", "verify") for t, q, _ in ROUTES), report.render()
    assert all(r.latency_ms is not None and r.latency_ms >= 0 for r in report.routes)
    assert report.ok, report.render()
    for queue, body in real.items():
        left = _drain(endpoint, queue)
        assert [m["Body"] for m in left] == [body], f"{queue}: exactly the real message, body intact, no probe"
        assert all(probe_of(m) is None for m in left)
        assert left[0]["MessageAttributes"]["source"]["StringValue"] == "checkout"
        # the documented side effect: verify received it once and released it at once (visibility 0)
        assert left[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert report.released == 4
    sqs = endpoint.client("sqs")
    leftovers = sqs.list_queues(QueueNamePrefix=REPLY_QUEUE_PREFIX).get("QueueUrls", [])
    assert leftovers == [], "the reply queue is deleted at the end"
    text = report.render()
    assert "4 confirmed" in text and "verify: OK" in text
    assert report.as_dict()["ok"] is True and len(report.as_dict()["routes"]) == 4


def test_removed_subscription_is_drift_and_not_confirmed(endpoint: Endpoint, prefix: str) -> None:
    p = prefix
    declared = _make(endpoint, p, [("events", "kept", {}), ("events", "dropped", {})])
    sns = endpoint.client("sns")
    for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn(sns, p + "events"))["Subscriptions"]:
        if s["Endpoint"].endswith(":" + p + "dropped"):
            sns.unsubscribe(SubscriptionArn=s["SubscriptionArn"])
    live = read_live(target(endpoint))

    report = verify(declared, live, target(endpoint), probe=True, consume=True, timeout=3)

    assert [f.check for f in report.drift] == ["DRIFT"]
    assert f"{p}events → {p}dropped" in report.drift[0].resources[0]
    assert "does not exist live" in report.drift[0].message
    status = {r.queue: r for r in report.routes}
    assert status[p + "kept"].status == "confirmed"
    assert status[p + "dropped"].status == "not confirmed"
    assert "does not exist" in status[p + "dropped"].reason
    assert not report.ok and "verify: FAILED" in report.render()
    assert _drain(endpoint, p + "dropped") == [], "nothing reached the queue whose subscription is gone"


def test_drift_in_attributes_and_extra_live_resources(endpoint: Endpoint, prefix: str) -> None:
    p = prefix
    declared = _make(endpoint, p, [("audit", "log", {"RawMessageDelivery": "true"})])
    declared.topology.queues[p + "log"] = Queue(p + "log", attributes={"VisibilityTimeout": "45"})
    sqs = endpoint.client("sqs")
    sqs.create_queue(QueueName=p + "stray")                    # in scope, not declared
    sqs.create_queue(QueueName="elsewhere-" + p)               # out of scope: never drift
    live = read_live(target(endpoint))

    report = verify(declared, live, target(endpoint))

    by_name = {f.resources[0]: f for f in report.drift}
    assert set(by_name) == {p + "log", p + "stray"}, report.render()
    assert "VisibilityTimeout" in by_name[p + "log"].message and "'45'" in by_name[p + "log"].message
    assert "not declared" in by_name[p + "stray"].message
    assert report.routes == [] and not report.ok


def test_filtered_routes_are_probed_with_a_sample_and_health_findings_are_reported(endpoint: Endpoint,
                                                                                     prefix: str) -> None:
    """Issue #14: a route whose filter policy drops the plain probe is probed with a message the
    policy accepts — derived from the policy, or the subscription's sample: from the file. Only a
    policy no message can pass stays "not probeable". (Until #14 every filtered route was "not
    probeable".)"""
    p = prefix
    attrs_policy = json.dumps({"kind": ["order"], "amount": [{"numeric": [">", 100]}]})
    body_policy = json.dumps({"order": {"kind": [{"prefix": "ord"}]}})
    impossible = json.dumps({"n": [{"numeric": [">", 5, "<", 5.00001]}]})
    declared = _make(endpoint, p, [
        ("shop", "only-orders", {"FilterPolicy": attrs_policy}),
        ("shop", "by-body", {"FilterPolicy": body_policy, "FilterPolicyScope": "MessageBody",
                             "RawMessageDelivery": "true"}),
        ("shop", "impossible", {"FilterPolicy": impossible}),
        ("shop", "all", {})])
    key = (p + "shop", "sqs", p + "by-body")
    declared.topology.subscriptions[key] = replace(declared.topology.subscriptions[key],
                                                   filter_scope="MessageBody")
    declared.samples[key] = Sample(body={"order": {"kind": "order-placed", "id": 7}})
    live = read_live(target(endpoint))

    report = verify(declared, live, target(endpoint), probe=True, consume=True, timeout=8)

    status = {r.queue: r for r in report.routes}
    assert status[p + "all"].status == "confirmed", report.render()
    assert status[p + "only-orders"].status == "confirmed", report.render()
    assert status[p + "by-body"].status == "confirmed", report.render()
    assert status[p + "impossible"].status == "not probeable", report.render()
    assert "sample:" in status[p + "impossible"].reason
    assert report.ok, report.render()  # not probeable is reported, not a failure
    for queue in ("only-orders", "by-body", "impossible", "all"):
        assert _drain(endpoint, p + queue) == [], f"{queue}: verify answered and deleted every probe"
    # health: queues created without a Policy → QUEUE-POLICY info (AWS would refuse deliveries)
    assert {f.check for f in report.health} == {"QUEUE-POLICY"}
    assert all(f.severity == "info" for f in report.health)


def test_consume_touches_at_most_50_messages_of_a_backlog(postroom_endpoint: Endpoint, prefix: str) -> None:
    """A queue with a backlog: verify --consume must not raise every message's receive count while
    it looks for its probe. It releases at most 50 and then gives up on that queue, saying why."""
    ep, p = postroom_endpoint, prefix
    declared = _make(ep, p, [("bulk", "backlog", {})])
    sqs = ep.client("sqs")
    url = sqs.get_queue_url(QueueName=p + "backlog")["QueueUrl"]
    for batch in range(6):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"real {batch * 10 + i}"}
                                                      for i in range(10)])

    report = verify(declared, read_live(target(ep)), target(ep), probe=True, consume=True, timeout=5)

    [route] = report.routes
    assert route.status == "not confirmed" and "gave up after releasing 50" in route.reason, report.render()
    assert report.released == 50
    left = _drain(ep, p + "backlog")
    real = [m for m in left if probe_of(m) is None]
    assert sorted(m["Body"] for m in real) == sorted(f"real {n}" for n in range(60)), "every real message is kept"
    touched = sum(int(m["Attributes"]["ApproximateReceiveCount"]) - 1 for m in real)
    assert touched == 50, "each released message was received by verify exactly once"
    assert len(left) - len(real) == 1, "the unanswered probe waits in the queue"
