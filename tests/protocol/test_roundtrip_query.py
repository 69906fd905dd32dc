"""Query protocol: botocore's query serializer (fed the overlaid model) -> our parser,
our XML -> botocore's query parser, for every SQS operation with every member filled in."""

from __future__ import annotations

import pytest

from postroom.protocol.parse import parse_query_request
from postroom.protocol.serialize import serialize_query_response

from .support import OPERATIONS, example, op, parse_response, query_request


@pytest.mark.parametrize("name", OPERATIONS)
def test_request_roundtrip(name: str) -> None:
    operation = op(name)
    params = example(operation.input_shape)
    form = query_request(operation, params)
    assert form["Action"] == name
    assert parse_query_request(operation, form) == params


@pytest.mark.parametrize("name", OPERATIONS)
def test_response_roundtrip(name: str) -> None:
    operation = op(name)
    result = example(operation.output_shape)
    body = serialize_query_response(operation, result, "req-1")
    assert body.startswith(b'<?xml version="1.0"?><' + name.encode() + b'Response xmlns="http://queue.amazonaws.com')
    assert parse_response("query", operation, body) == result
    meta = __import__("botocore.parsers").parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, operation.output_shape)["ResponseMetadata"]
    assert meta["RequestId"] == "req-1"
