"""SNS behaviour pinned after running moto's own SNS test suite (tests/test_sns, moto 5.2.5, in
moto's server mode) against postroom: each test here covers a difference that moto's suite
found where the evidence says AWS behaves as moto's test expects. Differences where moto's test
encodes moto's own behaviour (its backdoors, its texts where AWS's differ) are not here.

Black-box: a real server per store, boto3 clients, the notification outbox read over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.sns.conftest import assert_sns_error, new_topic, subscribe_queue
from tests.sns.test_platform import new_app, new_endpoint, outbox
from tests.sns.test_sms import phone


# ---- application subscriptions ------------------------------------------------------------------
def test_subscribe_to_missing_platform_endpoint(sns: Any) -> None:
    """AWS: Subscribe with Protocol=application to a platform endpoint that does not exist is
    InvalidParameter "Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint
    arn<ARN>", with no space before the ARN (reported from AWS in getmoto/moto#7518; moto's
    test_publish_to_deleted_platform_endpoint, run against AWS in getmoto/moto#7584, whose
    notes say the missing space is AWS's). Nothing is subscribed."""
    topic = new_topic(sns)
    app = new_app(sns)
    endpoint, _ = new_endpoint(sns, app)
    sns.delete_endpoint(EndpointArn=endpoint)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)
    assert_sns_error(exc, "InvalidParameter", 400)
    assert exc.value.response["Error"]["Message"] == (
        f"Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint arn{endpoint}")
    never = endpoint.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=never)
    assert exc.value.response["Error"]["Message"] == (
        f"Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint arn{never}")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_resubscribe_after_endpoint_deleted_returns_existing(sns: Any) -> None:
    """AWS: Subscribe is idempotent, and a topic's existing subscription to an endpoint is
    still answered after the endpoint was deleted (moto's notes from its AWS runs of
    getmoto/moto#7584: "existing subscriptions are still found if an endpoint is deleted");
    DeleteEndpoint leaves the endpoint's subscriptions in place."""
    topic = new_topic(sns)
    endpoint, _ = new_endpoint(sns, new_app(sns))
    first = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)["SubscriptionArn"]
    sns.delete_endpoint(EndpointArn=endpoint)
    again = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)["SubscriptionArn"]
    assert again == first
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [
        first]


# ---- sms subscriptions ---------------------------------------------------------------------------
@pytest.mark.parametrize("written", ["+63-123-456-7890", "+15/55-123.4567", "1-555-765-4321"])
def test_sms_subscription_number_with_separators(sns: Any, sns_server: Server, written: str) -> None:
    """AWS: an ``sms`` subscription's number may be written with single dashes (``+63-123-456-7890``
    works against AWS: getmoto/moto#2529), dots or slashes between its digits (moto's
    test_subscribe_sms); the subscription keeps the endpoint as written, and the text goes to the
    E.164 number."""
    topic = new_topic(sns)
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=written, ReturnSubscriptionArn=True)[
        "SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["Endpoint"] == written
    number = "+" + "".join(c for c in written if c.isdigit())
    sns.publish(TopicArn=topic, Message="hello by text")
    assert [e["message"] for e in outbox(sns_server, "sms", number)] == ["hello by text"]


@pytest.mark.parametrize("bad", ["+15--551234567", "+15551234567.", "/+15551234567", "+1555-12a-4567",
                                 "-15551234567"])
def test_sms_subscription_bad_separators(sns: Any, bad: str) -> None:
    """AWS: separators two in a row or at either end of the number, or anything but digits
    between them, are InvalidParameter "Invalid SMS endpoint: <endpoint>" (moto's
    test_subscribe_bad_sms; the message is AWS's, aws-samples/aws-sagemaker-build#4)."""
    topic = new_topic(sns)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=bad)
    assert_sns_error(exc, "InvalidParameter", 400)
    assert exc.value.response["Error"]["Message"] == f"Invalid SMS endpoint: {bad}"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


# ---- Publish to a phone number -------------------------------------------------------------------
def test_publish_to_phone_number_at_most_1600_characters(sns: Any, sns_server: Server) -> None:
    """AWS API Reference › Publish, Message: "The total size limit for a single SMS Publish
    action is 1,600 characters." 1,600 characters are sent; 1,601 are InvalidParameter (AWS's
    text is not recorded; moto's test_publish_bad_sms expects "must be less than 1600") and
    nothing is sent."""
    number = phone()
    sns.publish(PhoneNumber=number, Message="é" * 1600)
    with pytest.raises(ClientError) as exc:
        sns.publish(PhoneNumber=number, Message="a" * 1601)
    assert_sns_error(exc, "InvalidParameter", 400, "must be less than 1600")
    assert [len(e["message"]) for e in outbox(sns_server, "sms", number)] == [1600]


# ---- filter-policy errors say where SNS's parser stopped ------------------------------------------
@pytest.mark.parametrize(("policy", "reason", "column"), [
    ({"price": [{"numeric": ["<", "100"]}]}, "Value of < must be numeric", 28),
    ({"key": [{"numeric": [">", 20, "<", "30"]}]}, "Value of < must be numeric", 33),
    ({"key": [{"numeric": [">=", 1, ">", 2]}]}, "Bad numeric range operator: >", 31),
    ({"key": [{"numeric": [">", 3, "<", 1]}]}, "Bottom must be less than top", 33),
    ({"key": [{"wrong-operator": True}]}, "Unrecognized match type wrong-operator", 31),
    ({"key": [["value"]]}, "Match value must be String, number, true, false, or null", 10),
    ({"key": [{"exists": None}]}, "exists match pattern must be either true or false.", 23),
])
def test_subscribe_filter_policy_error_position(sns: Any, policy: dict[str, Any], reason: str, column: int) -> None:
    """AWS: Subscribe refuses a bad FilterPolicy with InvalidParameter "Invalid parameter:
    Attributes Reason: FilterPolicy: <reason>\\n at [Source: (String)"<policy>"; line: 1,
    column: <n>]" — the policy as SNS re-serialized it, without whitespace (it was sent with
    json.dumps' spaces), and the column where its parser stopped (LocalStack's AWS-recorded
    test_sns_filter_policy snapshots; the first case is the AWS answer moto's source quotes for
    its test_subscribe_invalid_filter_policy)."""
    topic = new_topic(sns)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://example.com/",
                      Attributes={"FilterPolicy": json.dumps(policy)})
    assert_sns_error(exc, "InvalidParameter", 400)
    compact = json.dumps(policy, separators=(",", ":"))
    assert exc.value.response["Error"]["Message"] == (
        f'Invalid parameter: Attributes Reason: FilterPolicy: {reason}\n at [Source: (String)"{compact}"; '
        f"line: 1, column: {column}]")


def test_set_filter_policy_error_position_and_limits(sns: Any, sqs: Any) -> None:
    """AWS: SetSubscriptionAttributes words the same errors "Invalid parameter: FilterPolicy:
    <reason>\\n at [Source: …]" (snapshot sub-filter-policy-rule-no-list: ``"key_a" must be an
    object or an array`` at column 11); the limits SNS checks itself ("Filter policy is too
    complex", "… can not have more than 5 keys") carry no position."""
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    cases = [
        ({"key_a": "value_one"}, '"key_a" must be an object or an array'
         '\n at [Source: (String)"{"key_a":"value_one"}"; line: 1, column: 11]'),
        ({"store": [str(i) for i in range(151)]}, "Filter policy is too complex"),
        ({f"key_{i}": ["v"] for i in range(6)}, "Filter policy can not have more than 5 keys"),
    ]
    for policy, reason in cases:
        with pytest.raises(ClientError) as exc:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                            AttributeValue=json.dumps(policy))
        assert_sns_error(exc, "InvalidParameter", 400)
        assert exc.value.response["Error"]["Message"] == "Invalid parameter: FilterPolicy: " + reason
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
