"""CreateTopic / SetTopicAttributes / GetTopicAttributes attribute rules."""

from __future__ import annotations

import json

import pytest

from postroom.core.sns import topic_attributes as ta
from postroom.errors import InvalidParameter

ARN = "arn:aws:sns:us-east-1:123456789012:t"


def test_default_policy_is_awss() -> None:
    policy = json.loads(ta.default_topic_policy(ARN, "123456789012"))
    assert policy == {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
                       "SNS:Publish"],
            "Resource": ARN,
            "Condition": {"StringEquals": {"AWS:SourceOwner": "123456789012"}},
        }],
    }
    assert " " not in ta.default_topic_policy(ARN, "123456789012")


def test_creation_defaults() -> None:
    assert ta.creation_attributes("t", {}) == {}
    assert ta.creation_attributes("t", None) == {}
    assert ta.creation_attributes("t", {"FifoTopic": "false"}) == {}
    assert ta.creation_attributes("t.fifo", {"FifoTopic": "TRUE"}) == {
        "FifoTopic": "true", "ContentBasedDeduplication": "false"}


def test_creation_canonicalizes() -> None:
    attrs = ta.creation_attributes("t.fifo", {
        "FifoTopic": "true", "ContentBasedDeduplication": "True", "DisplayName": "Hi",
        "Policy": '{ "Version": "2012-10-17", "Statement": [] }', "SignatureVersion": "2",
        "TracingConfig": "Active", "FifoThroughputScope": "MessageGroup", "KmsMasterKeyId": "alias/aws/sns",
        "ArchivePolicy": '{"MessageRetentionPeriod": 30}', "SQSSuccessFeedbackSampleRate": "050",
        "HTTPFailureFeedbackRoleArn": "arn:aws:iam::123456789012:role/r",
    })
    assert attrs == {
        "FifoTopic": "true", "ContentBasedDeduplication": "true", "DisplayName": "Hi",
        "Policy": '{"Version":"2012-10-17","Statement":[]}', "SignatureVersion": "2", "TracingConfig": "Active",
        "FifoThroughputScope": "MessageGroup", "KmsMasterKeyId": "alias/aws/sns",
        "ArchivePolicy": '{"MessageRetentionPeriod":"30"}', "SQSSuccessFeedbackSampleRate": "50",
        "HTTPFailureFeedbackRoleArn": "arn:aws:iam::123456789012:role/r",
    }


def test_identical_requests_give_identical_dicts() -> None:
    a = ta.creation_attributes("t", {"DeliveryPolicy": json.dumps({"http": {"defaultHealthyRetryPolicy": {
        "numRetries": 5}}}), "Policy": '{"a": 1}'})
    b = ta.creation_attributes("t", {"Policy": '{"a":1}', "DeliveryPolicy": '{"http":{"defaultHealthyRetryPolicy":'
                                     '{"numRetries":5}}}'})
    assert a == b


CREATE_ERRORS = [
    ("t", {"FifoTopic": "true"}, "Fifo Topic names must end with .fifo"),
    ("t.fifo", {}, "Invalid parameter: Topic Name"),
    ("t", {"FifoTopic": "maybe"}, "Invalid parameter: Attributes Reason: FifoTopic: Invalid value [maybe]. "
                                  "Must be true or false."),
    ("t", {"Bogus": "1"}, "Invalid parameter: Attributes Reason: Invalid attribute name: Bogus"),
    ("t", {"ContentBasedDeduplication": "true"},
     "Invalid parameter: Attributes Reason: ContentBasedDeduplication: ContentBasedDeduplication can only be set "
     "for FIFO topics."),
    ("t", {"FifoThroughputScope": "Topic"}, "FifoThroughputScope can only be set for FIFO topics."),
    ("t", {"SignatureVersion": "3"}, "Invalid parameter: Attributes Reason: SignatureVersion: Invalid value [3]. "
                                     "Must be one of 1, 2."),
    ("t", {"TracingConfig": "active"}, "TracingConfig: Invalid value [active]"),
    ("t", {"Policy": "{"}, "Invalid parameter: Attributes Reason: Policy: failed to parse JSON."),
    ("t", {"Policy": "[]"}, "Policy: failed to parse JSON."),
    ("t", {"DisplayName": "x" * 101}, "DisplayName: must be at most 100 characters long."),
    ("t", {"DataProtectionPolicy": "{}"}, "set it with PutDataProtectionPolicy"),
    ("t", {"HTTPSuccessFeedbackSampleRate": "101"}, "Must be an integer between 0 and 100."),
    ("t", {"LambdaSuccessFeedbackRoleArn": "role"}, "Must be an IAM role ARN."),
    ("t.fifo", {"FifoTopic": "true", "ArchivePolicy": '{"MessageRetentionPeriod": "366"}'},
     "MessageRetentionPeriod must be an integer between 1 and 365"),
    ("t.fifo", {"FifoTopic": "true", "ArchivePolicy": '{"MessageRetentionPeriod": "0"}'},
     "MessageRetentionPeriod must be an integer between 1 and 365"),
    ("t.fifo", {"FifoTopic": "true", "ArchivePolicy": '{"Days": "3"}'}, "single key MessageRetentionPeriod"),
    ("t", {"DeliveryPolicy": '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}'},
     "Invalid parameter: Attributes Reason: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be "
     "between 0 and 100."),
]


@pytest.mark.parametrize(("name", "raw", "message"), CREATE_ERRORS)
def test_creation_errors(name: str, raw: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        ta.creation_attributes(name, raw)
    assert message in info.value.message


def test_set_one_attribute() -> None:
    attrs = ta.updated_attributes({}, "DisplayName", "Shown")
    assert attrs == {"DisplayName": "Shown"}
    attrs = ta.updated_attributes(attrs, "Policy", '{"Statement": []}')
    assert attrs["Policy"] == '{"Statement":[]}'
    assert ta.updated_attributes(attrs, "Policy", "") == {"DisplayName": "Shown"}
    assert ta.updated_attributes(attrs, "DisplayName", None)["DisplayName"] == ""


def test_set_fifo_attributes() -> None:
    fifo = ta.creation_attributes("t.fifo", {"FifoTopic": "true"})
    assert ta.updated_attributes(fifo, "ContentBasedDeduplication", "TRUE")["ContentBasedDeduplication"] == "true"
    archived = ta.updated_attributes(fifo, "ArchivePolicy", '{"MessageRetentionPeriod": "7"}')
    assert archived["ArchivePolicy"] == '{"MessageRetentionPeriod":"7"}'
    assert "ArchivePolicy" not in ta.updated_attributes(archived, "ArchivePolicy", "{}")
    assert "ArchivePolicy" not in ta.updated_attributes(archived, "ArchivePolicy", "")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FifoTopic", "true", "Invalid parameter: AttributeName"),
    ("Owner", "1", "Invalid parameter: AttributeName"),
    ("TopicArn", ARN, "Invalid parameter: AttributeName"),
    ("ContentBasedDeduplication", "true",
     "Invalid parameter: ContentBasedDeduplication: ContentBasedDeduplication can only be set for FIFO topics."),
    ("SignatureVersion", "SHA256", "Invalid parameter: SignatureVersion: Invalid value [SHA256]. Must be one of 1, 2."),
])
def test_set_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        ta.updated_attributes({}, name, value)
    assert info.value.message == message


def test_computed_attributes() -> None:
    out = ta.computed_attributes(ARN, "123456789012", {"DisplayName": "D"}, confirmed=2, pending=1)
    assert out["TopicArn"] == ARN
    assert out["Owner"] == "123456789012"
    assert out["DisplayName"] == "D"
    assert (out["SubscriptionsConfirmed"], out["SubscriptionsPending"], out["SubscriptionsDeleted"]) == ("2", "1", "0")
    assert out["Policy"] == ta.default_topic_policy(ARN, "123456789012")
    assert out["EffectiveDeliveryPolicy"] == ta.effective_delivery_policy({})
    assert set(out) <= set(ta.READABLE)
    assert ta.computed_attributes(ARN, "1", {"Policy": "{}"}, confirmed=0, pending=0)["Policy"] == "{}"


def test_readable_names() -> None:
    assert set(ta.COMPUTED) <= set(ta.READABLE)
    assert "FifoTopic" in ta.READABLE and "FifoTopic" not in ta.SETTABLE
