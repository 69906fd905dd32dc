"""Response and error serialization for both SQS protocols.

Handlers return results shaped as boto3 returns them; each operation's output shape is
compiled once into writer functions. Members that are absent or ``None`` are omitted,
and members the model does not know are dropped.

* AWS JSON 1.0: a JSON object; blobs are base64 text.
* Query: ``<OpResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">`` holding the
  ``<OpResult>`` wrapper and ``<ResponseMetadata><RequestId>``. SQS query lists and maps
  are flattened: ``<Message>`` and ``<QueueUrl>`` repeat, maps repeat
  ``<Attribute><Name>..</Name><Value>..</Value></Attribute>``. Blobs are base64 text,
  booleans ``true``/``false``. Text is XML-escaped, and carriage returns are written as
  ``&#xD;`` (AWS does the same) so XML parsers' line-ending normalisation keeps them.
  An empty result is one empty element, ``<ReceiveMessageResult/>``, as AWS writes it.
* Query with ``Accept: application/json``: AWS answers the same document as JSON,
  ``{"OpResponse": {"OpResult": {...}, "ResponseMetadata": {"RequestId": ..}}}``, members
  under their own names, lists as arrays and maps as arrays of ``{"Name", "Value"}``
  (``Attributes: [{"Name": "QueueArn", "Value": ..}]``); errors as ``{"Error": {"Type",
  "Code", "Message"}, "RequestId"}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from postroom.protocol.models import sqs_model

XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"
_XML_DECL = '<?xml version="1.0"?>'

JConv = Callable[[Any], Any]


# --- AWS JSON 1.0 -------------------------------------------------------------------

def _j_same(v: Any) -> Any:
    return v


def _j_blob(v: Any) -> Any:
    if isinstance(v, str):
        v = v.encode("utf-8")
    return base64.b64encode(v).decode("ascii")


def _j_compile(shape: Shape, memo: dict[str, JConv]) -> JConv:
    t = shape.type_name
    if t == "blob":
        return _j_blob
    if t == "structure":
        assert isinstance(shape, StructureShape)
        return _j_struct(shape, memo)
    if t == "list":
        assert isinstance(shape, ListShape)
        conv = _j_compile(shape.member, memo)
        if conv is _j_same:
            return lambda v: [x for x in v if x is not None]
        return lambda v: [conv(x) for x in v if x is not None]
    if t == "map":
        assert isinstance(shape, MapShape)
        vconv = _j_compile(shape.value, memo)
        if vconv is _j_same:
            return lambda v: {k: x for k, x in v.items() if x is not None}
        return lambda v: {k: vconv(x) for k, x in v.items() if x is not None}
    return _j_same


def _j_struct(shape: StructureShape, memo: dict[str, JConv]) -> JConv:
    if shape.name in memo:
        return memo[shape.name]
    convs: dict[str, JConv] = {}

    def struct(v: Any) -> Any:
        out = {}
        for k, x in v.items():
            if x is not None:
                conv = convs.get(k)
                if conv is not None:
                    out[k] = conv(x)
        return out

    memo[shape.name] = struct
    for name, ms in shape.members.items():
        convs[name] = _j_compile(ms, memo)
    return struct


_JSON_PLANS: dict[OperationModel, JConv] = {}


def _json_plan(op: OperationModel) -> JConv:
    plan = _JSON_PLANS.get(op)
    if plan is None:
        shape = op.output_shape
        plan = _j_struct(shape, {}) if shape is not None else (lambda v: {})
        _JSON_PLANS[op] = plan
    return plan


def serialize_json_response(op: OperationModel, result: Mapping[str, Any]) -> bytes:
    """The AWS JSON 1.0 body of a successful response."""
    plan = _JSON_PLANS.get(op) or _json_plan(op)
    return json.dumps(plan(result), separators=(",", ":")).encode("ascii")


def serialize_json_error(error_type: str, message: str) -> bytes:
    """An AWS JSON 1.0 error body: ``__type`` names the error qualified by its namespace,
    as AWS sends it (``com.amazonaws.sqs#QueueDoesNotExist``,
    ``com.amazon.coral.service#InvalidParameterValueException``); a bare shape name is
    qualified by the SQS namespace."""
    if "#" not in error_type:
        error_type = f"com.amazonaws.sqs#{error_type}"
    return json.dumps({"__type": error_type, "message": message}, separators=(",", ":")).encode("ascii")


# --- query (XML) ----------------------------------------------------------------------

XWriter = Callable[[list[str], str, Any], None]
"""Appends the element(s) for one value under the given tag name."""

_MEMBERS = "\0members:"  # memo key prefix: a structure's members without its own element


def _esc(text: str) -> str:
    # str.replace skips clean text quickly; str.translate would copy every character.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#xD;")
    return text


def _x_str(out: list[str], tag: str, v: Any) -> None:
    out.append(f"<{tag}>{_esc(str(v))}</{tag}>")


def _x_num(out: list[str], tag: str, v: Any) -> None:
    out.append(f"<{tag}>{v}</{tag}>")


def _x_bool(out: list[str], tag: str, v: Any) -> None:
    out.append(f"<{tag}>{'true' if v else 'false'}</{tag}>")


def _x_blob(out: list[str], tag: str, v: Any) -> None:
    if isinstance(v, str):
        v = v.encode("utf-8")
    out.append(f"<{tag}>{base64.b64encode(v).decode('ascii')}</{tag}>")


def _x_compile(shape: Shape, memo: dict[str, XWriter]) -> XWriter:
    t = shape.type_name
    if t == "structure":
        assert isinstance(shape, StructureShape)
        return _x_struct(shape, memo)
    if t in ("integer", "long", "float", "double"):
        return _x_num
    if t == "boolean":
        return _x_bool
    if t == "blob":
        return _x_blob
    if t == "list":
        assert isinstance(shape, ListShape)
        return _x_list(shape, memo)
    if t == "map":
        assert isinstance(shape, MapShape)
        return _x_map(shape, memo)
    return _x_str


def _x_list(shape: ListShape, memo: dict[str, XWriter]) -> XWriter:
    write = _x_compile(shape.member, memo)
    member_name = shape.member.serialization.get("name")
    if shape.serialization.get("flattened"):
        def flat(out: list[str], tag: str, v: Any) -> None:
            t = member_name or tag
            for x in v:
                if x is not None:
                    write(out, t, x)
        return flat
    inner = member_name or "member"

    def nested(out: list[str], tag: str, v: Any) -> None:
        out.append(f"<{tag}>")
        for x in v:
            if x is not None:
                write(out, inner, x)
        out.append(f"</{tag}>")
    return nested


def _x_map(shape: MapShape, memo: dict[str, XWriter]) -> XWriter:
    kname = shape.key.serialization.get("name", "key")
    vname = shape.value.serialization.get("name", "value")
    kwrite = _x_compile(shape.key, memo)
    vwrite = _x_compile(shape.value, memo)
    if shape.serialization.get("flattened"):
        def flat(out: list[str], tag: str, v: Any) -> None:
            for k, x in v.items():
                if x is not None:
                    out.append(f"<{tag}>")
                    kwrite(out, kname, k)
                    vwrite(out, vname, x)
                    out.append(f"</{tag}>")
        return flat

    def nested(out: list[str], tag: str, v: Any) -> None:
        out.append(f"<{tag}>")
        for k, x in v.items():
            if x is not None:
                out.append("<entry>")
                kwrite(out, kname, k)
                vwrite(out, vname, x)
                out.append("</entry>")
        out.append(f"</{tag}>")
    return nested


def _x_struct(shape: StructureShape, memo: dict[str, XWriter]) -> XWriter:
    if shape.name in memo:
        return memo[shape.name]
    # Members are written in the model's order, as AWS writes them.
    members: list[tuple[str, str, XWriter]] = []

    def struct(out: list[str], tag: str, v: Any) -> None:
        out.append(f"<{tag}>")
        write_members(out, tag, v)
        out.append(f"</{tag}>")

    def write_members(out: list[str], tag: str, v: Any) -> None:
        get = v.get
        for name, wire, write in members:
            x = get(name)
            if x is not None:
                write(out, wire, x)

    memo[shape.name] = struct
    memo[_MEMBERS + shape.name] = write_members
    for name, ms in shape.members.items():
        members.append((name, ms.serialization.get("name", name), _x_compile(ms, memo)))
    return struct


_QUERY_PLANS: dict[OperationModel, tuple[str, str, XWriter | None]] = {}


def _query_plan(op: OperationModel) -> tuple[str, str, XWriter | None]:
    plan = _QUERY_PLANS.get(op)
    if plan is None:
        shape = op.output_shape
        ns = op.metadata.get("xmlNamespace") or sqs_model().metadata.get("xmlNamespace") or XMLNS
        head = f'{_XML_DECL}<{op.name}Response xmlns="{ns}">'
        if shape is None:
            plan = (head, f"{op.name}Result", None)
        else:
            assert isinstance(shape, StructureShape)
            memo: dict[str, XWriter] = {}
            _x_struct(shape, memo)
            wrapper = shape.serialization.get("resultWrapper") or f"{op.name}Result"
            plan = (head, wrapper, memo[_MEMBERS + shape.name])
        _QUERY_PLANS[op] = plan
    return plan


def serialize_query_response(op: OperationModel, result: Mapping[str, Any], request_id: str) -> bytes:
    """The XML body of a successful query-protocol response. Operations without an
    output shape (``DeleteMessage``...) answer with only the response metadata."""
    head, wrapper, write = _QUERY_PLANS.get(op) or _query_plan(op)
    out = [head]
    if write is not None:
        out.append(f"<{wrapper}>")
        opened = len(out)
        write(out, wrapper, result)
        if len(out) == opened:
            out[-1] = f"<{wrapper}/>"  # AWS writes an empty result as <ListQueuesResult/>
        else:
            out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{_esc(request_id)}</RequestId></ResponseMetadata>"
               f"</{op.name}Response>")
    return "".join(out).encode("utf-8", "backslashreplace")  # a lone surrogate as its \ud800 escape


# --- query answered as JSON (Accept: application/json) ---------------------------------

def _qj_compile(shape: Shape, memo: dict[str, JConv]) -> JConv:
    t = shape.type_name
    if t == "blob":
        return _j_blob
    if t == "structure":
        assert isinstance(shape, StructureShape)
        return _qj_struct(shape, memo)
    if t == "list":
        assert isinstance(shape, ListShape)
        conv = _qj_compile(shape.member, memo)
        return lambda v: [conv(x) for x in v if x is not None]
    if t == "map":
        assert isinstance(shape, MapShape)
        return _qj_map(shape, memo)
    return _j_same


def _qj_map(shape: MapShape, memo: dict[str, JConv]) -> JConv:
    kname = shape.key.serialization.get("name", "key")
    vname = shape.value.serialization.get("name", "value")
    vconv = _qj_compile(shape.value, memo)
    return lambda v: [{kname: k, vname: vconv(x)} for k, x in v.items() if x is not None]


def _qj_struct(shape: StructureShape, memo: dict[str, JConv]) -> JConv:
    key = "\0query-json:" + shape.name
    if key in memo:
        return memo[key]
    convs: dict[str, JConv] = {}

    def struct(v: Any) -> Any:
        return {k: convs[k](x) for k, x in v.items() if x is not None and k in convs}

    memo[key] = struct
    for name, ms in shape.members.items():
        convs[name] = _qj_compile(ms, memo)
    return struct


_QUERY_JSON_PLANS: dict[OperationModel, tuple[str, JConv | None]] = {}


def _query_json_plan(op: OperationModel) -> tuple[str, JConv | None]:
    plan = _QUERY_JSON_PLANS.get(op)
    if plan is None:
        shape = op.output_shape
        if shape is None:
            plan = (f"{op.name}Result", None)
        else:
            assert isinstance(shape, StructureShape)
            plan = (shape.serialization.get("resultWrapper") or f"{op.name}Result", _qj_struct(shape, {}))
        _QUERY_JSON_PLANS[op] = plan
    return plan


def serialize_query_json_response(op: OperationModel, result: Mapping[str, Any], request_id: str) -> bytes:
    """A successful query-protocol response for a caller that asked for
    ``Accept: application/json``: the XML document's structure, as JSON."""
    wrapper, conv = _QUERY_JSON_PLANS.get(op) or _query_json_plan(op)
    body: dict[str, Any] = {}
    if conv is not None:
        body[wrapper] = conv(result)
    body["ResponseMetadata"] = {"RequestId": request_id}
    return json.dumps({f"{op.name}Response": body}, separators=(",", ":")).encode("utf-8")


def serialize_query_json_error(code: str, message: str, sender_fault: bool, request_id: str) -> bytes:
    """A query-protocol error for a caller that asked for ``Accept: application/json``."""
    error = {"Type": "Sender" if sender_fault else "Receiver", "Code": code, "Message": message}
    return json.dumps({"Error": error, "RequestId": request_id}, separators=(",", ":")).encode("utf-8")


def serialize_query_error(code: str, message: str, sender_fault: bool, request_id: str) -> bytes:
    """A query-protocol error body. ``Type`` is ``Sender`` when the caller is at fault,
    ``Receiver`` when the service is."""
    return (f'{_XML_DECL}<ErrorResponse xmlns="{XMLNS}"><Error>'
            f"<Type>{'Sender' if sender_fault else 'Receiver'}</Type>"
            f"<Code>{_esc(code)}</Code><Message>{_esc(message)}</Message><Detail/></Error>"
            f"<RequestId>{_esc(request_id)}</RequestId></ErrorResponse>").encode("utf-8", "backslashreplace")
