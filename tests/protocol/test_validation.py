"""AWS's request validation while parsing: MissingParameter for absent required members
(nested ones too), InvalidParameterValue for wrongly typed values; unknown members are
ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.errors import EmptyBatchRequest, InvalidParameterValue, MalformedInput, MissingParameter
from postroom.protocol.parse import parse_json_request, parse_query_request

from .support import op


def _json(name: str, body: Any) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_json_request(op(name), raw)


@pytest.mark.parametrize(("name", "params", "missing"), [
    ("SendMessage", {"MessageBody": "x"}, "QueueUrl"),
    ("SendMessage", {"QueueUrl": "u"}, "MessageBody"),
    ("SendMessage", {"QueueUrl": "u", "MessageBody": None}, "MessageBody"),
    ("SendMessage", {"QueueUrl": "u", "MessageBody": "x", "MessageAttributes": {"a": {"StringValue": "v"}}},
     "DataType"),
    ("SendMessageBatch", {"QueueUrl": "u", "Entries": [{"MessageBody": "x"}]}, "Id"),
    ("CreateQueue", {}, "QueueName"),
    ("ChangeMessageVisibility", {"QueueUrl": "u", "ReceiptHandle": "r"}, "VisibilityTimeout"),
])
def test_json_missing(name: str, params: dict[str, Any], missing: str) -> None:
    with pytest.raises(MissingParameter) as ei:
        _json(name, params)
    assert ei.value.message == f"The request must contain the parameter {missing}."


@pytest.mark.parametrize(("name", "form", "missing"), [
    ("SendMessage", {"MessageBody": "x"}, "QueueUrl"),
    ("CreateQueue", {"Action": "CreateQueue", "Version": "2012-11-05"}, "QueueName"),
    ("SendMessageBatch", {"QueueUrl": "u", "SendMessageBatchRequestEntry.1.MessageBody": "x"}, "Id"),
    ("DeleteMessageBatch", {"QueueUrl": "u", "DeleteMessageBatchRequestEntry.1.Id": "a"}, "ReceiptHandle"),
    ("SendMessage", {"QueueUrl": "u", "MessageBody": "x", "MessageAttribute.1.Name": "a",
                     "MessageAttribute.1.Value.StringValue": "v"}, "DataType"),
])
def test_query_missing(name: str, form: dict[str, str], missing: str) -> None:
    with pytest.raises(MissingParameter) as ei:
        parse_query_request(op(name), form)
    assert ei.value.message == f"The request must contain the parameter {missing}."


@pytest.mark.parametrize(("name", "params"), [
    ("ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": "5"}),
    ("ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": 5.5}),
    ("ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": True}),
    ("ReceiveMessage", {"QueueUrl": "u", "AttributeNames": "All"}),
    ("SendMessage", {"QueueUrl": 5, "MessageBody": "x"}),
    ("SendMessage", {"QueueUrl": "u", "MessageBody": "x", "MessageAttributes": []}),
    ("SendMessage", {"QueueUrl": "u", "MessageBody": "x",
                     "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "not base64!"}}}),
    ("SendMessageBatch", {"QueueUrl": "u", "Entries": {"Id": "a"}}),
    ("SendMessageBatch", {"QueueUrl": "u", "Entries": ["a"]}),
])
def test_json_wrong_type(name: str, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterValue):
        _json(name, params)


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"x"', b"\xff\xfe", b"null"])
def test_json_unparseable_body(body: bytes) -> None:
    """AWS answers a body that is not a JSON object with Coral's SerializationException
    (query code MalformedInput)."""
    with pytest.raises(MalformedInput):
        parse_json_request(op("ListQueues"), body)


def test_json_empty_body_is_empty_request() -> None:
    assert parse_json_request(op("ListQueues"), b"") == {}
    assert parse_json_request(op("ListQueues"), b"{}") == {}


@pytest.mark.parametrize(("name", "form"), [
    ("ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": "abc"}),
    ("ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": "1.5"}),
    ("ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": ""}),
    ("ReceiveMessage", {"QueueUrl": "u", "WaitTimeSeconds.1": "3"}),
    ("SendMessage", {"QueueUrl": "u", "MessageBody": "x", "MessageAttribute.1.Name": "b",
                     "MessageAttribute.1.Value.DataType": "Binary", "MessageAttribute.1.Value.BinaryValue": "@@"}),
])
def test_query_wrong_type(name: str, form: dict[str, str]) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_query_request(op(name), form)


def test_query_integer_forms() -> None:
    p = parse_query_request(op("ReceiveMessage"), {"QueueUrl": "u", "MaxNumberOfMessages": "-3",
                                                  "WaitTimeSeconds": "+20"})
    assert p == {"QueueUrl": "u", "MaxNumberOfMessages": -3, "WaitTimeSeconds": 20}


def test_unknown_members_are_ignored() -> None:
    assert _json("SendMessage", {"QueueUrl": "u", "MessageBody": "x", "Extra": {"a": 1}}) == \
        {"QueueUrl": "u", "MessageBody": "x"}
    assert parse_query_request(op("SendMessage"), {"Action": "SendMessage", "Version": "2012-11-05",
                                                   "QueueUrl": "u", "MessageBody": "x", "Foo.1.Bar": "z",
                                                   "MessageAttribute.x.Name": "odd"}) == \
        {"QueueUrl": "u", "MessageBody": "x"}


def test_error_message_names_the_value() -> None:
    with pytest.raises(InvalidParameterValue) as ei:
        parse_query_request(op("ReceiveMessage"), {"QueueUrl": "u", "MaxNumberOfMessages": "abc"})
    assert ei.value.message == "Value abc for parameter MaxNumberOfMessages is invalid."


@pytest.mark.parametrize("name", ["SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"])
def test_batch_without_entries_is_empty_batch_request(name: str) -> None:
    entry = f"{name}RequestEntry"
    for parse in (lambda: _json(name, {"QueueUrl": "u"}), lambda: parse_query_request(op(name), {"QueueUrl": "u"})):
        with pytest.raises(EmptyBatchRequest) as ei:
            parse()
        assert ei.value.message == f"There should be at least one {entry} in the request."
    assert _json(name, {"QueueUrl": "u", "Entries": []}) == {"QueueUrl": "u", "Entries": []}
