"""SNS's error codes for postroom's domain errors (SNS speaks only the query protocol).

SNS names errors differently from SQS: ``NotFound`` (404), ``InvalidParameter`` and
``ParameterValueInvalid`` (400), ``AuthorizationError`` and the limit errors (403). The
codes and statuses are those of botocore's SNS model.
"""

from __future__ import annotations

from postroom import errors as e
from postroom.protocol.wire_errors import WireError

SNS_TABLE: dict[type[e.PostroomError], tuple[str, int]] = {
    e.NotFound: ("NotFound", 404),
    e.InvalidParameter: ("InvalidParameter", 400),
    e.InvalidParameterValue: ("ParameterValueInvalid", 400),
    e.MissingParameter: ("InvalidParameter", 400),
    e.InvalidAttributeName: ("InvalidParameter", 400),
    e.InvalidAttributeValue: ("InvalidParameter", 400),
    e.QueueDoesNotExist: ("NotFound", 404),
    e.ResourceNotFound: ("ResourceNotFound", 404),
    e.FilterPolicyLimitExceeded: ("FilterPolicyLimitExceeded", 403),
    e.SubscriptionLimitExceeded: ("SubscriptionLimitExceeded", 403),
    e.TopicLimitExceeded: ("TopicLimitExceeded", 403),
    e.AuthorizationError: ("AuthorizationError", 403),
    e.TagLimitExceeded: ("TagLimitExceeded", 400),
    e.BatchEntryIdsNotDistinct: ("BatchEntryIdsNotDistinct", 400),
    e.TooManyEntriesInBatchRequest: ("TooManyEntriesInBatchRequest", 400),
    e.EmptyBatchRequest: ("EmptyBatchRequest", 400),
    e.InvalidBatchEntryId: ("InvalidBatchEntryId", 400),
    e.BatchRequestTooLong: ("BatchRequestTooLong", 400),
    e.InvalidAction: ("InvalidAction", 400),
    e.InvalidSecurity: ("InvalidSecurity", 403),
    e.ServiceUnavailable: ("ServiceUnavailable", 503),
    e.InternalError: ("InternalError", 500),
    e.EndpointDisabled: ("EndpointDisabled", 400),
    e.PlatformApplicationDisabled: ("PlatformApplicationDisabled", 400),
    e.OptedOut: ("OptedOut", 400),
    e.UserError: ("UserError", 400),
    e.VerificationFailed: ("VerificationException", 400),
    e.SnsValidationError: ("ValidationException", 400),
}


def sns_wire_error(exc: BaseException) -> WireError:
    if isinstance(exc, e.PostroomError):
        for cls in type(exc).__mro__:
            if cls in SNS_TABLE:
                code, status = SNS_TABLE[cls]
                return WireError(code, code, status, status < 500, exc.message)
        return WireError("InvalidParameter", "InvalidParameter", 400, True, exc.message)
    return WireError("InternalError", "InternalError", 500, False,
                     "The request processing has failed because of an unknown error, exception or failure.")
