"""Subscriptions: Subscribe (sqs), listing, subscription attributes, Unsubscribe, unsupported
protocols and actions."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import REGION, Server
from tests.sns.conftest import assert_sns_error, new_queue, new_topic, receive, subscribe_queue, unique


def sattrs(sns: Any, arn: str) -> dict[str, str]:
    return dict(sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"])


def test_subscribe_sqs_confirmed_at_once(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    _, qarn = new_queue(sqs)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    assert sub.startswith(topic + ":") and len(sub) > len(topic) + 1, sub
    # subscribing the same endpoint again returns the same subscription (AWS: idempotent)
    assert sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, ReturnSubscriptionArn=True)[
        "SubscriptionArn"] == sub
    a = sattrs(sns, sub)
    assert a["SubscriptionArn"] == sub
    assert a["TopicArn"] == topic
    assert a["Protocol"] == "sqs"
    assert a["Endpoint"] == qarn
    assert a["Owner"] == sns_server.account_id
    assert a["PendingConfirmation"] == "false"
    assert a["ConfirmationWasAuthenticated"] == "true"
    assert a["RawMessageDelivery"] == "false"
    assert "FilterPolicy" not in a


def test_subscribe_again_with_different_attributes_is_refused(sns: Any, sqs: Any) -> None:
    """AWS compares only the attributes a repeated Subscribe gives (absent = default; policies as
    JSON): equal → the existing subscription, different → InvalidParameter, nothing changed."""
    topic = new_topic(sns)
    _, qarn = new_queue(sqs)
    policy = '{"kind": ["order"]}'
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, ReturnSubscriptionArn=True,
                        Attributes={"RawMessageDelivery": "true", "FilterPolicy": policy})["SubscriptionArn"]
    same = [{}, {"RawMessageDelivery": "true"}, {"FilterPolicy": '{ "kind" : [ "order" ] }'},
            {"FilterPolicyScope": "MessageAttributes"}]
    for attrs in same:
        assert sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, ReturnSubscriptionArn=True,
                             Attributes=attrs)["SubscriptionArn"] == sub, attrs
    for attrs in ({"RawMessageDelivery": "false"}, {"FilterPolicy": '{"kind": ["refund"]}'},
                  {"FilterPolicyScope": "MessageBody"}):
        with pytest.raises(ClientError) as e:
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes=attrs)
        assert_sns_error(e, "InvalidParameter")
        assert "Subscription already exists with different attributes" in str(e.value)
    a = sattrs(sns, sub)
    assert a["RawMessageDelivery"] == "true" and json.loads(a["FilterPolicy"]) == {"kind": ["order"]}
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_list_subscriptions(sns: Any, sqs: Any, sns_server: Server) -> None:
    t1, t2 = new_topic(sns), new_topic(sns)
    _, s1 = subscribe_queue(sns, sqs, t1)
    q2, s2 = subscribe_queue(sns, sqs, t1)
    _, s3 = subscribe_queue(sns, sqs, t2)
    by_topic = sns.list_subscriptions_by_topic(TopicArn=t1)["Subscriptions"]
    assert sorted(s["SubscriptionArn"] for s in by_topic) == sorted([s1, s2])
    entry = next(s for s in by_topic if s["SubscriptionArn"] == s2)
    q2arn = sqs.get_queue_attributes(QueueUrl=q2, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert entry == {"SubscriptionArn": s2, "Owner": sns_server.account_id, "Protocol": "sqs",
                     "Endpoint": q2arn, "TopicArn": t1}
    every: list[str] = []
    kwargs: dict[str, str] = {}
    for _ in range(100):
        page = sns.list_subscriptions(**kwargs)
        every.extend(s["SubscriptionArn"] for s in page["Subscriptions"])
        if "NextToken" not in page:
            break
        kwargs = {"NextToken": page["NextToken"]}
    assert {s1, s2, s3} <= set(every)
    assert len(every) == len(set(every))


def test_list_subscriptions_by_topic_paging(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    made = set()
    for _ in range(105):
        sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.1:9/{unique()}",
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        made.add(sub)
    seen: list[str] = []
    kwargs: dict[str, str] = {}
    pages = 0
    while True:
        page = sns.list_subscriptions_by_topic(TopicArn=topic, **kwargs)
        pages += 1
        assert len(page["Subscriptions"]) <= 100
        assert all(s["SubscriptionArn"] == "PendingConfirmation" for s in page["Subscriptions"])
        seen.extend(s["Endpoint"] for s in page["Subscriptions"])
        if "NextToken" not in page:
            break
        kwargs = {"NextToken": page["NextToken"]}
        assert pages < 10
    assert pages == 2
    assert len(seen) == 105 == len(set(seen))


def test_subscribe_pending_http_returns_pending_confirmation(sns: Any) -> None:
    topic = new_topic(sns)
    r = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/x")
    assert r["SubscriptionArn"] == "pending confirmation"
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/x",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    assert sattrs(sns, arn)["PendingConfirmation"] == "true"


def test_set_subscription_attributes(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    _, dlq_arn = new_queue(sqs)
    policy = {"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}]}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps(policy))
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
    a = sattrs(sns, sub)
    assert a["RawMessageDelivery"] == "true"
    assert json.loads(a["FilterPolicy"]) == policy
    assert a["FilterPolicyScope"] == "MessageBody"
    assert json.loads(a["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
    # removing the filter policy: an empty value
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="")
    assert "FilterPolicy" not in sattrs(sns, sub)


def test_subscribe_with_attributes(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=json.dumps({"a": ["b"]}))
    a = sattrs(sns, sub)
    assert a["RawMessageDelivery"] == "true"
    assert json.loads(a["FilterPolicy"]) == {"a": ["b"]}
    assert a.get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes"


@pytest.mark.parametrize("name,value", [
    ("NoSuchAttribute", "x"),
    ("RawMessageDelivery", "maybe"),
    ("FilterPolicyScope", "Somewhere"),
    ("RedrivePolicy", "{not json"),
    ("RedrivePolicy", json.dumps({"deadLetterTargetArn": "not-an-arn"})),
    ("FilterPolicy", "{not json"),
])
def test_set_subscription_attributes_invalid(sns: Any, sqs: Any, name: str, value: str) -> None:
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    with pytest.raises(ClientError) as ei:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=name, AttributeValue=value)
    assert_sns_error(ei, "InvalidParameter")


def test_unsubscribe(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic)
    sns.unsubscribe(SubscriptionArn=sub)
    with pytest.raises(ClientError) as ei:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    assert_sns_error(ei, "NotFound", 404)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.publish(TopicArn=topic, Message="after unsubscribe")
    assert receive(sqs, url, 1, timeout=1.5) == []


def test_subscribe_errors(sns: Any, sqs: Any, sns_server: Server) -> None:
    topic = new_topic(sns)
    missing = f"arn:aws:sns:{REGION}:{sns_server.account_id}:{unique('nope')}"
    _, qarn = new_queue(sqs)
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=missing, Protocol="sqs", Endpoint=qarn)
    assert_sns_error(ei, "NotFound", 404)
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="not-an-arn")
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=topic, Protocol="carrier-pigeon", Endpoint="coop")
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="ftp://example.com/x")
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"Bogus": "1"})
    assert_sns_error(ei, "InvalidParameter")


@pytest.mark.parametrize("protocol,endpoint", [
    ("lambda", "arn:aws:lambda:us-east-1:000000000000:function:fn"),
    ("firehose", "arn:aws:firehose:us-east-1:000000000000:deliverystream/s"),
])
def test_unsupported_protocols_rejected(sns: Any, protocol: str, endpoint: str) -> None:
    topic = new_topic(sns)
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
    assert_sns_error(ei, "InvalidParameter")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_unknown_action_is_invalid_action(sns_server: Server) -> None:
    r = requests.post(sns_server.endpoint + "/", data={"Action": "LaunchRocket", "Version": "2010-03-31"},
                      timeout=10)
    assert r.status_code == 400, r.text
    assert "<Code>InvalidAction</Code>" in r.text
