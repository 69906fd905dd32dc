"""Long polling (real time: waiting is what is under test, so no debug clock here)."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, make_client


def test_empty_queue_returns_after_wait_time(sqs, queue):
    url = queue()
    t0 = time.monotonic()
    resp = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    elapsed = time.monotonic() - t0
    assert "Messages" not in resp
    assert 0.9 <= elapsed < 3.0, elapsed


def test_short_poll_returns_immediately(sqs, queue):
    url = queue()
    t0 = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert time.monotonic() - t0 < 0.5


def _send_later(endpoint, url, delay, **kw):
    client = make_client(endpoint)  # made first: building a boto3 client can take longer than the delay

    def run():
        time.sleep(delay)
        client.send_message(QueueUrl=url, **kw)
    t = threading.Thread(target=run)
    t.start()
    return t


def test_message_sent_during_wait_returns_promptly(sqs, queue, server):
    url = queue()
    t = _send_later(server.endpoint, url, 0.5, MessageBody="late")
    t0 = time.monotonic()
    resp = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - t0
    t.join()
    assert [m["Body"] for m in resp["Messages"]] == ["late"]
    assert elapsed < 1.5, elapsed


def test_fifo_message_sent_during_wait_returns_promptly(sqs, fifo_queue, server):
    url = fifo_queue()
    t = _send_later(server.endpoint, url, 0.5, MessageBody="late", MessageGroupId="g", MessageDeduplicationId="d")
    t0 = time.monotonic()
    resp = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - t0
    t.join()
    assert [m["Body"] for m in resp["Messages"]] == ["late"]
    assert elapsed < 1.5, elapsed


def test_queue_default_wait_time_applies(sqs, queue, server):
    url = queue(ReceiveMessageWaitTimeSeconds=1)
    t0 = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert time.monotonic() - t0 >= 0.9
    t = _send_later(server.endpoint, url, 0.3, MessageBody="x")
    t0 = time.monotonic()
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"
    t.join()
    assert time.monotonic() - t0 < 1.2


def test_two_waiters_one_message_exactly_one_gets_it(queue, server):
    url = queue()
    results: list[list] = []

    def wait():
        results.append(make_client(server.endpoint).receive_message(
            QueueUrl=url, WaitTimeSeconds=2).get("Messages", []))
    ts = [threading.Thread(target=wait) for _ in range(2)]
    for t in ts:
        t.start()
    time.sleep(0.3)
    make_client(server.endpoint).send_message(QueueUrl=url, MessageBody="only")
    for t in ts:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]


@pytest.mark.parametrize("wait", [-1, 21])
def test_wait_time_out_of_range(sqs, queue, wait):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait)
    assert_error(ei, "InvalidParameterValue")
