"""SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch and their errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, counts, drain, md5_hex, md5_of_attributes, receive_all


def test_send_batch_of_ten(sqs, queue):
    url = queue()
    attrs = {"k": {"DataType": "String", "StringValue": "v"}}
    entries = [{"Id": f"e{i}", "MessageBody": f"body-{i}", "MessageAttributes": attrs} for i in range(10)]
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert resp.get("Failed", []) == []
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert set(ok) == {f"e{i}" for i in range(10)}
    for i in range(10):
        assert ok[f"e{i}"]["MD5OfMessageBody"] == md5_hex(f"body-{i}")
        assert ok[f"e{i}"]["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert len({e["MessageId"] for e in resp["Successful"]}) == 10
    got = drain(sqs, url, MessageAttributeNames=["All"])
    assert sorted(m["Body"] for m in got) == sorted(f"body-{i}" for i in range(10))
    assert {m["MessageId"] for m in got} == {e["MessageId"] for e in resp["Successful"]}
    assert all(m["MessageAttributes"] == attrs for m in got)


def test_send_batch_partial_failure(sqs, queue):
    url = queue()
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "good", "MessageBody": "ok"},
        {"Id": "bad", "MessageBody": "ok", "DelaySeconds": 901},
    ])
    assert [e["Id"] for e in resp["Successful"]] == ["good"]
    assert [(e["Id"], e["SenderFault"]) for e in resp["Failed"]] == [("bad", True)]
    assert resp["Failed"][0]["Code"]
    assert [m["Body"] for m in drain(sqs, url)] == ["ok"]


def _entries(n):
    return [{"Id": f"e{i}", "MessageBody": "x"} for i in range(n)]


def test_too_many_entries(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=_entries(11))
    assert_error(ei, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
    assert counts(sqs, url) == (0, 0, 0)


def test_empty_batch(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    assert_error(ei, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest")
    with pytest.raises(ClientError) as ei:
        sqs.delete_message_batch(QueueUrl=url, Entries=[])
    assert_error(ei, "EmptyBatchRequest")
    with pytest.raises(ClientError) as ei:
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[])
    assert_error(ei, "EmptyBatchRequest")


def test_ids_not_distinct(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"},
                                                       {"Id": "a", "MessageBody": "2"}])
    assert_error(ei, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
    assert counts(sqs, url) == (0, 0, 0)


@pytest.mark.parametrize("bad_id", ["has space", "a" * 81, "dot.id", "ü", ""])
def test_invalid_batch_entry_id(sqs, queue, bad_id):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "ok", "MessageBody": "1"},
                                                       {"Id": bad_id, "MessageBody": "2"}])
    assert_error(ei, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId")
    assert counts(sqs, url) == (0, 0, 0)


def test_valid_batch_entry_ids(sqs, queue):
    url = queue()
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "A-z_0-9", "MessageBody": "1"},
                                                          {"Id": "b" * 80, "MessageBody": "2"}])
    assert len(resp["Successful"]) == 2


def test_batch_request_too_long(sqs, queue):
    url = queue()
    half = "x" * (1048576 // 2)
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": half},
                                                       {"Id": "b", "MessageBody": half},
                                                       {"Id": "c", "MessageBody": "y"}])
    assert_error(ei, "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong")
    assert counts(sqs, url) == (0, 0, 0)
    # exactly 1 MiB in total is fine
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": half},
                                                          {"Id": "b", "MessageBody": half}])
    assert len(resp["Successful"]) == 2


def test_delete_batch(sqs, queue):
    url = queue()
    sqs.send_message_batch(QueueUrl=url, Entries=_entries(5))
    msgs = receive_all(sqs, url)
    assert len(msgs) == 5
    resp = sqs.delete_message_batch(QueueUrl=url, Entries=[
        *({"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs[:4])),
        {"Id": "bad", "ReceiptHandle": "garbage"},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == [f"d{i}" for i in range(4)]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in resp["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)]
    assert counts(sqs, url) == (0, 1, 0)


def test_delete_batch_errors(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    h = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as ei:
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": h}] * 2)
    assert_error(ei, "BatchEntryIdsNotDistinct")
    with pytest.raises(ClientError) as ei:
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": f"a{i}", "ReceiptHandle": h} for i in range(11)])
    assert_error(ei, "TooManyEntriesInBatchRequest")
    with pytest.raises(ClientError) as ei:
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a b", "ReceiptHandle": h}])
    assert_error(ei, "InvalidBatchEntryId")
    assert counts(sqs, url) == (0, 1, 0)  # nothing was deleted


def test_change_visibility_batch_errors(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    h = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as ei:
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "a", "ReceiptHandle": h, "VisibilityTimeout": 0}] * 2)
    assert_error(ei, "BatchEntryIdsNotDistinct")
    with pytest.raises(ClientError) as ei:
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": f"a{i}", "ReceiptHandle": h, "VisibilityTimeout": 0} for i in range(11)])
    assert_error(ei, "TooManyEntriesInBatchRequest")
    assert counts(sqs, url) == (0, 1, 0)  # still in flight: nothing was changed
