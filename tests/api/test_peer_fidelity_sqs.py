"""SQS behaviours found by running a peer's test suite (moto's tests/test_sqs, in server
mode) against postroom and checking each difference against AWS's own documentation or
against what AWS's own SDKs sent and AWS served. Each test names the AWS behaviour it pins
and where it comes from.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import NS, arn_of, qattrs


def _redrive(dlq_arn: str, max_receive_count: int = 1) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})


def _dead_letter(sqs: Any, src: str, max_receive_count: int = 1, **send: Any) -> str:
    """Send one message to ``src`` and receive it with VisibilityTimeout=0 until the
    receive after the ``max_receive_count``-th moves it to the dead-letter queue. Returns
    its MessageId."""
    message_id = str(sqs.send_message(QueueUrl=src, MessageBody="poison", **send)["MessageId"])
    for _ in range(max_receive_count + 1):
        sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    return message_id


def _wait_for_task(sqs: Any, source_arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        task: dict[str, Any] = sqs.list_message_move_tasks(SourceArn=source_arn)["Results"][0]
        if task["Status"] != "RUNNING" or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


# ---- query protocol: one un-indexed list element or map entry ------------------------------


def test_query_unindexed_attribute_name_is_a_one_element_list(query, queue):
    """AWS served boto 2's GetQueueAttributes, which sends ``AttributeName=All`` without an
    index (boto 2 ``SQSConnection.get_queue_attributes``: ``params = {'AttributeName':
    attribute}``): a bare ``AttributeName=X`` is the list ``[X]``, as ``AttributeName.1=X``
    is. (moto's boto 2 era tests relied on it.)"""
    url = queue(VisibilityTimeout=45)
    path = "/" + url.split("/", 3)[3]
    everything = query("GetQueueAttributes", {"AttributeName": "All"}, path=path)
    assert everything.status == 200, everything.text
    names = {a.findtext("q:Name", namespaces=NS) for a in everything.findall(".//q:Attribute")}
    assert {"QueueArn", "VisibilityTimeout", "ApproximateNumberOfMessages"} <= names
    one = query("GetQueueAttributes", {"AttributeName": "VisibilityTimeout"}, path=path)
    assert one.status == 200, one.text
    pairs = [(a.findtext("q:Name", namespaces=NS), a.findtext("q:Value", namespaces=NS))
             for a in one.findall(".//q:Attribute")]
    assert pairs == [("VisibilityTimeout", "45")]


def test_query_unindexed_attribute_entry_sets_the_attribute(query, queue, sqs):
    """AWS served boto 2's SetQueueAttributes, which sends one un-indexed map entry
    ``Attribute.Name=…&Attribute.Value=…`` (boto 2 ``SQSConnection.set_queue_attribute``:
    ``params = {'Attribute.Name': attribute, 'Attribute.Value': value}``)."""
    url = queue()
    path = "/" + url.split("/", 3)[3]
    r = query("SetQueueAttributes", {"Attribute.Name": "VisibilityTimeout", "Attribute.Value": "45"}, path=path)
    assert r.status == 200, r.text
    assert qattrs(sqs, url, "VisibilityTimeout") == {"VisibilityTimeout": "45"}


def test_query_unindexed_account_action_and_tag_key(query, queue, sqs):
    """The same rule for every list of strings: ``AWSAccountId=…&ActionName=…`` (as boto 2's
    ``add_permission`` sends them) and ``TagKey=…`` are one-element lists."""
    url = queue(tags={"keep": "1", "drop": "2"})
    path = "/" + url.split("/", 3)[3]
    r = query("AddPermission", {"Label": "one", "AWSAccountId": "111111111111", "ActionName": "SendMessage"},
              path=path)
    assert r.status == 200, r.text
    policy = json.loads(qattrs(sqs, url, "Policy")["Policy"])
    assert [(s["Sid"], s["Principal"], s["Action"]) for s in policy["Statement"]] == [
        ("one", {"AWS": "arn:aws:iam::111111111111:root"}, "SQS:SendMessage")]
    r = query("UntagQueue", {"TagKey": "drop"}, path=path)
    assert r.status == 200, r.text
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"keep": "1"}


def test_query_empty_unindexed_list_is_still_no_list(query, queue):
    """botocore's query serializer sends an empty list as ``Name=``; that stays "no
    names" (GetQueueAttributes answers no attributes), unlike ``Name=X``."""
    url = queue()
    path = "/" + url.split("/", 3)[3]
    r = query("GetQueueAttributes", {"AttributeName": ""}, path=path)
    assert r.status == 200, r.text
    assert r.findall(".//q:Attribute") == []


# ---- dead-letter queues and redrive -----------------------------------------------------------


def test_a_redriven_message_is_a_new_message(sqs, queue, clock):
    """AWS SQS Developer Guide, "Configure a dead-letter queue redrive": "The redrive task
    resets the retention period. All redriven messages are considered new messages and are
    assigned a new messageID and enqueueTime." So after StartMessageMoveTask the message in
    the source has a new MessageId, a SentTimestamp of the move, a receive count starting
    again, and lives the source's full retention period from the move. (moto's
    test_start_message_move_task_to_original_source asserts the new MessageId too.)"""
    dlq = queue()
    dlq_arn = arn_of(sqs, dlq)
    src = queue(MessageRetentionPeriod=120, RedrivePolicy=_redrive(dlq_arn, 2))
    original_id = _dead_letter(sqs, src, 2)
    (in_dlq,) = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0,
                                    MessageSystemAttributeNames=["All"])["Messages"]
    assert in_dlq["MessageId"] == original_id, "the move into the DLQ keeps the MessageId"
    sent = int(in_dlq["Attributes"]["SentTimestamp"])
    clock(100)
    sqs.start_message_move_task(SourceArn=dlq_arn)
    assert _wait_for_task(sqs, dlq_arn)["Status"] == "COMPLETED"
    (back,) = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])["Messages"]
    assert back["Body"] == "poison"
    assert back["MessageId"] != original_id
    assert int(back["Attributes"]["SentTimestamp"]) >= sent + 100_000
    assert back["Attributes"]["ApproximateReceiveCount"] == "1"
    clock(60)  # 160 s after the original send, 60 s after the redrive: within 120 s of the latter
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=src).get("Messages", [])] == [back["MessageId"]]


def test_a_fifo_dead_letter_queue_replaces_the_deduplication_id_by_the_message_id(sqs, fifo_queue):
    """AWS SQS Developer Guide, "Configure a dead-letter queue redrive": "When a message is
    moved from a FIFO queue to a FIFO DLQ, the original message's deduplication ID will be
    replaced with the original message's ID." Group, MessageId and body stay."""
    dlq = fifo_queue()
    src = fifo_queue(RedrivePolicy=_redrive(arn_of(sqs, dlq)))
    message_id = _dead_letter(sqs, src, MessageGroupId="g1", MessageDeduplicationId="dedup-1")
    (moved,) = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"]
    assert moved["MessageId"] == message_id
    assert moved["Attributes"]["MessageGroupId"] == "g1"
    assert moved["Attributes"]["MessageDeduplicationId"] == message_id


def test_a_message_sent_straight_to_the_dlq_fails_the_redrive_with_could_not_determine_message_source(
        sqs, queue):
    """AWS SQS Developer Guide, "Troubleshooting DLQ redrive issues": a redrive to the
    original source of a message sent directly to the DLQ with SendMessage fails with
    "Failed: CouldNotDetermineMessageSource" — the task's FailureReason — and the message
    stays in the DLQ. (moto's test_start_message_move_task_without_known_source_fails.)"""
    dlq = queue()
    dlq_arn = arn_of(sqs, dlq)
    queue(RedrivePolicy=_redrive(dlq_arn))
    sqs.send_message(QueueUrl=dlq, MessageBody="direct")
    sqs.start_message_move_task(SourceArn=dlq_arn)
    task = _wait_for_task(sqs, dlq_arn)
    assert (task["Status"], task.get("FailureReason"), task["ApproximateNumberOfMessagesMoved"]) == (
        "FAILED", "CouldNotDetermineMessageSource", 0)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq)["Messages"]] == ["direct"]
