"""GetQueueAttributes / SetQueueAttributes."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, counts, qattrs, unique

STANDARD_DEFAULTS = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "ApproximateNumberOfMessages": "0",
    "ApproximateNumberOfMessagesNotVisible": "0",
    "ApproximateNumberOfMessagesDelayed": "0",
}


def test_defaults_and_arn(sqs, queue, server):
    name = unique()
    before = int(server.now()) - 2
    url = queue(name)
    after = int(server.now()) + 2
    a = qattrs(sqs, url)
    for k, v in STANDARD_DEFAULTS.items():
        assert a.get(k) == v, (k, a.get(k))
    assert a["QueueArn"] == f"arn:aws:sqs:us-east-1:{server.account_id}:{name}"
    assert before <= int(a["CreatedTimestamp"]) <= after
    assert before <= int(a["LastModifiedTimestamp"]) <= after
    assert "FifoQueue" not in a
    assert "RedrivePolicy" not in a


def test_fifo_defaults(sqs, fifo_queue):
    a = qattrs(sqs, fifo_queue())
    assert a["FifoQueue"] == "true"
    assert a["ContentBasedDeduplication"] == "false"
    assert a["DeduplicationScope"] == "queue"
    assert a["FifoThroughputLimit"] == "perQueue"
    assert a["QueueArn"].endswith(".fifo")


def test_arn_region_comes_from_credential_scope(server):
    from tests.api.conftest import make_client

    west = make_client(server.endpoint, region="eu-west-1")
    name = unique()
    url = west.create_queue(QueueName=name)["QueueUrl"]
    try:
        arn = qattrs(west, url, "QueueArn")["QueueArn"]
        assert arn == f"arn:aws:sqs:eu-west-1:{server.account_id}:{name}"
    finally:
        west.delete_queue(QueueUrl=url)


@pytest.mark.parametrize("name", [*STANDARD_DEFAULTS, "QueueArn", "CreatedTimestamp", "LastModifiedTimestamp"])
def test_get_single_attribute_returns_only_that(sqs, queue, name):
    url = queue()
    a = qattrs(sqs, url, name)
    assert list(a) == [name]


def test_get_no_attribute_names_returns_no_attributes(sqs, queue):
    url = queue()
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_get_unknown_attribute_name(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    assert_error(ei, "InvalidAttributeName", "InvalidAttributeName")


def test_approximate_counts(sqs, queue):
    url = queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(4)])
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert len(got) == 1
    assert counts(sqs, url) == (3, 1, 1)


SETTABLE = [
    ("VisibilityTimeout", "0"), ("VisibilityTimeout", "43200"),
    ("MaximumMessageSize", "1024"), ("MaximumMessageSize", "1048576"),
    ("MessageRetentionPeriod", "60"), ("MessageRetentionPeriod", "1209600"),
    ("DelaySeconds", "900"), ("ReceiveMessageWaitTimeSeconds", "20"),
]


@pytest.mark.parametrize(("name", "value"), SETTABLE)
def test_set_and_get(sqs, queue, name, value):
    url = queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
    assert qattrs(sqs, url, name) == {name: value}


def test_create_with_attributes(sqs, queue):
    url = queue(VisibilityTimeout=5, DelaySeconds=3, MessageRetentionPeriod=600, MaximumMessageSize=2048,
                ReceiveMessageWaitTimeSeconds=2)
    a = qattrs(sqs, url)
    assert (a["VisibilityTimeout"], a["DelaySeconds"], a["MessageRetentionPeriod"], a["MaximumMessageSize"],
            a["ReceiveMessageWaitTimeSeconds"]) == ("5", "3", "600", "2048", "2")


INVALID = [
    ("VisibilityTimeout", "43201"), ("VisibilityTimeout", "-1"), ("VisibilityTimeout", "abc"),
    ("MaximumMessageSize", "1023"), ("MaximumMessageSize", "1048577"),
    ("MessageRetentionPeriod", "59"), ("MessageRetentionPeriod", "1209601"),
    ("DelaySeconds", "901"), ("ReceiveMessageWaitTimeSeconds", "21"),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_set_invalid_value_changes_nothing(sqs, queue, name, value):
    url = queue()
    before = qattrs(sqs, url)
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value, "DelaySeconds": "7"}
                                 if name != "DelaySeconds" else {name: value})
    assert_error(ei, "InvalidAttributeValue")
    after = qattrs(sqs, url)
    assert after == before  # in particular DelaySeconds was not applied either


def test_set_invalid_redrive_json(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": "not json"})
    # AWS words this one as "Value not json for parameter RedrivePolicy is invalid"
    assert ei.value.response["Error"]["Code"] in ("InvalidParameterValue", "InvalidAttributeValue")
    assert "RedrivePolicy" not in qattrs(sqs, url)


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_create_with_invalid_value(sqs, name, value):
    qname = unique()
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=qname, Attributes={name: value})
    assert_error(ei, "InvalidAttributeValue")
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName=qname)


def test_set_unknown_attribute_name(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Bogus": "1"})
    assert_error(ei, "InvalidAttributeName")


def test_content_based_dedup_is_unknown_on_standard_queue(sqs):
    name = unique()
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name, Attributes={"ContentBasedDeduplication": "true"})
    assert_error(ei, "InvalidAttributeName")


def test_set_read_only_attribute_is_rejected(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "arn:aws:sqs:us-east-1:1:x"})
    assert_error(ei, "InvalidAttributeName")
    assert qattrs(sqs, url, "QueueArn")["QueueArn"].endswith(url.rsplit("/", 1)[1])


def test_last_modified_changes_on_set(sqs, queue, clock):
    url = queue()
    a = qattrs(sqs, url)
    clock(100)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "31"})
    b = qattrs(sqs, url)
    assert b["CreatedTimestamp"] == a["CreatedTimestamp"]
    assert int(b["LastModifiedTimestamp"]) >= int(a["LastModifiedTimestamp"]) + 99


def test_policy_roundtrip(sqs, queue, server):
    url = queue()
    arn = qattrs(sqs, url, "QueueArn")["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "s1", "Effect": "Allow", "Principal": "*",
                                                      "Action": "sqs:SendMessage", "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert json.loads(qattrs(sqs, url, "Policy")["Policy"]) == policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in qattrs(sqs, url)


def test_fifo_queue_attribute_cannot_be_changed(sqs, queue, fifo_queue):
    """AWS (observed): a standard queue does not know FifoQueue; a FIFO queue refuses
    FifoQueue=false with InvalidAttributeValue and stays FIFO."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert_error(ei, "InvalidAttributeName")
    assert "FifoQueue" not in qattrs(sqs, url)
    furl = fifo_queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=furl, Attributes={"FifoQueue": "false"})
    assert_error(ei, "InvalidAttributeValue")
    assert qattrs(sqs, furl, "FifoQueue") == {"FifoQueue": "true"}


def test_timestamps_are_seconds(sqs, queue):
    url = queue()
    a = qattrs(sqs, url)
    assert abs(int(a["CreatedTimestamp"]) - time.time()) < 10 * 365 * 86400  # seconds, not ms
