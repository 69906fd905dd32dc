"""Shared helpers: botocore's own serializers and parsers, and example values built from
the model so that every SQS operation is exercised."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl, urlencode

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from postroom.protocol.models import sqs_model

MODEL = sqs_model()
# What real AWS JSON clients use: botocore's own, un-overlaid model. (The overlay's query
# ``locationName``s must never leak into JSON, where members keep their own names.)
PLAIN = botocore.session.get_session().get_service_model("sqs")
OPERATIONS = sorted(MODEL.operation_names)
TRICKY = "ünï <cödé> & \"quotes\" 'apos' ]]> \r\n\t 🚀"


def op(name: str) -> OperationModel:
    return MODEL.operation_model(name)


def example(shape: Shape | None, path: str = "") -> Any:
    """A value with every member of ``shape`` filled in (lists and maps with 2 items)."""
    if shape is None:
        return {}
    t = shape.type_name
    if t == "structure":
        assert isinstance(shape, StructureShape)
        return {name: example(ms, f"{path}.{name}") for name, ms in shape.members.items()}
    if t == "list":
        assert isinstance(shape, ListShape)
        return [example(shape.member, f"{path}[{i}]") for i in range(2)]
    if t == "map":
        assert isinstance(shape, MapShape)
        return {f"k{i}{path}": example(shape.value, f"{path}{{{i}}}") for i in range(2)}
    if t in ("integer", "long"):
        return 7 + len(path)
    if t == "boolean":
        return len(path) % 2 == 0
    if t == "blob":
        return b"\x00\xff<&>" + path.encode()
    return f"{path} {TRICKY}"


def json_request(operation: OperationModel, params: dict[str, Any]) -> bytes:
    plain = PLAIN.operation_model(operation.name)
    req = create_serializer("json").serialize_to_request(copy.deepcopy(params), plain)
    body: bytes = req["body"]
    return body


def query_request(operation: OperationModel, params: dict[str, Any]) -> dict[str, str]:
    """The form exactly as the server sees it: urlencoded by botocore's rules, decoded again."""
    req = create_serializer("query").serialize_to_request(copy.deepcopy(params), operation)
    wire = urlencode(req["body"], doseq=True)
    return dict(parse_qsl(wire, keep_blank_values=True))


def parse_response(protocol: str, operation: OperationModel, body: bytes, status: int = 200,
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
    parser = create_parser(protocol)
    if protocol == "json":
        operation = PLAIN.operation_model(operation.name)
    shape = operation.output_shape if status < 300 else None
    parsed: dict[str, Any] = parser.parse({"body": body, "headers": headers or {}, "status_code": status}, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed
