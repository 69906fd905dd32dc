"""Query-protocol answers for callers that send ``Accept: application/json``: AWS renders
the XML document's structure as JSON (``GetQueueAttributesResponse`` →
``GetQueueAttributesResult`` → ``Attributes: [{"Name", "Value"}]``, as LocalStack's
AWS-validated ``test_get_queue_attributes_json_format`` reads it), and empty XML results
as one empty element (``<ReceiveMessageResult/>``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from postroom.protocol.serialize import (
    serialize_query_json_error,
    serialize_query_json_response,
    serialize_query_response,
)

from .support import OPERATIONS, example, op, parse_response


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_renders_as_json(name: str) -> None:
    operation = op(name)
    result = example(operation.output_shape)
    doc = json.loads(serialize_query_json_response(operation, result, "rid-7"))
    assert list(doc) == [f"{name}Response"]
    body = doc[f"{name}Response"]
    assert body["ResponseMetadata"] == {"RequestId": "rid-7"}
    if operation.output_shape is not None:
        wrapper = operation.output_shape.serialization.get("resultWrapper") or f"{name}Result"
        assert set(body[wrapper]) == set(result)


def test_maps_are_name_value_lists_and_blobs_base64() -> None:
    attrs = {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "VisibilityTimeout": "30"}
    doc = json.loads(serialize_query_json_response(op("GetQueueAttributes"), {"Attributes": attrs}, "r"))
    listed = doc["GetQueueAttributesResponse"]["GetQueueAttributesResult"]["Attributes"]
    assert listed == [{"Name": "QueueArn", "Value": attrs["QueueArn"]}, {"Name": "VisibilityTimeout", "Value": "30"}]

    message: dict[str, Any] = {"MessageId": "m", "Body": "b", "MessageAttributes": {
        "bin": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}}
    doc = json.loads(serialize_query_json_response(op("ReceiveMessage"), {"Messages": [message]}, "r"))
    (got,) = doc["ReceiveMessageResponse"]["ReceiveMessageResult"]["Messages"]
    assert got["MessageAttributes"] == [{"Name": "bin", "Value": {
        "DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\xff").decode()}}]


def test_json_error_document() -> None:
    doc = json.loads(serialize_query_json_error("InvalidAction", "The action X is not valid for this endpoint.",
                                                True, "r"))
    assert doc == {"Error": {"Type": "Sender", "Code": "InvalidAction",
                             "Message": "The action X is not valid for this endpoint."}, "RequestId": "r"}


@pytest.mark.parametrize("name", ["ReceiveMessage", "ListQueues", "GetQueueAttributes", "ListQueueTags"])
def test_empty_xml_result_is_one_empty_element(name: str) -> None:
    body = serialize_query_response(op(name), {}, "rid")
    assert f"<{name}Result/>".encode() in body
    assert parse_response("query", op(name), body) == {}
