"""Queue administration as AWS answers it: SetQueueAttributes/GetQueueAttributes around
FIFO-only attributes and resets, the policy documents AddPermission/RemovePermission
write, and the message move tasks' errors, rate and counters.

"Observed" below means the answer was recorded against real AWS in LocalStack's
AWS-validated snapshots (tests/aws/services/sqs/test_sqs.snapshot.json,
test_sqs_move_task.snapshot.json); where AWS's documentation and its answers differ,
the answers win.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import arn_of, assert_error, counts, qattrs, unique

FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
FIFO_ONLY_VALUES = {"ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup",
                    "FifoThroughputLimit": "perMessageGroupId"}


def _message(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc_info.value.response["Error"]["Message"])


# ---- SetQueueAttributes / CreateQueue / GetQueueAttributes ---------------------------


def test_fifo_queue_true_on_a_fifo_queue_is_accepted(sqs, fifo_queue):
    """Observed (test_set_unsupported_attribute_fifo, AWS-validated): SetQueueAttributes
    FifoQueue=true on a FIFO queue succeeds and changes nothing."""
    url = fifo_queue()
    before = qattrs(sqs, url)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    after = qattrs(sqs, url)
    assert after["FifoQueue"] == "true"
    assert {k: v for k, v in after.items() if k != "LastModifiedTimestamp"} == {
        k: v for k, v in before.items() if k != "LastModifiedTimestamp"}


def test_fifo_queue_false_on_a_fifo_queue_is_refused(sqs, fifo_queue):
    """Observed: FifoQueue=false on a FIFO queue is InvalidAttributeValue "Invalid value
    for the parameter FifoQueue. Reason: Modifying queue type is not supported.", and the
    request changes nothing (not even the other attributes it carried)."""
    url = fifo_queue()
    before = qattrs(sqs, url)
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false", "VisibilityTimeout": "99"})
    assert_error(ei, "InvalidAttributeValue", "InvalidAttributeValue")
    assert _message(ei) == ("Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
                            "supported.")
    assert qattrs(sqs, url) == before


@pytest.mark.parametrize("value", ["true", "false"])
def test_fifo_queue_on_a_standard_queue_is_an_unknown_attribute(sqs, queue, value):
    """Observed: a standard queue does not know FifoQueue at all: InvalidAttributeName
    "Unknown Attribute FifoQueue."; the queue stays standard."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": value})
    assert_error(ei, "InvalidAttributeName", "InvalidAttributeName")
    assert _message(ei) == "Unknown Attribute FifoQueue."
    assert "FifoQueue" not in qattrs(sqs, url)


@pytest.mark.parametrize("name", FIFO_ONLY)
def test_fifo_only_attribute_set_on_a_standard_queue(sqs, queue, name):
    """AWS: FIFO-only attributes do not exist on standard queues; SetQueueAttributes
    answers InvalidAttributeName "Unknown Attribute <name>." (aws/aws-sdk-ruby#1350: the
    service rejects FIFO attribute names on a queue without FIFO) and applies nothing."""
    url = queue()
    before = qattrs(sqs, url)
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: FIFO_ONLY_VALUES[name], "DelaySeconds": "5"})
    assert_error(ei, "InvalidAttributeName", "InvalidAttributeName")
    assert _message(ei) == f"Unknown Attribute {name}."
    assert qattrs(sqs, url) == before


@pytest.mark.parametrize("name", FIFO_ONLY)
def test_fifo_only_attribute_at_creation_of_a_standard_queue(sqs, name):
    """AWS: CreateQueue of a standard queue with a FIFO-only attribute is
    InvalidAttributeName "Unknown Attribute <name>." and creates no queue."""
    qname = unique()
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=qname, Attributes={name: FIFO_ONLY_VALUES[name]})
    assert_error(ei, "InvalidAttributeName", "InvalidAttributeName")
    assert _message(ei) == f"Unknown Attribute {name}."
    with pytest.raises(ClientError) as gone:
        sqs.get_queue_url(QueueName=qname)
    assert_error(gone, "QueueDoesNotExist")


@pytest.mark.parametrize("name", ("FifoQueue", *FIFO_ONLY))
def test_fifo_only_attribute_read_from_a_standard_queue(sqs, queue, name):
    """AWS answers GetQueueAttributes for a FIFO-only name on a standard queue with
    InvalidAttributeName "Unknown Attribute FifoQueue." (aws/aws-sdk-ruby#1350: "the
    service ... will throw this error if you provide that attribute name to a queue that
    does not have FIFO enabled"); a FIFO queue answers the same names."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])
    assert_error(ei, "InvalidAttributeName", "InvalidAttributeName")
    assert _message(ei) == f"Unknown Attribute {name}."
    assert "QueueArn" in qattrs(sqs, url)  # "All" still works on the standard queue


def test_fifo_only_attributes_read_from_a_fifo_queue(sqs, fifo_queue):
    """AWS's FIFO defaults, by name (observed in test_fifo_set_content_based_deduplication_strategy):
    FifoQueue true, ContentBasedDeduplication false, DeduplicationScope queue,
    FifoThroughputLimit perQueue."""
    url = fifo_queue()
    assert qattrs(sqs, url, "FifoQueue", *FIFO_ONLY) == {
        "FifoQueue": "true", "ContentBasedDeduplication": "false", "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue"}


def test_redrive_policy_reset_with_empty_string(sqs, queue):
    """AWS (SetQueueAttributes): the empty string removes RedrivePolicy. GetQueueAttributes
    then has no RedrivePolicy, neither in All nor asked by name, and the DLQ lists no
    source any more."""
    dlq = queue()
    url = queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 3}))
    assert json.loads(qattrs(sqs, url, "RedrivePolicy")["RedrivePolicy"]) == {
        "deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 3}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in qattrs(sqs, url)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get("Attributes", {}) == {}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq).get("queueUrls", []) == []


def test_policy_reset_with_empty_string(sqs, queue):
    """AWS (SetQueueAttributes): the empty string removes Policy; GetQueueAttributes then
    answers no Policy (observed for a removed policy: ``"Attributes": {}``)."""
    url = queue()
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                      "Action": "sqs:SendMessage", "Resource": arn_of(sqs, url)}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert json.loads(qattrs(sqs, url, "Policy")["Policy"]) == policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}) == {}
    assert "Policy" not in qattrs(sqs, url)


def test_kms_and_managed_sse_together_is_invalid_attribute_name(sqs, queue):
    """Observed (test_sse_kms_and_sqs_are_mutually_exclusive): asking for SSE-KMS and
    SSE-SQS at once is InvalidAttributeName "You can use one type of server-side
    encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."; nothing
    changes."""
    url = queue()
    before = qattrs(sqs, url)
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId",
                                                           "SqsManagedSseEnabled": "true"})
    assert_error(ei, "InvalidAttributeName", "InvalidAttributeName")
    assert _message(ei) == ("You can use one type of server-side encryption (SSE) at one time. You can either "
                            "enable KMS SSE or SQS SSE.")
    assert qattrs(sqs, url) == before


# ---- AddPermission / RemovePermission ------------------------------------------------


def _policy(sqs: Any, url: str) -> dict[str, Any] | None:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    return json.loads(attrs["Policy"]) if "Policy" in attrs else None


def test_add_permission_writes_aws_policy_document(sqs, queue):
    """Observed (test_sqs_permission_lifecycle): AddPermission writes
    ``{"Version": "2008-10-17", "Id": "<queue arn>/SQSDefaultPolicy", "Statement": [...]}``
    with one statement per label: Sid = Label, Effect Allow, Principal
    ``{"AWS": "arn:aws:iam::<acct>:root"}`` (a string for one account, a list in request
    order for several), Action ``"SQS:<action>"`` (string for one, list for several),
    Resource = the queue ARN; statements keep the order they were added in."""
    url = queue()
    arn = arn_of(sqs, url)
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111122223333"], Actions=["ReceiveMessage"])
    assert _policy(sqs, url) == {
        "Version": "2008-10-17", "Id": f"{arn}/SQSDefaultPolicy",
        "Statement": [{"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                       "Action": "SQS:ReceiveMessage", "Resource": arn}]}
    sqs.add_permission(QueueUrl=url, Label="two", AWSAccountIds=["444455556666", "111122223333"],
                       Actions=["SendMessage", "*"])
    doc = _policy(sqs, url)
    assert doc is not None
    assert [s["Sid"] for s in doc["Statement"]] == ["one", "two"]
    assert doc["Statement"][1] == {
        "Sid": "two", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:root"]},
        "Action": ["SQS:SendMessage", "SQS:*"], "Resource": arn}
    raw = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert list(json.loads(raw)) == ["Version", "Id", "Statement"]


def test_remove_permission_of_last_statement_removes_policy(sqs, queue):
    """Observed: RemovePermission takes the label's statement out; after the last one,
    GetQueueAttributes(Policy) answers ``"Attributes": {}``: no Policy, not an empty
    document."""
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="a", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    sqs.add_permission(QueueUrl=url, Label="b", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    sqs.remove_permission(QueueUrl=url, Label="a")
    doc = _policy(sqs, url)
    assert doc is not None and [s["Sid"] for s in doc["Statement"]] == ["b"]
    sqs.remove_permission(QueueUrl=url, Label="b")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}) == {}
    assert "Policy" not in qattrs(sqs, url)


def test_add_permission_duplicate_label(sqs, queue):
    """Observed: a Label already in the policy is InvalidParameterValue "Value <label> for
    parameter Label is invalid. Reason: Already exists."; the policy is unchanged."""
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    before = _policy(sqs, url)
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["444455556666"], Actions=["ReceiveMessage"])
    assert_error(ei, "InvalidParameterValue")
    assert _message(ei) == "Value dup for parameter Label is invalid. Reason: Already exists."
    assert _policy(sqs, url) == before


def test_remove_permission_unknown_label(sqs, queue):
    """Observed: RemovePermission of a label the policy does not have is
    InvalidParameterValue "Value <label> for parameter Label is invalid. Reason: can't
    find label."; with or without a policy, nothing changes."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.remove_permission(QueueUrl=url, Label="never-added")
    assert_error(ei, "InvalidParameterValue")
    assert _message(ei) == "Value never-added for parameter Label is invalid. Reason: can't find label."
    sqs.add_permission(QueueUrl=url, Label="kept", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    before = _policy(sqs, url)
    with pytest.raises(ClientError) as ei:
        sqs.remove_permission(QueueUrl=url, Label="other")
    assert _message(ei) == "Value other for parameter Label is invalid. Reason: can't find label."
    assert _policy(sqs, url) == before


@pytest.mark.parametrize("action", ["RemovePermission", "SetQueueAttributes", "DeleteQueue", "TagQueue"])
def test_add_permission_owner_only_action(sqs, queue, action):
    """AWS's API reference marks these actions "Cross-account permissions don't apply to
    this action", so AddPermission cannot grant them: InvalidParameterValue "Value
    SQS:<action> for parameter ActionName is invalid. Reason: Only the queue owner is
    allowed to invoke this action." (the text moto reproduces; not in LocalStack's AWS
    recordings), and nothing is written."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=["111122223333"], Actions=["SendMessage", action])
    assert_error(ei, "InvalidParameterValue")
    assert _message(ei) == (f"Value SQS:{action} for parameter ActionName is invalid. Reason: Only the queue "
                            "owner is allowed to invoke this action.")
    assert _policy(sqs, url) is None


def test_add_permission_unknown_action(sqs, queue):
    """AWS: AddPermission's Actions are "the name of any action or *"; a name SQS does not
    have is InvalidParameterValue "Value SQS:<name> for parameter ActionName is invalid.
    Reason: Please refer to the appropriate WSDL for a list of valid actions." (the text
    of Eucalyptus's AWS-compatible SQS; not in LocalStack's AWS recordings); nothing is
    written."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=["111122223333"], Actions=["Bogus"])
    assert_error(ei, "InvalidParameterValue")
    assert _message(ei) == ("Value SQS:Bogus for parameter ActionName is invalid. Reason: Please refer to the "
                            "appropriate WSDL for a list of valid actions.")
    assert _policy(sqs, url) is None


def test_add_permission_too_many_actions(sqs, queue):
    """At most 7 actions per AddPermission; 8 is OverLimit (403) "8 Actions were found,
    maximum allowed is 7." (AWS's answer as moto reproduces it; not in LocalStack's AWS
    recordings) and nothing is written."""
    url = queue()
    actions = ["ChangeMessageVisibility", "DeleteMessage", "GetQueueAttributes", "GetQueueUrl",
               "ListDeadLetterSourceQueues", "PurgeQueue", "ReceiveMessage", "SendMessage"]
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="many", AWSAccountIds=["111122223333"], Actions=actions)
    assert_error(ei, "OverLimit")
    assert _message(ei) == "8 Actions were found, maximum allowed is 7."
    assert _policy(sqs, url) is None
    sqs.add_permission(QueueUrl=url, Label="seven", AWSAccountIds=["111122223333"], Actions=actions[:7])
    doc = _policy(sqs, url)
    assert doc is not None and len(doc["Statement"][0]["Action"]) == 7


def test_add_permission_without_actions_or_accounts(sqs, queue):
    """Both lists are required by AWS's API reference. No Actions is MissingParameter "The
    request must contain the parameter Actions."; no AWSAccountIds is
    InvalidParameterValue "Value [] for parameter PrincipalId is invalid. Reason: Unable
    to verify." (AWS's answers as moto reproduces them); neither writes anything."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=["111122223333"], Actions=[])
    assert_error(ei, "MissingParameter")
    assert _message(ei) == "The request must contain the parameter Actions."
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=[], Actions=["SendMessage"])
    assert_error(ei, "InvalidParameterValue")
    assert _message(ei) == "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify."
    assert _policy(sqs, url) is None


@pytest.mark.parametrize("label", ["has space", "dot.ted", "x" * 81])
def test_add_permission_invalid_label(sqs, queue, label):
    """AWS (AddPermission, Label): "Maximum 80 characters. Allowed characters include
    alphanumeric characters, hyphens (-), and underscores (_)."; anything else is
    InvalidParameterValue for parameter Label and writes nothing."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label=label, AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    assert_error(ei, "InvalidParameterValue")
    assert _message(ei).startswith(f"Value {label} for parameter Label is invalid.")
    assert _policy(sqs, url) is None


# ---- message move tasks --------------------------------------------------------------


def _dlq_pipe(sqs: Any, queue: Any, n: int) -> tuple[str, str]:
    """A source queue with maxReceiveCount 1 and its DLQ holding ``n`` messages, moved
    there the way AWS does it: received once, then found again by a receive."""
    dlq = queue()
    src = queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    for i in range(0, n, 10):
        sqs.send_message_batch(QueueUrl=src, Entries=[
            {"Id": str(j), "MessageBody": f"m{j}"} for j in range(i, min(n, i + 10))])
    for _ in range(6 * n + 10):
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if counts(sqs, dlq)[0] == n:
            break
    assert counts(sqs, dlq)[0] == n
    return src, dlq


def _tasks(sqs: Any, source_arn: str) -> list[dict[str, Any]]:
    return list(sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)["Results"])


def _wait(sqs: Any, source_arn: str, done: Any, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        tasks = _tasks(sqs, source_arn)
        if tasks and done(tasks[0]):
            return tasks[0]
        assert time.monotonic() < deadline, tasks
        time.sleep(0.1)


def _handle(task_id: str, source_arn: str) -> str:
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn},
                                       separators=(",", ":")).encode()).decode()


def test_second_task_on_a_source_while_one_runs(sqs, queue):
    """Observed (test_start_multiple_move_tasks): a second StartMessageMoveTask on a
    source with a task running is InvalidParameterValue (400) "There is already a task
    running. Only one active task is allowed for a source queue arn at a given time."; the
    running task carries on, alone."""
    _, dlq = _dlq_pipe(sqs, queue, 10)
    dest = queue()
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, dest),
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    with pytest.raises(ClientError) as ei:
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, dest),
                                    MaxNumberOfMessagesPerSecond=1)
    assert_error(ei, "InvalidParameterValue", status=400)
    assert _message(ei) == ("There is already a task running. Only one active task is allowed for a source "
                            "queue arn at a given time.")
    tasks = _tasks(sqs, dlq_arn)
    assert [t.get("TaskHandle") for t in tasks] == [handle]
    sqs.cancel_message_move_task(TaskHandle=handle)


def test_cancel_with_a_malformed_task_handle(sqs):
    """Observed (test_cancel_with_invalid_task_handle): a TaskHandle that is not one is
    InvalidParameterValue (400) "Value for parameter TaskHandle is invalid."."""
    for bad in ("foobared", base64.b64encode(b"not json").decode(), base64.b64encode(b'{"taskId":"x"}').decode()):
        with pytest.raises(ClientError) as ei:
            sqs.cancel_message_move_task(TaskHandle=bad)
        assert_error(ei, "InvalidParameterValue", status=400)
        assert _message(ei) == "Value for parameter TaskHandle is invalid."


def test_cancel_with_a_handle_of_a_missing_source(sqs, server):
    """Observed (test_cancel_with_invalid_source_arn_in_task_handle): a well-formed handle
    whose source queue does not exist is ResourceNotFoundException (404) "The resource
    that you specified for the SourceArn parameter doesn't exist."."""
    handle = _handle(str(uuid.uuid4()), f"arn:aws:sqs:us-east-1:{server.account_id}:{unique('no-such-dlq')}")
    with pytest.raises(ClientError) as ei:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert_error(ei, "ResourceNotFoundException", status=404)
    assert _message(ei) == "The resource that you specified for the SourceArn parameter doesn't exist."


def test_cancel_with_an_unknown_task_of_an_existing_queue(sqs, queue):
    """Observed (test_cancel_with_invalid_task_id_in_task_handle): a handle naming an
    existing queue but no task of it is ResourceNotFoundException (404) "Task does not
    exist."."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.cancel_message_move_task(TaskHandle=_handle(str(uuid.uuid4()), arn_of(sqs, url)))
    assert_error(ei, "ResourceNotFoundException", status=404)
    assert _message(ei) == "Task does not exist."


def test_start_on_a_queue_that_is_not_a_dlq(sqs, queue):
    """Observed (test_source_needs_redrive_policy): a source that is no queue's
    dead-letter queue is InvalidParameterValue (400) "Source queue must be configured as a
    Dead Letter Queue."; its messages stay where they are."""
    url = queue()
    dest = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError) as ei:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, url), DestinationArn=arn_of(sqs, dest))
    assert_error(ei, "InvalidParameterValue", status=400)
    assert _message(ei) == "Source queue must be configured as a Dead Letter Queue."
    assert _tasks(sqs, arn_of(sqs, url)) == []
    assert counts(sqs, url) == (1, 0, 0)


def test_start_with_a_missing_destination(sqs, queue):
    """Observed (test_destination_needs_to_exist): ResourceNotFoundException (404) "The
    resource that you specified for the DestinationArn parameter doesn't exist."; no task
    starts."""
    _, dlq = _dlq_pipe(sqs, queue, 1)
    with pytest.raises(ClientError) as ei:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, dlq) + "doesntexist")
    assert_error(ei, "ResourceNotFoundException", status=404)
    assert _message(ei) == "The resource that you specified for the DestinationArn parameter doesn't exist."
    assert _tasks(sqs, arn_of(sqs, dlq)) == []
    assert counts(sqs, dlq)[0] == 1


def test_rate_is_honoured_and_counters_reported(sqs, queue):
    """AWS: MaxNumberOfMessagesPerSecond caps the rate (observed in
    test_move_task_with_throughput_limit: 4 messages at 1/s take at least 3 s). While the
    task runs, ListMessageMoveTasks shows its TaskHandle, MaxNumberOfMessagesPerSecond and
    ApproximateNumberOfMessagesToMove = the messages the DLQ held at the start; once
    COMPLETED (observed in test_basic_move_task_workflow) the result has no TaskHandle and
    Moved = ToMove."""
    _, dlq = _dlq_pipe(sqs, queue, 6)
    dest = queue()
    dlq_arn = arn_of(sqs, dlq)
    started = time.monotonic()
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, dest),
                                         MaxNumberOfMessagesPerSecond=2)["TaskHandle"]
    running = _tasks(sqs, dlq_arn)[0]
    assert running["Status"] == "RUNNING"
    assert running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 2
    assert running["ApproximateNumberOfMessagesToMove"] == 6
    assert running["DestinationArn"] == arn_of(sqs, dest)
    time.sleep(1.0)
    early = counts(sqs, dest)[0]
    assert early < 6, "all 6 moved within a second at 2 per second"
    task = _wait(sqs, dlq_arn, lambda t: t["Status"] != "RUNNING")
    elapsed = time.monotonic() - started
    assert task["Status"] == "COMPLETED"
    assert elapsed >= 1.5, f"6 messages at 2/s took {elapsed:.2f}s"
    assert "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesMoved"] == task["ApproximateNumberOfMessagesToMove"] == 6
    assert counts(sqs, dest)[0] == 6 and counts(sqs, dlq) == (0, 0, 0)


def test_cancel_reports_moved_and_keeps_to_move(sqs, queue):
    """Observed (test_move_task_cancel): CancelMessageMoveTask answers
    ApproximateNumberOfMessagesMoved; the task is then CANCELLED with no TaskHandle,
    ApproximateNumberOfMessagesToMove still the count at the start, and the messages not
    yet moved stay in the DLQ."""
    _, dlq = _dlq_pipe(sqs, queue, 10)
    dest = queue()
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, dest),
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    _wait(sqs, dlq_arn, lambda t: t["ApproximateNumberOfMessagesMoved"] >= 1)
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 1 <= moved < 10
    task = _tasks(sqs, dlq_arn)[0]
    assert task["Status"] == "CANCELLED" and "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesToMove"] == 10
    assert task["ApproximateNumberOfMessagesMoved"] == moved
    time.sleep(0.5)
    assert counts(sqs, dest)[0] == moved and counts(sqs, dlq)[0] == 10 - moved


def test_destination_deleted_while_running_fails_the_task(sqs, queue):
    """Observed (test_move_task_delete_destination_queue_while_running): when the
    destination is deleted under a running task, the task turns FAILED with FailureReason
    "AWS.SimpleQueueService.NonExistentQueue"; the messages not moved stay in the DLQ."""
    _, dlq = _dlq_pipe(sqs, queue, 10)
    dest = queue()
    dlq_arn = arn_of(sqs, dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, dest),
                                MaxNumberOfMessagesPerSecond=1)
    sqs.delete_queue(QueueUrl=dest)
    task = _wait(sqs, dlq_arn, lambda t: t["Status"] != "RUNNING")
    assert task["Status"] == "FAILED"
    assert task["FailureReason"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesToMove"] == 10
    assert counts(sqs, dlq)[0] == 10 - task["ApproximateNumberOfMessagesMoved"] > 0
