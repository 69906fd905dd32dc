"""DelaySeconds (queue and per message) and MessageRetentionPeriod, via the debug clock."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, counts


def test_queue_delay(sqs, queue, clock):
    url = queue(DelaySeconds=10)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 1)
    clock(9)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock(2)
    assert counts(sqs, url) == (1, 0, 0)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"


KEEP = 43200  # receive with the longest visibility timeout so received messages stay out of the way


def _bodies(sqs, url):
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                   VisibilityTimeout=KEEP).get("Messages", [])]


def test_per_message_delay(sqs, queue, clock):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=60)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert _bodies(sqs, url) == ["now"]
    clock(61)
    assert _bodies(sqs, url) == ["late"]


def test_per_message_delay_overrides_queue_delay(sqs, queue, clock):
    url = queue(DelaySeconds=300)
    sqs.send_message(QueueUrl=url, MessageBody="zero", DelaySeconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="ten", DelaySeconds=10)
    sqs.send_message(QueueUrl=url, MessageBody="default")
    assert _bodies(sqs, url) == ["zero"]
    clock(11)
    assert _bodies(sqs, url) == ["ten"]
    clock(290)
    assert _bodies(sqs, url) == [
        "default"]


def test_batch_entry_delay(sqs, queue, clock):
    url = queue()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "a", "DelaySeconds": 30},
                                                   {"Id": "b", "MessageBody": "b"}])
    assert counts(sqs, url) == (1, 0, 1)
    clock(31)
    assert counts(sqs, url) == (2, 0, 0)


@pytest.mark.parametrize("delay", [-1, 901])
def test_delay_out_of_range(sqs, queue, delay):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=delay)
    assert_error(ei, "InvalidParameterValue")
    assert counts(sqs, url) == (0, 0, 0)


def test_retention_expiry(sqs, queue, clock):
    url = queue(MessageRetentionPeriod=60)
    sqs.send_message(QueueUrl=url, MessageBody="old")
    clock(30)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    clock(31)  # "old" is 61 s old, "young" 31 s
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in msgs] == ["young"]
    clock(30)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert counts(sqs, url) == (0, 0, 0)


def test_retention_applies_to_in_flight_messages(sqs, queue, clock):
    url = queue(MessageRetentionPeriod=60, VisibilityTimeout=600)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1
    clock(661)  # past retention and past the visibility timeout
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)


def test_retention_counted_from_send_not_delay_end(sqs, queue, clock):
    url = queue(MessageRetentionPeriod=60)
    sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=50)
    clock(61)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_default_retention_is_four_days(sqs, queue, clock):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    clock(345600 - 60)
    assert counts(sqs, url) == (1, 0, 0)
    clock(61)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
