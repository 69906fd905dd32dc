"""FIFO deduplication: explicit ids, content-based, scope, and the 5-minute window."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, counts, drain


def test_duplicate_send_returns_original_id_and_enqueues_nothing(sqs, fifo_queue):
    url = fifo_queue()
    a = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    b = sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g", MessageDeduplicationId="d1")
    assert b["MessageId"] == a["MessageId"]
    assert b["SequenceNumber"] == a["SequenceNumber"]
    assert counts(sqs, url) == (1, 0, 0)
    assert [m["Body"] for m in drain(sqs, url)] == ["one"]


def test_dedup_applies_after_delete_within_window(sqs, fifo_queue, clock):
    url = fifo_queue()
    sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    assert len(drain(sqs, url)) == 1
    clock(299)
    sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    assert counts(sqs, url) == (0, 0, 0)


def test_dedup_window_expires_after_five_minutes(sqs, fifo_queue, clock):
    url = fifo_queue()
    a = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    clock(301)
    b = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g", MessageDeduplicationId="d1")
    assert b["MessageId"] != a["MessageId"]
    assert int(b["SequenceNumber"]) > int(a["SequenceNumber"])
    assert counts(sqs, url) == (2, 0, 0)


def test_content_based_dedup(sqs, fifo_queue):
    url = fifo_queue(ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    c = sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"] != c["MessageId"]
    # an explicit id takes precedence over the content hash
    d = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="x")
    assert d["MessageId"] != a["MessageId"]
    msgs = drain(sqs, url, MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert [m["Body"] for m in msgs] == ["same", "different", "same"]
    dedup_ids = [m["Attributes"]["MessageDeduplicationId"] for m in msgs]
    assert dedup_ids[2] == "x"
    assert dedup_ids[0] and dedup_ids[0] != dedup_ids[1]


def test_content_based_dedup_ignores_attributes(sqs, fifo_queue):
    url = fifo_queue(ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g",
                     MessageAttributes={"a": {"DataType": "String", "StringValue": "1"}})
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g",
                     MessageAttributes={"a": {"DataType": "String", "StringValue": "2"}})
    assert counts(sqs, url) == (1, 0, 0)


def test_queue_scope_dedups_across_groups(sqs, fifo_queue):
    url = fifo_queue()
    sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="a", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="2", MessageGroupId="b", MessageDeduplicationId="d")
    assert counts(sqs, url) == (1, 0, 0)


def test_message_group_scope_dedups_per_group(sqs, fifo_queue):
    url = fifo_queue(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="a", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="2", MessageGroupId="b", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="3", MessageGroupId="b", MessageDeduplicationId="d")
    assert sorted(m["Body"] for m in drain(sqs, url)) == ["1", "2"]


def test_batch_dedup(sqs, fifo_queue):
    url = fifo_queue()
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        {"Id": "b", "MessageBody": "2", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        {"Id": "c", "MessageBody": "3", "MessageGroupId": "g", "MessageDeduplicationId": "e"},
    ])
    ok = {e["Id"]: e for e in r["Successful"]}
    assert set(ok) == {"a", "b", "c"}
    assert ok["a"]["MessageId"] == ok["b"]["MessageId"] != ok["c"]["MessageId"]
    assert [m["Body"] for m in drain(sqs, url)] == ["1", "3"]


def test_dedup_id_too_long(sqs, fifo_queue):
    url = fifo_queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="d" * 129)
    assert_error(ei, "InvalidParameterValue")
    sqs.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g", MessageDeduplicationId="d" * 128)
    assert counts(sqs, url) == (1, 0, 0)
