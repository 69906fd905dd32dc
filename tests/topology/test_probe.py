"""The route-probe protocol (postroom.probe): what a probe looks like on the wire, that a receiver
recognises it in every delivery shape a real SNS → SQS subscription produces, and that a
probe-aware consumer (a stand-in written against the public functions, as postroom.consumer uses
them) confirms a route for `verify` without its handler ever seeing the probe."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from postroom.probe import PROBE_ATTRIBUTE, PROBE_GROUP, Probe, Reply, probe_of, reply
from postroom.topology.live import read_live
from postroom.topology.model import Declared, Queue, Subscription, Topic, Topology
from postroom.topology.verify import verify
from tests.endpoints import Endpoint
from tests.topology.conftest import queue_arn, target, topic_arn

PROBE = Probe(id="abc123", topic="orders", queue="", reply_to="http://127.0.0.1:1/000000000000/replies")


def test_probe_encoding_round_trips_and_fifo_publish_has_its_own_group() -> None:
    assert Probe.decode(PROBE.encode()) == PROBE
    assert Probe.decode("not json") is None and Probe.decode('{"id": 1}') is None
    fifo = PROBE.publish_args("arn:aws:sns:us-east-1:000000000000:orders.fifo")
    assert fifo["MessageGroupId"] == PROBE_GROUP and fifo["MessageDeduplicationId"] == PROBE.id
    standard = PROBE.publish_args("arn:aws:sns:us-east-1:000000000000:orders")
    assert "MessageGroupId" not in standard and "MessageDeduplicationId" not in standard
    assert json.loads(standard["MessageAttributes"][PROBE_ATTRIBUTE]["StringValue"])["id"] == "abc123"
    assert Probe.new("t", "url").id != Probe.new("t", "url").id


@pytest.mark.parametrize("message", [
    {"Body": "x", "MessageAttributes": {PROBE_ATTRIBUTE: {"DataType": "String", "StringValue": PROBE.encode()}}},
    {"Body": json.dumps({"Type": "Notification", "Message": "hi", "MessageAttributes": {
        PROBE_ATTRIBUTE: {"Type": "String", "Value": PROBE.encode()}}})},
    {"Body": PROBE.body()},                                         # raw, attributes not asked for
    {"Body": json.dumps({"Type": "Notification", "Message": PROBE.body()})},   # envelope without attributes
])
def test_probe_of_reads_every_delivery_shape(message: dict[str, Any]) -> None:
    assert probe_of(message) == PROBE


@pytest.mark.parametrize("body", ['{"order": 1}', "postroom-probe is mentioned in plain text", "[1, 2]",
                                  json.dumps({"Type": "Notification", "Message": "about postroom-probe"})])
def test_probe_of_ignores_ordinary_messages(body: str) -> None:
    assert probe_of({"Body": body, "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "x"}}}) is None


def _queue(ep: Endpoint, name: str) -> str:
    return str(ep.client("sqs").create_queue(QueueName=name)["QueueUrl"])


def test_probe_survives_real_raw_and_enveloped_subscriptions(endpoint: Endpoint, prefix: str) -> None:
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    arn = sns.create_topic(Name=prefix + "events")["TopicArn"]
    urls = {raw: _queue(endpoint, f"{prefix}{raw}") for raw in ("true", "false")}
    for raw in urls:
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, f"{prefix}{raw}"),
                      Attributes={"RawMessageDelivery": raw})
    probe = Probe.new(prefix + "events", "http://example/replies")
    sns.publish(**probe.publish_args(arn))
    for raw, url in urls.items():
        with_attrs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"],
                                         VisibilityTimeout=0)["Messages"][0]
        bare = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]
        assert probe_of(with_attrs) == probe, f"raw={raw}, attributes asked for"
        assert probe_of(bare) == probe, f"raw={raw}, attributes not asked for (body form)"


def test_reply_to_a_finished_run_reports_stale(endpoint: Endpoint, prefix: str) -> None:
    sqs = endpoint.client("sqs")
    url = _queue(endpoint, prefix + "replies")
    probe = Probe.new("t", url)
    assert reply(sqs, probe, "billing", queue="http://x/000000000000/billing") is True
    got = Reply.decode(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]["Body"])
    assert got == Reply(id=probe.id, queue="billing", received_by="billing")
    sqs.delete_queue(QueueUrl=url)
    assert reply(sqs, probe, "billing") is False


def _route(ep: Endpoint, p: str) -> tuple[Declared, str]:
    sqs, sns = ep.client("sqs"), ep.client("sns")
    sns.create_topic(Name=p + "orders")
    url = _queue(ep, p + "billing")
    sns.subscribe(TopicArn=topic_arn(sns, p + "orders"), Protocol="sqs", Endpoint=queue_arn(sqs, p + "billing"))
    t = Topology(queues={p + "billing": Queue(p + "billing")}, topics={p + "orders": Topic(p + "orders")})
    s = Subscription(p + "orders", "sqs", p + "billing")
    t.subscriptions[s.key] = s
    return Declared(topology=t, scope=(p + "*",)), url


def test_postroom_consumer_answers_probes_and_its_handler_never_sees_them(endpoint: Endpoint,
                                                                          prefix: str) -> None:
    """The real postroom.consumer answers the probe on the reply queue (naming itself), deletes it,
    and hands only the real message to the application's handler."""
    from postroom.consumer import Consumer

    declared, url = _route(endpoint, prefix)
    sns = endpoint.client("sns")
    handled: list[str] = []
    consumer = Consumer(url, lambda m: handled.append(m.body), client=endpoint.client("sqs"), wait_time=1)
    consumer.start()
    try:
        real = f"order {uuid.uuid4().hex}"
        sns.publish(TopicArn=topic_arn(sns, prefix + "orders"), Message=real)
        report = verify(declared, read_live(target(endpoint)), target(endpoint), probe=True, timeout=15)
    finally:
        consumer.stop()
        assert consumer.join(timeout=10)
    [route] = report.routes
    assert route.status == "confirmed", report.render()
    assert route.received_by is not None and route.received_by.startswith("postroom.consumer@"), report.render()
    assert report.ok
    assert consumer.stats.probes == 1, consumer.stats.as_dict()
    assert handled == [real], "the handler got the real message and never the probe"
    sqs = endpoint.client("sqs")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_without_a_consumer_the_probe_is_not_confirmed_and_stays_for_the_consumer(endpoint: Endpoint,
                                                                                  prefix: str) -> None:
    declared, url = _route(endpoint, prefix)
    report = verify(declared, read_live(target(endpoint)), target(endpoint), probe=True, timeout=2)
    [route] = report.routes
    assert route.status == "not confirmed" and "no reply within 2 s" in route.reason
    assert not report.ok
    left = endpoint.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"])
    [m] = left["Messages"]
    p = probe_of(m)
    assert p is not None and p.topic == prefix + "orders", "the documented side effect: the probe waits in the queue"
