"""The one table from postroom's domain errors to AWS's wire errors.

AWS SQS names each error twice: the JSON protocol uses the error shape's name as
``__type`` (``QueueDoesNotExist``), the query protocol keeps the historical code
(``AWS.SimpleQueueService.NonExistentQueue``); JSON responses also carry the query code
in ``x-amzn-query-error: <code>;Sender|Receiver`` so SDKs can report either. HTTP
statuses are those of the query-era model: 400 for client errors (a missing queue
included), 403 for ``OverLimit``, ``PurgeQueueInProgress`` and security failures, 404
for ``ResourceNotFoundException``, 500 for internal errors and 503 when unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom import errors as e
from postroom.protocol.models import sqs_query_error_code


@dataclass(frozen=True)
class WireError:
    json_code: str
    query_code: str
    status: int
    sender_fault: bool
    message: str


# domain class -> (JSON code, i.e. the error shape name in the model; HTTP status)
ERROR_TABLE: dict[type[e.PostroomError], tuple[str, int]] = {
    e.InvalidParameterValue: ("InvalidParameterValue", 400),
    e.MissingParameter: ("MissingParameter", 400),
    e.InvalidAttributeName: ("InvalidAttributeName", 400),
    e.InvalidAttributeValue: ("InvalidAttributeValue", 400),
    e.QueueDoesNotExist: ("QueueDoesNotExist", 400),
    e.QueueAlreadyExists: ("QueueNameExists", 400),
    e.QueueDeletedRecently: ("QueueDeletedRecently", 400),
    e.ReceiptHandleIsInvalid: ("ReceiptHandleIsInvalid", 400),
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
    e.InvalidAddress: ("InvalidAddress", 400),
    e.InvalidSecurity: ("InvalidSecurity", 403),
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
