"""The error table over the JSON protocol, with raw requests where boto3 would refuse to send
the mistake. Every client mistake must be a 4xx with a proper error body, never a 500."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import FAKE_AUTH, REGION, assert_error, counts, unique

NONEXISTENT = "AWS.SimpleQueueService.NonExistentQueue"


def _missing_url(server):
    return f"{server.endpoint}/{server.account_id}/{unique('missing')}"


CALLS = {
    "GetQueueAttributes": lambda s, u: s.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]),
    "SetQueueAttributes": lambda s, u: s.set_queue_attributes(QueueUrl=u, Attributes={"DelaySeconds": "1"}),
    "SendMessage": lambda s, u: s.send_message(QueueUrl=u, MessageBody="x"),
    "SendMessageBatch": lambda s, u: s.send_message_batch(QueueUrl=u, Entries=[{"Id": "a", "MessageBody": "x"}]),
    "ReceiveMessage": lambda s, u: s.receive_message(QueueUrl=u),
    "DeleteMessage": lambda s, u: s.delete_message(QueueUrl=u, ReceiptHandle="h"),
    "DeleteMessageBatch": lambda s, u: s.delete_message_batch(QueueUrl=u, Entries=[{"Id": "a", "ReceiptHandle": "h"}]),
    "ChangeMessageVisibility": lambda s, u: s.change_message_visibility(QueueUrl=u, ReceiptHandle="h",
                                                                        VisibilityTimeout=1),
    "PurgeQueue": lambda s, u: s.purge_queue(QueueUrl=u),
    "DeleteQueue": lambda s, u: s.delete_queue(QueueUrl=u),
    "TagQueue": lambda s, u: s.tag_queue(QueueUrl=u, Tags={"a": "b"}),
    "ListQueueTags": lambda s, u: s.list_queue_tags(QueueUrl=u),
    "AddPermission": lambda s, u: s.add_permission(QueueUrl=u, Label="l", AWSAccountIds=["111122223333"],
                                                   Actions=["SendMessage"]),
    "ListDeadLetterSourceQueues": lambda s, u: s.list_dead_letter_source_queues(QueueUrl=u),
}


@pytest.mark.parametrize("op", sorted(CALLS))
def test_queue_does_not_exist(sqs, server, op):
    with pytest.raises(ClientError) as ei:
        CALLS[op](sqs, _missing_url(server))
    assert_error(ei, "QueueDoesNotExist", NONEXISTENT)
    assert isinstance(ei.value, sqs.exceptions.QueueDoesNotExist)
    hdr = ei.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"]
    assert hdr == f"{NONEXISTENT};Sender"


def _raw(server, target: str, body, content_type="application/x-amz-json-1.0"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(server.endpoint + "/", data=data, timeout=10, headers={
        "Content-Type": content_type, "X-Amz-Target": target,
        "Authorization": FAKE_AUTH.format(region=REGION), "X-Amz-Date": "20250101T000000Z"})


def _type(r) -> str:
    return r.json()["__type"].rsplit("#", 1)[-1]


def test_json_error_shape(server):
    r = _raw(server, "AmazonSQS.GetQueueUrl", {"QueueName": unique("missing")})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    body = r.json()
    assert body["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert body.get("message") or body.get("Message")
    assert r.headers["x-amzn-query-error"] == f"{NONEXISTENT};Sender"
    assert r.headers.get("x-amzn-RequestId")


def test_unknown_target(server):
    r = _raw(server, "AmazonSQS.NoSuchOperation", {})
    assert r.status_code == 400
    assert _type(r) in ("InvalidAction", "UnknownOperationException")


def test_missing_required_parameter(server):
    r = _raw(server, "AmazonSQS.SendMessage", {"MessageBody": "x"})
    assert r.status_code == 400
    assert "MissingParameter" in (_type(r), r.headers.get("x-amzn-query-error", "").split(";")[0])


def test_missing_message_body(sqs, queue, server):
    url = queue()
    r = _raw(server, "AmazonSQS.SendMessage", {"QueueUrl": url})
    assert r.status_code == 400
    assert "MissingParameter" in (_type(r), r.headers.get("x-amzn-query-error", "").split(";")[0])
    assert counts(sqs, url) == (0, 0, 0)


def test_malformed_json(server):
    r = _raw(server, "AmazonSQS.ListQueues", b"{not json")
    assert 400 <= r.status_code < 500
    assert "__type" in r.json()


def test_wrong_parameter_type(sqs, queue, server):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    r = _raw(server, "AmazonSQS.ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "ten"})
    assert 400 <= r.status_code < 500
    assert counts(sqs, url) == (1, 0, 0)


def test_invalid_queue_url(server):
    r = _raw(server, "AmazonSQS.SendMessage", {"QueueUrl": "not a url", "MessageBody": "x"})
    assert 400 <= r.status_code < 500


def test_receipt_handle_is_invalid(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="AQEB" + "x" * 100)
    assert_error(ei, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid")


def test_unsupported_operation_fifo_attribute_change(sqs, fifo_queue):
    """Turning a FIFO queue into a standard one is not possible; it must fail and leave it FIFO."""
    url = fifo_queue()
    with pytest.raises(ClientError) as ei:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue"])["Attributes"]
    assert a == {"FifoQueue": "true"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8)
OPS = ["CreateQueue", "GetQueueUrl", "ListQueues", "SendMessage", "SendMessageBatch", "ReceiveMessage",
       "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "GetQueueAttributes",
       "SetQueueAttributes", "TagQueue", "AddPermission", "StartMessageMoveTask", "ListMessageMoveTasks"]
PARAMS = ["QueueUrl", "QueueName", "MessageBody", "Entries", "Attributes", "MaxNumberOfMessages",
          "ReceiptHandle", "VisibilityTimeout", "AttributeNames", "MessageAttributes", "Tags", "SourceArn",
          "DelaySeconds", "WaitTimeSeconds"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(op=st.sampled_from(OPS), body=st.dictionaries(st.sampled_from(PARAMS), JSON_VALUES, max_size=4))
def test_fuzzed_json_requests_never_500(server, op, body):
    if "WaitTimeSeconds" in body:
        body["WaitTimeSeconds"] = 0
    r = _raw(server, f"AmazonSQS.{op}", body)
    assert r.status_code < 500, (op, body, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert "__type" in r.json()
