"""Subscribe / SetSubscriptionAttributes: protocols, endpoints, FIFO pairing and attributes."""

from __future__ import annotations

import json

import pytest

from postroom.core.sns import subscription_attributes as sa
from postroom.errors import InvalidParameter

QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
FIFO_QUEUE = QUEUE + ".fifo"
DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"


# ---- protocols and endpoints -------------------------------------------------------
@pytest.mark.parametrize(("protocol", "endpoint"), [
    ("sqs", QUEUE), ("sqs", FIFO_QUEUE), ("http", "http://example.com/hook"), ("https", "https://h:8443/p?q=1"),
    ("http", "HTTP://EXAMPLE.COM"),
])
def test_valid_endpoints(protocol: str, endpoint: str) -> None:
    sa.validate_protocol_endpoint(protocol, endpoint)


@pytest.mark.parametrize(("protocol", "endpoint", "message"), [
    ("sqs", "q", "Invalid parameter: SQS endpoint ARN"),
    ("sqs", "", "Invalid parameter: SQS endpoint ARN"),
    ("sqs", None, "Invalid parameter: SQS endpoint ARN"),
    ("sqs", "arn:aws:sns:us-east-1:123456789012:t", "Invalid parameter: SQS endpoint ARN"),
    ("sqs", "arn:aws:sqs:::q", "Invalid parameter: SQS endpoint ARN"),
    ("http", "https://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("https", "http://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("http", "example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("http", "http://", "Invalid parameter: Endpoint must match the specified protocol"),
    ("https", None, "Invalid parameter: Endpoint must match the specified protocol"),
    ("carrier-pigeon", "x", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
    ("sms", "5555--0100", "Invalid SMS endpoint: 5555--0100"),
    ("sms", "call-me", "Invalid SMS endpoint: call-me"),
    ("email", "a-example.com", "Invalid parameter: Email address"),
    ("email-json", "", "Invalid parameter: Email address"),
    ("lambda", "arn:aws:lambda:us-east-1:1:function:f",
     "Invalid parameter: Protocol: postroom does not support the 'lambda' protocol"),
    ("firehose", "arn", "Invalid parameter: Protocol: postroom does not support the 'firehose' protocol"),
    ("application", "arn", "Invalid parameter: ApplicationEndpoint ARN"),
    ("application", "arn:aws:sns:us-east-1:1:app/GCM/a", "Invalid parameter: ApplicationEndpoint ARN"),
])
def test_invalid_endpoints(protocol: str, endpoint: str | None, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        sa.validate_protocol_endpoint(protocol, endpoint)
    assert info.value.message == message


# ---- FIFO pairing ------------------------------------------------------------------
@pytest.mark.parametrize(("topic_fifo", "protocol", "queue_fifo", "message"), [
    (True, "sqs", True, None),
    (True, "sqs", False, None),
    (False, "sqs", False, None),
    (False, "http", False, None),
    (False, "https", False, None),
    (False, "sqs", True, sa.FIFO_QUEUE_ON_STANDARD_TOPIC_MESSAGE),
    (True, "http", False, "Invalid parameter: Invalid protocol type: http"),
    (True, "https", False, "Invalid parameter: Invalid protocol type: https"),
])
def test_fifo_compatibility(topic_fifo: bool, protocol: str, queue_fifo: bool, message: str | None) -> None:
    if message is None:
        sa.check_fifo_compatibility(topic_fifo, protocol, queue_fifo)
    else:
        with pytest.raises(InvalidParameter) as info:
            sa.check_fifo_compatibility(topic_fifo, protocol, queue_fifo)
        assert info.value.message == message


# ---- attributes --------------------------------------------------------------------
def test_subscribe_attributes_canonical() -> None:
    attrs = sa.subscribe_attributes("sqs", {
        "RawMessageDelivery": "True",
        "FilterPolicy": '{"store": ["example_corp"]}',
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ}),
    })
    assert attrs == {
        "RawMessageDelivery": "true",
        "FilterPolicy": '{"store": ["example_corp"]}',
        "FilterPolicyScope": "MessageAttributes",
        "RedrivePolicy": f'{{"deadLetterTargetArn":"{DLQ}"}}',
    }
    assert sa.subscribe_attributes("sqs", None) == {}
    assert sa.subscribe_attributes("http", {"DeliveryPolicy": '{"healthyRetryPolicy": {"numRetries": 4}}'}) == {
        "DeliveryPolicy": '{"healthyRetryPolicy":{"numRetries":4}}'}


def test_filter_policy_is_validated_under_its_scope() -> None:
    nested = '{"a": {"b": ["x"]}}'
    attrs = sa.subscribe_attributes("sqs", {"FilterPolicy": nested, "FilterPolicyScope": "MessageBody"})
    assert attrs["FilterPolicyScope"] == "MessageBody"
    with pytest.raises(InvalidParameter) as info:
        sa.subscribe_attributes("sqs", {"FilterPolicy": nested})
    assert info.value.message == ("Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes "
                                  "does not support nested filter policy")
    with pytest.raises(InvalidParameter) as info:
        sa.updated_subscription_attributes("sqs", attrs, "FilterPolicyScope", "MessageAttributes")
    assert info.value.message == ("Invalid parameter: Filter policy scope MessageAttributes does not support "
                                  "nested filter policy")


SUBSCRIBE_ERRORS = [
    ("sqs", {"Bogus": "x"}, "Invalid parameter: Attributes Reason: AttributeName"),
    ("sqs", {"RawMessageDelivery": "yes"},
     "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [yes]. Must be true or false."),
    ("sqs", {"FilterPolicyScope": "Body"},
     "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Body]. Please use either MessageBody "
     "or MessageAttributes"),
    ("sqs", {"FilterPolicy": "{"}, "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."),
    ("sqs", {"RedrivePolicy": "{"}, "Invalid parameter: Attributes Reason: RedrivePolicy: failed to parse JSON."),
    ("sqs", {"RedrivePolicy": '{"deadLetterTargetArn": "dlq"}'},
     "Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is an invalid arn"),
    ("sqs", {"RedrivePolicy": "{}"},
     "Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is an invalid arn"),
    ("sqs", {"DeliveryPolicy": "{}"},
     "Invalid parameter: Attributes Reason: DeliveryPolicy: Delivery protocol [sqs] does not support delivery "
     "policies."),
    ("http", {"DeliveryPolicy": '{"healthyRetryPolicy": {"numRetries": 101}}'},
     "Invalid parameter: Attributes Reason: DeliveryPolicy: healthyRetryPolicy.numRetries must be between 0 and "
     "100."),
    ("sqs", {"SubscriptionRoleArn": "arn:aws:iam::1:role/r"},
     "Invalid parameter: Attributes Reason: SubscriptionRoleArn: Delivery protocol [sqs]"),
    ("sqs", {"ReplayPolicy": "{}"},
     "Invalid parameter: Attributes Reason: ReplayPolicy: PointType must be Timestamp."),
    ("sqs", {"ReplayPolicy": '{"PointType": "Timestamp"}'},
     "Invalid parameter: Attributes Reason: ReplayPolicy: StartingPoint is required."),
    ("sqs", {"ReplayPolicy": '{"PointType": "Timestamp", "StartingPoint": "yesterday"}'},
     "Invalid parameter: Attributes Reason: ReplayPolicy: StartingPoint must be an ISO 8601 timestamp."),
    ("sqs", {"ReplayPolicy": '{"PointType": "Timestamp", "StartingPoint": "2024-01-02T00:00:00Z", '
             '"EndingPoint": "2024-01-01T00:00:00Z"}'},
     "Invalid parameter: Attributes Reason: ReplayPolicy: EndingPoint must not be before StartingPoint."),
]


@pytest.mark.parametrize(("protocol", "raw", "message"), SUBSCRIBE_ERRORS)
def test_subscribe_errors(protocol: str, raw: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        sa.subscribe_attributes(protocol, raw)
    assert info.value.message.startswith(message)


def test_fifo_subscription_needs_a_fifo_dlq() -> None:
    policy = json.dumps({"deadLetterTargetArn": DLQ})
    with pytest.raises(InvalidParameter, match="must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic"):
        sa.subscribe_attributes("sqs", {"RedrivePolicy": policy}, topic_fifo=True, endpoint=FIFO_QUEUE)
    sa.subscribe_attributes("sqs", {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ + ".fifo"})},
                            topic_fifo=True, endpoint=FIFO_QUEUE)
    sa.subscribe_attributes("sqs", {"RedrivePolicy": policy}, topic_fifo=True, endpoint=QUEUE)


def test_set_attributes() -> None:
    attrs = sa.updated_subscription_attributes("sqs", {}, "RawMessageDelivery", "TRUE")
    assert attrs == {"RawMessageDelivery": "true"}
    attrs = sa.updated_subscription_attributes("sqs", attrs, "FilterPolicy", '{"a": ["b"]}')
    assert attrs["FilterPolicyScope"] == "MessageAttributes"
    attrs = sa.updated_subscription_attributes("sqs", attrs, "FilterPolicyScope", "MessageBody")
    assert attrs["FilterPolicyScope"] == "MessageBody"
    cleared = sa.updated_subscription_attributes("sqs", attrs, "FilterPolicy", "")
    assert "FilterPolicy" not in cleared
    assert sa.updated_subscription_attributes("sqs", cleared, "FilterPolicy", None) == cleared


@pytest.mark.parametrize(("name", "value", "message"), [
    ("Protocol", "sqs", "Invalid parameter: AttributeName"),
    ("RawMessageDelivery", "1", "Invalid parameter: RawMessageDelivery: Invalid value [1]. Must be true or false."),
    ("RedrivePolicy", "{", "Invalid parameter: RedrivePolicy: failed to parse JSON."),
    ("FilterPolicy", "[]", "Invalid parameter: FilterPolicy: "),
])
def test_set_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        sa.updated_subscription_attributes("sqs", {}, name, value)
    assert info.value.message.startswith(message)
