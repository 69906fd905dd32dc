"""Malformed requests get AWS-shaped client errors (4xx with a code), never a 500, and
change nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.api.conftest import FAKE_AUTH, REGION, Server

JSON = "application/x-amz-json-1.0"


def _json(server: Server, action: str, body: bytes | str) -> requests.Response:
    data = body.encode() if isinstance(body, str) else body
    return requests.post(server.endpoint + "/", data=data, timeout=10, headers={
        "Content-Type": JSON, "X-Amz-Target": f"AmazonSQS.{action}", "Authorization": FAKE_AUTH.format(region=REGION)})


def _form(server: Server, body: bytes) -> requests.Response:
    return requests.post(server.endpoint + "/", data=body, timeout=10, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": FAKE_AUTH.format(region=REGION)})


BAD_JSON: list[tuple[str, Any]] = [
    ("SendMessage", b"{bad"),
    ("SendMessage", b"[]"),
    ("SendMessage", b"\xff\xfe"),
    ("SendMessage", {"QueueUrl": 5, "MessageBody": [1]}),
    ("ReceiveMessage", {"QueueUrl": "QUEUE", "MaxNumberOfMessages": "a"}),
    ("ReceiveMessage", {"QueueUrl": "QUEUE", "MaxNumberOfMessages": 11}),
    ("ReceiveMessage", {"QueueUrl": "QUEUE", "WaitTimeSeconds": -1}),
    ("CreateQueue", {"QueueName": "q-bad", "Attributes": {"VisibilityTimeout": None}}),
    ("CreateQueue", {"QueueName": "q-bad", "Attributes": [1]}),
    ("CreateQueue", {"QueueName": "bad name!"}),
    ("SendMessageBatch", {"QueueUrl": "QUEUE", "Entries": [None]}),
    ("SendMessageBatch", {"QueueUrl": "QUEUE", "Entries": []}),
    ("DeleteMessage", {"QueueUrl": "QUEUE", "ReceiptHandle": ""}),
    ("DeleteMessage", {"QueueUrl": "QUEUE", "ReceiptHandle": "not-a-handle"}),
    ("ChangeMessageVisibility", {"QueueUrl": "QUEUE", "ReceiptHandle": "x", "VisibilityTimeout": 99999}),
    ("ListQueues", {"NextToken": "!!!"}),
    ("ListQueues", {"MaxResults": 0}),
    ("SendMessage", {"QueueUrl": "http://h/a/b/c", "MessageBody": "x"}),
    ("SendMessage", {"QueueUrl": "QUEUE", "MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Nope"}}}),
    ("SendMessage", {"QueueUrl": "QUEUE", "MessageBody": "\u0000"}),
    ("StartMessageMoveTask", {"SourceArn": "not-an-arn"}),
    ("CancelMessageMoveTask", {"TaskHandle": "zz"}),
    ("ListMessageMoveTasks", {"SourceArn": "arn:aws:sqs:us-east-1:000000000000:missing"}),
    ("TagQueue", {"QueueUrl": "QUEUE", "Tags": {"": "x"}}),
    ("AddPermission", {"QueueUrl": "QUEUE", "Label": "l", "AWSAccountIds": [], "Actions": []}),
    ("NoSuchAction", {}),
]


@pytest.mark.parametrize("action,body", BAD_JSON, ids=[f"{a}-{i}" for i, (a, _) in enumerate(BAD_JSON)])
def test_malformed_json_requests_get_client_errors(server: Server, sqs: Any, action: str, body: Any) -> None:
    url = sqs.create_queue(QueueName="bad-" + uuid.uuid4().hex[:8])["QueueUrl"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    if not isinstance(body, bytes):
        body = json.dumps(body).replace('"QUEUE"', json.dumps(url)).encode()
    r = _json(server, action, body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    # SQS's own error shapes, or AWS's Coral ones for common errors
    assert r.json()["__type"].startswith(("com.amazonaws.sqs#", "com.amazon.coral.service#")), r.text
    assert r.headers.get("x-amzn-query-error", "").endswith(";Sender")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] == before
    assert "q-bad" not in str(sqs.list_queues(QueueNamePrefix="q-bad").get("QueueUrls", []))


BAD_FORMS = [
    b"\xff\xfe",
    b"Action=SendMessage&QueueUrl=http://h/000000000000/nope&MessageBody=x",
    b"Action=CreateQueue&QueueName=a&Attribute.1.Name=VisibilityTimeout",
    b"Action=CreateQueue&QueueName=%ff",
    b"Action=ReceiveMessage&QueueUrl=http://h/000000000000/x&MaxNumberOfMessages=abc",
    b"Action=Bogus",
    b"",
]


@pytest.mark.parametrize("body", BAD_FORMS)
def test_malformed_query_requests_get_client_errors(server: Server, body: bytes) -> None:
    r = _form(server, body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert "<ErrorResponse" in r.text and "<Code>" in r.text
