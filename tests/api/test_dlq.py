"""Dead-letter queues: RedrivePolicy, maxReceiveCount, ListDeadLetterSourceQueues."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import arn_of, assert_error, counts, qattrs

ATTRS = {"k": {"DataType": "String", "StringValue": "v"}, "n": {"DataType": "Number", "StringValue": "7"}}


def _redrive(dlq_arn: str, n: int = 2) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": n})


def test_redrive_policy_roundtrip(sqs, queue):
    dlq = queue()
    src = queue(RedrivePolicy=_redrive(arn_of(sqs, dlq), 3))
    pol = json.loads(qattrs(sqs, src, "RedrivePolicy")["RedrivePolicy"])
    assert pol["deadLetterTargetArn"] == arn_of(sqs, dlq)
    assert int(pol["maxReceiveCount"]) == 3


def test_message_moves_to_dlq_after_max_receive_count(sqs, queue, clock):
    dlq = queue()
    src = queue(VisibilityTimeout=10, RedrivePolicy=_redrive(arn_of(sqs, dlq), 2))
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes=ATTRS)
    for _ in range(2):
        msgs = sqs.receive_message(QueueUrl=src).get("Messages", [])
        assert [m["Body"] for m in msgs] == ["poison"]
        clock(11)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    assert counts(sqs, src) == (0, 0, 0)
    moved = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"],
                                MessageSystemAttributeNames=["All"])["Messages"]
    assert len(moved) == 1
    m = moved[0]
    assert m["Body"] == "poison"
    assert m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"] == ATTRS
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["Attributes"].get("DeadLetterQueueSourceArn") == arn_of(sqs, src)


def test_deleted_message_does_not_reach_dlq(sqs, queue, clock):
    dlq = queue()
    src = queue(VisibilityTimeout=10, RedrivePolicy=_redrive(arn_of(sqs, dlq), 1))
    sqs.send_message(QueueUrl=src, MessageBody="ok")
    m = sqs.receive_message(QueueUrl=src)["Messages"][0]
    sqs.delete_message(QueueUrl=src, ReceiptHandle=m["ReceiptHandle"])
    clock(11)
    sqs.receive_message(QueueUrl=src)
    assert counts(sqs, dlq) == (0, 0, 0)


def test_fifo_dlq_keeps_group_order(sqs, fifo_queue, clock):
    dlq = fifo_queue()
    src = fifo_queue(VisibilityTimeout=10, RedrivePolicy=_redrive(arn_of(sqs, dlq), 1))
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}",
                         MessageAttributes=ATTRS)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]] == [
        "m0", "m1", "m2"]
    clock(11)
    for _ in range(3):
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    assert counts(sqs, src)[:2] == (0, 0)
    moved = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in moved] == ["m0", "m1", "m2"]
    assert all(m["Attributes"]["MessageGroupId"] == "g" for m in moved)
    assert all(m["MessageAttributes"] == ATTRS for m in moved)


@pytest.mark.parametrize(("src_fifo", "dlq_fifo"), [(True, False), (False, True)])
def test_dlq_must_match_queue_type(sqs, queue, fifo_queue, src_fifo, dlq_fifo):
    dlq = fifo_queue() if dlq_fifo else queue()
    make = fifo_queue if src_fifo else queue
    src = make()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": _redrive(arn_of(sqs, dlq))})
    assert ei.value.response["Error"]["Code"] in ("InvalidParameterValue", "InvalidAttributeValue")
    assert "RedrivePolicy" not in qattrs(sqs, src)


@pytest.mark.parametrize("policy", [
    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:does-not-exist-dlq", "maxReceiveCount": 2},
    {"maxReceiveCount": 2},
    {"deadLetterTargetArn": "ARN", "maxReceiveCount": 0},
    {"deadLetterTargetArn": "ARN", "maxReceiveCount": 1001},
])
def test_invalid_redrive_policy(sqs, queue, policy):
    dlq = queue()
    src = queue()
    if policy.get("deadLetterTargetArn") == "ARN":
        policy = {**policy, "deadLetterTargetArn": arn_of(sqs, dlq)}
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": json.dumps(policy)})
    assert ei.value.response["Error"]["Code"] in ("InvalidParameterValue", "InvalidAttributeValue")
    assert "RedrivePolicy" not in qattrs(sqs, src)


def test_list_dead_letter_source_queues(sqs, queue):
    dlq = queue()
    arn = arn_of(sqs, dlq)
    sources = sorted(queue(RedrivePolicy=_redrive(arn)) for _ in range(3))
    queue()  # unrelated
    assert sorted(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]) == sources
    page1 = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert len(page1["queueUrls"]) == 2 and page1.get("NextToken")
    page2 = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=page1["NextToken"])
    assert sorted(page1["queueUrls"] + page2["queueUrls"]) == sources
    assert "NextToken" not in page2


def test_list_dead_letter_source_queues_of_missing_queue(sqs, server):
    with pytest.raises(ClientError) as ei:
        sqs.list_dead_letter_source_queues(QueueUrl=f"{server.endpoint}/{server.account_id}/nope-dlq-x")
    assert_error(ei, "QueueDoesNotExist")


def test_remove_redrive_policy(sqs, queue, clock):
    dlq = queue()
    src = queue(VisibilityTimeout=10, RedrivePolicy=_redrive(arn_of(sqs, dlq), 1))
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in qattrs(sqs, src)
    sqs.send_message(QueueUrl=src, MessageBody="x")
    sqs.receive_message(QueueUrl=src)
    clock(11)
    assert len(sqs.receive_message(QueueUrl=src)["Messages"]) == 1
    assert counts(sqs, dlq) == (0, 0, 0)


def test_redrive_allow_policy_deny_all(sqs, queue):
    dlq = queue(RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    src = queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": _redrive(arn_of(sqs, dlq))})
    assert ei.value.response["Error"]["Code"] in ("InvalidParameterValue", "InvalidAttributeValue")
    assert "RedrivePolicy" not in qattrs(sqs, src)
