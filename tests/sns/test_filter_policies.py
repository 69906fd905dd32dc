"""Subscription filter policies, table-driven from the examples of AWS's SNS documentation
("Amazon SNS subscription filter policies"), on both scopes; filtered-out messages are counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.sns.conftest import (
    assert_sns_error,
    new_topic,
    receive,
    sub_counts,
    subscribe_queue,
    wait_for_value,
)


def S(v: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": v}


def N(v: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": v}


def A(v: list[Any]) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(v)}


# (name, policy, [(message attributes, should match)])
ATTRIBUTE_CASES: list[tuple[str, dict[str, Any], list[tuple[dict[str, Any], bool]]]] = [
    ("exact", {"customer_interests": ["rugby", "football", "baseball"]}, [
        ({"customer_interests": S("rugby")}, True),
        ({"customer_interests": S("tennis")}, False),
        ({"customer_interests": S("Rugby")}, False),
        ({}, False),
    ]),
    ("exact-number", {"price_usd": [{"numeric": ["=", 301.5]}]}, [
        ({"price_usd": N("301.5")}, True),
        ({"price_usd": N("3.015e2")}, True),
        ({"price_usd": N("300")}, False),
    ]),
    ("numeric-range", {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, [
        ({"price_usd": N("100")}, True),
        ({"price_usd": N("150")}, True),
        ({"price_usd": N("0")}, False),
        ({"price_usd": N("150.5")}, False),
        ({"price_usd": S("100")}, False),  # a String attribute is not a number
    ]),
    ("prefix", {"customer_interests": [{"prefix": "bas"}]}, [
        ({"customer_interests": S("baseball")}, True),
        ({"customer_interests": S("basketball")}, True),
        ({"customer_interests": S("rugby")}, False),
    ]),
    ("suffix", {"customer_interests": [{"suffix": "ball"}]}, [
        ({"customer_interests": S("baseball")}, True),
        ({"customer_interests": S("rugby")}, False),
        ({"customer_interests": S("ballet")}, False),
    ]),
    ("anything-but", {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]}, [
        ({"customer_interests": S("baseball")}, True),
        ({"customer_interests": S("rugby")}, False),
        ({"customer_interests": S("tennis")}, False),
    ]),
    ("anything-but-number", {"price": [{"anything-but": [100, 500]}]}, [
        ({"price": N("101")}, True),
        ({"price": N("100")}, False),
        ({"price": N("500")}, False),
    ]),
    ("anything-but-prefix", {"event": [{"anything-but": {"prefix": "order-"}}]}, [
        ({"event": S("data-entry")}, True),
        ({"event": S("order-cancelled")}, False),
    ]),
    ("equals-ignore-case", {"customer_interests": [{"equals-ignore-case": "tennis"}]}, [
        ({"customer_interests": S("TeNnis")}, True),
        ({"customer_interests": S("tennis")}, True),
        ({"customer_interests": S("tennis2")}, False),
    ]),
    ("cidr", {"source_ip": [{"cidr": "10.0.0.0/24"}]}, [
        ({"source_ip": S("10.0.0.0")}, True),
        ({"source_ip": S("10.0.0.255")}, True),
        ({"source_ip": S("10.0.1.0")}, False),
    ]),
    ("exists-true", {"store": [{"exists": True}]}, [
        ({"store": S("example_corp")}, True),
        ({"other": S("x")}, False),
    ]),
    ("exists-false", {"store": [{"exists": False}]}, [
        ({"other": S("x")}, True),
        ({"store": S("example_corp")}, False),
    ]),
    ("and-across-keys", {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}, [
        ({"customer_interests": S("rugby"), "price_usd": N("101")}, True),
        ({"customer_interests": S("rugby"), "price_usd": N("99")}, False),
        ({"customer_interests": S("rugby")}, False),
    ]),
    ("or-within-key", {"customer_interests": ["rugby", {"prefix": "foot"}]}, [
        ({"customer_interests": S("football")}, True),
        ({"customer_interests": S("rugby")}, True),
        ({"customer_interests": S("baseball")}, False),
    ]),
    ("$or", {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]},
                                                  {"namespace": ["AWS/EC2"]}]}, [
        ({"source": S("aws.cloudwatch"), "metricName": S("CPUUtilization")}, True),
        ({"source": S("aws.cloudwatch"), "namespace": S("AWS/EC2")}, True),
        ({"source": S("aws.cloudwatch"), "metricName": S("ReadLatency")}, False),
        ({"source": S("aws.s3"), "namespace": S("AWS/EC2")}, False),
    ]),
    ("string-array", {"customer_interests": ["rugby", "tennis"]}, [
        ({"customer_interests": A(["rugby", "football"])}, True),
        ({"customer_interests": A(["baseball", "football"])}, False),
    ]),
]


def _cases(table: list[tuple[str, Any, list[tuple[Any, bool]]]]) -> list[Any]:
    return [pytest.param(policy, msgs, id=name) for name, policy, msgs in table]


@pytest.mark.parametrize("policy,messages", _cases(ATTRIBUTE_CASES))
def test_attribute_scope(sns: Any, sqs: Any, sns_server: Server, policy: dict[str, Any],
                         messages: list[tuple[dict[str, Any], bool]]) -> None:
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=json.dumps(policy))
    all_url, _ = subscribe_queue(sns, sqs, topic, raw=True)  # no policy: gets everything
    for i, (attrs, _) in enumerate(messages):
        sns.publish(TopicArn=topic, Message=f"msg-{i}", MessageAttributes=attrs)
    expected = sorted(f"msg-{i}" for i, (_, match) in enumerate(messages) if match)
    got = sorted(m["Body"] for m in receive(sqs, url, len(expected), timeout=5))
    assert got == expected, f"policy {policy}: delivered {got}, expected {expected}"
    assert len(receive(sqs, all_url, len(messages), timeout=5)) == len(messages)
    wait_for_value(lambda: (sub_counts(sns_server, sub).get("delivered"), sub_counts(sns_server, sub).get(
        "filtered_out")), (len(expected), len(messages) - len(expected)), 5, "accounting (delivered, filtered_out)")


BODY_CASES: list[tuple[str, dict[str, Any], list[tuple[Any, bool]]]] = [
    ("nested-exact", {"customer": {"interests": ["rugby"]}}, [
        ({"customer": {"interests": "rugby"}}, True),
        ({"customer": {"interests": ["football", "rugby"]}}, True),
        ({"customer": {"interests": "tennis"}}, False),
        ({"interests": "rugby"}, False),
    ]),
    ("nested-numeric-and-prefix", {"order": {"total": [{"numeric": [">=", 10]}], "id": [{"prefix": "ord-"}]}}, [
        ({"order": {"total": 10, "id": "ord-1"}}, True),
        ({"order": {"total": 9.99, "id": "ord-1"}}, False),
        ({"order": {"total": 12, "id": "inv-1"}}, False),
    ]),
    ("body-exists-false", {"store": [{"exists": False}]}, [
        ({"other": 1}, True),
        ({"store": "x"}, False),
    ]),
    ("body-anything-but", {"status": [{"anything-but": ["cancelled"]}]}, [
        ({"status": "shipped"}, True),
        ({"status": "cancelled"}, False),
    ]),
    ("body-$or", {"$or": [{"a": ["1"]}, {"b": {"c": [{"numeric": ["<", 0]}]}}]}, [
        ({"a": "1"}, True),
        ({"b": {"c": -5}}, True),
        ({"b": {"c": 5}}, False),
    ]),
    ("body-array-of-objects", {"items": {"sku": ["A-1"]}}, [
        ({"items": [{"sku": "B-2"}, {"sku": "A-1"}]}, True),
        ({"items": [{"sku": "B-2"}]}, False),
    ]),
    ("body-not-json", {"a": ["b"]}, [
        ("plain text, not JSON", False),
        ({"a": "b"}, True),
    ]),
]


@pytest.mark.parametrize("policy,messages", _cases(BODY_CASES))
def test_body_scope(sns: Any, sqs: Any, sns_server: Server, policy: dict[str, Any],
                    messages: list[tuple[Any, bool]]) -> None:
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=json.dumps(policy),
                               FilterPolicyScope="MessageBody")
    bodies = [m if isinstance(m, str) else json.dumps(m) for m, _ in messages]
    for body in bodies:
        sns.publish(TopicArn=topic, Message=body)
    expected = sorted(b for b, (_, match) in zip(bodies, messages, strict=True) if match)
    got = sorted(m["Body"] for m in receive(sqs, url, len(expected), timeout=5))
    assert got == expected, f"policy {policy}: delivered {got}, expected {expected}"
    wait_for_value(lambda: sub_counts(sns_server, sub).get("filtered_out"), len(messages) - len(expected), 5,
                   "accounting filtered_out")


def test_attribute_policy_ignores_body_and_vice_versa(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    policy = json.dumps({"kind": ["order"]})
    attr_url, _ = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=policy)
    body_url, _ = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=policy, FilterPolicyScope="MessageBody")
    sns.publish(TopicArn=topic, Message=json.dumps({"kind": "order", "n": 1}))  # body only
    sns.publish(TopicArn=topic, Message=json.dumps({"n": 2}), MessageAttributes={"kind": S("order")})  # attr only
    assert [json.loads(m["Body"])["n"] for m in receive(sqs, attr_url, 1, timeout=3)] == [2]
    assert [json.loads(m["Body"])["n"] for m in receive(sqs, body_url, 1, timeout=3)] == [1]


def test_changing_the_policy_applies_to_later_publishes(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic, raw=True, FilterPolicy=json.dumps({"k": ["a"]}))
    sns.publish(TopicArn=topic, Message="1", MessageAttributes={"k": S("b")})
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"k": ["b"]}))
    sns.publish(TopicArn=topic, Message="2", MessageAttributes={"k": S("b")})
    assert [m["Body"] for m in receive(sqs, url, 1, timeout=3)] == ["2"]


@pytest.mark.parametrize("policy", [
    "{not json",
    json.dumps({"a": [{"numeric": [">", "ten"]}]}),
    json.dumps({"a": [{"prefix": 5}]}),
    json.dumps({"a": [{"no-such-operator": "x"}]}),
    json.dumps({"a": [{"cidr": "10.0.0.0/99"}]}),
    json.dumps({"a": [{"exists": "yes"}]}),
    json.dumps({"a": [{"numeric": ["<", 5, "<", 6]}]}),
    json.dumps(["a", "b"]),
    json.dumps({f"k{i}": ["v"] for i in range(6)}),  # more than 5 keys
])
def test_invalid_policy_rejected(sns: Any, sqs: Any, policy: str) -> None:
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    with pytest.raises(ClientError) as ei:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy)
    assert_sns_error(ei, "InvalidParameter")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    with pytest.raises(ClientError) as ei:
        subscribe_queue(sns, sqs, topic, FilterPolicy=policy)
    assert_sns_error(ei, "InvalidParameter")


def test_policy_combinations_over_limit_rejected(sns: Any, sqs: Any) -> None:
    # AWS: the total combination of values must not exceed 150 (here 4 * 40 = 160)
    policy = {"a": [f"a{i}" for i in range(4)], "b": [f"b{i}" for i in range(40)]}
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    with pytest.raises(ClientError) as ei:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                        AttributeValue=json.dumps(policy))
    assert_sns_error(ei, "InvalidParameter")
