"""SQS message semantics as AWS shows them, black-box through boto3 (issue #13, "Fidelity").

Where AWS's documentation and AWS's observed behaviour differ, these tests pin the observed
behaviour. "LocalStack, AWS-validated" cites a test in LocalStack's
``tests/aws/services/sqs/test_sqs.py`` marked ``@markers.aws.validated`` (run against real AWS).
The debug clock stands in for waiting out visibility timeouts.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import assert_error, counts, md5_of_attributes, receive_all

EXPIRED = "Value {} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
GONE = ("Value {} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for "
        "visibility timeout change.")


def _send_groups(sqs: Any, url: str, *bodies: str) -> None:
    """Send each body to its group, named by the body's prefix ("g1-m1" goes to group g1)."""
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body.split("-")[0],
                         MessageDeduplicationId=body)


def _bodies(sqs: Any, url: str, n: int = 10, **kw: Any) -> list[str]:
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, **kw).get("Messages", [])]


# ---- FIFO: which group a receive serves -------------------------------------------------------


def test_a_group_whose_timeout_ran_out_comes_back_after_the_groups_that_waited(sqs, fifo_queue, clock):
    """AWS (LocalStack, AWS-validated test_fifo_receive_message_visibility_timeout_shared_in_group):
    while a group's first message is in flight the whole group is locked, its unreceived
    messages too; when the timeout runs out the group is served again *after* the group
    that waited all along: AWS answered ["g3-m1", "g1-m1", "g1-m2", "g1-m3", "g1-m4", "g2-m1"]."""
    url = fifo_queue(VisibilityTimeout=30)
    _send_groups(sqs, url, "g1-m1", "g1-m2", "g1-m3", "g1-m4", "g2-m1", "g3-m1")
    assert _bodies(sqs, url, 2) == ["g1-m1", "g1-m2"]
    assert _bodies(sqs, url, 1) == ["g2-m1"]
    clock(31)
    assert _bodies(sqs, url, 10, VisibilityTimeout=0) == ["g3-m1", "g1-m1", "g1-m2", "g1-m3", "g1-m4", "g2-m1"]


def test_groups_received_with_zero_visibility_go_behind_the_waiting_group(sqs, fifo_queue, clock):
    """AWS (LocalStack, AWS-validated test_fifo_receive_message_with_zero_visibility_timeout):
    a receive with VisibilityTimeout=0 puts the groups it served behind the group it did
    not reach, in the order it served them: AWS answered
    ["g3-m1", "g1-m1", "g1-m2", "g2-m1", "g2-m2"]."""
    url = fifo_queue()
    _send_groups(sqs, url, "g1-m1", "g2-m1", "g2-m2", "g3-m1", "g1-m2")
    clock(1)  # every send lies in an earlier millisecond than the receives
    assert _bodies(sqs, url, 3, VisibilityTimeout=0) == ["g1-m1", "g1-m2", "g2-m1"]
    assert _bodies(sqs, url, 10, VisibilityTimeout=0) == ["g3-m1", "g1-m1", "g1-m2", "g2-m1", "g2-m2"]


@pytest.mark.parametrize("timeout", [0, 5])
def test_changing_one_messages_visibility_does_not_hide_its_visible_group_mate(sqs, fifo_queue, clock, timeout):
    """AWS (LocalStack, AWS-validated test_fifo_message_group_visibility_after_terminate_visibility_timeout
    and …_after_change_message_visibility): ChangeMessageVisibility on the first of two
    received messages of a group makes that message — and so its group — available when
    its new timeout ends, while the second is still in flight; a receive of 3 then answers
    exactly ["g2-m1", "g1-m1"]."""
    url = fifo_queue(VisibilityTimeout=30)
    _send_groups(sqs, url, "g1-m1", "g1-m2", "g2-m1")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in received] == ["g1-m1", "g1-m2"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"], VisibilityTimeout=timeout)
    if timeout:
        assert counts(sqs, url) == (1, 2, 0)
        clock(timeout + 1)
    assert _bodies(sqs, url, 3) == ["g2-m1", "g1-m1"]


def test_a_group_whose_received_messages_were_deleted_keeps_its_place(sqs, fifo_queue):
    """AWS (LocalStack, AWS-validated test_fifo_message_group_visibility_after_delete): once
    the received messages of a group are deleted, the group is served by the send time of
    its next message, ahead of a group sent later: AWS answered
    ["g2-m1", "g2-m2", "g1-m3", "g1-m4", "g3-m1"]."""
    url = fifo_queue()
    _send_groups(sqs, url, "g1-m1", "g2-m1", "g1-m2", "g2-m2", "g1-m3", "g1-m4", "g3-m1")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in received] == ["g1-m1", "g1-m2"]
    for m in received:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert _bodies(sqs, url) == ["g2-m1", "g2-m2", "g1-m3", "g1-m4", "g3-m1"]


def test_a_group_with_its_first_message_in_flight_stays_locked(sqs, fifo_queue):
    """AWS (LocalStack, AWS-validated test_fifo_message_group_visibility_after_partial_delete):
    deleting only the first of two received messages leaves the group locked by the second:
    a receive of 10 answers ["g2-m1", "g2-m2", "g3-m1"]."""
    url = fifo_queue()
    _send_groups(sqs, url, "g1-m1", "g2-m1", "g1-m2", "g2-m2", "g1-m3", "g1-m4", "g3-m1")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    assert _bodies(sqs, url) == ["g2-m1", "g2-m2", "g3-m1"]


# ---- FIFO: DeleteMessage with an old handle -----------------------------------------------------


def test_fifo_delete_after_the_visibility_timeout_is_an_expired_handle(sqs, fifo_queue, clock):
    """AWS (SQS Developer Guide, "Troubleshoot Amazon SQS API errors"; LocalStack, AWS-validated
    test_fifo_delete_message_with_expired_receipt_handle): on a FIFO queue DeleteMessage with a
    handle whose visibility timeout ran out fails with InvalidParameterValue "Value <handle>
    for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired." and the
    message stays; the handle of the next receive deletes it."""
    url = fifo_queue(VisibilityTimeout=30)
    _send_groups(sqs, url, "g1-m1")
    old = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock(31)
    with pytest.raises(ClientError) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=old)
    assert_error(ei, "InvalidParameterValue")
    assert ei.value.response["Error"]["Message"] == EXPIRED.format(old)
    again = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    with pytest.raises(ClientError) as ei:  # superseded by the receive just made
        sqs.delete_message(QueueUrl=url, ReceiptHandle=old)
    assert_error(ei, "InvalidParameterValue")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_fifo_delete_after_a_zero_visibility_receive_is_an_expired_handle(sqs, fifo_queue):
    """AWS (aws/aws-sdk-js#1279, answered by AWS: "This is the expected behavior of SQS given
    a visibility timeout of 0 seconds"): a FIFO message received with VisibilityTimeout=0
    cannot be deleted with that handle — "The receipt handle has expired" — in a batch too,
    where the entry fails as a sender fault."""
    url = fifo_queue()
    _send_groups(sqs, url, "g1-m1")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert_error(ei, "InvalidParameterValue")
    resp = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": handle}])
    assert resp.get("Successful", []) == []
    (failed,) = resp["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == ("a", "InvalidParameterValue", True)
    assert failed["Message"] == EXPIRED.format(handle)
    assert counts(sqs, url) == (1, 0, 0)


# ---- standard queues: old handles ---------------------------------------------------------------


def test_standard_delete_with_an_older_handle_deletes_the_message(sqs, queue, clock):
    """AWS (LocalStack, AWS-validated test_remove_message_with_old_receipt_handle; AWS knowledge
    center sqs-receipt-handle-error: "with standard SQS queues, older receipt handles might
    work"): DeleteMessage with a handle whose timeout ran out deletes the message, and so
    does the handle of an earlier receive of a message received again since."""
    url = queue(VisibilityTimeout=10)
    sqs.send_message(QueueUrl=url, MessageBody="expired")
    old = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock(11)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=old)
    assert counts(sqs, url) == (0, 0, 0)
    sqs.send_message(QueueUrl=url, MessageBody="superseded")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    second = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    assert first != second
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first)
    assert counts(sqs, url) == (0, 0, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second)  # already gone: no error


def test_change_visibility_with_an_expired_handle_succeeds_and_changes_nothing(sqs, queue, clock):
    """AWS (localstack#9632, AWS-validated: "calling change_message_visibility on an already
    expired handle, where AWS simply sends back an OK and does nothing"): the message stays
    visible."""
    url = queue(VisibilityTimeout=10)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    old = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock(11)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=300)
    assert counts(sqs, url) == (1, 0, 0)
    resp = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": old, "VisibilityTimeout": 300}])
    assert [e["Id"] for e in resp["Successful"]] == ["a"]
    assert counts(sqs, url) == (1, 0, 0)


def test_change_visibility_with_a_superseded_handle_leaves_the_new_receive_alone(sqs, queue, clock):
    """AWS (localstack#9632): ChangeMessageVisibility with a handle that is no longer the
    message's current one answers OK. postroom keeps the current receiver's timeout as it
    is: a consumer that lost the message cannot hide it from (or hand it to) others."""
    url = queue(VisibilityTimeout=10)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    old = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock(11)
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1  # in flight again, for 10 s
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=0)
    assert counts(sqs, url) == (0, 1, 0)
    clock(11)
    assert counts(sqs, url) == (1, 0, 0)


@pytest.mark.parametrize("queue_type", ["standard", "fifo"])
def test_change_visibility_of_a_deleted_message_is_invalid_parameter_value(sqs, queue, fifo_queue, queue_type):
    """AWS (LocalStack, AWS-validated test_change_visibility_on_deleted_message_raises_invalid_parameter_value):
    after DeleteMessage, ChangeMessageVisibility with the message's handle fails with
    InvalidParameterValue "Value <handle> for parameter ReceiptHandle is invalid. Reason:
    Message does not exist or is not available for visibility timeout change."; in a batch
    the entry fails with that code."""
    if queue_type == "fifo":
        url = fifo_queue()
        _send_groups(sqs, url, "g1-m1")
    else:
        url = queue()
        sqs.send_message(QueueUrl=url, MessageBody="foo")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=42)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    with pytest.raises(ClientError) as ei:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=42)
    assert_error(ei, "InvalidParameterValue")
    assert ei.value.response["Error"]["Message"] == GONE.format(handle)
    resp = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 42}])
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in resp["Failed"]] == [("a", "InvalidParameterValue", True)]


# ---- PurgeQueue and deduplication ----------------------------------------------------------------


def test_purge_forgets_the_deduplication_ids(sqs, fifo_queue):
    """AWS (LocalStack, AWS-validated test_purge_queue_clears_fifo_deduplication_cache): after
    PurgeQueue a message with the deduplication id of a purged one is accepted as new."""
    url = fifo_queue()
    first = sqs.send_message(QueueUrl=url, MessageBody="message-1", MessageGroupId="g", MessageDeduplicationId="d")
    sqs.purge_queue(QueueUrl=url)
    second = sqs.send_message(QueueUrl=url, MessageBody="message-2", MessageGroupId="g", MessageDeduplicationId="d")
    assert second["MessageId"] != first["MessageId"]
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    assert _bodies(sqs, url) == ["message-2"]


def test_a_fifo_queue_keeps_deduplicating_in_the_scope_it_was_created_with(sqs, fifo_queue):
    """AWS (observed; LocalStack's AWS-validated high-throughput FIFO tests, localstack#10324:
    "You can change the attributes, but AWS does not seem to change the deduplication
    behaviour of the queue", and #10887): after SetQueueAttributes DeduplicationScope=
    messageGroup the attribute reads messageGroup, yet one deduplication id in two groups
    is still one message, as in the queue scope the queue was created with."""
    url = fifo_queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup",
                                                       "FifoThroughputLimit": "perMessageGroupId"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DeduplicationScope"])["Attributes"]
    assert attrs["DeduplicationScope"] == "messageGroup"
    a = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="A", MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="B", MessageDeduplicationId="d")
    assert b["MessageId"] == a["MessageId"]
    assert _bodies(sqs, url) == ["a"]


# ---- standard queues: MessageGroupId (fair queues) and AWSTraceHeader -------------------------------


def test_standard_queue_accepts_and_returns_message_group_id(sqs, queue):
    """AWS (SQS fair queues, 2025; SendMessage API reference: MessageGroupId "applies to fair
    and FIFO queues"): a standard queue accepts MessageGroupId on SendMessage and
    SendMessageBatch and returns it as the MessageGroupId attribute; it imposes no FIFO
    locking (two messages of one group are in flight at once) and no sequence number."""
    url = queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="tenant-1")
    assert "SequenceNumber" not in sent
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "b", "MessageBody": "b", "MessageGroupId": "tenant-1"}])
    assert [e["Id"] for e in batch["Successful"]] == ["b"]
    got = receive_all(sqs, url, MessageSystemAttributeNames=["All"])
    assert sorted(m["Body"] for m in got) == ["a", "b"]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"tenant-1"}
    assert all("SequenceNumber" not in m["Attributes"] for m in got)
    assert counts(sqs, url) == (0, 2, 0)


TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_aws_trace_header_has_its_own_digest_and_comes_back(sqs, queue):
    """AWS (LocalStack, AWS-validated test_system_attributes_have_no_effect_on_attr_md5): the
    AWSTraceHeader system attribute leaves MD5OfMessageAttributes as it is and has its own
    MD5OfMessageSystemAttributes, "5ae4d5d7636402d80f4eb6d213245a88" for this header; a send
    without it has no MD5OfMessageSystemAttributes. ReceiveMessage returns it as the
    AWSTraceHeader attribute when asked for by name or with All (AttributeNames or
    MessageSystemAttributeNames)."""
    attrs = {"timestamp": {"StringValue": "1493147359900", "DataType": "Number"}}
    plain = sqs.send_message(QueueUrl=queue(), MessageBody="test", MessageAttributes=attrs)
    url = queue(VisibilityTimeout=0)
    traced = sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attrs, MessageSystemAttributes={
        "AWSTraceHeader": {"StringValue": TRACE, "DataType": "String"}})
    assert plain["MD5OfMessageAttributes"] == traced["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert "MD5OfMessageSystemAttributes" not in plain
    assert traced["MD5OfMessageSystemAttributes"] == "5ae4d5d7636402d80f4eb6d213245a88"
    for kwargs in ({"AttributeNames": ["All"]}, {"MessageSystemAttributeNames": ["All"]},
                   {"MessageSystemAttributeNames": ["AWSTraceHeader"]}):
        (m,) = sqs.receive_message(QueueUrl=url, **kwargs)["Messages"]
        assert m["MessageId"] == traced["MessageId"]
        assert m["Attributes"]["AWSTraceHeader"] == TRACE
    (m,) = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["SenderId"])["Messages"]
    assert "AWSTraceHeader" not in m["Attributes"]
