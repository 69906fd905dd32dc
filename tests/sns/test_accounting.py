"""Accounting (GET /_postroom/accounting): publishes with no subscription at all are counted,
deliveries and failures per subscription; a subscription whose queue was deleted."""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import Server
from tests.sns.conftest import (
    accounting,
    envelope,
    new_queue,
    new_topic,
    receive,
    sub_counts,
    subscribe_queue,
    topic_counts,
    wait_for_value,
)


def unrouted(no_subscription: int = 0, filtered: int = 0, failed: int = 0) -> dict[str, int]:
    """The topic's messages that reached no one, by cause."""
    return {"no-subscription": no_subscription, "filtered": filtered, "failed": failed}


def test_accounting_document_shape(sns: Any, sns_server: Server) -> None:
    doc = accounting(sns_server)
    assert isinstance(doc.get("topics"), dict)
    assert isinstance(doc.get("subscriptions"), dict)


def test_publish_without_subscriptions_is_counted(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    for i in range(3):
        assert sns.publish(TopicArn=topic, Message=f"lost {i}")["MessageId"]
    wait_for_value(lambda: topic_counts(sns_server, topic),
                   {"published": 3, "no_subscribers": 3, "unrouted": unrouted(3, 0, 0)}, 5, "topic accounting")
    url, sub = subscribe_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="kept")
    wait_for_value(lambda: topic_counts(sns_server, topic),
                   {"published": 4, "no_subscribers": 3, "unrouted": unrouted(3, 0, 0)}, 5, "topic accounting")
    assert [envelope(m)["Message"] for m in receive(sqs, url, 1)] == ["kept"]  # the earlier 3 are gone
    wait_for_value(lambda: sub_counts(sns_server, sub), {"delivered": 1, "filtered_out": 0, "failed": 0}, 5,
                   "subscription accounting")


def test_publish_batch_counted(sns: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(4)])
    wait_for_value(lambda: topic_counts(sns_server, topic),
                   {"published": 4, "no_subscribers": 4, "unrouted": unrouted(4, 0, 0)}, 5, "topic accounting")


def test_all_filtered_out_is_not_no_subscribers(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic, FilterPolicy=json.dumps({"k": ["wanted"]}))
    sns.publish(TopicArn=topic, Message="m")  # no attribute: filtered out
    wait_for_value(lambda: topic_counts(sns_server, topic),
                   {"published": 1, "no_subscribers": 0, "unrouted": unrouted(0, 1, 0)}, 5, "topic accounting")
    wait_for_value(lambda: sub_counts(sns_server, sub), {"delivered": 0, "filtered_out": 1, "failed": 0}, 5,
                   "subscription accounting")


def test_delivered_per_subscription(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    _, a = subscribe_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="1")
    _, b = subscribe_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="2")
    sns.publish(TopicArn=topic, Message="3")
    wait_for_value(lambda: (sub_counts(sns_server, a).get("delivered"), sub_counts(sns_server, b).get("delivered")),
                   (3, 2), 5, "delivered per subscription")


def test_deleted_queue_counts_failed(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    gone_url, gone = subscribe_queue(sns, sqs, topic)
    ok_url, ok = subscribe_queue(sns, sqs, topic)
    sqs.delete_queue(QueueUrl=gone_url)
    r = sns.publish(TopicArn=topic, Message="still published")
    assert r["MessageId"]
    assert [envelope(m)["Message"] for m in receive(sqs, ok_url, 1)] == ["still published"]
    wait_for_value(lambda: sub_counts(sns_server, gone).get("failed"), 1, 10, "failed count of the gone queue")
    assert sub_counts(sns_server, gone).get("delivered", 0) == 0
    assert sub_counts(sns_server, ok).get("delivered") == 1
    assert topic_counts(sns_server, topic) == {"published": 1, "no_subscribers": 0, "unrouted": unrouted(0, 0, 0)}


def test_deleted_queue_goes_to_subscription_dlq(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    dlq_url, dlq_arn = new_queue(sqs)
    gone_url, gone = subscribe_queue(sns, sqs, topic, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}))
    sqs.delete_queue(QueueUrl=gone_url)
    sns.publish(TopicArn=topic, Message="to the dlq", Subject="dlq")
    got = receive(sqs, dlq_url, 1, timeout=10)
    assert len(got) == 1, got
    assert "to the dlq" in got[0]["Body"]
    wait_for_value(lambda: sub_counts(sns_server, gone).get("failed"), 1, 10, "failed count")
