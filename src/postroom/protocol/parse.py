"""Request parsing for both SQS protocols, into params exactly as a boto3 user passes
them (ints as ``int``, blobs as ``bytes``, lists as ``list``, maps as ``dict``).

Each operation's input shape is compiled once into a tree of small converter functions;
a request then only runs the converters for the members it actually carries.

Validation follows AWS: a missing required member, at the top level or inside a list
entry or map value (a batch entry's ``Id``, a message attribute's ``DataType``), is
``MissingParameter`` ("The request must contain the parameter Id."); a value of the
wrong type (``MaxNumberOfMessages=abc``, a JSON string where an integer is modelled,
bad base64 in a blob) is ``InvalidParameterValue``. Unknown members are ignored and
left out of the params.

An AWS JSON body that is not a JSON object at all is ``MalformedInput``, which goes on
the wire as AWS answers it: Coral's ``SerializationException``, query code
``MalformedInput``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from postroom.errors import EmptyBatchRequest, InvalidParameterValue, MalformedInput, MissingParameter, PostroomError

Conv = Callable[[Any, str], Any]
"""A compiled converter: (wire value, member name for messages) -> params value."""

_INT = re.compile(r"[+-]?\d+\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_REASON = "It contains a lone UTF-16 surrogate, which is not a Unicode character."

# Members whose text the services validate with their own error (InvalidMessageContents for a
# message body, a batch entry's InvalidBatchEntryId, a message attribute's rules), so a batch
# entry fails alone, as other invalid entries do; and the names of message attributes.
_SERVICE_CHECKED_TEXT = frozenset({"MessageBody", "StringValue", "Id"})
_ATTRIBUTE_VALUE_SHAPES = frozenset({"MessageAttributeValue", "MessageSystemAttributeValue"})


def _bad(name: str, value: Any) -> InvalidParameterValue:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return InvalidParameterValue(f"Value {shown} for parameter {name} is invalid.")


def _missing(name: str) -> MissingParameter:
    return MissingParameter(f"The request must contain the parameter {name}.")


def _absence_errors(shape: StructureShape) -> tuple[tuple[str, PostroomError], ...]:
    """What AWS answers when each required member is absent.

    Usually ``MissingParameter``; but a batch request without any entry (its required
    ``Entries`` list absent) is ``EmptyBatchRequest``: "There should be at
    least one SendMessageBatchRequestEntry in the request." An empty list is passed on
    for the handler to reject the same way.
    """
    out: list[tuple[str, PostroomError]] = []
    for name in shape.required_members:
        ms = shape.members[name]
        if isinstance(ms, ListShape) and ms.member.name.endswith("BatchRequestEntry"):
            entry = ms.member.serialization.get("name", ms.member.name)
            out.append((name, EmptyBatchRequest(f"There should be at least one {entry} in the request.")))
        else:
            out.append((name, _missing(name)))
    return tuple(out)


# --- AWS JSON 1.0 -------------------------------------------------------------------

def _j_text(v: Any, name: str) -> Any:
    """A string whose characters the service checks itself (a message body, a String
    attribute value, a batch entry id, an attribute name), with its own error."""
    if type(v) is not str:
        raise _bad(name, v)
    return v


def _j_str(v: Any, name: str) -> Any:
    """Any other string. JSON can spell a lone UTF-16 surrogate (``"\\ud800"``), which is
    no Unicode character and no valid value of any parameter: InvalidParameterValue, before
    it can reach a digest, the store or an XML document."""
    if type(v) is not str:
        raise _bad(name, v)
    if not v.isascii() and _SURROGATE.search(v) is not None:
        raise InvalidParameterValue(f"Value for parameter {name} is invalid. Reason: {_SURROGATE_REASON}")
    return v


def _j_int(v: Any, name: str) -> Any:
    if type(v) is not int:
        raise _bad(name, v)
    return v


def _j_float(v: Any, name: str) -> Any:
    if type(v) is int:
        return float(v)
    if type(v) is not float:
        raise _bad(name, v)
    return v


def _j_bool(v: Any, name: str) -> Any:
    if type(v) is not bool:
        raise _bad(name, v)
    return v


def _j_blob(v: Any, name: str) -> Any:
    if type(v) is not str:
        raise _bad(name, v)
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(name, v) from None


def _j_any(v: Any, name: str) -> Any:
    return v


def _j_compile(shape: Shape, memo: dict[str, Conv]) -> Conv:
    t = shape.type_name
    if t == "string":
        return _j_str
    if t in ("integer", "long"):
        return _j_int
    if t in ("float", "double"):
        return _j_float
    if t == "boolean":
        return _j_bool
    if t == "blob":
        return _j_blob
    if t == "structure":
        assert isinstance(shape, StructureShape)
        return _j_struct(shape, memo)
    if t == "list":
        assert isinstance(shape, ListShape)
        return _j_list(_j_compile(shape.member, memo))
    if t == "map":
        assert isinstance(shape, MapShape)
        key = _j_text if shape.value.name in _ATTRIBUTE_VALUE_SHAPES else _j_compile(shape.key, memo)
        return _j_map(key, _j_compile(shape.value, memo))
    return _j_any


def _j_list(conv: Conv) -> Conv:
    def list_(v: Any, name: str) -> Any:
        if type(v) is not list:
            raise _bad(name, v)
        if None in v:
            raise _bad(name, v)
        return [conv(x, name) for x in v]
    return list_


def _j_map(kconv: Conv, vconv: Conv) -> Conv:
    def map_(v: Any, name: str) -> Any:
        if type(v) is not dict:
            raise _bad(name, v)
        if None in v.values():
            raise _bad(name, v)
        return {kconv(k, name): vconv(x, k) for k, x in v.items()}
    return map_


def _j_struct(shape: StructureShape, memo: dict[str, Conv]) -> Conv:
    if shape.name in memo:
        return memo[shape.name]
    convs: dict[str, Conv] = {}
    required = _absence_errors(shape)

    def struct(v: Any, name: str) -> Any:
        if type(v) is not dict:
            raise _bad(name, v)
        out = {}
        for k, x in v.items():
            conv = convs.get(k)
            if conv is not None and x is not None:
                out[k] = conv(x, k)
        for r, error in required:
            if r not in out:
                raise type(error)(error.message)
        return out

    memo[shape.name] = struct
    for member, member_shape in shape.members.items():
        text = member in _SERVICE_CHECKED_TEXT and member_shape.type_name == "string"
        convs[member] = _j_text if text else _j_compile(member_shape, memo)
    return struct


_JSON_PLANS: dict[OperationModel, Conv] = {}


def _json_plan(op: OperationModel) -> Conv:
    plan = _JSON_PLANS.get(op)
    if plan is None:
        shape = op.input_shape
        plan = _j_struct(shape, {}) if shape is not None else (lambda v, name: {})
        _JSON_PLANS[op] = plan
    return plan


def parse_json_request(op: OperationModel, body: bytes) -> dict[str, Any]:
    """Parse an AWS JSON 1.0 request body (``X-Amz-Target: AmazonSQS.<Op>``).

    Blobs arrive base64-encoded and are returned as bytes; an empty body is an empty
    request.
    """
    plan = _JSON_PLANS.get(op) or _json_plan(op)
    if not body:
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
            raise MalformedInput("The request body is not valid JSON.") from None
        if type(data) is not dict:
            raise MalformedInput("The request body must be a JSON object.")
    result: dict[str, Any] = plan(data, op.name)
    return result


# --- query (form-encoded) -----------------------------------------------------------
#
# The form ``{"Attribute.1.Name": "x", "Attribute.1.Value": "y"}`` is first folded into a
# tree on its dots (``{"Attribute": {"1": {"Name": "x", "Value": "y"}}}``); the compiled
# converters then read that tree. The wire names follow botocore's query serializer:
# a struct member is named by its ``locationName`` (else its member name); a flattened
# list's elements replace that name by the list member's ``locationName``
# (``AttributeNames`` -> ``AttributeName.1``), a non-flattened list nests them
# (``Name.member.1``); a flattened map's entries are ``Name.1.<Key>``/``Name.1.<Value>``,
# a non-flattened one's ``Name.entry.1.key``. An empty list is sent as ``Name=``.

Tree = dict[str, Any]
QConv = Callable[[Any, str], Any]


def _q_str(v: Any, name: str) -> Any:
    if type(v) is not str:
        raise _bad(name, "(structured value)")
    return v


def _q_int(v: Any, name: str) -> Any:
    if type(v) is not str or not _INT.match(v) or len(v) > 40:  # no modelled integer has 40 digits
        raise _bad(name, v if type(v) is str else "(structured value)")
    return int(v)


def _q_float(v: Any, name: str) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise _bad(name, v if type(v) is str else "(structured value)") from None


def _q_bool(v: Any, name: str) -> Any:
    if v == "true":
        return True
    if v == "false":
        return False
    raise _bad(name, v if type(v) is str else "(structured value)")


def _q_blob(v: Any, name: str) -> Any:
    if type(v) is not str:
        raise _bad(name, "(structured value)")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(name, v) from None


def _indexed(node: Any, name: str) -> list[Any]:
    """The elements of an indexed group (``X.1``, ``X.2``...), in index order."""
    if type(node) is not dict:
        return []
    items = []
    for idx, value in node.items():
        if idx.isdigit():
            items.append((int(idx), value))
    items.sort(key=lambda kv: kv[0])
    return [value for _, value in items]


class _QMember:
    """How one structure member is found in the tree and converted."""

    __slots__ = ("conv", "kind", "list_key", "name", "wire")

    def __init__(self, name: str, wire: str, kind: str, list_key: str, conv: QConv) -> None:
        self.name = name
        self.wire = wire
        self.kind = kind  # "scalar" | "struct" | "list" | "map"
        self.list_key = list_key
        self.conv = conv


def _q_compile(shape: Shape, memo: dict[str, QConv]) -> QConv:
    t = shape.type_name
    if t == "structure":
        assert isinstance(shape, StructureShape)
        return _q_struct(shape, memo)
    if t == "string":
        return _q_str
    if t in ("integer", "long"):
        return _q_int
    if t in ("float", "double"):
        return _q_float
    if t == "boolean":
        return _q_bool
    if t == "blob":
        return _q_blob
    if t == "list":
        assert isinstance(shape, ListShape)
        return _q_list(shape, memo)
    if t == "map":
        assert isinstance(shape, MapShape)
        return _q_map(shape, memo)
    return _q_str


def _q_list(shape: ListShape, memo: dict[str, QConv]) -> QConv:
    """Converts the indexed group of a list (already located by the parent); None when
    the group has no indexed element. A list of strings may also come as one un-indexed
    ``Name=value``, a one-element list: boto 2 sends ``AttributeName=All`` and
    ``AWSAccountId=…``/``ActionName=…`` that way, and AWS served it."""
    conv = _q_compile(shape.member, memo)
    scalar = shape.member.type_name == "string"

    def list_(node: Any, name: str) -> Any:
        if scalar and type(node) is str:
            return [conv(node, name)] if node else None
        items = _indexed(node, name)
        return [conv(x, name) for x in items] if items else None
    return list_


def _q_map(shape: MapShape, memo: dict[str, QConv]) -> QConv:
    kname = shape.key.serialization.get("name", "key")
    vname = shape.value.serialization.get("name", "value")
    kconv = _q_compile(shape.key, memo)
    vconv = _q_compile(shape.value, memo)
    flattened = bool(shape.serialization.get("flattened"))

    def map_(node: Any, name: str) -> Any:
        if not flattened:
            node = node.get("entry") if type(node) is dict else None
        entries = _indexed(node, name)
        if not entries and flattened and type(node) is dict and kname in node:
            entries = [node]  # one un-indexed entry, ``Attribute.Name``/``Attribute.Value`` (boto 2)
        out = {}
        for entry in entries:
            if type(entry) is not dict:
                continue
            if kname not in entry:
                raise _missing(f"{name}.{kname}")
            key = kconv(entry[kname], name)
            if vname not in entry:
                raise _missing(f"{name}.{vname}")
            out[key] = vconv(entry[vname], key)
        return out or None
    return map_


def _q_struct(shape: StructureShape, memo: dict[str, QConv]) -> QConv:
    if shape.name in memo:
        return memo[shape.name]
    members: list[_QMember] = []
    required = _absence_errors(shape)

    def struct(node: Any, name: str) -> Any:
        if type(node) is not dict:
            raise _bad(name, node)
        out: dict[str, Any] = {}
        for m in members:
            kind = m.kind
            if kind == "list":
                group = node.get(m.list_key)
                if group is None:
                    if node.get(m.wire) == "":
                        out[m.name] = []  # botocore sends an empty list as "Name="
                    continue
                value = m.conv(group, m.name)
            else:
                value = node.get(m.wire)
                if value is None:
                    continue
                value = m.conv(value, m.name)
            if value is not None:  # a group without any indexed entry is no value at all
                out[m.name] = value
        for r, error in required:
            if r not in out:
                raise type(error)(error.message)
        return out

    memo[shape.name] = struct
    for name, ms in shape.members.items():
        wire = ms.serialization.get("name", name)
        if ms.type_name == "list":
            assert isinstance(ms, ListShape)
            if ms.serialization.get("flattened"):
                list_key = ms.member.serialization.get("name", wire)
                conv = _q_list(ms, memo)
            else:
                list_key = wire
                inner = _q_list(ms, memo)
                sub = ms.member.serialization.get("name", "member")

                def conv(node: Any, n: str, _inner: QConv = inner, _sub: str = sub) -> Any:
                    return _inner(node.get(_sub) if type(node) is dict else None, n)
            members.append(_QMember(name, wire, "list", list_key, conv))
        else:
            kind = ms.type_name if ms.type_name in ("structure", "map") else "scalar"
            members.append(_QMember(name, wire, kind, wire, _q_compile(ms, memo)))
    return struct


def _tree(form: Mapping[str, str]) -> Tree:
    """Fold dotted form keys into nested dicts."""
    root: Tree = {}
    for key, value in form.items():
        if "." not in key:
            if type(root.get(key)) is not dict:
                root[key] = value
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if type(child) is not dict:
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if type(node.get(last)) is not dict:
            node[last] = value
    return root


_QUERY_PLANS: dict[OperationModel, QConv] = {}


def _query_plan(op: OperationModel) -> QConv:
    plan = _QUERY_PLANS.get(op)
    if plan is None:
        shape = op.input_shape
        plan = _q_struct(shape, {}) if shape is not None else (lambda v, name: {})
        _QUERY_PLANS[op] = plan
    return plan


def parse_query_request(op: OperationModel, form: Mapping[str, str]) -> dict[str, Any]:
    """Parse query-protocol parameters (``Action``/``Version`` are ignored as unknown).

    Lists are 1-indexed groups read in index order (``AttributeName.1``,
    ``AttributeName.2``); blobs arrive base64-encoded and are returned as bytes.
    """
    plan = _QUERY_PLANS.get(op) or _query_plan(op)
    result: dict[str, Any] = plan(_tree(form), op.name)
    return result
