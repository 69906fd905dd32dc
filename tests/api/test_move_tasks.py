"""StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask. Move tasks run in the
background, so these tests poll (real time, bounded) for completion."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import arn_of, assert_error, counts, drain, receive_all


def _dlq_with_messages(sqs, queue, clock, n):
    dlq = queue()
    src = queue(VisibilityTimeout=10, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    for i in range(0, n, 10):
        sqs.send_message_batch(QueueUrl=src, Entries=[
            {"Id": str(j), "MessageBody": f"m{j}"} for j in range(i, min(n, i + 10))])
    assert len(receive_all(sqs, src)) == n  # every message received once (count 1 = maxReceiveCount)
    clock(11)
    for _ in range(3 * n):  # receives find the expired messages at maxReceiveCount and dead-letter them
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
        if counts(sqs, dlq)[0] == n:
            break
    assert counts(sqs, dlq)[0] == n
    return src, dlq


def _wait_status(sqs, source_arn, statuses, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=source_arn)["Results"]
        if tasks and tasks[0]["Status"] in statuses:
            return tasks[0]
        assert time.monotonic() < deadline, tasks
        time.sleep(0.1)


def test_move_back_to_source(sqs, queue, clock):
    src, dlq = _dlq_with_messages(sqs, queue, clock, 5)
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    task = _wait_status(sqs, dlq_arn, {"COMPLETED"})
    assert task["SourceArn"] == dlq_arn
    assert task["ApproximateNumberOfMessagesMoved"] == 5
    assert sorted(m["Body"] for m in drain(sqs, src)) == [f"m{i}" for i in range(5)]
    assert counts(sqs, dlq) == (0, 0, 0)


def test_move_to_given_destination(sqs, queue, clock):
    _, dlq = _dlq_with_messages(sqs, queue, clock, 3)
    dest = queue()
    dlq_arn = arn_of(sqs, dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, dest))
    task = _wait_status(sqs, dlq_arn, {"COMPLETED"})
    assert task["DestinationArn"] == arn_of(sqs, dest)
    assert sorted(m["Body"] for m in drain(sqs, dest)) == ["m0", "m1", "m2"]


def test_cancel_running_task(sqs, queue, clock):
    src, dlq = _dlq_with_messages(sqs, queue, clock, 30)
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = _wait_status(sqs, dlq_arn, {"RUNNING"})
    assert running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    # only one active task per source: AWS answers InvalidParameterValue (observed)
    with pytest.raises(ClientError) as ei:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    assert_error(ei, "InvalidParameterValue", status=400)
    moved_so_far = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    task = _wait_status(sqs, dlq_arn, {"CANCELLED"})
    assert task["ApproximateNumberOfMessagesMoved"] >= moved_so_far
    assert task["ApproximateNumberOfMessagesMoved"] < 30
    total = counts(sqs, src)[0] + counts(sqs, dlq)[0]
    assert total == 30


def test_start_on_missing_source(sqs):
    with pytest.raises(ClientError) as ei:
        sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:000000000000:no-such-dlq-q")
    assert_error(ei, "ResourceNotFoundException")


def test_start_on_queue_that_is_not_a_dlq(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError) as ei:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, url))
    assert_error(ei, "InvalidParameterValue", status=400)
    assert counts(sqs, url) == (1, 0, 0)


def test_cancel_unknown_handle(sqs):
    """A handle that is not one (base64 of "not-a-handle") is InvalidParameterValue, as AWS
    answers "foobared" (observed, LocalStack's test_cancel_with_invalid_task_handle)."""
    with pytest.raises(ClientError) as ei:
        sqs.cancel_message_move_task(TaskHandle="bm90LWEtaGFuZGxl")
    assert_error(ei, "InvalidParameterValue", status=400)
    assert ei.value.response["Error"]["Message"] == "Value for parameter TaskHandle is invalid."


def test_list_tasks_of_missing_source(sqs):
    with pytest.raises(ClientError) as ei:
        sqs.list_message_move_tasks(SourceArn="arn:aws:sqs:us-east-1:000000000000:no-such-dlq-q")
    assert_error(ei, "ResourceNotFoundException")
