"""HTTP subscriptions against a small local receiver: the SubscriptionConfirmation handshake,
Notification POSTs with SNS's headers, retries by the DeliveryPolicy, then the DLQ."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.sns import sigverify
from tests.sns.conftest import new_queue, new_topic, receive, sub_counts, wait_for_value
from tests.sns.receiver import Receiver

FAST_RETRY = json.dumps({"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def subscribe_and_confirm(sns: Any, receiver: Receiver, topic: str, via_url: bool = False,
                          **attributes: str) -> str:
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url(), Attributes=attributes)
    [(path, headers, body, _)] = receiver.wait_for("SubscriptionConfirmation")
    assert path == "/hook"
    msg = json.loads(body)
    assert msg["Type"] == "SubscriptionConfirmation"
    assert msg["TopicArn"] == topic
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-message-id"] == msg["MessageId"]
    assert msg["Token"] and msg["SubscribeURL"]
    sigverify.verify(msg)
    pending = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in pending] == ["PendingConfirmation"]
    if via_url:
        r = requests.get(msg["SubscribeURL"], timeout=10)
        assert r.status_code == 200, r.text
        assert "<SubscriptionArn>" in r.text
        arn = r.text.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    else:
        arn = sns.confirm_subscription(TopicArn=topic, Token=msg["Token"])["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    a = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert a["PendingConfirmation"] == "false"
    assert a["Protocol"] == "http" and a["Endpoint"] == receiver.url()
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [arn]
    return str(arn)


@pytest.mark.parametrize("via_url", [False, True], ids=["ConfirmSubscription", "SubscribeURL"])
def test_confirm_then_notification(sns: Any, sns_server: Server, receiver: Receiver, via_url: bool) -> None:
    topic = new_topic(sns)
    sub = subscribe_and_confirm(sns, receiver, topic, via_url=via_url)
    mid = sns.publish(TopicArn=topic, Message="over http", Subject="subj",
                      MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    [(path, headers, body, _)] = receiver.wait_for("Notification")
    assert path == "/hook"
    assert headers["x-amz-sns-message-id"] == mid
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert headers["content-type"].startswith("text/plain")
    msg = json.loads(body)
    assert (msg["Type"], msg["MessageId"], msg["Message"], msg["Subject"]) == ("Notification", mid, "over http", "subj")
    assert msg["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    sigverify.verify(msg)
    wait_for_value(lambda: sub_counts(sns_server, sub).get("delivered"), 1, 5, "delivered count")


def test_unconfirmed_gets_nothing(sns: Any, receiver: Receiver) -> None:
    topic = new_topic(sns)
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url())
    receiver.wait_for("SubscriptionConfirmation")
    sns.publish(TopicArn=topic, Message="nobody confirmed")
    time.sleep(1.0)
    assert receiver.of_type("Notification") == []


def test_confirm_with_wrong_token(sns: Any, receiver: Receiver) -> None:
    topic = new_topic(sns)
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url())
    receiver.wait_for("SubscriptionConfirmation")
    with pytest.raises(ClientError) as ei:
        sns.confirm_subscription(TopicArn=topic, Token="0" * 64)
    assert ei.value.response["Error"]["Code"] in ("InvalidParameter", "NotFound"), ei.value.response["Error"]
    assert 400 <= ei.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500


def test_raw_http_delivery(sns: Any, receiver: Receiver) -> None:
    topic = new_topic(sns)
    sub = subscribe_and_confirm(sns, receiver, topic)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message='{"raw": true}')
    [(_, headers, body, _)] = receiver.wait_for("Notification")
    assert body == '{"raw": true}'
    assert headers.get("x-amz-sns-rawdelivery") == "true"


def test_failing_endpoint_retried_then_dlq(sns: Any, sqs: Any, sns_server: Server, receiver: Receiver) -> None:
    topic = new_topic(sns)
    dlq_url, dlq_arn = new_queue(sqs)
    sub = subscribe_and_confirm(sns, receiver, topic, DeliveryPolicy=FAST_RETRY,
                                RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}))
    receiver.notification_status = 500
    mid = sns.publish(TopicArn=topic, Message="doomed")["MessageId"]
    got = receive(sqs, dlq_url, 1, timeout=20)
    attempts = receiver.of_type("Notification")
    assert len(attempts) == 3, f"1 attempt + numRetries=2, got {len(attempts)}"
    assert all(h["x-amz-sns-message-id"] == mid for _, h, _, _ in attempts)
    gaps = [b[3] - a[3] for a, b in itertools.pairwise(attempts)]
    assert all(g >= 0.8 for g in gaps), f"retries must wait minDelayTarget=1 s: {gaps}"
    assert len(got) == 1, got
    assert "doomed" in got[0]["Body"]
    wait_for_value(lambda: sub_counts(sns_server, sub).get("failed"), 1, 5, "failed count")
    assert sub_counts(sns_server, sub).get("delivered", 0) == 0
    time.sleep(1.5)
    assert len(receiver.of_type("Notification")) == 3, "no attempts after the message went to the DLQ"


def test_endpoint_recovers_during_retries(sns: Any, sns_server: Server, receiver: Receiver) -> None:
    topic = new_topic(sns)
    sub = subscribe_and_confirm(sns, receiver, topic, DeliveryPolicy=FAST_RETRY)
    receiver.notification_status = 500
    sns.publish(TopicArn=topic, Message="eventually")
    receiver.wait_for("Notification", 1)
    receiver.notification_status = 200
    receiver.wait_for("Notification", 2, timeout=10)
    wait_for_value(lambda: sub_counts(sns_server, sub).get("delivered"), 1, 5, "delivered count")
    time.sleep(1.5)
    assert len(receiver.of_type("Notification")) == 2
    assert sub_counts(sns_server, sub).get("failed", 0) == 0


def test_default_policy_retries_on_the_debug_clock(sns: Any, sns_server: Server, receiver: Receiver) -> None:
    """Default: 3 retries 20 s apart; the debug clock moves the waits along."""
    topic = new_topic(sns)
    sub = subscribe_and_confirm(sns, receiver, topic)
    a = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    eff = json.loads(a["EffectiveDeliveryPolicy"])
    assert eff["healthyRetryPolicy"]["numRetries"] == 3
    receiver.notification_status = 503
    sns.publish(TopicArn=topic, Message="slow retries")
    receiver.wait_for("Notification", 1)
    time.sleep(0.6)
    assert len(receiver.of_type("Notification")) == 1, "no retry before 20 s"
    for n in (2, 3, 4):
        sns_server.advance(21)
        receiver.wait_for("Notification", n, timeout=5)
        # The worker records the failed attempt (and its next time) just after the POST
        # returns; moving the clock before that would skip a retry window.
        time.sleep(0.5)
    sns_server.advance(21)
    wait_for_value(lambda: sub_counts(sns_server, sub).get("failed"), 1, 5, "failed count")
    assert len(receiver.of_type("Notification")) == 4
