"""Visibility timeout, receipt handles, ChangeMessageVisibility(Batch). Uses the debug clock."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, counts


def _recv(sqs, url, **kw):
    return sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"], **kw).get("Messages", [])


def test_received_message_is_invisible_until_timeout(sqs, queue, clock):
    url = queue(VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    first = _recv(sqs, url)[0]
    assert _recv(sqs, url) == []
    assert counts(sqs, url) == (0, 1, 0)
    clock(29)
    assert _recv(sqs, url) == []
    clock(2)
    second = _recv(sqs, url)
    assert len(second) == 1
    s = second[0]
    assert s["MessageId"] == first["MessageId"]
    assert s["ReceiptHandle"] != first["ReceiptHandle"]
    assert s["Attributes"]["ApproximateReceiveCount"] == "2"
    first_rx = "ApproximateFirstReceiveTimestamp"
    assert s["Attributes"][first_rx] == first["Attributes"][first_rx]
    assert s["Attributes"]["SentTimestamp"] == first["Attributes"]["SentTimestamp"]


def test_receive_visibility_timeout_overrides_queue(sqs, queue, clock):
    url = queue(VisibilityTimeout=600)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    assert len(_recv(sqs, url, VisibilityTimeout=5)) == 1
    clock(4)
    assert _recv(sqs, url) == []
    clock(2)
    assert len(_recv(sqs, url)) == 1


def test_receive_visibility_timeout_zero(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="v")
    a = _recv(sqs, url, VisibilityTimeout=0)
    b = _recv(sqs, url, VisibilityTimeout=0)
    assert len(a) == len(b) == 1
    assert b[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_delete_with_latest_handle_after_redelivery(sqs, queue, clock):
    url = queue(VisibilityTimeout=10)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    _recv(sqs, url)
    clock(11)
    m = _recv(sqs, url)[0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    clock(11)
    assert _recv(sqs, url) == []
    assert counts(sqs, url) == (0, 0, 0)


def test_change_visibility_to_zero_makes_visible(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="v")
    m = _recv(sqs, url)[0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert counts(sqs, url) == (1, 0, 0)
    assert _recv(sqs, url)[0]["MessageId"] == m["MessageId"]


def test_change_visibility_extends(sqs, queue, clock):
    url = queue(VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    m = _recv(sqs, url)[0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=100)
    clock(60)
    assert _recv(sqs, url) == []
    clock(41)
    assert len(_recv(sqs, url)) == 1


def test_change_visibility_counts_from_now(sqs, queue, clock):
    url = queue(VisibilityTimeout=30)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    m = _recv(sqs, url)[0]
    clock(20)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=20)
    clock(15)  # 35 s after receive, 15 s after the change
    assert _recv(sqs, url) == []
    clock(6)
    assert len(_recv(sqs, url)) == 1


def test_change_visibility_invalid_handle(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="v")
    with pytest.raises(ClientError) as ei:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="nonsense", VisibilityTimeout=0)
    assert_error(ei, "ReceiptHandleIsInvalid")
    assert counts(sqs, url) == (1, 0, 0)


def test_change_visibility_of_message_not_in_flight(sqs, queue, clock):
    """AWS (localstack#9632, AWS-validated): ChangeMessageVisibility with a handle whose
    visibility already ended answers OK and does nothing; the message stays visible."""
    url = queue(VisibilityTimeout=10)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    m = _recv(sqs, url)[0]
    clock(11)  # visible again; the old handle no longer refers to an in-flight message
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=300)
    assert counts(sqs, url) == (1, 0, 0)


@pytest.mark.parametrize("timeout", [-1, 43201])
def test_change_visibility_out_of_range(sqs, queue, timeout):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="v")
    m = _recv(sqs, url)[0]
    with pytest.raises(ClientError) as ei:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=timeout)
    assert_error(ei, "InvalidParameterValue")
    assert counts(sqs, url) == (0, 1, 0)


def test_receive_visibility_timeout_out_of_range(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="v")
    with pytest.raises(ClientError) as ei:
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=43201)
    assert_error(ei, "InvalidParameterValue")
    assert counts(sqs, url) == (1, 0, 0)


def test_change_visibility_batch(sqs, queue, clock):
    url = queue(VisibilityTimeout=30)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    msgs = []
    while len(msgs) < 3:
        msgs += _recv(sqs, url, MaxNumberOfMessages=10)
    resp = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "zero", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "long", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 300},
        {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["long", "zero"]
    assert len(resp["Failed"]) == 1
    f = resp["Failed"][0]
    assert f["Id"] == "bad" and f["SenderFault"] is True and f["Code"] == "ReceiptHandleIsInvalid"
    visible = _recv(sqs, url, MaxNumberOfMessages=10)
    assert [m["MessageId"] for m in visible] == [msgs[0]["MessageId"]]
    clock(31)
    visible = _recv(sqs, url, MaxNumberOfMessages=10)
    assert {m["MessageId"] for m in visible} == {msgs[0]["MessageId"], msgs[2]["MessageId"]}
