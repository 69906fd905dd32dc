"""The one table from postroom's domain errors to AWS's wire errors.

AWS SQS names each error three ways:

* the JSON protocol's ``__type``: an error shape of the SQS model is qualified by the
  service's Smithy namespace (``com.amazonaws.sqs#QueueDoesNotExist``); the common
  errors that the model leaves out come from AWS's Coral framework
  (``com.amazon.coral.service#InvalidParameterValueException``, observed on AWS, and
  ``…#MissingRequiredParameterException``, recorded in LocalStack's AWS-validated
  snapshots as the QueryErrorCode botocore keeps from ``__type``);
* the query protocol's historical code (``AWS.SimpleQueueService.NonExistentQueue``),
  which JSON responses also carry in ``x-amzn-query-error: <code>;Sender|Receiver``;
* the short ``Code`` of a failed batch entry (``InvalidParameterValue``,
  ``ReceiptHandleIsInvalid``).

HTTP statuses are those of AWS's SQS Smithy model (``smithy.api#httpError``): 400 for
client errors (a missing queue included), 403 for ``OverLimit``, ``PurgeQueueInProgress``
and security failures, 404 for ``ReceiptHandleIsInvalid``, ``InvalidAddress`` and
``ResourceNotFoundException``, 500 for internal errors and 503 when unavailable. A body
that is not JSON at all is Coral's ``SerializationException`` (query code
``MalformedInput``), as recorded against AWS.

The two protocols word one error differently: a missing queue is "The specified queue
does not exist." on JSON and "The specified queue does not exist for this wsdl
version." on query (both recorded in LocalStack's AWS-validated snapshots).
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom import errors as e
from postroom.protocol.models import sqs_query_error_code

SQS_NAMESPACE = "com.amazonaws.sqs"
CORAL_NAMESPACE = "com.amazon.coral.service"

# Common errors the SQS model does not define, by the ``__type`` AWS answers them with.
CORAL_TYPES: dict[str, str] = {
    "InvalidParameterValue": f"{CORAL_NAMESPACE}#InvalidParameterValueException",
    "MissingParameter": f"{CORAL_NAMESPACE}#MissingRequiredParameterException",
    "MalformedInput": f"{CORAL_NAMESPACE}#SerializationException",
    "AccessDenied": f"{CORAL_NAMESPACE}#AccessDeniedException",
}

# An unknown ``X-Amz-Target`` is refused by AWS's JSON front end before SQS sees it.
UNKNOWN_OPERATION_TYPE = f"{CORAL_NAMESPACE}#UnknownOperationException"

QUERY_WORDING: dict[str, str] = {
    "QueueDoesNotExist": "The specified queue does not exist for this wsdl version.",
}


@dataclass(frozen=True)
class WireError:
    json_code: str
    """The error shape's name, or the common error's name: a failed batch entry's Code."""
    query_code: str
    status: int
    sender_fault: bool
    message: str

    @property
    def json_type(self) -> str:
        """The ``__type`` of an AWS JSON error body."""
        return CORAL_TYPES.get(self.json_code) or f"{SQS_NAMESPACE}#{self.json_code}"

    @property
    def query_message(self) -> str:
        """The message of a query-protocol error body."""
        return QUERY_WORDING.get(self.json_code, self.message)


# domain class -> (JSON code, i.e. the error shape name in the model; HTTP status)
ERROR_TABLE: dict[type[e.PostroomError], tuple[str, int]] = {
    e.InvalidParameterValue: ("InvalidParameterValue", 400),
    e.MissingParameter: ("MissingParameter", 400),
    e.MalformedInput: ("MalformedInput", 400),
    e.InvalidAttributeName: ("InvalidAttributeName", 400),
    e.InvalidAttributeValue: ("InvalidAttributeValue", 400),
    e.QueueDoesNotExist: ("QueueDoesNotExist", 400),
    e.QueueAlreadyExists: ("QueueNameExists", 400),
    e.QueueDeletedRecently: ("QueueDeletedRecently", 400),
    e.ReceiptHandleIsInvalid: ("ReceiptHandleIsInvalid", 404),
    e.MessageNotInflight: ("MessageNotInflight", 400),
    e.BatchEntryIdsNotDistinct: ("BatchEntryIdsNotDistinct", 400),
    e.TooManyEntriesInBatchRequest: ("TooManyEntriesInBatchRequest", 400),
    e.EmptyBatchRequest: ("EmptyBatchRequest", 400),
    e.InvalidBatchEntryId: ("InvalidBatchEntryId", 400),
    e.BatchRequestTooLong: ("BatchRequestTooLong", 400),
    e.PurgeQueueInProgress: ("PurgeQueueInProgress", 403),
    e.InvalidMessageContents: ("InvalidMessageContents", 400),
    e.OverLimit: ("OverLimit", 403),
    e.UnsupportedOperation: ("UnsupportedOperation", 400),
    e.InvalidAction: ("InvalidAction", 400),
    e.ResourceNotFound: ("ResourceNotFoundException", 404),
    e.InvalidAddress: ("InvalidAddress", 404),
    e.InvalidSecurity: ("InvalidSecurity", 403),
    e.AccessDenied: ("AccessDenied", 403),
    e.ServiceUnavailable: ("ServiceUnavailable", 503),
    e.InternalError: ("InternalError", 500),
}

_INTERNAL_MESSAGE = (e.InternalError.__doc__ or "").strip()


def wire_error(exc: BaseException) -> WireError:
    """How ``exc`` goes on the wire. Subclasses take their nearest listed ancestor's
    code; anything that is not a postroom error is an ``InternalError`` (500) whose
    message does not leak the exception's text."""
    if isinstance(exc, e.PostroomError):
        for cls in type(exc).__mro__:
            entry = ERROR_TABLE.get(cls)
            if entry is not None:
                code, status = entry
                return WireError(code, sqs_query_error_code(code), status, exc.sender_fault, exc.message)
        return WireError("InternalError", "InternalError", 500, False, exc.message)
    return WireError("InternalError", "InternalError", 500, False, _INTERNAL_MESSAGE)


def json_error_headers(w: WireError) -> list[tuple[bytes, bytes]]:
    """The ``x-amzn-query-error`` header of an AWS JSON error response."""
    fault = "Sender" if w.sender_fault else "Receiver"
    return [(b"x-amzn-query-error", f"{w.query_code};{fault}".encode())]
