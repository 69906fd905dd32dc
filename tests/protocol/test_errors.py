"""Error mapping and error bodies: botocore's own parsers must read back the code and the
message, and honour ``x-amzn-query-error`` on AWS JSON errors."""

from __future__ import annotations

import inspect
import json

import pytest

from postroom import errors
from postroom.protocol.models import error_http_status, sqs_query_error_code
from postroom.protocol.serialize import serialize_json_error, serialize_query_error
from postroom.protocol.wire_errors import ERROR_TABLE, WireError, json_error_headers, wire_error

from .support import MODEL, op, parse_response

DOMAIN_ERRORS = [c for _, c in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(c, errors.PostroomError) and c is not errors.PostroomError
                 and not issubclass(c, errors.SnsError)]


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_has_an_entry(cls: type[errors.PostroomError]) -> None:
    assert cls in ERROR_TABLE
    w = wire_error(cls())
    assert w.message == (cls.__doc__ or "").strip()
    assert w.query_code == sqs_query_error_code(w.json_code)
    assert w.sender_fault == cls.sender_fault


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_status_agrees_with_query_model(cls: type[errors.PostroomError]) -> None:
    code, status = ERROR_TABLE[cls]
    modelled = error_http_status(code)
    if modelled is not None:
        assert status == modelled
    if code in {s.name for s in MODEL.error_shapes}:
        assert code in MODEL.shape_names


@pytest.mark.parametrize(("exc", "expected"), [
    (errors.QueueDoesNotExist(), WireError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400,
                                           True, "The specified queue does not exist.")),
    (errors.QueueAlreadyExists("x"), WireError("QueueNameExists", "QueueAlreadyExists", 400, True, "x")),
    (errors.PurgeQueueInProgress("p"), WireError("PurgeQueueInProgress",
                                                 "AWS.SimpleQueueService.PurgeQueueInProgress", 403, True, "p")),
    (errors.ResourceNotFound("r"), WireError("ResourceNotFoundException", "ResourceNotFoundException", 404, True,
                                             "r")),
    (errors.InvalidSecurity("s"), WireError("InvalidSecurity", "InvalidSecurity", 403, True, "s")),
    # 404 in AWS's SQS Smithy model (smithy.api#httpError), and observed for a bad receipt handle
    (errors.ReceiptHandleIsInvalid("h"), WireError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404, True,
                                                   "h")),
    (errors.InvalidAddress("a"), WireError("InvalidAddress", "InvalidAddress", 404, True, "a")),
    (errors.MalformedInput("m"), WireError("MalformedInput", "MalformedInput", 400, True, "m")),
    (errors.ServiceUnavailable("u"), WireError("ServiceUnavailable", "ServiceUnavailable", 503, False, "u")),
    (errors.InternalError("i"), WireError("InternalError", "InternalError", 500, False, "i")),
])
def test_wire_error(exc: BaseException, expected: WireError) -> None:
    assert wire_error(exc) == expected


def test_unknown_exceptions_are_internal_and_do_not_leak() -> None:
    w = wire_error(KeyError("secret detail"))
    assert (w.json_code, w.query_code, w.status, w.sender_fault) == ("InternalError", "InternalError", 500, False)
    assert "secret" not in w.message


def test_subclass_takes_nearest_listed_ancestor() -> None:
    class Special(errors.QueueDoesNotExist):
        pass
    assert wire_error(Special("m")).json_code == "QueueDoesNotExist"


def test_json_error_headers() -> None:
    assert json_error_headers(wire_error(errors.QueueDoesNotExist())) == \
        [(b"x-amzn-query-error", b"AWS.SimpleQueueService.NonExistentQueue;Sender")]
    assert json_error_headers(wire_error(RuntimeError())) == [(b"x-amzn-query-error", b"InternalError;Receiver")]


@pytest.mark.parametrize("exc", [errors.QueueDoesNotExist(), errors.MissingParameter("The request must <x> & y"),
                                 errors.InternalError()], ids=lambda e: type(e).__name__)
def test_botocore_reads_json_errors(exc: errors.PostroomError) -> None:
    w = wire_error(exc)
    body = serialize_json_error(w.json_type, w.message)
    assert json.loads(body) == {"__type": w.json_type, "message": w.message}
    shape_name = w.json_type.rsplit("#", 1)[1]
    headers = {k.decode(): v.decode() for k, v in json_error_headers(w)}
    parsed = parse_response("json", op("GetQueueUrl"), body, status=w.status, headers=headers)
    # botocore reports the query code as Error.Code and keeps the JSON one as QueryErrorCode
    assert parsed["Error"]["Code"] == w.query_code
    assert parsed["Error"]["QueryErrorCode"] == shape_name
    assert parsed["Error"]["Type"] == ("Sender" if w.sender_fault else "Receiver")
    assert parsed["Error"]["Message"] == w.message
    without_header = parse_response("json", op("GetQueueUrl"), body, status=w.status)
    assert without_header["Error"]["Code"] == shape_name


@pytest.mark.parametrize(("exc", "json_type"), [
    # modelled errors: the SQS Smithy namespace and the shape's name
    (errors.QueueDoesNotExist(), "com.amazonaws.sqs#QueueDoesNotExist"),
    (errors.QueueAlreadyExists(), "com.amazonaws.sqs#QueueNameExists"),
    (errors.TooManyEntriesInBatchRequest(), "com.amazonaws.sqs#TooManyEntriesInBatchRequest"),
    # common errors: AWS's Coral names (observed; QueryErrorCode in LocalStack's AWS snapshots)
    (errors.InvalidParameterValue(), "com.amazon.coral.service#InvalidParameterValueException"),
    (errors.MissingParameter(), "com.amazon.coral.service#MissingRequiredParameterException"),
    (errors.MalformedInput(), "com.amazon.coral.service#SerializationException"),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None)
def test_json_type_names(exc: errors.PostroomError, json_type: str) -> None:
    assert wire_error(exc).json_type == json_type


def test_query_wording_of_a_missing_queue() -> None:
    w = wire_error(errors.QueueDoesNotExist())
    assert w.message == "The specified queue does not exist."
    assert w.query_message == "The specified queue does not exist for this wsdl version."


@pytest.mark.parametrize("exc", [errors.QueueDoesNotExist(), errors.InvalidParameterValue("Value <a&b> bad"),
                                 errors.ServiceUnavailable()], ids=lambda e: type(e).__name__)
def test_botocore_reads_query_errors(exc: errors.PostroomError) -> None:
    w = wire_error(exc)
    body = serialize_query_error(w.query_code, w.message, w.sender_fault, "rid-1")
    assert b"<Detail/>" in body and b'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"' in body
    parser = __import__("botocore.parsers").parsers.create_parser("query")
    parsed = parser.parse({"body": body, "headers": {}, "status_code": w.status}, None)
    assert parsed["Error"]["Code"] == w.query_code
    assert parsed["Error"]["Message"] == w.message
    assert parsed["Error"]["Type"] == ("Sender" if w.sender_fault else "Receiver")
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-1"
