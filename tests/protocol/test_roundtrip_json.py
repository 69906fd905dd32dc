"""AWS JSON 1.0: botocore's serializer -> our parser, our serializer -> botocore's parser,
for every SQS operation with every member filled in."""

from __future__ import annotations

import pytest

from postroom.protocol.parse import parse_json_request
from postroom.protocol.serialize import serialize_json_response

from .support import OPERATIONS, example, json_request, op, parse_response


@pytest.mark.parametrize("name", OPERATIONS)
def test_request_roundtrip(name: str) -> None:
    operation = op(name)
    params = example(operation.input_shape)
    assert parse_json_request(operation, json_request(operation, params)) == params


@pytest.mark.parametrize("name", OPERATIONS)
def test_response_roundtrip(name: str) -> None:
    operation = op(name)
    result = example(operation.output_shape)
    body = serialize_json_response(operation, result)
    assert parse_response("json", operation, body) == result
